"""Record an audit into a history file, or list the recorded audits, in one call."""

from __future__ import annotations

import os
from datetime import datetime

from fairslm.audit import AuditResult
from fairslm.exceptions import ConfigError
from fairslm.governance._due import file_sha256
from fairslm.governance._history import AuditRecord, HistoryStore
from fairslm.governance._policy import AuditPolicy, load_policy
from fairslm.governance._regimes import record_regime

__all__ = ["list_audits", "record_audit", "record_regime_audit"]


def record_audit(
    history: str | os.PathLike[str],
    result: AuditResult,
    *,
    model: str | None,
    dataset_hash: str | None = None,
    data: str | os.PathLike[str] | None = None,
    policy: AuditPolicy | str | os.PathLike[str] | None = None,
    when: datetime | str | None = None,
) -> int:
    """Append ``result`` to the history file ``history`` (created if missing); returns its id.

    Without ``dataset_hash``, the dataset hash is the SHA-256 of the ``data`` file's bytes
    (:func:`~fairslm.governance.file_sha256`) when one is given.
    """
    if not model:
        raise ConfigError("recording into a history needs a model name; pass --model NAME")
    if dataset_hash is None and data is not None:
        dataset_hash = file_sha256(data)
    pol = policy if isinstance(policy, AuditPolicy) or policy is None else load_policy(policy)
    return HistoryStore(history).record(
        result, model=model, dataset_hash=dataset_hash, policy=pol, when=when
    )


def list_audits(
    history: HistoryStore | str | os.PathLike[str] | None, model: str | None = None
) -> list[AuditRecord]:
    """The recorded audits (of ``model``), oldest first; an error if ``model`` has none."""
    from fairslm.governance._due import open_history

    store = open_history(history)
    records = store.audits(model)
    if model is not None and not records:
        store.latest(model)  # raises the error naming the models that have audits
    return records


def record_regime_audit(
    history: str | os.PathLike[str], result: object, *, model: str | None,
    when: datetime | str | None = None,
) -> int:
    """Append a regime bias audit (``fairslm compliance``) to ``history``; returns its id.

    ``fairslm due`` then counts the regime's schedule (``[regimes.nyc-ll144]`` in the policy)
    from the bias audit's own date.
    """
    if not model:
        raise ConfigError("recording into a history needs a model name; pass --model NAME")
    return record_regime(HistoryStore(history), result, model=model, when=when)
