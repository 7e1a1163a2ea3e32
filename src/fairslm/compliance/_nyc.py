"""NYC Local Law 144 bias audits of automated employment decision tools (6 RCNY §§5-300-5-303).

The figures (§5-301):

* selection rate of a category: people selected (or assigned a classification) divided by the
  people in the category (§5-300, "selection rate"); for tools that score, the scoring rate:
  the share of the category scored above the median score of the full sample (§5-301(c));
* impact ratio: a category's rate divided by the rate of the most selected (highest scoring)
  category (§5-300, "impact ratio");
* computed separately for sex, race/ethnicity and their intersection (§5-301(b)(3), (c)(4)),
  for each classification when the tool sorts people into groups (§5-301(b)(4));
* the number of people in an unknown category, who are not in the calculations (§5-301(b)(5),
  (c)(5));
* optionally, a category under 2% of the data excluded from the impact ratios, its count and
  rate still reported, with the auditor's justification (§5-301(d)).

The summary of results to publish (§5-303(a)) carries the audit date, the source and
explanation of the data (historical or test data, §5-302), the unknown counts, the number of
applicants, the rates and the impact ratios; the distribution date is published beside it
(§5-303(b)). A tool may not be used when more than one year has passed since its most recent
bias audit (§5-301(a)).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from fairslm.audit import audit_median_table
from fairslm.compliance._categories import EEO1_RACE_ETHNICITY, EEO1_SEX, CategoryMapping
from fairslm.compliance._inputs import (
    as_date,
    binary_column,
    created_provenance,
    prepare_rows,
    resolve_mapping,
)
from fairslm.compliance._result import (
    COMPLIANCE_SCHEMA_VERSION,
    CategoryRow,
    CategoryTable,
    ComplianceResult,
    Finding,
)
from fairslm.compliance._tables import RACE, SEX, category_counts, dimension_views
from fairslm.engines import count_table_from_arrays, median_count_table
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import CountTable, impact_ratios

__all__ = ["EXCLUSION_SHARE", "nyc_ll144_audit", "one_year_after"]

# 6 RCNY §5-301(d): "a category that represents less than 2% of the data".
EXCLUSION_SHARE = 0.02
_RULE = {
    "selection": "6 RCNY §5-301(b)",
    "scoring": "6 RCNY §5-301(c)",
}


def one_year_after(day: dt.date) -> dt.date:
    """The same calendar day a year later (February 29 -> February 28).

    Examples
    --------
    >>> one_year_after(dt.date(2024, 2, 29))
    datetime.date(2025, 2, 28)
    """
    year = day.year + 1
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def _ratio(x: float) -> str:
    return "undefined" if not np.isfinite(x) else f"{x:.2f}"


def _build_table(
    dimension: str, labels: list[str], n: np.ndarray, s: np.ndarray, unknown: int, *,
    rate_kind: str, total: int, exclude: set[str] | str | None, classification: str | None,
) -> CategoryTable:
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, s / n, np.nan)
    share = n / total
    small = (n > 0) & (share < EXCLUSION_SHARE)
    if exclude == "auto":
        excluded = small
    elif exclude:
        excluded = np.array([lab in exclude for lab in labels])
    else:
        excluded = np.zeros(len(labels), dtype=bool)
    eligible = (n > 0) & ~excluded
    ratios, top = impact_ratios(rate, eligible)
    ratios = np.where(eligible, ratios, np.nan)
    rows = []
    for i, lab in enumerate(labels):
        if n[i] == 0:
            status = "no applicants"
        elif excluded[i]:
            status = "excluded"
        elif i == top and np.isfinite(ratios[i]):
            status = "reference"
        else:
            status = "included"
        rows.append(CategoryRow(
            category=lab, applicants=int(n[i]), selected=int(s[i]), rate=float(rate[i]),
            impact_ratio=float(ratios[i]), status=status, share=float(share[i]),
        ))
    what = "selected" if rate_kind == "selection" else "scored above the median"
    return CategoryTable(
        dimension=dimension, rate_kind=rate_kind, rows=tuple(rows), unknown=int(unknown),
        highest=None if top is None else labels[top],
        denominator=(
            f"rate = people {what} / people in the category; impact ratio = rate / rate of the "
            f"{'most selected' if rate_kind == 'selection' else 'highest scoring'} category; "
            f"share and the 2% exclusion test against all {total} people in the audit data "
            "(unknown categories included)"
        ),
        classification=classification,
        rule=_RULE[rate_kind],
    )


def _tables_for(table: CountTable, pos: object, *, rate_kind: str, total: int,
                exclude: set[str] | str | None, classification: str | None) -> list[CategoryTable]:
    out = []
    cats = {SEX: EEO1_SEX, RACE: EEO1_RACE_ETHNICITY}
    for dim, view, expected, labels in dimension_views(table, cats):
        n, s, unknown = category_counts(view, pos, expected)
        out.append(_build_table(dim, labels, n, s, unknown, rate_kind=rate_kind, total=total,
                                exclude=exclude, classification=classification))
    return out


def _table_findings(t: CategoryTable) -> list[Finding]:
    rule = t.rule
    where = f"{t.dimension}" + (f", classification {t.classification!r}" if t.classification else "")
    rate_word = "selection rate" if t.rate_kind == "selection" else "scoring rate"
    out = [Finding(
        rule=f"{rule}(5)", kind="measurement",
        subject=where,
        text=f"{t.unknown} people assessed fall in an unknown {t.dimension} category and are "
             "not included in these calculations",
    )]
    ok = [r for r in t.rows if np.isfinite(r.impact_ratio)]
    if t.highest is not None and not ok:
        out.append(Finding(
            rule="6 RCNY §5-300 (impact ratio)", kind="note", subject=where,
            text=f"no category has a {rate_word} above 0, so every impact ratio is undefined "
                 "(a ratio against nothing selected is not parity)",
        ))
    elif ok:
        low = min(ok, key=lambda r: r.impact_ratio)
        top = t.row(t.highest) if t.highest else None
        if top is not None and low.category != top.category:
            out.append(Finding(
                rule="6 RCNY §5-300 (impact ratio)", kind="measurement", subject=where,
                text=f"lowest impact ratio: {low.category} {_ratio(low.impact_ratio)} "
                     f"({rate_word} {_pct(low.rate)} against {_pct(top.rate)} for {top.category}, "
                     f"the {'most selected' if t.rate_kind == 'selection' else 'highest scoring'} "
                     "category)",
            ))
    none = [r.category for r in t.rows if r.status == "no applicants"]
    if none:
        out.append(Finding(
            rule="6 RCNY §5-303(a)", kind="note", subject=where,
            text=f"no applicants in {len(none)} categor{'y' if len(none) == 1 else 'ies'}: "
                 + ", ".join(none) + "; their rates and impact ratios read 'no applicants'",
        ))
    for r in t.rows:
        if r.status == "excluded":
            out.append(Finding(
                rule="6 RCNY §5-301(d)", kind="measurement", subject=where,
                text=f"{r.category} ({r.applicants} applicants, {100 * r.share:.2f}% of the data, "
                     f"{rate_word} {_pct(r.rate)}) is excluded from the impact ratios",
            ))
    return out


def nyc_ll144_audit(
    data: Any,
    *,
    sex: str,
    race: str,
    ethnicity: str | None = None,
    selected: str | None = None,
    pos_label: object | None = None,
    classification: str | None = None,
    score: str | None = None,
    y_true: str | None = None,
    mapping: CategoryMapping | str | os.PathLike[str] | None = None,
    data_type: str,
    data_explanation: str | None = None,
    audit_date: Any,
    distribution_date: Any = None,
    exclude_small: bool | Sequence[str] = False,
    exclusion_justification: str | None = None,
    tool: str | None = None,
    auditor: str | None = None,
    thresholds: Sequence[float] | None = None,
) -> ComplianceResult:
    """A bias audit under NYC Local Law 144 and the DCWP rules (6 RCNY §§5-300-5-303).

    Parameters
    ----------
    data : path or DataFrame
        One row per person assessed by the tool (CSV, TSV, Parquet or JSON Lines).
    sex, race : str
        Columns of sex and race (or race/ethnicity); their values are mapped to the EEO-1
        Component 1 categories by ``mapping``. Missing values count as unknown.
    ethnicity : str, optional
        A separate Hispanic-or-Latino column, when race does not hold it.
    selected, classification, score : str
        Exactly one: a column of selection decisions (1/True or ``pos_label`` = selected), of
        the group the tool assigns each person to (one set of tables per group), or of scores
        (scoring rates above the full-sample median).
    y_true : str, optional
        Outcome labels (0/1), used only by the audit of scores (AUC, TPR across thresholds).
    mapping : CategoryMapping or path, optional
        Data value -> category (see :func:`~fairslm.compliance.load_mapping`).
    data_type : {"historical", "test"}
        §5-302: historical data of the tool's use, or test data (then ``data_explanation``
        must say why historical data was not used and how the test data was obtained).
    audit_date, distribution_date : date or ISO string
        Date of this bias audit (required) and the date the employer began using the tool.
    exclude_small : bool or sequence of str
        ``True``: leave every category under 2% of the data out of the impact ratios;
        or the names of such categories. ``exclusion_justification`` is then required.
    tool, auditor : str, optional
        Names recorded in the summary.
    thresholds : sequence of float, optional
        Decision thresholds of the audit of scores.

    Returns
    -------
    ComplianceResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["Male"] * 4 + ["Female"] * 4,
    ...                    "race": ["White", "Asian"] * 4,
    ...                    "passed": [1, 1, 1, 0, 1, 0, 0, 0]})
    >>> res = nyc_ll144_audit(df, sex="sex", race="race", selected="passed",
    ...                       data_type="historical", audit_date="2026-01-15")
    >>> t = res.table("sex")
    >>> [(r.category, r.rate, r.impact_ratio) for r in t.rows]
    [('Male', 0.75, 1.0), ('Female', 0.25, 0.3333333333333333)]
    >>> res.record["use_not_after"]
    '2027-01-15'
    """
    kinds = [k for k, v in (("selected", selected), ("classification", classification),
                            ("score", score)) if v]
    if not kinds:
        raise ConfigError(
            "neither decisions nor scores given: pass the column of the tool's output, "
            "selected= (CLI: --selected), classification= (--classification) or score= "
            "(--y-score)"
        )
    if len(kinds) > 1:
        raise ConfigError(
            f"give one output of the tool, not {' and '.join(kinds)}: a selection or "
            "classification (selection rates, §5-301(b)) or a score (scoring rates, §5-301(c))"
        )
    if data_type not in ("historical", "test"):
        raise ConfigError(
            f"data_type must be 'historical' or 'test' (6 RCNY §5-302); got {data_type!r}"
        )
    if data_type == "test" and not (data_explanation or "").strip():
        raise ConfigError(
            "test data needs an explanation (6 RCNY §5-302): why historical data was not used "
            "and how the test data was generated and obtained (CLI: --data-explanation TEXT)"
        )
    audited = as_date(audit_date, "audit date", required=True)
    assert audited is not None
    distributed = as_date(distribution_date, "distribution date")
    mapped = resolve_mapping(mapping)
    flag = {"selected": "--selected", "classification": "--classification", "score": "--y-score"}
    out_col = selected or classification or score
    extra = [(out_col, flag[kinds[0]])] + ([(y_true, "--y-true")] if y_true and score else [])
    rows = prepare_rows(data, sex=sex, race=race, ethnicity=ethnicity, columns=extra,
                        mapping=mapped, regime="a bias audit under 6 RCNY §5-301")
    total = int(len(rows.frame))
    groups = {SEX: rows.sex, RACE: rows.race}
    exclude: set[str] | str | None
    if exclude_small is True:
        exclude = "auto"
    elif exclude_small:
        exclude = {str(c) for c in exclude_small}
    else:
        exclude = None
    if exclude and not (exclusion_justification or "").strip():
        raise ConfigError(
            "excluding a category under 2% needs the auditor's justification in the summary of "
            "results (6 RCNY §5-301(d)); pass exclusion_justification (CLI: --exclusion-justification)"
        )
    tables: list[CategoryTable] = []
    score_audit = None
    record_extra: dict[str, Any] = {}
    if selected:
        decided = binary_column(rows.frame[selected], selected, pos_label)
        table = count_table_from_arrays(decided, decided, groups)
        tables = _tables_for(table, 1, rate_kind="selection", total=total, exclude=exclude,
                             classification=None)
    elif classification:
        col = rows.frame[classification]
        if col.isna().any():
            raise InvalidDataError(
                f"classification column {classification!r} has {int(col.isna().sum())} missing "
                "value(s); every person assessed is assigned a group. Drop or fill those rows"
            )
        assigned = col.astype(str).to_numpy()
        table = count_table_from_arrays(assigned, assigned, groups)
        for c in table.classes:
            tables += _tables_for(table, c, rate_kind="selection", total=total, exclude=exclude,
                                  classification=str(c))
    else:
        labels = None
        if y_true:
            labels = binary_column(rows.frame[y_true], y_true, None)
        mt = median_count_table(rows.frame[score], groups, y_true=labels)
        tables = _tables_for(mt.table, 1, rate_kind="scoring", total=total, exclude=exclude,
                             classification=None)
        score_audit = audit_median_table(mt, thresholds=thresholds, min_group_size=30).to_dict()
        record_extra = {"median_score": mt.median, "ties_at_median": mt.ties}
    if isinstance(exclude, set):
        known = {r.category: r for t in tables for r in t.rows}
        for c in sorted(exclude):
            if c not in known:
                raise ConfigError(f"cannot exclude {c!r}: no such category; categories are "
                                  + ", ".join(sorted(known)))
            if known[c].share >= EXCLUSION_SHARE or known[c].applicants == 0:
                raise ConfigError(
                    f"cannot exclude {c!r}: it holds {known[c].applicants} of {total} people "
                    f"({100 * known[c].share:.2f}%); only a category under 2% of the data may be "
                    "excluded (6 RCNY §5-301(d))"
                )
    excluded = sorted({r.category for t in tables for r in t.rows if r.status == "excluded"})
    use_not_after = one_year_after(audited)
    record = {
        "tool": tool,
        "auditor": auditor,
        "audit_date": audited.isoformat(),
        "distribution_date": None if distributed is None else distributed.isoformat(),
        "use_not_after": use_not_after.isoformat(),
        "next_audit_due": use_not_after.isoformat(),
        "data_type": data_type,
        "data_explanation": (data_explanation or "").strip() or None,
        "output": kinds[0],
        "individuals": total,
        "exclusion": {
            "share_below": EXCLUSION_SHARE,
            "denominator": f"all {total} people in the audit data, unknown categories included",
            "excluded": excluded,
            "justification": (exclusion_justification or "").strip() or None if excluded else None,
        },
        **record_extra,
    }
    findings = _findings(tables, record, score_audit is not None)
    return ComplianceResult(
        schema_version=COMPLIANCE_SCHEMA_VERSION,
        regime="nyc-ll144",
        record=record,
        tables=tuple(tables),
        findings=tuple(findings),
        score_audit=score_audit,
        inputs=rows.inputs,
        options={
            "mapping": mapped.source if mapped.entries else None,
            "mapping_sha256": mapped.sha256,
            "pos_label": None if pos_label is None else str(pos_label),
            "exclude_small": exclude if isinstance(exclude, str) or exclude is None
            else sorted(exclude),
            "rounding": "published tables: rates to 0.1%, impact ratios to 2 decimals, each "
                        "from unrounded counts",
        },
        provenance=created_provenance(),
    )


def _findings(tables: list[CategoryTable], record: dict[str, Any], scored: bool) -> list[Finding]:
    dims = sorted({t.dimension for t in tables}, key=[SEX, RACE, "intersectional"].index)
    kind = "scoring rates" if scored else "selection rates"
    out = [
        Finding(rule="6 RCNY §5-301(c)(3)-(4)" if scored else "6 RCNY §5-301(b)(1)-(3)",
                kind="measurement",
                text=f"{kind} and impact ratios calculated separately for "
                     f"{', '.join(dims)} categories (EEO-1 Component 1)"),
    ]
    if scored:
        out.append(Finding(
            rule="6 RCNY §5-301(c)(1)", kind="measurement",
            text=f"median score of the full sample: {record['median_score']:g} "
                 f"({record['ties_at_median']} people scored exactly at it count as not above)",
        ))
    classes = sorted({t.classification for t in tables if t.classification})
    if classes:
        out.append(Finding(
            rule="6 RCNY §5-301(b)(4)", kind="measurement",
            text=f"calculations repeated for each of {len(classes)} classifications: "
                 + ", ".join(classes),
        ))
    for t in tables:
        out += _table_findings(t)
    exc = record["exclusion"]
    if exc["excluded"]:
        out.append(Finding(
            rule="6 RCNY §5-301(d)", kind="measurement",
            text=f"justification for the exclusion: {exc['justification']}",
        ))
    if record["data_type"] == "test":
        out.append(Finding(
            rule="6 RCNY §5-302", kind="measurement",
            text=f"test data used; explanation: {record['data_explanation']}",
        ))
    else:
        out.append(Finding(
            rule="6 RCNY §5-302", kind="measurement",
            text="historical data of the tool's use; the summary must state its source and "
                 "explanation" + (f": {record['data_explanation']}" if record["data_explanation"]
                                  else " (none given: to supply)"),
        ))
    out.append(Finding(
        rule="6 RCNY §5-301(a)", kind="measurement",
        text=f"bias audit dated {record['audit_date']}: the tool may not be used after "
             f"{record['use_not_after']} without a newer bias audit",
    ))
    if record["distribution_date"] is None:
        out.append(Finding(
            rule="6 RCNY §5-303(b)", kind="to supply",
            text="the distribution date (when the employer began using the tool) is published "
                 "beside the summary; none was given",
        ))
    out.append(Finding(
        rule="NYC Admin. Code §20-871; 6 RCNY §5-303", kind="note",
        text="these figures are the rule's measurements; the law sets no impact-ratio threshold, "
             "and whether the tool may be used is for the employer and its independent auditor",
    ))
    return out
