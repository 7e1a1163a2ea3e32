"""What is due: criteria whose audit is overdue, never done, or whose data changed since."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.governance._history import DEFAULT_HISTORY_PATH, HistoryStore
from fairslm.governance._policy import AuditPolicy, load_policy
from fairslm.governance._regimes import regime_audits
from fairslm.governance._schedule import ON_DATA_CHANGE, PRE_DEPLOYMENT, Rule, as_utc

__all__ = ["DueItem", "DueReport", "due", "file_sha256", "open_history", "resolve_policy"]

_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, the dataset hash fairslm records when given a data file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidDataError(f"data file {path} does not exist; pass an existing file to hash")
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def resolve_policy(policy: AuditPolicy | str | os.PathLike[str] | None) -> AuditPolicy:
    """A policy object, read from a path, or the default file ``fairslm-policy.toml``."""
    return policy if isinstance(policy, AuditPolicy) else load_policy(policy)


def open_history(history: HistoryStore | str | os.PathLike[str] | None) -> HistoryStore:
    """An existing history store, opened read-only: the file is never created or changed."""
    if isinstance(history, HistoryStore):
        return history
    return HistoryStore(
        history if history is not None else DEFAULT_HISTORY_PATH, create=False, read_only=True
    )


@dataclass(frozen=True)
class DueItem:
    """One schedule rule of one criterion for one model, and whether it calls for an audit.

    ``status`` is ``"due"`` (run an audit), ``"ok"``, or ``"unknown"`` (an on-data-change rule
    checked without a dataset hash).
    """

    model: str
    criterion: str
    rule: str
    status: str
    reason: str
    last_audit: datetime | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class DueReport:
    """Everything :func:`due` checked, at time ``now``."""

    now: datetime
    items: tuple[DueItem, ...]

    @property
    def due(self) -> tuple[DueItem, ...]:
        """The items that call for an audit."""
        return tuple(i for i in self.items if i.status == "due")

    @property
    def any_due(self) -> bool:
        return bool(self.due)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain rows, times as ISO strings."""
        rows = []
        for item in self.items:
            row = asdict(item)
            for key in ("last_audit", "due_at"):
                row[key] = None if row[key] is None else row[key].isoformat()
            rows.append(row)
        return rows


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def _check_rule(
    store: HistoryStore, model: str, criterion: str, rule: Rule, *, now: datetime,
    dataset_hash: str | None, model_fingerprint: str | None,
) -> DueItem:
    item = {"model": model, "criterion": criterion, "rule": rule.describe()}
    if rule.kind == PRE_DEPLOYMENT:
        last = store.last_measured(model, criterion, model_fingerprint=model_fingerprint)
        if last is None:
            which = f"model version {model_fingerprint}" if model_fingerprint else "this model"
            return DueItem(**item, status="due", reason=f"never audited for {which}")
        return DueItem(**item, status="ok", reason=f"audited {_day(last.recorded_at)}",
                       last_audit=last.recorded_at)
    last = store.last_measured(model, criterion)
    if last is None:
        return DueItem(**item, status="due", reason="never audited")
    if rule.kind == ON_DATA_CHANGE:
        when = last.recorded_at
        if dataset_hash is None:
            return DueItem(**item, status="unknown", last_audit=when,
                           reason="no dataset hash given; pass --dataset-hash or --data")
        if last.dataset_hash is None:
            return DueItem(**item, status="due", last_audit=when,
                           reason=f"the audit of {_day(when)} recorded no dataset hash")
        if last.dataset_hash != dataset_hash:
            return DueItem(
                **item, status="due", last_audit=when,
                reason=f"data changed since the audit of {_day(when)} "
                f"({last.dataset_hash[:12]} -> {dataset_hash[:12]})",
            )
        return DueItem(**item, status="ok", last_audit=when,
                       reason=f"same data as the audit of {_day(when)}")
    due_at = rule.next_due(last.recorded_at)
    if now >= due_at:
        days = (now - due_at).days
        return DueItem(
            **item, status="due", last_audit=last.recorded_at, due_at=due_at,
            reason=f"overdue since {_day(due_at)} ({days} day{'s' if days != 1 else ''}); "
            f"last audit {_day(last.recorded_at)}",
        )
    return DueItem(**item, status="ok", last_audit=last.recorded_at, due_at=due_at,
                   reason=f"next due {_day(due_at)}")


