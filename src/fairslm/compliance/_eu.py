"""An evidence bundle for the EU AI Act (Regulation (EU) 2024/1689) from what fairslm measured.

High-risk systems (Annex III: point 4, employment and workers management, e.g. recruitment and
selection; point 5, access to essential services, e.g. creditworthiness) must meet Chapter III,
Section 2. The bundle maps fairslm's artefacts to the provisions where they are evidence:

* Art. 10(2)(f)-(h): examination of the data for possible biases, measures to detect, prevent
  and mitigate them, and the data gaps or shortcomings found;
* Art. 13(3)(b)(v): the system's performance regarding specific persons or groups, for the
  instructions for use;
* Art. 15(1) and (3): accuracy, and the accuracy metrics declared in the instructions for use;
* Annex IV point 2(g): validation and testing procedures, metrics (including potentially
  discriminatory impacts), and dated test reports signed by the responsible persons;
* Art. 72: post-market monitoring (the audit policy's schedule and the audit history).

Each item says what evidence fairslm holds and what the provider must still supply. The bundle
is dated, names every input with its SHA-256, has its own hash, and leaves the signature to the
responsible person: fairslm states measurements, never conformity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version, json_safe, read_json_source
from fairslm._version import __version__
from fairslm.exceptions import InvalidDataError

__all__ = ["EU_BUNDLE_SCHEMA_VERSION", "EvidenceBundle", "EvidenceItem", "eu_ai_act_bundle"]

EU_BUNDLE_SCHEMA_VERSION = "1.0"
REGULATION = "Regulation (EU) 2024/1689 (Artificial Intelligence Act)"
HELD, PARTIAL, NONE = "evidence held", "partial evidence", "no evidence held"


@dataclass(frozen=True)
class EvidenceItem:
    """One provision: what it asks, what fairslm holds, what the provider must supply."""

    id: str
    provision: str
    asks: str
    status: str
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    provider_must_supply: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceBundle(JsonArtifact):
    """EU AI Act evidence bundle (kind ``fairslm.eu_ai_act_evidence``).

    ``inputs`` lists each artefact used with its SHA-256; ``signer`` is left for the responsible
    person (name, role, date, signature); ``bundle_sha256`` hashes everything else.
    """

    _kind: ClassVar[str] = "fairslm.eu_ai_act_evidence"
    _what: ClassVar[str] = "EU AI Act evidence bundle"

    schema_version: str
    created: str
    regulation: str
    system: dict[str, Any]
    items: tuple[EvidenceItem, ...]
    inputs: tuple[dict[str, Any], ...]
    signer: dict[str, Any]
    bundle_sha256: str
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def item(self, item_id: str) -> EvidenceItem:
        """The item of one provision, e.g. ``"art-10-2-f"``."""
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(f"no item {item_id!r}; items: {', '.join(i.id for i in self.items)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceBundle:
        """Rebuild a bundle from :meth:`to_dict` output."""
        version = check_kind_version(
            data, kind=cls._kind, version=EU_BUNDLE_SCHEMA_VERSION, what=cls._what,
            written_by="`fairslm compliance --regime eu-ai-act`",
        )
        items = tuple(
            EvidenceItem(**{**i, "evidence": tuple(i["evidence"]), "sources": tuple(i["sources"]),
                            "provider_must_supply": tuple(i["provider_must_supply"])})
            for i in data["items"]
        )
        return cls(
            schema_version=version, created=data["created"], regulation=data["regulation"],
            system=dict(data["system"]), items=items, inputs=tuple(data["inputs"]),
            signer=dict(data["signer"]), bundle_sha256=data["bundle_sha256"],
            provenance=dict(data.get("provenance", {})), notes=tuple(data.get("notes", ())),
        )


def _canonical_hash(data: Any) -> str:
    text = json.dumps(json_safe(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _load(obj: Any, name: str, kind: str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """An artefact as a dict, and its input record (name, kind, SHA-256, source)."""
    if obj is None:
        return None, None
    source = "in memory"
    if isinstance(obj, (str, os.PathLike)) and not str(obj).lstrip().startswith("{"):
        p = Path(obj)
        if not p.is_file():
            raise InvalidDataError(f"{name} file {p} does not exist")
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        data = read_json_source(p, name)
        source = p.name
    else:
        if hasattr(obj, "to_dict"):
            obj = obj.to_dict()
        if not isinstance(obj, Mapping):
            raise InvalidDataError(f"{name} must be a fairslm result, its JSON file or a dict; "
                                   f"got {type(obj).__name__}")
        data = dict(obj)
        digest = _canonical_hash(data)
    if kind is not None and data.get("kind") != kind:
        raise InvalidDataError(
            f"{name} is not a {kind} artefact (kind={data.get('kind')!r}); pass the JSON fairslm "
            f"wrote for it"
        )
    return data, {"name": name, "kind": data.get("kind"), "sha256": digest, "source": source}


def _fmt(x: Any) -> str:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return "n/a" if not math.isfinite(float(x)) else f"{float(x):.3f}"
    return "n/a" if x is None else str(x)


def _marginal_views(audit: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    views = list(audit.get("views", []))
    single = [v for v in views if len(v.get("features", [])) == 1]
    return single or views


def _bias_examination(audit: Mapping[str, Any], data_audit: Mapping[str, Any] | None,
                      regimes: list[Mapping[str, Any]]) -> list[str]:
    task = audit.get("task", {})
    out = [f"model audit of {task.get('n_rows', '?')} decisions across "
           f"{', '.join(v['name'] for v in audit.get('views', []))} (intersections included)"]
    for v in audit.get("views", []):
        for c in v.get("criteria", []):
            out.append(f"{v['name']}: {c['name']} ratio {_fmt(c.get('ratio'))} "
                       f"({c.get('verdict')} against threshold {_fmt(c.get('threshold'))}); "
                       f"worst group {c.get('worst_group')}")
    if data_audit:
        ds = data_audit.get("dataset", {})
        out.append(f"data audit of {ds.get('n_rows', '?')} rows (representation, label base "
                   "rates, proxies, aggregation)")
        out += [f"data audit: {f}" for f in data_audit.get("findings", [])]
    for r in regimes:
        n = sum(1 for f in r.get("findings", []) if f.get("kind") == "indicator")
        out.append(f"{r.get('regime')} bias audit: {n} indicator finding(s) citing the regime's rule")
    return out


def _gaps(audit: Mapping[str, Any], data_audit: Mapping[str, Any] | None) -> list[str]:
    out = []
    min_n = audit.get("options", {}).get("min_group_size")
    for v in audit.get("views", []):
        small = [g["label"] for g in v.get("groups", []) if not g.get("sufficient", True)]
        if small:
            out.append(f"{v['name']}: {len(small)} group(s) under {min_n} rows never drive a "
                       f"verdict: {', '.join(small[:12])}")
        undefined = sorted({m for g in v.get("groups", []) for m in g.get("undefined", {})})
        if undefined:
            out.append(f"{v['name']}: metrics undefined for some groups: {', '.join(undefined)}")
    if not out:
        out.append(f"model audit: every group of every view has at least {min_n} rows and every "
                   "metric is defined (no gap found in the audited data)")
    if data_audit:
        for name, view in data_audit.get("representation", {}).items():
            tiny = view.get("tiny") if isinstance(view, Mapping) else None
            if tiny:
                out.append(f"data audit, {name}: groups too small to judge: {', '.join(tiny[:12])}")
    return out


def _group_performance(audit: Mapping[str, Any]) -> list[str]:
    out = []
    keys = ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate", "precision")
    for v in _marginal_views(audit):
        for g in v.get("groups", []):
            m = g.get("metrics", {})
            vals = ", ".join(f"{k.replace('_', ' ')} {_fmt(m.get(k))}" for k in keys if k in m)
            out.append(f"{v['name']} = {g['label']} (n = {g.get('count')}): {vals}")
    return out


def _history_lines(history: Mapping[str, Any] | None, policy: Mapping[str, Any] | None) -> list[str]:
    out = []
    if policy:
        crit = policy.get("criteria", {})
        for name, spec in crit.items():
            sched = ", ".join(spec.get("schedule", [])) if isinstance(spec, Mapping) else str(spec)
            out.append(f"policy: {name} audited {sched}")
        for name, spec in (policy.get("regimes") or {}).items():
            sched = ", ".join(spec.get("schedule", [])) if isinstance(spec, Mapping) else str(spec)
            out.append(f"policy: {name} bias audit {sched}")
    if history:
        audits = list(history.get("audits", []))
        if audits:
            dates = sorted(str(a.get("recorded_at", ""))[:10] for a in audits)
            out.append(f"audit history: {len(audits)} audit(s) of {history.get('model')}, "
                       f"{dates[0]} to {dates[-1]}")
        for item in history.get("due", []):
            out.append(f"due check: {item.get('criterion')} ({item.get('rule')}): "
                       f"{item.get('status')}, {item.get('reason')}")
    return out


def _item(id_: str, provision: str, asks: str, evidence: list[str], sources: list[str],
          supply: list[str], *, complete: bool) -> EvidenceItem:
    status = NONE if not evidence else (HELD if complete else PARTIAL)
    return EvidenceItem(id=id_, provision=provision, asks=asks, status=status,
                        evidence=tuple(evidence), sources=tuple(dict.fromkeys(sources)),
                        provider_must_supply=tuple(supply))


def eu_ai_act_bundle(
    *,
    audit: Any,
    data_audit: Any = None,
    comparison: Any = None,
    mitigation: Any = None,
    counterfactual: Any = None,
    regime_audits: Sequence[Any] = (),
    policy: Mapping[str, Any] | Any = None,
    history: Mapping[str, Any] | None = None,
    system: Mapping[str, Any] | None = None,
    signer: Mapping[str, Any] | str | None = None,
    created: str | None = None,
) -> EvidenceBundle:
    """Map fairslm's artefacts to the EU AI Act's provisions for a high-risk system.

    Parameters
    ----------
    audit : AuditResult, dict or path
        The model audit (required): per-group performance and the bias criteria.
    data_audit, comparison, counterfactual : result, dict or path, optional
        A data audit, a before/after comparison of models, counterfactual tests.
    mitigation : dict or path, optional
        What was done against bias (e.g. the report written by ``fairslm debias --report``).
    regime_audits : sequence, optional
        NYC Local Law 144 or EEOC results (:class:`ComplianceResult` or their JSON).
    policy : AuditPolicy or its JSON dict, optional
        The audit policy: criteria, thresholds, schedules.
    history : mapping, optional
        ``{"model": name, "audits": [...], "due": [...]}`` from the audit history.
    system : mapping, optional
        ``name``, ``intended_purpose``, ``annex_iii`` (e.g. ``"4(a) recruitment"``), ``provider``.
    signer : mapping or str, optional
        The responsible person (name, role); the signature itself stays empty.
    created : str, optional
        ISO time of the bundle (default now, UTC).

    Returns
    -------
    EvidenceBundle

    Examples
    --------
    >>> from fairslm import audit_predictions
    >>> a = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
    ...                       min_group_size=1)
    >>> b = eu_ai_act_bundle(audit=a, created="2026-01-01T00:00:00Z")
    >>> b.item("art-13-3-b-v").status, b.item("art-10-2-g").status
    ('evidence held', 'no evidence held')
    """
    inputs: list[dict[str, Any]] = []

    def take(obj: Any, name: str, kind: str | None) -> dict[str, Any] | None:
        data, rec = _load(obj, name, kind)
        if rec is not None:
            inputs.append(rec)
        return data

    aud = take(audit, "model audit", "fairslm.audit")
    if aud is None:
        raise InvalidDataError("the bundle needs the model audit (audit=, CLI: --audit audit.json)")
    da = take(data_audit, "data audit", "fairslm.data_audit")
    cmp_ = take(comparison, "comparison", "fairslm.comparison")
    mit = take(mitigation, "mitigation", None)
    cf = take(counterfactual, "counterfactual tests", "fairslm.counterfactual")
    regimes = [d for i, r in enumerate(regime_audits)
               if (d := take(r, f"regime audit {i + 1}", "fairslm.compliance")) is not None]
    pol = policy.to_json_dict() if hasattr(policy, "to_json_dict") else (
        dict(policy) if policy else None)
    if pol is not None:
        inputs.append({"name": "audit policy", "kind": "fairslm.policy",
                       "sha256": _canonical_hash(pol), "source": "in memory"})
    if history:
        inputs.append({"name": "audit history", "kind": "fairslm.history",
                       "sha256": _canonical_hash(history), "source": "in memory"})

    prov = aud.get("provenance", {})
    opts = aud.get("options", {})
    items = [
        _item(
            "art-10-2-f", "Art. 10(2)(f)",
            "examination of the training, validation and testing data in view of possible "
            "biases likely to affect health and safety, fundamental rights, or lead to "
            "discrimination prohibited under Union law",
            _bias_examination(aud, da, regimes),
            ["model audit", *(["data audit"] if da else []),
             *[f"regime audit {i + 1}" for i in range(len(regimes))]],
            ["the scope of the examination for the system's intended purpose and context of use",
             "an assessment of how the biases found may affect health, safety and fundamental "
             "rights of the persons concerned",
             *([] if da else ["an examination of the data sets themselves (no data audit was given)"])],
            complete=da is not None,
        ),
        _item(
            "art-10-2-g", "Art. 10(2)(g)",
            "appropriate measures to detect, prevent and mitigate the possible biases identified",
            ([f"mitigation: {s.get('method')} (rows {s.get('rows_before')} -> "
              f"{s.get('rows_after')})" for s in (mit or {}).get("report", [])]
             + ([f"before/after comparison of {len(cmp_.get('rows', []))} models on "
                 f"{cmp_.get('criterion')}: " + "; ".join(
                     f"{r['name']} ratio {_fmt(r.get('ratio'))}, accuracy {_fmt(r.get('accuracy'))}"
                     for r in cmp_.get("rows", []))] if cmp_ else [])
             + ([f"counterfactual tests on {len(cf.get('summaries', cf.get('results', [])))} "
                 "grouping(s)"] if cf else [])),
            [*(["mitigation"] if mit else []), *(["comparison"] if cmp_ else []),
             *(["counterfactual tests"] if cf else [])],
            ["the decision on which measures to apply, their rationale, and the residual bias "
             "accepted", *([] if cmp_ else ["a before/after audit of the measures taken"])],
            complete=bool(mit and cmp_),
        ),
        _item(
            "art-10-2-h", "Art. 10(2)(h)",
            "identification of relevant data gaps or shortcomings that prevent compliance, and "
            "how they can be addressed",
            _gaps(aud, da), ["model audit", *(["data audit"] if da else [])],
            ["how each gap or shortcoming will be addressed (more data, other sources, "
             "restrictions of use)"],
            complete=da is not None,
        ),
        _item(
            "art-13-3-b-v", "Art. 13(3)(b)(v)",
            "the system's performance regarding specific persons or groups of persons on which "
            "it is intended to be used, in the instructions for use",
            _group_performance(aud), ["model audit"],
            ["the statement of these figures in the instructions for use, for the groups on "
             "which the system is intended to be used"],
            complete=True,
        ),
        _item(
            "art-15", "Art. 15(1), (3)",
            "an appropriate level of accuracy, with the levels and the relevant accuracy metrics "
            "declared in the instructions for use",
            [f"overall {k.replace('_', ' ')}: {_fmt(v)}" for k, v in aud.get("overall", {}).items()
             if k in ("accuracy", "balanced_accuracy", "precision", "true_positive_rate",
                      "false_positive_rate", "roc_auc", "calibration_error")],
            ["model audit"],
            ["the declared accuracy levels and metrics in the instructions for use",
             "robustness (Art. 15(4)) and cybersecurity (Art. 15(5)), which fairslm does not measure"],
            complete=False,
        ),
        _item(
            "annex-iv-2-g", "Annex IV, point 2(g)",
            "validation and testing procedures, the data used and its main characteristics, "
            "metrics for accuracy, robustness and potentially discriminatory impacts, and test "
            "logs and reports dated and signed by the responsible persons",
            [f"test procedure: per-group metrics from one count table; reference "
             f"{opts.get('reference_group')}, threshold {opts.get('threshold')}, groups under "
             f"{opts.get('min_group_size')} rows never judged, bootstrap replicates "
             f"{opts.get('n_bootstrap')}, significance tests {opts.get('significance')}",
             f"provenance: fairslm {prov.get('fairslm_version')}, count-table SHA-256 "
             f"{prov.get('table_sha256')}, dataset "
             f"{prov.get('dataset_hash') or prov.get('data_sha256') or 'not recorded'}, model "
             f"{prov.get('model_fingerprint') or 'not recorded'}",
             *(["counterfactual text tests of the model"] if cf else []),
             *[f"test report: audit #{a.get('id')} recorded {str(a.get('recorded_at'))[:19]}"
               for a in (history or {}).get("audits", [])[-10:]]],
            ["model audit", *(["counterfactual tests"] if cf else []),
             *(["audit history"] if history else [])],
            ["the signature and date of the responsible person on the test report (the signer "
             "field of this bundle)",
             "a description of the validation and testing data and their main characteristics",
             "robustness tests"],
            complete=False,
        ),
        _item(
            "art-72", "Art. 72",
            "a post-market monitoring system and plan that collects and analyses data on the "
            "system's performance throughout its lifetime",
            _history_lines(history, pol),
            [*(["audit policy"] if pol else []), *(["audit history"] if history else [])],
            ["the post-market monitoring plan (Art. 72(3)), part of the technical documentation",
             "how data from deployers is collected and fed back into the audits"],
            complete=False,
        ),
    ]
    when = created or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")
    sign = {"name": None, "role": None, "signed_at": None, "signature": None}
    if isinstance(signer, str):
        sign["name"] = signer
    elif signer:
        sign.update({k: signer.get(k) for k in ("name", "role")})
    body = {
        "schema_version": EU_BUNDLE_SCHEMA_VERSION,
        "created": when,
        "regulation": REGULATION,
        "system": dict(system or {}),
        "items": [i.__dict__ for i in items],
        "inputs": inputs,
    }
    return EvidenceBundle(
        schema_version=EU_BUNDLE_SCHEMA_VERSION,
        created=when,
        regulation=REGULATION,
        system=dict(system or {}),
        items=tuple(items),
        inputs=tuple(inputs),
        signer=sign,
        bundle_sha256=_canonical_hash(body),
        provenance={"fairslm_version": __version__},
        notes=(
            "statuses say which evidence fairslm holds for a provision, not whether the "
            "provision is met: conformity is assessed by the provider (Art. 43)",
            "bundle_sha256 hashes the bundle without the signature; inputs carry the SHA-256 of "
            "each artefact's file (or canonical JSON when given in memory)",
        ),
    )
