"""Build a report from the JSON files that fairslm's commands write."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairslm._userfiles import read_user_text
from fairslm.exceptions import InvalidDataError
from fairslm.reporting._report import build_report
from fairslm.reporting._schema import load_report

__all__ = ["report_from_files"]

_COMPLIANCE_KINDS = ("fairslm.compliance", "fairslm.score_audit", "fairslm.eu_ai_act_evidence")
_KINDS = ("fairslm.audit", "fairslm.data_audit", "fairslm.counterfactual", "fairslm.generation",
          "fairslm.comparison", "fairslm.report", "fairslm.debias", *_COMPLIANCE_KINDS)


def inline_refs(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """``node`` with each bare local reference (``{"$ref": "#/$defs/NAME"}``) replaced by its
    definition.

    jsonschema resolves a reference at every node it checks: for an audit of thousands of
    groups that was most of the time of validating it (2.3 times faster inlined). References
    nested deeper than 20 (a recursive definition) are left as they are.

    Examples
    --------
    >>> inline_refs({"items": {"$ref": "#/$defs/n"}}, {"n": {"type": "number"}})
    {'items': {'type': 'number'}}
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if (len(node) == 1 and isinstance(ref, str) and ref.startswith("#/$defs/")
                and ref[8:] in defs and depth < 20):
            return inline_refs(defs[ref[8:]], defs, depth + 1)
        return {k: inline_refs(v, defs, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(v, defs, depth) for v in node]
    return node


def _check_schema(data: dict[str, Any], path: Path, kind: str) -> None:
    """Refuse a result file whose fields do not have the types its JSON Schema gives."""
    from fairslm.audit import (
        audit_json_schema,
        counterfactual_json_schema,
        data_audit_json_schema,
    )

    schemas = {"fairslm.audit": audit_json_schema, "fairslm.data_audit": data_audit_json_schema,
               "fairslm.counterfactual": counterfactual_json_schema}
    if kind not in schemas:
        return
    import jsonschema

    schema = schemas[kind]()
    try:
        jsonschema.validate(data, inline_refs(schema, schema.get("$defs", {})))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise InvalidDataError(
            f"{path} is not a valid {kind.removeprefix('fairslm.').replace('_', ' ')} result: "
            f"at {where}, {exc.message}. Was it edited by hand? Write it again with fairslm"
        ) from None


def report_from_files(
    inputs: Sequence[str | os.PathLike[str]], *, title: str | None = None, **options: Any
) -> dict[str, Any]:
    """The report document from result files; each input is ``PATH`` or ``NAME=PATH``.

    Audits become models (named by ``NAME``, else the file stem) in the order given; a data
    audit, counterfactual results, generation audits, a comparison or a debias summary fill
    their sections, and regime audits, audits of scores and EU AI Act bundles the regulatory
    section. A single ``report.json`` is read back as it is (to render it again).
    """
    if not inputs:
        raise InvalidDataError("give at least one result file (an audit.json, or a report.json)")
    audits: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    counterfactual: dict[str, Any] = {}
    generation: dict[str, Any] = {}
    for item in inputs:
        text = str(item)
        name, _, path_text = text.rpartition("=") if "=" in text else ("", "", text)
        path = Path(path_text)
        try:
            data = json.loads(read_user_text(path, what="result file"))
        except FileNotFoundError:
            raise InvalidDataError(f"result file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise InvalidDataError(f"result file {path} is not valid JSON: {exc}") from None
        kind = data.get("kind") if isinstance(data, dict) else None
        label = name or path.stem
        if isinstance(kind, str):
            _check_schema(data, path, kind)
        if kind == "fairslm.report":
            if len(inputs) > 1:
                raise InvalidDataError(
                    f"{path} is a whole report; give it alone to render it again"
                )
            return load_report(data)
        if kind == "fairslm.audit":
            if label in audits:
                raise InvalidDataError(f"two audits are named {label!r}; name them NAME=PATH")
            audits[label] = data
        elif kind == "fairslm.data_audit":
            extra["data_audit"] = data
        elif kind == "fairslm.counterfactual":
            counterfactual[label] = data
        elif kind == "fairslm.generation":
            generation[label] = data
        elif kind == "fairslm.comparison":
            extra["comparison"] = data
        elif kind == "fairslm.debias":
            extra["mitigation"] = {k: v for k, v in data.items() if k != "kind"}
        elif kind in _COMPLIANCE_KINDS:
            extra.setdefault("compliance", []).append(data)
        else:
            raise InvalidDataError(
                f"{path} is not a fairslm result (kind={kind!r}); expected one of: "
                f"{', '.join(_KINDS)}"
            )
    if not audits:
        raise InvalidDataError("no audit among the inputs; a report needs at least one audit.json")
    if counterfactual:
        extra["counterfactual"] = counterfactual
    if generation:
        extra["generation"] = generation
    if title:
        options["title"] = title
    return build_report(audits, **extra, **options)
