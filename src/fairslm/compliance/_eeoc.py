"""Adverse impact under the EEOC Uniform Guidelines on Employee Selection Procedures.

29 CFR 1607.4(D): "A selection rate for any race, sex, or ethnic group which is less than
four-fifths (4/5) (or eighty percent) of the rate for the group with the highest rate will
generally be regarded by the Federal enforcement agencies as evidence of adverse impact". The
same paragraph adds that smaller differences may constitute adverse impact where they are
significant "in both statistical and practical terms", and that greater differences may not
where they "are based on small numbers and are not statistically significant". So beside each
impact ratio this module reports the practitioners' companions:

* the two-proportion Z against the highest-rate group (the "two or three standard deviations"
  of Hazelwood School District v. United States, 433 U.S. 299 (1977)) and Fisher's exact test,
  the one to read when an expected count is under 5 (Cochran's rule);
* the shortfall: how many more selections the group needed for its ratio to reach 4/5;
* the one-person sensitivity: whether moving one person changes the four-fifths finding (the
  Guidelines' Questions and Answers, 44 Fed. Reg. 11996 (1979), hold enforcement inappropriate
  where "the selection of one different person for one job would shift the result").

Groups are those of 1607.4(B) (mapped from the EEO-1 categories) or the EEO-1 categories
themselves. A decision with several stages gets one analysis per step (the people who reached
the step) and one of the "bottom line", the whole process (1607.4(C)).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairslm.audit import audit_median_table
from fairslm.compliance._categories import (
    EEO1_RACE_ETHNICITY,
    EEO1_SEX,
    GUIDELINES_GROUPS,
    UNKNOWN,
    CategoryMapping,
)
from fairslm.compliance._inputs import (
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
from fairslm.exceptions import ConfigError
from fairslm.metrics import (
    FOUR_FIFTHS,
    below_threshold,
    fisher_exact_tests,
    impact_ratios,
    one_person_sensitivity,
    shortfall_to_threshold,
    two_proportion_z,
)

__all__ = ["BOTTOM_LINE", "eeoc_adverse_impact"]

BOTTOM_LINE = "bottom line"
# Two-sided 5%: the conventional reading of "two standard deviations".
_ALPHA = 0.05
# Cochran's rule: below an expected count of 5 the Z approximation is poor; read Fisher's test.
_MIN_EXPECTED = 5.0


def _guidelines_categories() -> list[str]:
    return list(dict.fromkeys(GUIDELINES_GROUPS.values()))


def _analyse(
    dimension: str, labels: list[str], n: np.ndarray, s: np.ndarray, unknown: int, *,
    step: str, threshold: float, total: int,
) -> CategoryTable:
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, s / n, np.nan)
    eligible = n > 0
    ratios, top = impact_ratios(rate, eligible)
    rows = []
    if top is not None:
        z, zp = two_proportion_z(s, n, np.full_like(s, s[top]), np.full_like(n, n[top]))
        fp = fisher_exact_tests(s, n, np.full_like(s, s[top]), np.full_like(n, n[top]))
        short = shortfall_to_threshold(s, n, float(s[top]), float(n[top]), threshold)
        flips, moved = one_person_sensitivity(s, n, threshold)
        below = below_threshold(s, n, float(s[top]), float(n[top]), threshold)
    for i, lab in enumerate(labels):
        if n[i] == 0 or top is None:
            rows.append(CategoryRow(category=lab, applicants=int(n[i]), selected=int(s[i]),
                                    rate=float(rate[i]), impact_ratio=float("nan"),
                                    status="no applicants" if n[i] == 0 else "included",
                                    share=float(n[i] / total)))
            continue
        defined = bool(np.isfinite(ratios[i]))
        is_top = i == top
        rows.append(CategoryRow(
            category=lab, applicants=int(n[i]), selected=int(s[i]), rate=float(rate[i]),
            impact_ratio=float(ratios[i]), status="reference" if is_top and defined else "included",
            share=float(n[i] / total),
            below_four_fifths=None if not defined else bool(below[i]),
            z=None if is_top else float(z[i]), z_p_value=None if is_top else float(zp[i]),
            fisher_p_value=None if is_top else float(fp[i]),
            shortfall=None if is_top or not defined else float(short[i]),
            one_person_changes_finding=None if is_top or not defined else bool(flips[i]),
            one_person_ratio=None if is_top or not defined else float(moved[i]),
        ))
    return CategoryTable(
        dimension=dimension, rate_kind="selection", rows=tuple(rows), unknown=int(unknown),
        highest=None if top is None else labels[top],
        denominator=("rate = people selected / people in the group who reached this step; "
                     "impact ratio = rate / rate of the group with the highest rate; Z and "
                     "Fisher's test against that group"),
        step=step, rule="29 CFR 1607.4(D)",
    )


def _significance(r: CategoryRow, top: CategoryRow) -> tuple[float, str]:
    """The p-value to read and its test: Fisher's when an expected count is under 5."""
    pooled = (r.selected + top.selected) / (r.applicants + top.applicants)
    small = min(r.applicants, top.applicants) * min(pooled, 1 - pooled) < _MIN_EXPECTED
    if small or r.z_p_value is None or not np.isfinite(r.z_p_value):
        return float(r.fisher_p_value if r.fisher_p_value is not None else np.nan), "Fisher's exact test"
    return float(r.z_p_value), f"Z = {r.z:.2f}"


