"""The column mapping of a text data set: which column holds what."""

from __future__ import annotations

from pydantic import field_validator

from fairslm._config import FrozenModel

__all__ = ["DatasetSpec"]


class DatasetSpec(FrozenModel):
    """Which columns of a table hold the text, label, sensitive features, weights, ids, splits.

    Frozen; an unknown key is an error.

    Examples
    --------
    >>> DatasetSpec(text="bio", label="job", sensitive=("gender",)).sensitive
    ('gender',)
    """

    text: str = "text"
    label: str | None = "label"
    sensitive: tuple[str, ...] = ("gender",)
    weight: str | None = None
    id: str | None = None
    split: str | None = None
    pos_label: str | int | bool | None = None

    @field_validator("sensitive", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        if isinstance(v, str):
            return (v,)
        return v

    @property
    def columns(self) -> list[str]:
        """Every column the spec names, without duplicates, in a fixed order."""
        cols = [self.text, self.label, *self.sensitive, self.weight, self.id, self.split]
        out: list[str] = []
        for c in cols:
            if c is not None and c not in out:
                out.append(c)
        return out
