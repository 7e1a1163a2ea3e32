"""CSV tables in the layout of a published summary of results (6 RCNY §5-303(a)).

One file per table: ``Category, # of Applicants, [# Selected,] Selection Rate | Scoring Rate,
Impact Ratio``. Rates print to 0.1% and impact ratios to two decimals, each from unrounded
counts (the DCWP's examples print them so). A category without applicants reads "no
applicants", an excluded one "excluded (under 2%)", an undefined ratio "undefined"; a last row
gives the people in an unknown category, who are not in the calculations. EEOC tables add the
four-fifths flag, the tests, the shortfall and the one-person sensitivity.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from pathlib import Path
from typing import Any

from fairslm._atomic import write_text_atomic
from fairslm.compliance._result import CategoryTable, ComplianceResult

__all__ = ["format_tables", "table_key", "write_tables"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: float | None, digits: int) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "group"


def table_key(t: CategoryTable) -> str:
    """The table's file stem: ``sex``, ``race_ethnicity``, ``intersectional`` (+ ``.group``)."""
    key = _slug(t.dimension)
    for extra in (t.classification, t.step):
        if extra:
            key += "." + _slug(extra)
    return key


def _rows(t: CategoryTable, regime: str) -> list[dict[str, Any]]:
    rate_col = "Selection Rate" if t.rate_kind == "selection" else "Scoring Rate"
    out = []
    for r in t.rows:
        row: dict[str, Any] = {"Category": r.category}
        if t.dimension == "intersectional":
            sex, _, race = r.category.partition(", ")
            row.update({"Sex": sex, "Race/Ethnicity": race})
        row["# of Applicants"] = r.applicants
        if t.rate_kind == "selection":
            row["# Selected"] = r.selected
        if r.status == "no applicants":
            row[rate_col] = "no applicants"
            row["Impact Ratio"] = "no applicants"
        else:
            row[rate_col] = _pct(r.rate)
            if r.status == "excluded":
                row["Impact Ratio"] = "excluded (under 2%)"
            else:
                row["Impact Ratio"] = _num(r.impact_ratio, 2) or "undefined"
        if regime == "eeoc":
            flag = r.below_four_fifths
            row["Below 4/5"] = "" if flag is None else ("yes" if flag else "no")
            row["Z"] = _num(r.z, 2)
            row["p (Z)"] = _num(r.z_p_value, 4)
            row["p (Fisher)"] = _num(r.fisher_p_value, 4)
            row["Shortfall"] = _num(r.shortfall, 0)
            sens = r.one_person_changes_finding
            row["One person changes finding"] = "" if sens is None else ("yes" if sens else "no")
        out.append(row)
    unknown: dict[str, Any] = {"Category": "Unknown (not included in the calculations)",
                               "# of Applicants": t.unknown}
    out.append(unknown)
    return out


def format_tables(result: ComplianceResult) -> dict[str, list[dict[str, Any]]]:
    """Each table's rows as printed, keyed by :func:`table_key`.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairslm.compliance import nyc_ll144_audit
    >>> df = pd.DataFrame({"sex": ["Male", "Female"] * 2, "race": ["Asian"] * 4,
    ...                    "passed": [1, 1, 1, 0]})
    >>> res = nyc_ll144_audit(df, sex="sex", race="race", selected="passed",
    ...                       data_type="historical", audit_date="2026-01-15")
    >>> format_tables(res)["sex"][1]
    {'Category': 'Female', '# of Applicants': 2, '# Selected': 1, 'Selection Rate': '50.0%', 'Impact Ratio': '0.50'}
    """
    return {table_key(t): _rows(t, result.regime) for t in result.tables}


def _csv_text(rows: list[dict[str, Any]]) -> str:
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _summary_rows(result: ComplianceResult) -> list[dict[str, Any]]:
    rec = result.record
    rows = [{"Item": k, "Value": "" if v is None else v} for k, v in (
        ("Regime", result.regime), ("Tool", rec.get("tool")), ("Independent auditor", rec.get("auditor")),
        ("Date of the bias audit", rec.get("audit_date")),
        ("Distribution date", rec.get("distribution_date")),
        ("Not to be used after", rec.get("use_not_after")),
        ("Data", rec.get("data_type")), ("Source and explanation of the data", rec.get("data_explanation")),
        ("People assessed", rec.get("individuals")), ("Median score", rec.get("median_score")),
    ) if not (k == "Median score" and v is None)]
    for t in result.tables:
        if t.classification is None and t.step in (None, "bottom line"):
            rows.append({"Item": f"People in an unknown {t.dimension} category", "Value": t.unknown})
    exc = rec.get("exclusion") or {}
    if exc.get("excluded"):
        rows.append({"Item": "Excluded categories (under 2%)", "Value": "; ".join(exc["excluded"])})
        rows.append({"Item": "Justification for the exclusion", "Value": exc.get("justification")})
    return rows


def write_tables(result: ComplianceResult, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``summary.csv`` and one CSV per table into ``out_dir``, each file whole."""
    out = Path(out_dir)
    paths = [write_text_atomic(_csv_text(_summary_rows(result)), out / "summary.csv")]
    for key, rows in format_tables(result).items():
        paths.append(write_text_atomic(_csv_text(rows), out / f"{key}.csv"))
    return paths
