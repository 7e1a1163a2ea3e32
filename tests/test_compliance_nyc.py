"""NYC Local Law 144 bias audits, number for number.

The scoring-rate figures below are those of the DCWP rule's own worked example ("culture fit"
scores, 6 RCNY §5-301): sex categories Male 92 applicants, scoring rate 54.3%, impact ratio
1.00; Female 76, 44.7%, 0.82; race/ethnicity Hispanic or Latino 28, 64.2%, 1.00; White 40,
37.5%, 0.58; Black or African American 32, 50.0%, 0.78; Native Hawaiian or Pacific Islander 8,
62.5%, 0.97; Asian 24, 41.7%, 0.65. The rule prints rates, not counts; the counts of people
above the median follow (50/92, 34/76, 18/28, 15/40, 16/32, 5/8, 10/24). The rule prints
18/28 = 64.29% as "64.2%": that one figure is truncated where every other is rounded (10/24 =
41.67% prints as 41.7%), so the test checks 64.3% and the rule's impact ratios, which agree
either way. The rest of the rule's tables could not be retrieved; the American Indian or Alaska
Native and Two or More Races rows, the intersections and the selection-rate examples are
computed by hand below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairslm.compliance import nyc_ll144_audit
from fairslm.compliance._csv import format_tables

# (race/ethnicity, sex, applicants, scored above the median)
CULTURE_FIT = [
    ("Hispanic or Latino", "Male", 15, 10), ("Hispanic or Latino", "Female", 13, 8),
    ("White", "Male", 22, 9), ("White", "Female", 18, 6),
    ("Black or African American", "Male", 17, 9), ("Black or African American", "Female", 15, 7),
    ("Native Hawaiian or Pacific Islander", "Male", 4, 3),
    ("Native Hawaiian or Pacific Islander", "Female", 4, 2),
    ("Asian", "Male", 13, 6), ("Asian", "Female", 11, 4),
    ("Native American or Alaska Native", "Male", 2, 1),
    ("Native American or Alaska Native", "Female", 1, 0),
    ("Two or More Races", "Male", 19, 12), ("Two or More Races", "Female", 14, 7),
]


def _scored_frame(rows=CULTURE_FIT, seed: int = 0) -> pd.DataFrame:
    """People with scores: those 'above' get 60-100, the others 0-40 (no tie at the median)."""
    rng = np.random.default_rng(seed)
    recs = []
    for race, sex, n, above in rows:
        for i in range(n):
            score = rng.uniform(60, 100) if i < above else rng.uniform(0, 40)
            recs.append({"race": race, "sex": sex, "culture_fit": score})
    return pd.DataFrame(recs).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_scoring_rates_match_the_rule_example() -> None:
    df = _scored_frame()
    assert len(df) == 168 and df["culture_fit"].gt(df["culture_fit"].median()).sum() == 84
    res = nyc_ll144_audit(df, sex="sex", race="race", score="culture_fit",
                          data_type="historical", audit_date="2026-03-01")
    sex = res.table("sex")
    rule_sex = {"Male": (92, "54.3%", "1.00"), "Female": (76, "44.7%", "0.82")}
    printed = {r["Category"]: r for r in format_tables(res)["sex"]}
    for cat, (n, rate, ratio) in rule_sex.items():
        assert sex.row(cat).applicants == n
        assert printed[cat]["Scoring Rate"] == rate
        assert printed[cat]["Impact Ratio"] == ratio
    race = {r["Category"]: r for r in format_tables(res)["race_ethnicity"]}
    rule_race = {
        "Hispanic or Latino": (28, "64.3%", "1.00"),  # the rule prints 64.2% (see above)
        "White": (40, "37.5%", "0.58"),
        "Black or African American": (32, "50.0%", "0.78"),
        "Native Hawaiian or Other Pacific Islander": (8, "62.5%", "0.97"),
        "Asian": (24, "41.7%", "0.65"),
    }
    for cat, (n, rate, ratio) in rule_race.items():
        assert race[cat]["# of Applicants"] == n
        assert race[cat]["Scoring Rate"] == rate, cat
        assert race[cat]["Impact Ratio"] == ratio, cat
    # Hand-computed: 1/3 = 33.3%, ratio 0.3333/0.6429 = 0.52; 19/33 = 57.6%, 0.5758/0.6429 = 0.90
    assert race["American Indian or Alaska Native"]["Scoring Rate"] == "33.3%"
    assert race["American Indian or Alaska Native"]["Impact Ratio"] == "0.52"
    assert race["Two or More Races"]["Scoring Rate"] == "57.6%"
    assert race["Two or More Races"]["Impact Ratio"] == "0.90"
    exact = res.table("race/ethnicity").row("White")
    assert exact.rate == 15 / 40 and exact.impact_ratio == pytest.approx((15 / 40) / (18 / 28))


def test_intersections_by_hand() -> None:
    res = nyc_ll144_audit(_scored_frame(), sex="sex", race="race", score="culture_fit",
                          data_type="historical", audit_date="2026-03-01")
    inter = res.table("intersectional")
    assert len(inter.rows) == 14 and inter.unknown == 0
    # Highest scoring intersection: Native Hawaiian or Other Pacific Islander males, 3/4 = 75%
    assert inter.highest == "Male, Native Hawaiian or Other Pacific Islander"
    by_hand = {
        "Male, Hispanic or Latino": (15, 10 / 15, (10 / 15) / 0.75),
        "Female, White": (18, 6 / 18, (6 / 18) / 0.75),
        "Female, American Indian or Alaska Native": (1, 0.0, 0.0),
        "Male, Two or More Races": (19, 12 / 19, (12 / 19) / 0.75),
    }
    for cat, (n, rate, ratio) in by_hand.items():
        row = inter.row(cat)
        assert (row.applicants, row.rate) == (n, pytest.approx(rate))
        assert row.impact_ratio == pytest.approx(ratio)
    printed = {r["Category"]: r for r in format_tables(res)["intersectional"]}
    assert printed["Female, White"]["Scoring Rate"] == "33.3%"
    assert printed["Female, White"]["Impact Ratio"] == "0.44"  # 0.3333 / 0.75 = 0.444


def test_ties_at_the_median_are_not_above() -> None:
    df = pd.DataFrame({"sex": ["Male", "Male", "Female", "Female", "Male", "Female"],
                       "race": ["White"] * 6, "score": [1, 2, 2, 2, 3, 2]})
    res = nyc_ll144_audit(df, sex="sex", race="race", score="score", data_type="historical",
                          audit_date="2026-01-01")
    assert res.record["median_score"] == 2 and res.record["ties_at_median"] == 4
    sex = res.table("sex")
    assert sex.row("Male").selected == 1 and sex.row("Female").selected == 0
    assert sex.row("Female").impact_ratio == 0.0


def test_unknown_and_no_applicants_and_zero_top_rate() -> None:
    df = pd.DataFrame({
        "sex": ["Male", "Female", None, "Male", "Female", "Female"],
        "race": ["White", "Asian", "Asian", "", "White", "White"],
        "ok": [0, 0, 0, 0, 0, 0],
    })
    res = nyc_ll144_audit(df, sex="sex", race="race", selected="ok", data_type="historical",
                          audit_date="2026-01-01")
    sex = res.table("sex")
    assert sex.unknown == 1
    assert res.table("race/ethnicity").unknown == 1
    assert res.table("intersectional").unknown == 2
    assert all(np.isnan(r.impact_ratio) for r in sex.rows)  # top rate 0: undefined, not 1
    printed = {r["Category"]: r for r in format_tables(res)["race_ethnicity"]}
    assert printed["Black or African American"]["Selection Rate"] == "no applicants"
    assert printed["Black or African American"]["Impact Ratio"] == "no applicants"
    assert printed["White"]["Impact Ratio"] == "undefined"
    assert any("every impact ratio is undefined" in f.text for f in res.findings)


def test_report_renders_the_regulatory_section() -> None:
    from fairslm import audit_predictions
    from fairslm.reporting import build_report, render_html

    df = _scored_frame()
    res = nyc_ll144_audit(df, sex="sex", race="race", score="culture_fit",
                          data_type="test", data_explanation="synthetic <b>profiles</b>",
                          audit_date="2026-03-01")
    audit = audit_predictions((df.culture_fit > 50).astype(int), (df.culture_fit > 60).astype(int),
                              sensitive_features=df[["sex"]], min_group_size=1)
    html = render_html(build_report({"m": audit}, compliance=[res]))
    assert "Regulatory audits" in html and "NYC Local Law 144 bias audit" in html
    assert "score distribution by sex" in html and "criteria across decision thresholds" in html
    assert "synthetic &lt;b&gt;profiles&lt;/b&gt;" in html and "<b>profiles</b>" not in html
    assert "6 RCNY §5-302" in html


# (race, sex, applicants, selected); 100 people, two without a recorded sex
SELECTIONS = [
    ("White", "Male", 20, 14), ("White", "Female", 20, 10),
    ("Black or African American", "Male", 15, 8), ("Black or African American", "Female", 14, 7),
    ("Black or African American", None, 1, 0),
    ("Asian", "Male", 13, 7), ("Asian", "Female", 12, 6), ("Asian", None, 1, 0),
    ("American Indian or Alaska Native", "Male", 1, 1),
    ("Two or More Races", "Male", 1, 0), ("Two or More Races", "Female", 2, 1),
]


def _selected_frame() -> pd.DataFrame:
    rows = [(race, sex, int(i < sel)) for race, sex, n, sel in SELECTIONS for i in range(n)]
    return pd.DataFrame(rows, columns=["race", "sex", "advanced"])


def test_selection_rates_by_hand_with_the_two_percent_exclusion() -> None:
    df = _selected_frame()
    plain = nyc_ll144_audit(df, sex="sex", race="race", selected="advanced",
                            data_type="historical", audit_date="2026-01-01")
    # Without the exclusion the one American Indian, selected, is the most selected category
    race = plain.table("race/ethnicity")
    assert race.highest == "American Indian or Alaska Native"
    assert race.row("White").impact_ratio == pytest.approx(0.6)
    res = nyc_ll144_audit(df, sex="sex", race="race", selected="advanced",
                          data_type="historical", audit_date="2026-01-01", exclude_small=True,
                          exclusion_justification="one applicant cannot anchor a comparison")
    printed = format_tables(res)
    sex = {r["Category"]: r for r in printed["sex"]}
    # Male 30/50 = 60.0%, Female 24/48 = 50.0%, ratio 0.5/0.6 = 0.833
    assert (sex["Male"]["# Selected"], sex["Male"]["Selection Rate"], sex["Male"]["Impact Ratio"]) == (
        30, "60.0%", "1.00")
    assert (sex["Female"]["Selection Rate"], sex["Female"]["Impact Ratio"]) == ("50.0%", "0.83")
    assert printed["sex"][-1]["# of Applicants"] == 2  # unknown sex, not in the calculations
    race = {r["Category"]: r for r in printed["race_ethnicity"]}
    assert race["American Indian or Alaska Native"]["Selection Rate"] == "100.0%"
    assert race["American Indian or Alaska Native"]["Impact Ratio"] == "excluded (under 2%)"
    assert race["Black or African American"]["Impact Ratio"] == "0.83"  # 0.5 / 0.6
    assert race["Two or More Races"]["Impact Ratio"] == "0.56"  # 1/3 over 0.6, 3% is kept
    assert race["Hispanic or Latino"]["Selection Rate"] == "no applicants"
    inter = {r["Category"]: r for r in printed["intersectional"]}
    assert inter["Male, White"]["Impact Ratio"] == "1.00"  # 14/20 = 70%, the most selected
    assert inter["Female, White"]["Impact Ratio"] == "0.71"  # 0.5 / 0.7
    assert inter["Male, Black or African American"]["Impact Ratio"] == "0.76"  # 8/15 / 0.7
    assert inter["Male, Two or More Races"]["Impact Ratio"] == "excluded (under 2%)"  # 1%
    assert inter["Female, Two or More Races"]["Impact Ratio"] == "0.71"  # 2% is not under 2%
    assert printed["intersectional"][-1]["# of Applicants"] == 2
    assert res.record["exclusion"]["excluded"] == [
        "American Indian or Alaska Native", "Male, American Indian or Alaska Native",
        "Male, Two or More Races"]
    assert "all 100 people in the audit data" in res.table("sex").denominator
