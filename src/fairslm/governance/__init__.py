"""Audit governance: the audit policy, the history of audits, what is due, and the release gate.

A policy (TOML) says which criteria apply, their thresholds and when each must be audited; a
history file (SQLite) keeps every audit; :func:`due` lists what the schedule calls for and
:func:`gate` checks the latest audit against the policy.
"""

from fairslm.governance._due import DueItem, DueReport, due, file_sha256
from fairslm.governance._gate import GateCheck, GateResult, gate
from fairslm.governance._history import (
    DEFAULT_HISTORY_PATH,
    HISTORY_SCHEMA_VERSION,
    AuditRecord,
    HistoryStore,
)
from fairslm.governance._policy import (
    DEFAULT_POLICY_PATH,
    DEFAULT_POLICY_TOML,
    AuditPolicy,
    CriterionPolicy,
    RegimePolicy,
    load_policy,
    parse_policy,
    write_default_policy,
)
from fairslm.governance._record import list_audits, record_audit, record_regime_audit
from fairslm.governance._regimes import RegimeRecord, regime_audits
from fairslm.governance._schedule import Rule, add_months, parse_rule
from fairslm.governance._trend import trend, trend_svg, write_trend_svg

__all__ = [
    "AuditPolicy",
    "AuditRecord",
    "CriterionPolicy",
    "DEFAULT_HISTORY_PATH",
    "DEFAULT_POLICY_PATH",
    "DEFAULT_POLICY_TOML",
    "DueItem",
    "DueReport",
    "GateCheck",
    "GateResult",
    "HISTORY_SCHEMA_VERSION",
    "HistoryStore",
    "RegimePolicy",
    "RegimeRecord",
    "Rule",
    "add_months",
    "due",
    "file_sha256",
    "gate",
    "list_audits",
    "load_policy",
    "parse_policy",
    "parse_rule",
    "record_audit",
    "record_regime_audit",
    "regime_audits",
    "trend",
    "trend_svg",
    "write_default_policy",
    "write_trend_svg",
]
