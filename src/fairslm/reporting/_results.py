"""The results a report holds besides its audits, read back as typed objects.

The report document stores each result in its JSON form. These functions read that form back
through the result class's own ``from_dict`` (which checks its kind and schema version), once,
so the document and the HTML page both go through the class that defines the layout, and the
page renders attributes of results rather than keys of the document.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fairslm._artifact import JsonArtifact
from fairslm.audit import CounterfactualResult, DataAuditResult, GenerationAuditResult
from fairslm.exceptions import FairslmError, InvalidDataError
from fairslm.mitigation.comparison import ComparisonResult

__all__ = ["ReportResults", "per_model_results", "typed_result"]

R = TypeVar("R", bound=JsonArtifact)


def typed_result(cls: type[R], obj: Any, what: str) -> R:
    """``obj`` as a ``cls``: the result itself, its :meth:`to_dict` form, or its JSON file.

    Raises
    ------
    InvalidDataError
        ``obj`` is another kind of result, another schema version, or lacks fields of ``cls``.
    """
    if isinstance(obj, cls):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return cls.from_json(obj)
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    if not isinstance(obj, Mapping):
        raise InvalidDataError(
            f"the {what} must be a {cls.__name__}, its to_dict() form or its JSON file; "
            f"got {type(obj).__name__}"
        )
    try:
        return cls.from_dict(dict(obj))
    except FairslmError:
        raise
    except (TypeError, KeyError, ValueError) as exc:
        raise InvalidDataError(
            f"the {what} is not a complete fairslm {what} ({exc}); pass the {cls.__name__} "
            "or the JSON file fairslm wrote"
        ) from None


def per_model_results(
    cls: type[R], obj: Any, final: str, what: str
) -> dict[str, R | None] | None:
    """Results by model name: a mapping of them as given, or one result for the final model."""
    if obj is None:
        return None
    if isinstance(obj, Mapping) and "kind" not in obj:
        # A model without a result (None) has none to show.
        return {str(k): typed_result(cls, v, what) if v else None for k, v in obj.items()}
    return {str(final): typed_result(cls, obj, what)}


@dataclass(frozen=True)
class ReportResults:
    """The data audit, counterfactual tests, generation audits and comparison of a report."""

    data_audit: DataAuditResult | None
    counterfactual: dict[str, CounterfactualResult | None]
    generation: dict[str, GenerationAuditResult | None]
    comparison: ComparisonResult | None

    @classmethod
    def of(cls, report: Mapping[str, Any]) -> ReportResults:
        """Read the results of a report document (as :func:`build_report` wrote them)."""
        da, comp = report.get("data_audit"), report.get("comparison")
        return cls(
            data_audit=typed_result(DataAuditResult, da, "data audit") if da else None,
            counterfactual=per_model_results(
                CounterfactualResult, report.get("counterfactual") or {}, "", "counterfactual result"
            ) or {},
            generation=per_model_results(
                GenerationAuditResult, report.get("generation") or {}, "", "generation audit"
            ) or {},
            comparison=typed_result(ComparisonResult, comp, "comparison") if comp else None,
        )
