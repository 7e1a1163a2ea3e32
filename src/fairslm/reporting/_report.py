"""The report as data: ``build_report`` assembles one versioned JSON document from the results
of every phase; the HTML only renders it.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairslm._artifact import json_safe, write_json_atomic
from fairslm._atomic import write_text_atomic
from fairslm._version import __version__
from fairslm.audit import AuditResult, CounterfactualResult, DataAuditResult, GenerationAuditResult
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import FOUR_FIFTHS
from fairslm.mitigation.comparison import ComparisonResult
from fairslm.reporting._guide import CRITERIA_GUIDE
from fairslm.reporting._html import render_html
from fairslm.reporting._policy import policy_verdict
from fairslm.reporting._results import per_model_results, typed_result
from fairslm.reporting._schema import REPORT_KIND, REPORT_SCHEMA_VERSION, validate_report

__all__ = ["build_report", "write_report"]

DEFAULT_POLICY: dict[str, Any] = {
    "criteria": ["statistical_parity"],
    "threshold": FOUR_FIFTHS,
    "views": "marginal",
}


def _as_dict(obj: Any, what: str) -> dict[str, Any] | None:
    """Accept a result object (``to_dict()``), a dict, or None."""
    if obj is None:
        return None
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if not isinstance(obj, Mapping):
        raise InvalidDataError(
            f"{what} must be a result object with to_dict() or a dict; got {type(obj).__name__}"
        )
    return dict(json_safe(dict(obj)))


def _audit_dict(obj: Any, name: str) -> tuple[dict[str, Any], AuditResult]:
    """The audit's JSON form and its typed result (read back, which checks the schema)."""
    if isinstance(obj, (str, os.PathLike)):
        obj = AuditResult.from_json(obj)
    data = _as_dict(obj, f"the audit of model {name!r}") or {}
    if data.get("kind") != "fairslm.audit":
        raise InvalidDataError(
            f"the audit of model {name!r} is not a fairslm audit (kind={data.get('kind')!r}); "
            "pass an AuditResult or the audit.json fairslm wrote"
        )
    return data, AuditResult.from_dict(data)  # checks its schema version with a clear message


def _model_name(audit: Any) -> str:
    """An unnamed audit's model is called by its folder's name (from the audit's provenance)."""
    prov = audit.provenance if isinstance(audit, AuditResult) else audit.get("provenance") or {}
    source = str(prov.get("model") or "")
    return Path(source).resolve().name or "model" if source else "model"


