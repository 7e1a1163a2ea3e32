"""``fairslm compliance`` end to end: check the options against the regime, run its audit or build
its evidence bundle, write the files, record the audit in the history."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairslm.compliance import (
    REGIMES,
    eeoc_adverse_impact,
    eu_ai_act_bundle,
    nyc_ll144_audit,
)
from fairslm.exceptions import ConfigError

__all__ = ["ComplianceRun", "run_compliance"]

# option -> (its command-line flag, the regimes it applies to)
_NYC, _EEOC, _EU = "nyc-ll144", "eeoc", "eu-ai-act"
_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "data": ("DATA (the rows file)", (_NYC, _EEOC)),
    "sex": ("--sex", (_NYC, _EEOC)),
    "race": ("--race", (_NYC, _EEOC)),
    "ethnicity": ("--ethnicity", (_NYC, _EEOC)),
    "mapping": ("--mapping", (_NYC, _EEOC)),
    "selected": ("--selected", (_NYC, _EEOC)),
    "pos_label": ("--pos-label", (_NYC, _EEOC)),
    "classification": ("--classification", (_NYC,)),
    "score": ("--y-score", (_NYC, _EEOC)),
    "y_true": ("--y-true", (_NYC, _EEOC)),
    "thresholds": ("--thresholds", (_NYC, _EEOC)),
    "steps": ("--step", (_EEOC,)),
    "groups": ("--groups", (_EEOC,)),
    "threshold": ("--threshold", (_EEOC,)),
    "data_type": ("--data-type", (_NYC,)),
    "data_explanation": ("--data-explanation", (_NYC,)),
    "audit_date": ("--audit-date", (_NYC,)),
    "distribution_date": ("--distribution-date", (_NYC,)),
    "exclude_small": ("--exclude-small / --exclude", (_NYC,)),
    "exclusion_justification": ("--exclusion-justification", (_NYC,)),
    "tool": ("--tool", (_NYC,)),
    "auditor": ("--auditor", (_NYC,)),
    "audit": ("--audit", (_EU,)),
    "data_audit": ("--data-audit", (_EU,)),
    "comparison": ("--comparison", (_EU,)),
    "mitigation": ("--mitigation", (_EU,)),
    "counterfactual": ("--counterfactual", (_EU,)),
    "evidence": ("--evidence", (_EU,)),
    "policy": ("--policy", (_EU,)),
    "system": ("--system / --intended-purpose / --annex-iii", (_EU,)),
    "signer": ("--signer", (_EU,)),
}
# Values that mean "not given" for an option.
_UNSET: dict[str, Any] = {"groups": "guidelines", "threshold": 0.8}


def _given(name: str, value: Any) -> bool:
    if name in _UNSET:
        return value != _UNSET[name]
    if isinstance(value, dict):
        return any(v for v in value.values())
    return value not in (None, False, [], (), "")


@dataclass(frozen=True)
class ComplianceRun:
    """What ``fairslm compliance`` produced: the result, the files written, the history id."""

    result: Any
    paths: dict[str, Path]
    recorded: int | None


def run_compliance(
    regime: str,
    data: Any = None,
    *,
    out: str | os.PathLike[str] | None = None,
    history: str | os.PathLike[str] | None = None,
    model: str | None = None,
    **options: Any,
) -> ComplianceRun:
    """Run one regime's audit (or build the EU AI Act bundle), write it to ``out``, record it.

    ``options`` are those of :func:`~fairslm.compliance.nyc_ll144_audit`,
    :func:`~fairslm.compliance.eeoc_adverse_impact` or
    :func:`~fairslm.compliance.eu_ai_act_bundle` (``evidence`` being the regime audits); an
    option given to a regime it does not apply to is an error naming it. A regime audit is
    recorded in ``history`` (with ``model``) for ``fairslm due``; the bundle reads the history
    and the policy as evidence of post-market monitoring.
    """
    if regime not in REGIMES:
        raise ConfigError(f"regime must be one of {', '.join(REGIMES)}; got {regime!r}")
    options = {**options, "data": data}
    unknown = [k for k in options if k not in _OPTIONS]
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown}; options are: {', '.join(_OPTIONS)}")
    wrong = [k for k, v in options.items() if _given(k, v) and regime not in _OPTIONS[k][1]]
    if wrong:
        parts = [f"{_OPTIONS[k][0]} (for {', '.join(_OPTIONS[k][1])})" for k in wrong]
        raise ConfigError(f"{', '.join(parts)} do{'es' if len(wrong) == 1 else ''} not apply to "
                          f"--regime {regime}")
    if history is not None and not model:
        raise ConfigError("--history needs --model NAME: the audits are kept per model")
    given = {k: v for k, v in options.items() if regime in _OPTIONS[k][1]}
    if regime in (_NYC, _EEOC) and given.get("data") is None:
        raise ConfigError(
            f"--regime {regime} audits the tool's decisions about people: pass the rows file "
            "(DATA) with a column of sex and/or race and the tool's output"
        )
    if regime == _NYC:
        if not given.get("data_type"):
            raise ConfigError(
                "--data-type is required: 'historical' (data of the tool's use) or 'test' "
                "(6 RCNY §5-302)"
            )
        given.pop("steps", None)
        result = nyc_ll144_audit(given.pop("data"), **given)
    elif regime == _EEOC:
        result = eeoc_adverse_impact(given.pop("data"), **given)
    else:
        result = _bundle(given, history=history, model=model)
    paths: dict[str, Path] = {}
    if out is not None:
        from fairslm.reporting import write_compliance

        paths = write_compliance(result, out)
    recorded = None
    if history is not None and regime != _EU:
        from fairslm.governance import record_regime_audit

        recorded = record_regime_audit(history, result, model=model)
    return ComplianceRun(result=result, paths=paths, recorded=recorded)


def _bundle(given: dict[str, Any], *, history: Any, model: str | None) -> Any:
    from fairslm.governance import HistoryStore, due, load_policy

    if given.get("audit") is None:
        raise ConfigError(
            "--regime eu-ai-act maps fairslm's artefacts to the Act: pass at least the model "
            "audit (--audit audit.json, written by `fairslm audit-predictions` or `fairslm run`)"
        )
    pol = load_policy(given["policy"]) if given.get("policy") is not None else None
    hist = None
    if history is not None:
        store = HistoryStore(history, create=False)
        hist = {
            "model": model,
            "audits": [{"id": r.id, "recorded_at": r.recorded_at.isoformat(),
                        "passed": r.passed, "failing": list(r.failing)}
                       for r in store.audits(model)],
            "due": due(pol, store, model=model).to_dicts() if pol is not None else [],
        }
    return eu_ai_act_bundle(
        audit=given["audit"], data_audit=given.get("data_audit"),
        comparison=given.get("comparison"), mitigation=given.get("mitigation"),
        counterfactual=given.get("counterfactual"),
        regime_audits=list(given.get("evidence") or []), policy=pol, history=hist,
        system={k: v for k, v in (given.get("system") or {}).items() if v},
        signer=given.get("signer"),
    )
