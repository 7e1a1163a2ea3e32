"""The report document and its HTML: content, escaping, sections, versions, bad input."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import fairslm
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.reporting import (
    REPORT_SCHEMA_VERSION,
    build_report,
    load_report,
    policy_verdict,
    render_html,
    validate_report,
    write_report,
)
from fairslm.reporting._counterfactual_html import highlight_swaps

XSS = "<script>alert(1)</script>"


def _audit(groups=("a", "b")):
    # Group a: 4 rows, 3 selected; group b: 4 rows, 1 selected -> selection ratio 1/3.
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    sf = [groups[0]] * 4 + [groups[1]] * 4
    return fairslm.audit_predictions(y_true, y_pred, sensitive_features={"g": sf}, min_group_size=1)


def _fair_audit():
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 1, 0, 0, 1, 1, 0, 0]
    return fairslm.audit_predictions(y_true, y_pred, sensitive_features={"g": list("aaaabbbb")},
                                     min_group_size=1)


def _counterfactual(examples=(), flip_rate=0.1):
    """A counterfactual result in its documented layout, with the given examples."""
    from fairslm.audit import CounterfactualResult

    summary = {"n": 10, "n_flips": int(10 * flip_rate), "flip_rate": flip_rate,
               "mean_score_change": 0.01, "mean_abs_score_change": 0.05,
               "max_abs_score_change": 0.5, "mcnemar": {"b": 1, "c": 0, "p_exact": 1.0}}
    return CounterfactualResult(
        schema_version="1.0", attribute="gender", task={"classes": [0, 1], "score_class": 1},
        counts={"n_texts": 12, "n_changed": 10, "n_unchanged": 2}, overall=summary,
        by_direction={"female->male": summary}, by_group={}, provenance={},
        examples=tuple({"index": i, "direction": "female->male", "original": a,
                        "counterfactual": b, "score_original": s0, "score_counterfactual": s1,
                        "score_change": s1 - s0, "flipped": (s0 < 0.5) != (s1 < 0.5)}
                       for i, (a, b, s0, s1) in enumerate(examples)),
    )


def _data_audit(group="a"):
    """A data audit in its documented layout, with ``group`` among the groups."""
    from fairslm.audit import DataAuditResult

    groups = {group: {"count": 40, "share": 0.5}, "b": {"count": 40, "share": 0.5}}
    return DataAuditResult(
        schema_version="1.0", dataset={"n_rows": 80}, findings=(f"{group} is under-labelled",),
        representation={"g": {"features": ["g"], "groups": groups, "empty": [], "tiny": []}},
        labeling={"1": {"g": {"groups": {group: {"count": 40, "rate": 0.2, "ci": [0.1, 0.3]},
                                         "b": {"count": 40, "rate": 0.4, "ci": [0.3, 0.5]}},
                              "ratio": 0.5, "verdict": "fail", "worst_group": group,
                              "reference": "b"}}},
        proxies={"g": {"probe": "tfidf", "auc": 0.9, "ci": [0.8, 1.0],
                       "top_terms": {group: [{"term": group}]}}},
        aggregation={}, provenance={},
    )


def test_build_report_summary_and_policy_verdict():
    rep = build_report({"baseline": _audit(), "mitigated": _fair_audit()},
                       scores={"baseline": {"accuracy": 0.75}}, created="2026-01-01T00:00:00Z")
    assert rep["kind"] == "fairslm.report"
    assert rep["schema_version"] == REPORT_SCHEMA_VERSION
    assert rep["summary"] == {
        "final": "mitigated", "baseline": "baseline", "verdict": "pass",
        "policy": {"criteria": ["statistical_parity"], "threshold": 0.8, "views": "marginal"},
    }
    base = rep["models"][0]
    assert base["policy"]["verdict"] == "fail"
    (failing,) = base["policy"]["failing"]
    assert failing["criterion"] == "statistical_parity"
    assert failing["ratio"] == pytest.approx(1 / 3)
    assert failing["worst_group"] == "b"
    assert base["scores"] == {"accuracy": 0.75}
    assert json.loads(json.dumps(rep)) == rep  # plain JSON


def test_policy_verdict_counts_only_policy_criteria():
    audit = _audit().to_dict()
    # equal opportunity: TPR a = 2/2, b = 1/2 -> 0.5 fails; predictive parity a 2/3, b 1/1.
    res = policy_verdict(audit, {"criteria": ["equal_opportunity"], "views": "all"})
    assert [(f["criterion"], f["ratio"]) for f in res["failing"]] == [("equal_opportunity", 0.5)]
    assert policy_verdict(audit, {"criteria": ["predictive_parity"], "views": "all"})[
        "failing"][0]["ratio"] == pytest.approx(2 / 3)
    assert policy_verdict(audit, {"criteria": ["statistical_parity"], "views": ["nope"]}) == {
        "verdict": "insufficient", "failing": [], "not_judged": [], "worst": None,  # no evidence
        "thin": [], "without_interval": 0}
    assert res["worst"]["ratio"] == 0.5


def test_policy_verdict_says_when_a_pass_is_thin():
    rng = np.random.default_rng(0)
    g = np.repeat(["a", "b", "c"], [2000, 2000, 60])
    yt = rng.integers(0, 2, g.size)
    yp = np.zeros(g.size, dtype=int)  # 40% of groups a and b selected, 23 of 60 in c
    for grp, k in (("a", 800), ("b", 800), ("c", 23)):
        yp[rng.permutation(np.flatnonzero(g == grp))[:k]] = 1
    policy = {"criteria": ["statistical_parity"], "views": "all"}
    small = fairslm.audit_predictions(yt, yp, sensitive_features={"g": g}, n_bootstrap=20, seed=0).to_dict()
    res = policy_verdict(small, policy)
    assert res["verdict"] == "pass" and [t["view"] for t in res["thin"]] == ["g"]
    assert res["thin"][0]["interval"][0] < 0.8 <= res["thin"][0]["ratio"]
    large = fairslm.audit_predictions(yt[:4000], yp[:4000], sensitive_features={"g": g[:4000]},
                              n_bootstrap=20, seed=0).to_dict()
    assert policy_verdict(large, policy)["thin"] == []
    assert policy_verdict(_fair_audit().to_dict(), policy)["without_interval"] == 0
    no_intervals = fairslm.audit_predictions(
        [1, 1, 0, 0, 1, 1, 0, 0], [1, 1, 0, 0, 1, 1, 0, 0], sensitive_features={"g": list("aaaabbbb")},
        min_group_size=1, interval_method="bootstrap", n_bootstrap=0)
    assert policy_verdict(no_intervals.to_dict(), policy)["without_interval"] == 1


def test_data_strings_are_escaped_everywhere():
    rep = build_report(
        {XSS: _audit(groups=(XSS, "b"))},
        title=f"title {XSS}",
        counterfactual=_counterfactual([(f"She {XSS}", f"He {XSS}", 0.2, 0.7)], flip_rate=0.5),
        data_audit=_data_audit(group=XSS),
        model_card={"intended_use": XSS, "limitations": [XSS]},
        provenance={"config": {XSS: XSS}},
    )
    html = render_html(rep)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 8


def test_sections_render_only_when_present():
    plain = render_html(build_report(_audit()))
    for heading in ("Data audit", "Counterfactual tests", "Mitigation: before and after",
                    "Audit history", "Model card"):
        assert f">{heading}</h2>" not in plain
    assert ">Provenance</h2>" in plain and ">How to read the criteria</h2>" in plain
    full = render_html(build_report(
        {"baseline": _audit(), "mitigated": _fair_audit()},
        data_audit=_data_audit(),
        counterfactual=_counterfactual(),
        history={"model": "m", "criterion": "statistical_parity",
                 "points": [{"time": "2026-01-01T00:00:00", "ratio": 0.7, "verdict": "fail"},
                            {"time": "2026-02-01T00:00:00", "ratio": 0.9, "verdict": "pass"}]},
        model_card={"intended_use": "demo"},
    ))
    for heading in ("Data audit", "Counterfactual tests", "Mitigation: before and after",
                    "Audit history", "Model card"):
        assert f">{heading}</h2>" in full


def test_report_shows_criterion_reading_and_insufficient_groups():
    audit = fairslm.audit_predictions(
        [1, 0] * 20 + [1, 0], [1, 0] * 20 + [1, 1],
        sensitive_features={"g": ["big"] * 40 + ["tiny"] * 2}, min_group_size=30)
    html = render_html(build_report(audit))
    assert "0.8 = the group is selected 20% less often than the reference group." in html
    assert "tiny <span class='badge insufficient'>n &lt; 30</span>" in html
    assert html.count("<svg") >= 4  # a ratio plot per metric and the confusion bars


def test_highlight_swaps_marks_only_changed_words():
    old, new = highlight_swaps("Emily Walsh led her team.", "Greg Walsh led his team.")
    assert old == ("<mark class='old'>Emily</mark> Walsh led <mark class='old'>her</mark> team.")
    assert new == "<mark>Greg</mark> Walsh led <mark>his</mark> team."


def test_other_schema_version_is_a_clear_error(tmp_path):
    rep = build_report(_audit())
    other = copy.deepcopy(rep)
    other["schema_version"] = "2.0"
    # Written by a newer fairslm: the fix is to upgrade, not to re-run anything.
    with pytest.raises(InvalidDataError, match=r"schema version '2.0', newer than this fairslm "
                                               r"reads \(1.1\); upgrade fairslm"):
        render_html(other)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(other))
    with pytest.raises(InvalidDataError, match="upgrade fairslm"):
        load_report(path)
    other["schema_version"] = "0.9"
    path.write_text(json.dumps(other))
    with pytest.raises(InvalidDataError, match=r"Write it again with this version \(`fairslm report"):
        load_report(path)


def test_bad_documents_are_rejected_with_their_reason(tmp_path):
    with pytest.raises(InvalidDataError, match=r"not a fairslm report \(kind='fairslm.audit'\)"):
        validate_report(_audit().to_dict())
    broken = build_report(_audit())
    del broken["models"][0]["audit"]["views"]
    with pytest.raises(InvalidDataError, match="schema at models/0/audit: 'views' is a required"):
        validate_report(broken)
    with pytest.raises(InvalidDataError, match="does not exist"):
        load_report(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(InvalidDataError, match="not valid JSON"):
        load_report(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match=r"unknown policy key\(s\) \['treshold'\]"):
        build_report(_audit(), policy={"treshold": 0.9})
    with pytest.raises(InvalidDataError, match="model 'x' is not among the audits: model"):
        build_report(_audit(), final="x")
    with pytest.raises(InvalidDataError, match="kind='other'"):
        build_report({"m": {"kind": "other"}})


def test_write_report_round_trips(tmp_path):
    rep = build_report(_audit(), created="2026-01-01T00:00:00Z")
    paths = write_report(rep, tmp_path / "out")
    assert load_report(paths["json"]) == rep
    assert paths["html"].read_text(encoding="utf-8") == render_html(rep)
    assert "http://" not in render_html(rep).replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_comparison_section_plots_the_pareto_front():
    from fairslm.mitigation.comparison import ComparisonResult, ComparisonRow

    comp = ComparisonResult(
        criterion="statistical_parity", threshold=0.8, pareto=("mitigated",), n_rows=8,
        rows=(ComparisonRow("mitigated", accuracy=0.9, ratio=0.95, difference=0.02,
                            verdict="pass", worst_group="b", extra={"flip rate": 0.01}),
              ComparisonRow("baseline", accuracy=0.85, ratio=0.6, difference=0.2,
                            verdict="fail", worst_group=XSS)))
    html = render_html(build_report({"baseline": _audit(), "mitigated": _fair_audit()},
                                    comparison=comp))
    assert "Pareto front: accuracy against fairness" in html
    assert "mitigated <span class='badge pass'>Pareto</span>" in html
    assert "<polyline" not in html.split("Pareto front")[1].split("</svg>")[0]  # one point
    assert "<script" not in html


def test_report_command_builds_from_result_files(tmp_path, capsys):
    from fairslm.cli import main

    _audit().to_json(tmp_path / "before.json")
    _fair_audit().to_json(tmp_path / "after.json")
    code = main(["report", f"baseline={tmp_path / 'before.json'}",
                 f"mitigated={tmp_path / 'after.json'}", "--out", str(tmp_path / "r"),
                 "--title", "Quarterly audit"])
    assert code == 0, capsys.readouterr().err
    rep = load_report(tmp_path / "r" / "report.json")
    assert [m["name"] for m in rep["models"]] == ["baseline", "mitigated"]
    assert rep["title"] == "Quarterly audit" and rep["summary"]["verdict"] == "pass"
    # the report.json renders again on its own
    assert main(["report", str(tmp_path / "r" / "report.json"), "--out", str(tmp_path / "r2")]) == 0
    assert (tmp_path / "r2" / "report.html").read_text() == (tmp_path / "r" / "report.html").read_text()


def test_report_command_rejects_unknown_files(tmp_path, capsys):
    from fairslm.cli import main

    (tmp_path / "x.json").write_text('{"kind": "something.else"}')
    assert main(["report", str(tmp_path / "x.json"), "--out", str(tmp_path)]) == 2
    assert "is not a fairslm result (kind='something.else')" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "missing.json does not exist" in capsys.readouterr().err


def test_an_unnamed_audit_is_named_after_its_model_folder() -> None:
    from fairslm import audit_predictions

    a = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
                          min_group_size=1, provenance={"model": "runs/fair-v2"})
    assert [m["name"] for m in build_report(a)["models"]] == ["fair-v2"]
    assert [m["name"] for m in build_report(_audit())["models"]] == ["model"]


def test_a_result_of_another_kind_or_incomplete_is_refused_with_what_to_pass():
    with pytest.raises(InvalidDataError, match=r"not a complete fairslm counterfactual result "
                                               r"\(.*flip_rate.*\); pass the CounterfactualResult"):
        build_report(_audit(), counterfactual={"kind": "fairslm.counterfactual",
                                               "schema_version": "1.0", "flip_rate": 0.1})
    with pytest.raises(InvalidDataError, match=r"not a fairslm data audit \(kind='fairslm.counter"):
        build_report(_audit(), data_audit=_counterfactual())
    with pytest.raises(InvalidDataError, match="must be a ComparisonResult, its to_dict"):
        build_report(_audit(), comparison=[1, 2])


def test_sections_render_the_same_from_results_and_from_their_json(tmp_path):
    _counterfactual([("She leads.", "He leads.", 0.3, 0.6)]).to_json(tmp_path / "cf.json")
    _data_audit().to_json(tmp_path / "da.json")
    models = {"baseline": _audit(), "mitigated": _fair_audit()}
    typed = build_report(models, created="2026-01-01T00:00:00Z", data_audit=_data_audit(),
                         counterfactual=_counterfactual([("She leads.", "He leads.", 0.3, 0.6)]))
    files = build_report(models, created="2026-01-01T00:00:00Z", data_audit=tmp_path / "da.json",
                         counterfactual={"mitigated": tmp_path / "cf.json"})
    assert render_html(typed) == render_html(files)
    assert "<mark class='old'>She</mark> leads." in render_html(files)


def test_html_of_many_groups_shows_the_ones_that_matter_and_says_how_many_more():
    from fairslm.reporting._html import MAX_GROUPS_SHOWN

    rng = np.random.default_rng(0)
    n_small = 300
    # Two groups large enough to judge (one selected far less often) and many of two rows.
    groups = np.array(["big"] * 200 + ["low"] * 200 + [f"s{i:03d}" for i in range(n_small)
                                                       for _ in range(2)])
    y_pred = np.r_[rng.random(200) < 0.6, rng.random(200) < 0.2,
                   rng.random(2 * n_small) < 0.5].astype(int)
    y_true = rng.integers(0, 2, len(groups))
    audit = fairslm.audit_predictions(y_true, y_pred, sensitive_features=groups)
    html = render_html(build_report(audit))
    # Rows of small groups in the groups table and the confusion table: the two large groups
    # and 48 small ones are shown.
    assert html.count("<td>s") == 2 * (MAX_GROUPS_SHOWN - 2)
    assert ">big<" in html and ">low<" in html
    assert f"Showing {MAX_GROUPS_SHOWN} of {n_small + 2:,} groups" in html
    assert f"{n_small + 2 - MAX_GROUPS_SHOWN:,} more are not shown" in html
    # Few groups: every one is shown, with no note.
    assert "more are not shown" not in render_html(build_report(_audit()))
