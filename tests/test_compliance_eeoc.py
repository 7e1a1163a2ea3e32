"""EEOC Uniform Guidelines, 29 CFR 1607.4: the four-fifths rule and its companions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairslm.compliance import BOTTOM_LINE, ComplianceResult, eeoc_adverse_impact, format_tables
from fairslm.exceptions import ConfigError


def _frame(groups: dict[str, tuple[int, int]], column: str = "race") -> pd.DataFrame:
    rows = []
    for cat, (n, sel) in groups.items():
        rows += [(cat, int(i < sel)) for i in range(n)]
    return pd.DataFrame(rows, columns=[column, "hired"])


def test_guidelines_questions_and_answers_example() -> None:
    # Whites 60%, American Indians 45%, Hispanics 48%, Blacks 51% (each of 100): ratios 75%,
    # 80% and 85%; "adverse impact is indicated for American Indians but not for Hispanics or
    # Blacks" (Questions and Answers on the Uniform Guidelines, 1979).
    df = _frame({"White": (100, 60), "American Indian or Alaska Native": (100, 45),
                 "Hispanic or Latino": (100, 48), "Black or African American": (100, 51)})
    res = eeoc_adverse_impact(df, race="race", selected="hired")
    t = res.table("race/ethnicity")
    assert t.highest == "White (not Hispanic)" and t.step == BOTTOM_LINE
    ai = t.row("American Indian (including Alaskan Natives)")
    assert ai.impact_ratio == pytest.approx(0.75) and ai.below_four_fifths is True
    assert t.row("Hispanic").below_four_fifths is False  # exactly 4/5 is not "less than"
    assert t.row("Black").below_four_fifths is False
    # Z against whites: pooled p = 105/200
    pooled = 105 / 200
    z = (0.45 - 0.60) / np.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert ai.z == pytest.approx(z) and ai.z_p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert ai.fisher_p_value == pytest.approx(
        stats.fisher_exact([[45, 55], [60, 40]]).pvalue)
    assert ai.shortfall == 3.0  # 48 selections (4/5 of 60%) needed, 45 made
    assert ai.one_person_changes_finding is False  # 46/100 is still under 48%
    indicators = [f for f in res.findings if f.kind == "indicator"]
    assert len(indicators) == 1 and "American Indian" in indicators[0].text
    assert indicators[0].rule == "29 CFR 1607.4(D)" and "statistically significant" in indicators[0].text
    assert not any("compliant" in f.text.lower() for f in res.findings)


def test_small_numbers_one_person_and_fisher() -> None:
    # Women 3 of 8 selected (37.5%), men 6 of 12 (50%): ratio 0.75, below 4/5; with 4 of 8
    # (50%) the ratio is 1.0, so one person changes the finding. Expected counts are under 5,
    # so Fisher's exact test is the one to read, and it is far from significant.
    df = _frame({"Female": (8, 3), "Male": (12, 6)}, column="sex")
    res = eeoc_adverse_impact(df, sex="sex", selected="hired")
    w = res.table("sex").row("Female")
    assert w.below_four_fifths and w.one_person_changes_finding and w.one_person_ratio == 1.0
    assert w.shortfall == 1.0  # 4/5 of 50% of 8 = 3.2: one more selection
    assert w.fisher_p_value == pytest.approx(stats.fisher_exact([[3, 5], [6, 6]]).pvalue)
    texts = " ".join(f.text for f in res.findings)
    assert "Fisher's exact test" in texts and "not statistically significant" in texts
    assert "moving one person changes the four-fifths finding" in texts
    row = {r["Category"]: r for r in format_tables(res)["sex.bottom_line"]}["Female"]
    assert row["Below 4/5"] == "yes" and row["One person changes finding"] == "yes"


def test_significant_difference_above_four_fifths() -> None:
    df = _frame({"Male": (5000, 2500), "Female": (5000, 2250)}, column="sex")  # ratio 0.90
    res = eeoc_adverse_impact(df, sex="sex", selected="hired")
    assert res.table("sex").row("Female").below_four_fifths is False
    assert any(f.kind == "indicator" and "smaller differences may constitute" in f.text
               for f in res.findings)


def test_steps_and_bottom_line() -> None:
    rng = np.random.default_rng(0)
    n = 400
    sex = rng.choice(["Male", "Female"], n)
    screen = (rng.random(n) < np.where(sex == "Male", 0.6, 0.5)).astype(int)
    interview = np.where(screen == 1, (rng.random(n) < 0.5).astype(float), np.nan)
    df = pd.DataFrame({"sex": sex, "screen": screen, "interview": interview})
    res = eeoc_adverse_impact(df, sex="sex", steps=[("screen", "screen"), ("interview", "interview")])
    assert [t.step for t in res.tables] == ["screen", "interview", BOTTOM_LINE]
    for name, mask, passed in (
        ("screen", np.ones(n, bool), screen == 1),
        ("interview", screen == 1, interview == 1),
        (BOTTOM_LINE, np.ones(n, bool), (screen == 1) & (interview == 1)),
    ):
        t = res.table("sex", step=name)
        for cat in ("Male", "Female"):
            m = mask & (sex == cat)
            assert t.row(cat).applicants == m.sum() and t.row(cat).selected == (passed & m).sum()
    assert any(f.rule == "29 CFR 1607.4(C)" for f in res.findings)
    back = ComplianceResult.from_json(res.to_json())
    assert back.table("sex", step=BOTTOM_LINE).row("Male").selected == res.table(
        "sex", step=BOTTOM_LINE).row("Male").selected


def test_groups_of_the_guidelines_and_eeo1() -> None:
    df = _frame({"Asian": (50, 30), "Native Hawaiian or Other Pacific Islander": (10, 2),
                 "White": (60, 30)})
    gl = eeoc_adverse_impact(df, race="race", selected="hired").table("race/ethnicity")
    assert gl.row("Asian (including Pacific Islanders)").applicants == 60
    eeo1 = eeoc_adverse_impact(df, race="race", selected="hired", groups="eeo1").table(
        "race/ethnicity")
    assert eeo1.row("Native Hawaiian or Other Pacific Islander").applicants == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"race": "race"}, "neither decisions nor steps given"),
        ({"selected": "hired"}, "the sex and race columns are both missing"),
        ({"race": "race", "selected": "hired", "steps": [("a", "hired")]}, "not both"),
        ({"race": "race", "selected": "hired", "groups": "ofccp"}, "groups must be 'guidelines'"),
        ({"race": "race", "selected": "hired", "threshold": 1.2}, "threshold must be in (0, 1]"),
    ],
)
def test_bad_options(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("]", r"\]")):
        eeoc_adverse_impact(_frame({"White": (10, 5)}), **kwargs)
