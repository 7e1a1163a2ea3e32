"""Reading a bias audit's rows once: the category of each person and the tool's output.

Only the named columns are read. Everything after this module works on count tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairslm.compliance._categories import (
    CategoryMapping,
    load_mapping,
    race_ethnicity_categories,
)
from fairslm.data import read_columns
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = [
    "PreparedRows",
    "as_date",
    "binary_column",
    "created_provenance",
    "prepare_rows",
    "resolve_mapping",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PreparedRows:
    """The columns a regime needs, with sex and race/ethnicity as regime categories (None for
    a dimension not asked for)."""

    frame: pd.DataFrame
    sex: np.ndarray | None
    race: np.ndarray | None
    inputs: dict[str, Any]


def resolve_mapping(mapping: CategoryMapping | str | os.PathLike[str] | None) -> CategoryMapping:
    """A mapping object, read from a file, or the empty mapping (values spelled as categories)."""
    if mapping is None:
        return CategoryMapping()
    if isinstance(mapping, CategoryMapping):
        return mapping
    return load_mapping(mapping)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def prepare_rows(
    data: Any,
    *,
    sex: str | None,
    race: str | None,
    ethnicity: str | None,
    columns: list[tuple[str, str]],
    mapping: CategoryMapping,
    require: tuple[str, ...] = ("sex", "race"),
    regime: str = "the regime",
) -> PreparedRows:
    """Read ``sex``, ``race``, ``ethnicity`` and ``columns`` (``(column, option)`` pairs, the
    option naming it in messages) and categorize each person."""
    for name, col in (("sex", sex), ("race", race)):
        if not col and name in require:
            raise ConfigError(
                f"the {name} column is missing: {regime} reports "
                f"{'sex' if name == 'sex' else 'race/ethnicity'} categories separately; name "
                f"it with {name}= (CLI: --{name} COLUMN)"
            )
    if not sex and not race:
        raise ConfigError(
            f"the sex and race columns are both missing: {regime} compares sex and "
            "race/ethnicity groups; name at least one (CLI: --sex COLUMN, --race COLUMN)"
        )
    if ethnicity and not race:
        raise ConfigError("an ethnicity column completes the race column; name the race column too")
    wanted = [c for c in (sex, race, ethnicity) if c] + [c for c, _ in columns]
    flags = {c: f for c, f in ((sex, "--sex"), (race, "--race"), (ethnicity, "--ethnicity"),
                               *columns) if c}
    frame = read_columns(data, wanted, options=flags)
    if len(frame) == 0:
        raise InvalidDataError("the data has no rows: there is no one to audit")
    if isinstance(data, (str, os.PathLike)):
        p = Path(data)
        inputs = {"file": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size}
    else:
        inputs = {"file": None, "sha256": None}
    inputs.update({"rows": int(len(frame)), "columns": {
        "sex": sex, "race": race, "ethnicity": ethnicity, "other": [c for c, _ in columns]}})
    sex_cat = mapping.categorize("sex", frame[sex]) if sex else None
    race_cat = mapping.categorize("race", frame[race]) if race else None
    eth_cat = mapping.categorize("ethnicity", frame[ethnicity]) if ethnicity else None
    return PreparedRows(
        frame=frame, sex=sex_cat,
        race=None if race_cat is None else race_ethnicity_categories(race_cat, eth_cat),
        inputs=inputs,
    )


def binary_column(values: pd.Series, name: str, pos_label: object | None) -> np.ndarray:
    """A decision column as 0/1: 1 where the value is ``pos_label`` (default 1 / True)."""
    if values.isna().any():
        n = int(values.isna().sum())
        raise InvalidDataError(
            f"decision column {name!r} has {n} missing value(s); every person assessed needs a "
            "decision. Drop or fill those rows"
        )
    uniques = pd.unique(values)
    if pos_label is None:
        if set(uniques.tolist()) <= {0, 1}:
            return (values.to_numpy() == 1).astype(np.int64)
        raise InvalidDataError(
            f"decision column {name!r} holds {sorted(map(str, uniques))[:6]}, not 0/1, so "
            "which value means selected is ambiguous; pass pos_label (CLI: --pos-label)"
        )
    matches = [u for u in uniques if u == pos_label or str(u) == str(pos_label)]
    if not matches:
        raise InvalidDataError(
            f"pos_label {pos_label!r} does not occur in decision column {name!r}; its values "
            f"are {sorted(map(str, uniques))[:6]}"
        )
    return values.isin(matches).to_numpy().astype(np.int64)


def created_provenance() -> dict[str, Any]:
    """fairslm's version, the engine and the time (UTC) a regime audit was computed."""
    from fairslm._version import __version__

    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"fairslm_version": __version__, "engine": "numpy", "created": now}


def as_date(value: Any, what: str, *, required: bool = False) -> dt.date | None:
    """A date from a ``date``, ``datetime`` or ISO string; None when absent and not required."""
    if value is None or value == "":
        if required:
            raise ConfigError(f"the {what} is required (an ISO date such as 2026-01-31)")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ConfigError(f"the {what} {value!r} is not an ISO date such as 2026-01-31") from exc