def _table_findings(t: CategoryTable, threshold: float) -> list[Finding]:
    where = f"{t.dimension}, {t.step}"
    out: list[Finding] = []
    if t.highest is None:
        return [Finding(rule="29 CFR 1607.4(D)", kind="note", subject=where,
                        text="no group has applicants: nothing to compare")]
    top = t.row(t.highest)
    if top.rate == 0:
        return [Finding(rule="29 CFR 1607.4(D)", kind="note", subject=where,
                        text="no one was selected, so no group has a higher rate and every "
                             "impact ratio is undefined")]
    out.append(Finding(
        rule="29 CFR 1607.4(D)", kind="measurement", subject=where,
        text=f"highest selection rate: {top.category} {100 * top.rate:.1f}% "
             f"({top.selected} of {top.applicants}); every impact ratio is against it",
    ))
    for r in t.rows:
        if r.status != "included" or r.below_four_fifths is None:
            continue
        p, test = _significance(r, top)
        sig = bool(np.isfinite(p) and p < _ALPHA)
        shown = "p < 0.0001" if p < 1e-4 else f"p = {p:.4f}"
        stat = f"{test}, {shown}" if np.isfinite(p) else "no test possible"
        if r.below_four_fifths:
            text = (f"{r.category}: selection rate {100 * r.rate:.1f}% is {r.impact_ratio:.2f} of "
                    f"{top.category}'s, less than four-fifths ({threshold:g}): generally regarded "
                    f"as evidence of adverse impact ({stat}; "
                    f"{'statistically significant' if sig else 'not statistically significant'} "
                    f"at {_ALPHA:g}); shortfall: {r.shortfall:.0f} more selection"
                    f"{'s' if r.shortfall != 1 else ''} would reach four-fifths")
            out.append(Finding(rule="29 CFR 1607.4(D)", kind="indicator", subject=where, text=text))
            if not sig:
                out.append(Finding(
                    rule="29 CFR 1607.4(D)", kind="note", subject=where,
                    text=f"{r.category}: the Guidelines note that greater differences may not "
                         "constitute adverse impact where they are based on small numbers and "
                         "are not statistically significant",
                ))
        elif sig:
            out.append(Finding(
                rule="29 CFR 1607.4(D)", kind="indicator", subject=where,
                text=f"{r.category}: impact ratio {r.impact_ratio:.2f} is at or above four-fifths "
                     f"but the difference is statistically significant ({stat}); the Guidelines "
                     "note that smaller differences may constitute adverse impact where they "
                     "are significant in both statistical and practical terms",
            ))
        if r.one_person_changes_finding:
            out.append(Finding(
                rule="UGESP Questions and Answers (1979), small numbers", kind="note",
                subject=where,
                text=f"{r.category}: moving one person changes the four-fifths finding (the "
                     f"ratio would be {r.one_person_ratio:.2f}); the Guidelines' Questions and "
                     "Answers consider enforcement inappropriate where one different selection "
                     "would shift the result",
            ))
    if t.unknown:
        out.append(Finding(
            rule="29 CFR 1607.4(B)", kind="measurement", subject=where,
            text=f"{t.unknown} people with an unknown {t.dimension} are not in this analysis",
        ))
    return out


