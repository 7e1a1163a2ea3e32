"""The audit policy: which criteria apply, their thresholds, and when each must be audited.

A policy is a TOML file read into a frozen pydantic model; unknown keys are errors naming the
key. :data:`DEFAULT_POLICY_TOML` holds the schedule of the fairness audit guide: statistical
parity before deployment and quarterly, equal opportunity before deployment and monthly,
predictive parity before deployment and at every major data update.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from fairslm._atomic import write_text_atomic
from fairslm._config import FrozenModel, config_error, parse_toml, read_toml
from fairslm.compliance import REGIMES
from fairslm.exceptions import ConfigError
from fairslm.governance._schedule import Rule, parse_rule
from fairslm.metrics import CRITERIA, FOUR_FIFTHS, MIN_GROUP_SIZE

__all__ = [
    "DEFAULT_POLICY_PATH",
    "DEFAULT_POLICY_TOML",
    "AuditPolicy",
    "CriterionPolicy",
    "RegimePolicy",
    "load_policy",
    "parse_policy",
    "write_default_policy",
]

DEFAULT_POLICY_PATH = Path("fairslm-policy.toml")

DEFAULT_POLICY_TOML = f'''\
# fairslm audit policy. Check it with: fairslm policy check <this file>

# Lowest acceptable ratio between groups (1.0 is parity), in (0, 1]. 0.8 is the four-fifths
# rule of the US EEOC Uniform Guidelines (29 CFR 1607.4(D)). A criterion may set its own.
threshold = {FOUR_FIFTHS}

# What each group is compared against: "min_max" (lowest against highest group, as
# Fairlearn's ratio()), "largest", "best", "overall", or a group label. Per feature:
# reference_group = {{ gender = "M" }}
reference_group = "min_max"

# Groups with fewer rows are reported but never decide a verdict: at n = 30 a 95% interval
# for a rate near 0.5 is about +/-0.18 wide.
min_group_size = {MIN_GROUP_SIZE}

# What the gate does when a criterion cannot be judged (fewer than two groups large enough,
# or an undefined rate): "fail" blocks the release, "pass" lets it through.
on_undecided = "fail"

# One table per criterion that applies to the model, any of:
# {", ".join(CRITERIA)}. Each may set its own `threshold`.
# schedule entries:
#   "pre-deployment"  audited before the model (or a new version of it) is released
#   "90d", "2w", "1m", "1y", "monthly", "quarterly", "yearly"
#                     due again that long after the last audit of the criterion
#   "on-data-change"  due when the dataset hash differs from the last audit's

[criteria.statistical_parity]
schedule = ["pre-deployment", "quarterly"]

[criteria.equal_opportunity]
schedule = ["pre-deployment", "monthly"]

[criteria.predictive_parity]
schedule = ["pre-deployment", "on-data-change"]

# Regimes with their own audit schedule (see `fairslm compliance`). NYC Local Law 144: a tool
# may not be used more than one year after its most recent bias audit (6 RCNY §5-301(a));
# `fairslm due` counts from the bias audit's own date.
# [regimes.nyc-ll144]
# schedule = ["yearly"]
'''


def _check_threshold(value: float | None) -> float | None:
    if value is not None and not 0 < value <= 1:
        raise ValueError(
            f"threshold must be in (0, 1], a ratio such as 0.8 for the four-fifths rule; "
            f"got {value}"
        )
    return value


class CriterionPolicy(FrozenModel):
    """What the policy asks of one criterion: its threshold and its audit schedule."""

    threshold: float | None = None
    schedule: tuple[str, ...] = ("pre-deployment",)

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float | None) -> float | None:
        return _check_threshold(v)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            parse_rule(entry)  # raises ConfigError (a ValueError) naming the entry
        return v

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The parsed schedule."""
        return tuple(parse_rule(s) for s in self.schedule)


