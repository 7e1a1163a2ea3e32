"""The synthetic hiring corpus behind the demo, and a reduced demo end to end."""

from __future__ import annotations

import re

import pytest

from fairslm.data import HIRING_COLUMNS, make_hiring_corpus
from fairslm.exceptions import ConfigError


def test_corpus_is_seeded_and_has_the_documented_columns():
    a = make_hiring_corpus(300, seed=3)
    b = make_hiring_corpus(300, seed=3)
    c = make_hiring_corpus(300, seed=4)
    assert tuple(a.columns) == HIRING_COLUMNS
    assert a.equals(b)
    assert not a["text"].equals(c["text"])
    assert set(a["split"]) == {"train", "validation", "test"}
    assert set(a["hired"]) <= {0, 1} and set(a["qualified"]) <= {0, 1}


def test_group_shares_follow_the_config():
    df = make_hiring_corpus(6000, seed=0)
    shares = df["gender"].value_counts(normalize=True)
    assert abs(shares["female"] - 0.38) < 0.02
    assert abs(df["race"].value_counts(normalize=True)["asian"] - 0.10) < 0.015
    # the true qualification does not depend on the group
    rates = df.groupby("gender")["qualified"].mean()
    assert abs(rates["female"] - rates["male"]) < 0.04


def test_labeling_bias_only_passes_over_qualified_members_of_the_named_groups():
    df = make_hiring_corpus(4000, seed=1)
    assert (df["hired"] <= df["qualified"]).all()  # nobody unqualified was hired
    q = df[df["qualified"] == 1]
    favoured = q[(q.gender == "male") & (q.race == "white") & (q.age_band == "under_40")]
    assert favoured["hired"].all()  # no bias configured against these groups
    women = q[(q.gender == "female") & (q.race == "white") & (q.age_band == "under_40")]
    assert abs(women["hired"].mean() - 0.3) < 0.06  # passed over with probability 0.7
    fair = make_hiring_corpus(500, seed=1, config={"label_bias": {}})
    assert (fair["hired"] == fair["qualified"]).all()


def test_text_signals_groups_the_way_profiles_do():
    df = make_hiring_corpus(2000, seed=2)
    she = df["text"].str.contains(r"\bShe\b|\bher\b")
    assert (df.loc[she, "gender"] == "female").all()
    assert she.sum() == (df["gender"] == "female").sum()  # every profile has a pronoun
    years = df["text"].str.extract(r"(?:class of|Class of|graduated in) (\d{4})")[0].dropna()
    older = df.loc[years.index, "age_band"] == "40_and_over"
    assert (years.astype(int)[older] <= 2024 - 41 + 22).all()
    strong = df["text"].str.contains("SQL|Python|Tableau")
    assert df.loc[strong, "qualified"].mean() > df.loc[~strong, "qualified"].mean() + 0.3


def test_bad_corpus_config_names_the_problem():
    with pytest.raises(ConfigError, match="gender_shares must sum to 1; they sum to 0.9"):
        make_hiring_corpus(10, config={"gender_shares": {"male": 0.5, "female": 0.4}})
    with pytest.raises(ConfigError, match=r"label_bias\['race'\] names unknown group 'martian'"):
        make_hiring_corpus(10, config={"label_bias": {"race": {"martian": 0.5}}})
    with pytest.raises(ConfigError, match="colour"):
        make_hiring_corpus(10, config={"colour": 1})
    with pytest.raises(ConfigError, match="n must be a positive number of rows; got 0"):
        make_hiring_corpus(0)


def test_no_profile_is_empty_or_has_template_leftovers():
    df = make_hiring_corpus(500, seed=5)
    assert not df["text"].str.contains(r"[{}]|  ").any()
    assert df["text"].str.len().between(40, 400).all()
    assert not any(re.search(r"\b1 years\b", t) for t in df["text"])


def test_demo_command_prints_where_the_report_is(tmp_path, monkeypatch, capsys):
    import fairslm.pipeline
    from fairslm.cli import main
    from fairslm.pipeline import PipelineResult

    seen = {}

    def fake_run_demo(out, *, force=False, progress=None, seed=0):
        seen.update(out=out, force=force, seed=seed)
        return PipelineResult(output_dir=out, steps=[], verdict="pass", final_model="mitigated",
                              models={}, report={"html": out / "report.html"}, seconds=1.0)

    monkeypatch.setattr(fairslm.pipeline, "run_demo", fake_run_demo)
    assert main(["demo", "--out", str(tmp_path / "d"), "--force", "--seed", "3"]) == 0
    assert seen == {"out": tmp_path / "d", "force": True, "seed": 3}
    assert f"Open the report: {(tmp_path / 'd' / 'report.html').resolve()}" in capsys.readouterr().out
