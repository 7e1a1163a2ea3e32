"""Regime bias audits (NYC Local Law 144, EEOC) in the history, dated by the audit itself.

They live in the history's ``regime_audits`` table (schema version 3): a regime's schedule
counts from the bias audit's own date (``record.audit_date``), not from the day it was recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.governance._history import HistoryStore
from fairslm.governance._schedule import as_utc

__all__ = ["RegimeRecord", "record_regime", "regime_audits"]


@dataclass(frozen=True)
class RegimeRecord:
    """One recorded regime bias audit.

    ``audit_date`` is the date of the bias audit itself (which the regime's schedule counts
    from), ``recorded_at`` when it was written to the history.
    """

    id: int
    recorded_at: datetime
    model: str
    regime: str
    audit_date: datetime | None
    dataset_hash: str | None


def record_regime(
    store: HistoryStore, result: Any, *, model: str, when: datetime | str | None = None
) -> int:
    """Append a regime's bias audit (a :class:`~fairslm.compliance.ComplianceResult` or its
    JSON dict) to ``store``; returns its id."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"model must be a non-empty name such as 'screener-v2'; got {model!r}")
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    if data.get("kind") != "fairslm.compliance":
        raise InvalidDataError(
            f"not a regime bias audit (kind={data.get('kind')!r}); record the result of "
            "`fairslm compliance --regime nyc-ll144` or `--regime eeoc`"
        )
    audit_date = (data.get("record") or {}).get("audit_date")
    row = (
        as_utc(when).isoformat(timespec="microseconds"),
        model.strip(),
        str(data.get("regime")),
        None if audit_date is None else as_utc(audit_date).isoformat(),
        (data.get("inputs") or {}).get("sha256"),
        json.dumps(data, allow_nan=False),
    )
    with store._write() as con:
        cur = con.execute(
            """INSERT INTO regime_audits (recorded_at, model, regime, audit_date, dataset_hash,
                   result_json) VALUES (?, ?, ?, ?, ?, ?)""",
            row,
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]


def regime_audits(
    store: HistoryStore, model: str | None = None, regime: str | None = None
) -> list[RegimeRecord]:
    """Recorded regime bias audits (of ``model``, of ``regime``), oldest audit date first."""
    sql = "SELECT id, recorded_at, model, regime, audit_date, dataset_hash FROM regime_audits"
    conds, args = [], []
    for col, val in (("model", model), ("regime", regime)):
        if val is not None:
            conds.append(f"{col} = ?")
            args.append(val)
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    with store._read() as con:
        rows = con.execute(sql + " ORDER BY COALESCE(audit_date, recorded_at), id", args).fetchall()
    return [
        RegimeRecord(
            id=r[0], recorded_at=datetime.fromisoformat(r[1]), model=r[2], regime=r[3],
            audit_date=None if r[4] is None else datetime.fromisoformat(r[4]), dataset_hash=r[5],
        )
        for r in rows
    ]