def _steps_of(selected: str | None, steps: Sequence[tuple[str, str]] | Mapping[str, str] | None
              ) -> list[tuple[str, str]]:
    if steps is not None:
        pairs = list(steps.items()) if isinstance(steps, Mapping) else [tuple(p) for p in steps]
        if selected is not None:
            raise ConfigError("give either one decision column (selected=) or the steps of a "
                              "several-stage decision (steps=), not both")
        if not pairs:
            raise ConfigError("steps is empty; give at least one (name, column)")
        names = [n for n, _ in pairs]
        if len(set(names)) != len(names):
            raise ConfigError(f"step names must be distinct; got {names}")
        if BOTTOM_LINE in names:
            raise ConfigError(f"{BOTTOM_LINE!r} names the whole process; call the step otherwise")
        return [(str(n), str(c)) for n, c in pairs]
    if selected is None:
        raise ConfigError(
            "neither decisions nor steps given: the four-fifths rule compares selection rates; "
            "pass the decision column selected= (CLI: --selected) or steps= (--step NAME=COLUMN)"
        )
    return [(BOTTOM_LINE, selected)]


def eeoc_adverse_impact(
    data: Any,
    *,
    sex: str | None = None,
    race: str | None = None,
    ethnicity: str | None = None,
    selected: str | None = None,
    steps: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
    pos_label: object | None = None,
    mapping: CategoryMapping | str | os.PathLike[str] | None = None,
    groups: str = "guidelines",
    threshold: float = FOUR_FIFTHS,
    score: str | None = None,
    y_true: str | None = None,
    thresholds: Sequence[float] | None = None,
) -> ComplianceResult:
    """Adverse impact of a selection procedure under 29 CFR 1607.4.

    Parameters
    ----------
    data : path or DataFrame
        One row per applicant.
    sex, race, ethnicity : str
        Columns (at least one of sex and race); values are mapped to categories by ``mapping``
        as for :func:`~fairslm.compliance.nyc_ll144_audit`.
    selected : str
        The decision column (1/True or ``pos_label`` = selected), or
    steps : sequence of (name, column) or mapping
        The stages of a several-stage decision in order; a step's applicants are the people
        who passed every earlier step. The bottom line is passing every step.
    groups : {"guidelines", "eeo1"}
        Race/ethnicity groups of 1607.4(B) (Asian includes Pacific Islanders) or EEO-1's.
    threshold : float, default 0.8
        The four-fifths rule; a stricter internal threshold may be set, never the rule's.
    score, y_true, thresholds : optional
        A score column (and labels) for the audit of scores attached to the result.

    Examples
    --------
    >>> import pandas as pd
    >>> # The Guidelines' Questions and Answers: whites 60%, American Indians 45%, Hispanics
    >>> # 48%, Blacks 51%: ratios 75%, 80%, 85%; adverse impact indicated for American Indians
    >>> rows = []
    >>> for race, hired in (("White", 60), ("American Indian or Alaska Native", 45),
    ...                     ("Hispanic or Latino", 48), ("Black or African American", 51)):
    ...     rows += [(race, int(i < hired)) for i in range(100)]
    >>> df = pd.DataFrame(rows, columns=["race", "hired"])
    >>> res = eeoc_adverse_impact(df, race="race", selected="hired")
    >>> t = res.table("race/ethnicity")
    >>> [(r.category, round(r.impact_ratio, 2), r.below_four_fifths) for r in t.rows if r.applicants]
    [('Hispanic', 0.8, False), ('White (not Hispanic)', 1.0, False), ('Black', 0.85, False), ('American Indian (including Alaskan Natives)', 0.75, True)]
    """
    if groups not in ("guidelines", "eeo1"):
        raise ConfigError(f"groups must be 'guidelines' (29 CFR 1607.4(B)) or 'eeo1'; got {groups!r}")
    if not 0 < float(threshold) <= 1:
        raise ConfigError(f"threshold must be in (0, 1], the four-fifths rule is 0.8; got {threshold}")
    plan = _steps_of(selected, steps)
    mapped = resolve_mapping(mapping)
    cols = [(c, "--selected" if n == BOTTOM_LINE else f"--step {n}") for n, c in plan]
    cols += ([(score, "--y-score")] if score else []) + (
        [(y_true, "--y-true")] if y_true and score else [])
    rows = prepare_rows(data, sex=sex, race=race, ethnicity=ethnicity, columns=cols,
                        mapping=mapped, require=(), regime="the four-fifths analysis")
    total = int(len(rows.frame))
    race_cats = (_guidelines_categories() if groups == "guidelines" else list(EEO1_RACE_ETHNICITY))
    features: dict[str, np.ndarray] = {}
    cats: dict[str, list[str]] = {}
    if rows.sex is not None:
        features[SEX], cats[SEX] = rows.sex, list(EEO1_SEX)
    if rows.race is not None:
        race_vals = rows.race
        if groups == "guidelines":
            lut = {**GUIDELINES_GROUPS, UNKNOWN: UNKNOWN}
            race_vals = np.asarray([lut[v] for v in race_vals], dtype=object)
        features[RACE], cats[RACE] = race_vals, race_cats
    reached = np.ones(total, dtype=bool)
    passed_all = np.ones(total, dtype=bool)
    tables: list[CategoryTable] = []
    multi = len(plan) > 1
    for name, col in plan:
        decided = np.zeros(total, dtype=np.int64)
        decided[reached] = binary_column(rows.frame[col][reached], col, pos_label)
        if not reached.any():
            raise ConfigError(f"no one reached step {name!r}: every applicant failed an earlier step")
        sub = {k: v[reached] for k, v in features.items()}
        table = count_table_from_arrays(decided[reached], decided[reached], sub)
        for dim, view, expected, labels in dimension_views(table, cats, intersection=False):
            n, s, unknown = category_counts(view, 1, expected)
            tables.append(_analyse(dim, labels, n, s, unknown, step=name,
                                   threshold=float(threshold), total=int(reached.sum())))
        passed_all &= decided.astype(bool)
        reached = passed_all.copy()
    if multi:
        final = passed_all.astype(np.int64)
        table = count_table_from_arrays(final, final, features)
        for dim, view, expected, labels in dimension_views(table, cats, intersection=False):
            n, s, unknown = category_counts(view, 1, expected)
            tables.append(_analyse(dim, labels, n, s, unknown, step=BOTTOM_LINE,
                                   threshold=float(threshold), total=total))
    score_audit = None
    if score:
        labels_arr = binary_column(rows.frame[y_true], y_true, None) if y_true else None
        mt = median_count_table(rows.frame[score], features, y_true=labels_arr)
        score_audit = audit_median_table(mt, thresholds=thresholds).to_dict()
    findings: list[Finding] = []
    if multi:
        findings.append(Finding(
            rule="29 CFR 1607.4(C)", kind="measurement",
            text=f"the decision has {len(plan)} steps ({', '.join(n for n, _ in plan)}): each step "
                 "is analysed among the people who reached it, and the bottom line (passing "
                 "every step) among all applicants",
        ))
    if groups == "guidelines" and RACE in features:
        findings.append(Finding(
            rule="29 CFR 1607.4(B)", kind="measurement",
            text="race/ethnicity groups of the Guidelines: Asian includes Native Hawaiian or Other "
                 "Pacific Islander, American Indian includes Alaska Native; Two or More Races, "
                 "absent from the 1978 list, is reported as its own group",
        ))
    for t in tables:
        findings += _table_findings(t, float(threshold))
    findings.append(Finding(
        rule="29 CFR 1607.4(D)", kind="note",
        text="the four-fifths rule is a rule of thumb of the enforcement agencies, not a legal "
             "definition of discrimination; these findings are measurements for the employer, "
             "its counsel and the agencies to weigh",
    ))
    return ComplianceResult(
        schema_version=COMPLIANCE_SCHEMA_VERSION,
        regime="eeoc",
        record={"individuals": total, "steps": [{"name": n, "column": c} for n, c in plan],
                "groups": groups, "threshold": float(threshold),
                "significance_level": _ALPHA},
        tables=tuple(tables),
        findings=tuple(findings),
        score_audit=score_audit,
        inputs=rows.inputs,
        options={"mapping": mapped.source if mapped.entries else None,
                 "mapping_sha256": mapped.sha256,
                 "pos_label": None if pos_label is None else str(pos_label)},
        provenance=created_provenance(),
    )