class RegimePolicy(FrozenModel):
    """When a regime's bias audit is due again, e.g. NYC Local Law 144 yearly."""

    schedule: tuple[str, ...] = ("yearly",)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            if parse_rule(entry).kind == "on-data-change":
                raise ValueError(f"schedule {entry!r}: a regime's bias audit is due by date "
                                 "(e.g. 'yearly') or before deployment, not on data change")
        return v

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The parsed schedule."""
        return tuple(parse_rule(s) for s in self.schedule)


def _guide_criteria() -> dict[str, CriterionPolicy]:
    return {
        "statistical_parity": CriterionPolicy(schedule=("pre-deployment", "quarterly")),
        "equal_opportunity": CriterionPolicy(schedule=("pre-deployment", "monthly")),
        "predictive_parity": CriterionPolicy(schedule=("pre-deployment", "on-data-change")),
    }


class AuditPolicy(FrozenModel):
    """An audit policy. ``AuditPolicy()`` is the guide's default.

    Examples
    --------
    >>> policy = AuditPolicy()
    >>> sorted(policy.audit_kwargs())
    ['criteria', 'min_group_size', 'reference_group', 'threshold']
    >>> policy.criteria["equal_opportunity"].schedule
    ('pre-deployment', 'monthly')
    """

    threshold: float = FOUR_FIFTHS
    reference_group: str | dict[str, str] = "min_max"
    min_group_size: int = Field(default=MIN_GROUP_SIZE, ge=0)
    on_undecided: Literal["fail", "pass"] = "fail"
    criteria: dict[str, CriterionPolicy] = Field(default_factory=_guide_criteria)
    regimes: dict[str, RegimePolicy] = Field(default_factory=dict)

    @field_validator("regimes")
    @classmethod
    def _regimes(cls, v: dict[str, RegimePolicy]) -> dict[str, RegimePolicy]:
        unknown = [name for name in v if name not in REGIMES]
        if unknown:
            raise ValueError(f"unknown regime {unknown[0]!r}; known regimes: {', '.join(REGIMES)}")
        return v

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        return _check_threshold(v)  # type: ignore[return-value]

    @field_validator("criteria")
    @classmethod
    def _criteria(cls, v: dict[str, CriterionPolicy]) -> dict[str, CriterionPolicy]:
        unknown = [name for name in v if name not in CRITERIA]
        if unknown:
            raise ValueError(
                f"unknown criterion {unknown[0]!r}; known criteria: {', '.join(CRITERIA)}"
            )
        if not v:
            raise ValueError(f"the policy lists no criteria; add one of: {', '.join(CRITERIA)}")
        return v

    def threshold_for(self, criterion: str) -> float:
        """The criterion's own threshold, or the policy's."""
        own = self.criteria[criterion].threshold
        return self.threshold if own is None else own

    def audit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`fairslm.audit_predictions` under this policy.

        The audit takes one threshold, the policy's; criteria with their own threshold are
        judged against it by :func:`fairslm.governance.gate`.
        """
        ref = self.reference_group
        return {
            "threshold": self.threshold,
            "reference_group": dict(ref) if isinstance(ref, dict) else ref,
            "min_group_size": self.min_group_size,
            "criteria": list(self.criteria),
        }

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (without ``regimes`` when none is set, so a policy written
        before regimes existed keeps its hash)."""
        data = self.model_dump(mode="json")
        if not data["regimes"]:
            del data["regimes"]
        return data

    def policy_hash(self) -> str:
        """SHA-256 of the canonical JSON form: equal policies, equal hashes."""
        text = json.dumps(self.to_json_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def parse_policy(data: dict[str, Any] | str, *, source: str = "<policy>") -> AuditPolicy:
    """Build an :class:`AuditPolicy` from a TOML string or a parsed mapping."""
    if isinstance(data, str):
        data = parse_toml(data, what=f"policy {source}")
    try:
        return AuditPolicy.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, AuditPolicy, what=f"policy {source}") from None


def load_policy(path: str | os.PathLike[str] | None = None) -> AuditPolicy:
    """Read and validate a policy file (default ``fairslm-policy.toml``)."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    data = read_toml(
        path, what="policy file", hint=f"write the default one with `fairslm policy init {path}`"
    )
    return parse_policy(data, source=str(path))


def write_default_policy(
    path: str | os.PathLike[str] | None = None, *, force: bool = False
) -> Path:
    """Write :data:`DEFAULT_POLICY_TOML` to ``path`` (whole: temp file, then rename)."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    return write_text_atomic(DEFAULT_POLICY_TOML, path)