def build_report(
    models: Any,
    *,
    title: str = "Fairness audit report",
    final: str | None = None,
    baseline: str | None = None,
    policy: Mapping[str, Any] | None = None,
    scores: Mapping[str, Mapping[str, float]] | None = None,
    truth_audits: Mapping[str, Any] | None = None,
    data_audit: Any = None,
    counterfactual: Mapping[str, Any] | Any = None,
    generation: Mapping[str, Any] | Any = None,
    mitigation: Mapping[str, Any] | None = None,
    comparison: Any = None,
    history: Any = None,
    compliance: Sequence[Any] | Any = None,
    provenance: Mapping[str, Any] | None = None,
    model_card: Mapping[str, Any] | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    """Assemble the report document (kind ``fairslm.report``) from the results of each phase.

    Parameters
    ----------
    models : AuditResult, dict, or mapping of model name -> AuditResult / audit dict / path
        The audit of each model, in the order to show them (e.g. baseline, then mitigated).
    final, baseline : str, optional
        Which model the policy verdict is about (default: the last) and which one mitigation
        is compared against (default: the first).
    policy : mapping, optional
        ``{"criteria": [...], "threshold": 0.8, "views": "marginal"}``; default: statistical
        parity (the four-fifths rule) on each sensitive feature.
    scores : mapping, optional
        Extra figures per model, e.g. ``{"baseline": {"accuracy vs true label": 0.91}}``.
    truth_audits : mapping, optional
        Per model, an audit against an unbiased ground truth when one is known.
    data_audit, counterfactual, comparison : results, their ``to_dict()`` forms or JSON files, optional
        A :class:`~fairslm.audit.DataAuditResult`, :class:`~fairslm.audit.CounterfactualResult`
        (or a mapping of model name -> one) and
        :class:`~fairslm.mitigation.comparison.ComparisonResult`; each is read through its class,
        which refuses another kind or schema version, and its section is rendered when given.
    history : dict, optional
        Trends of earlier audits (``fairslm.governance.trend`` data).
    generation : GenerationAuditResult or mapping of model name -> result, optional
        Counterfactual audits of generated texts, rendered in the "Generated texts" section.
    compliance : result or sequence of results, optional
        Regime audits (:class:`~fairslm.compliance.ComplianceResult`), audits of scores and
        EU AI Act evidence bundles, each rendered in the "Regulatory audits" section.
    mitigation : mapping, optional
        What was done to the data and the training (steps and their settings).
    provenance, model_card : mapping, optional
        Versions, fingerprints, hashes, seed, config; intended use and limitations.

    Returns
    -------
    dict
        JSON-ready; :func:`render_html` renders it and :func:`validate_report` checks it.

    Examples
    --------
    >>> from fairslm import audit_predictions
    >>> a = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
    ...                       min_group_size=1)
    >>> rep = build_report({"model": a}, created="2026-01-01T00:00:00Z")
    >>> rep["kind"], rep["summary"]["verdict"]
    ('fairslm.report', 'fail')
    """
    if isinstance(models, (AuditResult, Mapping)) and (
        isinstance(models, AuditResult) or models.get("kind") == "fairslm.audit"
    ):
        models = {_model_name(models): models}
    if not isinstance(models, Mapping) or not models:
        raise InvalidDataError("build_report needs at least one model audit")
    entries = []
    pol = dict(DEFAULT_POLICY)
    if policy:
        unknown = set(policy) - set(DEFAULT_POLICY)
        if unknown:
            raise ConfigError(
                f"unknown policy key(s) {sorted(unknown)}; valid keys: {', '.join(DEFAULT_POLICY)}"
            )
        pol.update(policy)
    names = list(models)
    final = final or names[-1]
    baseline = baseline or names[0]
    for n in (final, baseline):
        if n not in models:
            raise InvalidDataError(f"model {n!r} is not among the audits: {', '.join(names)}")
    for name in names:
        audit, typed = _audit_dict(models[name], name)
        entry: dict[str, Any] = {
            "name": str(name),
            "audit": audit,
            "scores": dict(json_safe(dict((scores or {}).get(name, {})))),
            "policy": policy_verdict(typed, pol),
        }
        if truth_audits and name in truth_audits:
            entry["truth_audit"] = _audit_dict(truth_audits[name], name)[0]
        entries.append(entry)
    cf = per_model_results(CounterfactualResult, counterfactual, final, "counterfactual result")
    gen = per_model_results(GenerationAuditResult, generation, final, "generation audit")
    final_entry = next(e for e in entries if e["name"] == final)
    report = {
        "kind": REPORT_KIND,
        "schema_version": REPORT_SCHEMA_VERSION,
        "title": str(title),
        "created": created
        or _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "fairslm_version": __version__,
        "summary": {
            "final": str(final),
            "baseline": str(baseline),
            "verdict": final_entry["policy"]["verdict"],
            "policy": pol,
        },
        "guide": CRITERIA_GUIDE,
        "models": entries,
        "data_audit": _stored(data_audit, DataAuditResult, "data audit"),
        "counterfactual": _stored_per_model(cf),
        "generation": _stored_per_model(gen),
        "mitigation": dict(json_safe(dict(mitigation))) if mitigation else None,
        "comparison": _stored(comparison, ComparisonResult, "comparison"),
        "history": _as_dict(history, "history"),
        "compliance": _compliance_list(compliance),
        "provenance": dict(json_safe(dict(provenance or {}))),
        "model_card": dict(json_safe(dict(model_card))) if model_card else None,
    }
    validate_report(report)
    return report


def _stored(obj: Any, cls: type[Any], what: str) -> dict[str, Any] | None:
    """A result's JSON form, read through its class (which checks it), or None."""
    return None if obj is None else typed_result(cls, obj, what).to_dict()


def _stored_per_model(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if results is None:
        return None
    return {name: None if r is None else r.to_dict() for name, r in results.items()}


def _compliance_list(obj: Any) -> list[dict[str, Any]] | None:
    if obj is None:
        return None
    items = [obj] if hasattr(obj, "to_dict") or isinstance(obj, Mapping) else list(obj)
    return [d for d in (_as_dict(i, "compliance artefact") for i in items) if d is not None]


def write_report(
    report: Mapping[str, Any], out_dir: str | os.PathLike[str], *, stem: str = "report",
    formats: Sequence[str] = ("json", "html"),
) -> dict[str, Path]:
    """Write ``report.json`` and/or ``report.html`` whole (temp file, then rename)."""
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    if "json" in formats:
        paths["json"] = write_json_atomic(report, out / f"{stem}.json")
    if "html" in formats:
        paths["html"] = write_text_atomic(render_html(report), out / f"{stem}.html")
    return paths