def due(
    policy: AuditPolicy | str | os.PathLike[str] | None = None,
    history: HistoryStore | str | os.PathLike[str] | None = None,
    *,
    model: str | None = None,
    dataset_hash: str | None = None,
    data: str | os.PathLike[str] | None = None,
    model_fingerprint: str | None = None,
    now: datetime | str | None = None,
) -> DueReport:
    """Which audits the policy calls for now.

    Parameters
    ----------
    policy : AuditPolicy or path, optional
        Default: ``fairslm-policy.toml``.
    history : HistoryStore or path, optional
        Default: ``fairslm-history.db``.
    model : str, optional
        Check this model only; default every model in the history. A model never audited has
        every criterion due.
    dataset_hash, data : optional
        The current dataset's hash, or a file to hash (:func:`file_sha256`), for
        ``on-data-change`` rules. At most one of the two.
    model_fingerprint : str, optional
        The version about to be deployed: ``pre-deployment`` rules then need an audit of this
        fingerprint, not just of the model name.
    now : datetime or ISO string, optional
        The time to check at (default: now, UTC); injected so schedules can be tested exactly.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> from fairslm import audit_predictions
    >>> res = audit_predictions([1, 0, 1, 0], [1, 0, 1, 0], sensitive_features=["a", "a", "b", "b"],
    ...                         min_group_size=1)
    >>> store = HistoryStore(pathlib.Path(tmp.name) / "h.db")
    >>> _ = store.record(res, model="m", when="2025-01-31")
    >>> report = due(AuditPolicy(), store, model="m", now="2025-03-01")
    >>> [(i.criterion, i.rule, i.status) for i in report.due]
    [('equal_opportunity', 'every 1 month', 'due')]
    >>> tmp.cleanup()
    """
    if dataset_hash is not None and data is not None:
        raise ConfigError("pass either a dataset hash or a data file to hash, not both")
    if data is not None:
        dataset_hash = file_sha256(data)
    pol = resolve_policy(policy)
    store = open_history(history)
    at = as_utc(now)
    models = [model] if model is not None else store.models()
    if not models and not (pol.regimes and regime_audits(store)):
        raise InvalidDataError(
            f"the history {store.path} has no audits yet; pass --model NAME to see what a new "
            "model needs"
        )
    items = [
        _check_rule(store, m, crit, rule, now=at, dataset_hash=dataset_hash,
                    model_fingerprint=model_fingerprint)
        for m in models
        for crit, spec in pol.criteria.items()
        for rule in spec.rules
    ]
    if pol.regimes:
        regime_models = sorted({r.model for r in regime_audits(store)} - set(models))
        for m in models + ([] if model is not None else regime_models):
            for name, spec in pol.regimes.items():
                items += [_check_regime(store, m, name, rule, now=at) for rule in spec.rules]
    return DueReport(now=at, items=tuple(items))


_REGIME_RULES = {
    "nyc-ll144": "6 RCNY §5-301(a): no use more than one year after the most recent bias audit",
}


def _check_regime(store: HistoryStore, model: str, regime: str, rule: Rule, *,
                  now: datetime) -> DueItem:
    """A regime's bias audit, due by the audit's own date (not the day it was recorded)."""
    item = {"model": model, "criterion": f"{regime} bias audit", "rule": rule.describe()}
    records = regime_audits(store, model, regime)
    if not records:
        return DueItem(**item, status="due", reason=f"no {regime} bias audit recorded")
    last = records[-1]
    dated = last.audit_date or last.recorded_at
    if rule.kind == PRE_DEPLOYMENT:
        return DueItem(**item, status="ok", last_audit=dated, reason=f"bias audit of {_day(dated)}")
    due_at = rule.next_due(dated)
    why = f" ({_REGIME_RULES[regime]})" if regime in _REGIME_RULES else ""
    if now >= due_at:
        return DueItem(**item, status="due", last_audit=dated, due_at=due_at,
                       reason=f"bias audit of {_day(dated)} expired {_day(due_at)}{why}")
    return DueItem(**item, status="ok", last_audit=dated, due_at=due_at,
                   reason=f"bias audit of {_day(dated)}; next due {_day(due_at)}{why}")
