"""No evidence never reads PASS, and the group named worst is the group worse off.

* An audit in which no criterion could be judged has the overall verdict ``insufficient`` in the
  terminal, the JSON, the HTML report, the history and the gate; the exit code follows
  ``--on-undecided`` / the policy's ``on_undecided`` (default: not a pass). An insufficient
  view shows the ratio of the groups that exist, never 1.0.
* For rates of mistakes (false positive, false negative and error rates) the group worse off
  has the HIGHER rate: it is the worst group, the reading says how many times as often, and
  the plot colours it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm import audit_predictions
from fairslm.cli._app import app
from fairslm.governance import HistoryStore, gate, parse_policy
from fairslm.metrics import LOWER_IS_BETTER
from fairslm.reporting import build_report, write_report
from fairslm.reporting.terminal import print_audit_list, print_gate


def _small(path: Path) -> Path:
    """60 rows, 26 men: with min_group_size 30 no view can be judged."""
    rng = np.random.default_rng(3)
    gender = np.array(["F"] * 34 + ["M"] * 26)
    label = rng.integers(0, 2, 60)
    pred = np.where(gender == "M", 1, rng.integers(0, 2, 60))
    pd.DataFrame({"label": label, "pred": pred, "gender": gender}).to_csv(path, index=False)
    return path


def _audit_args(path: Path, out: Path) -> list[str]:
    return ["audit-predictions", str(path), "--y-true", "label", "--y-pred", "pred",
            "--sensitive", "gender", "-o", str(out)]


def test_no_view_judged_is_insufficient_everywhere_and_not_a_pass(tmp_path: Path) -> None:
    path, out = _small(tmp_path / "p.csv"), tmp_path / "a.json"
    res = CliRunner().invoke(app, _audit_args(path, out))
    assert res.exit_code == 1, res.output
    assert "overall: INSUFFICIENT" in res.output and "PASS" not in res.output
    assert "This is not a pass" in res.output
    data = json.loads(out.read_text())
    assert data["verdict"] == "insufficient"
    sp = next(c for c in data["views"][0]["criteria"] if c["name"] == "statistical_parity")
    assert sp["verdict"] == "insufficient" and sp["ratio"] != 1.0
    groups = {g["label"]: g["metrics"]["selection_rate"] for g in data["views"][0]["groups"]}
    assert sp["ratio"] == pytest.approx(groups["F"] / groups["M"])
    # The ratio of the groups that exist, with its (closed-form) interval and the word.
    assert re.search(
        r"statistical_parity\s+ratio 0\.\d+ \[0\.\d+, \d\.\d+\]\s+difference \S+\s+insufficient",
        res.output)
    # The policy decides what "insufficient" means for the exit code; the word stays.
    res = CliRunner().invoke(app, [*_audit_args(path, out), "--on-undecided", "pass"])
    assert res.exit_code == 0 and "overall: INSUFFICIENT" in res.output
    res = CliRunner().invoke(app, [*_audit_args(path, out), "--on-undecided", "maybe"])
    assert res.exit_code == 2 and "--on-undecided takes fail or pass" in res.output


def test_all_zero_rates_undefined_is_insufficient_not_pass() -> None:
    # Every group lacks actual positives: TPR and precision are undefined everywhere.
    res = audit_predictions([0] * 80, [0] * 80, sensitive_features=["a", "b"] * 40,
                            criteria=["equal_opportunity", "predictive_parity"])
    assert {c.verdict for c in res.criteria} == {"undefined"}
    assert res.verdict == "insufficient" and not res.passed


def test_one_defined_group_never_gives_a_ratio_of_one() -> None:
    # Both groups are large enough, but only "a" has actual positives: no TPR ratio exists.
    yt = [1, 0] * 20 + [0] * 40
    res = audit_predictions(yt, yt, sensitive_features=["a"] * 40 + ["b"] * 40,
                            criteria=["equal_opportunity"], min_group_size=30)
    eo = res.view().criterion("equal_opportunity")
    assert eo.verdict == "undefined" and np.isnan(eo.ratio)
    assert res.verdict == "insufficient"


def test_history_report_and_gate_say_insufficient(tmp_path: Path) -> None:
    df = pd.read_csv(_small(tmp_path / "p.csv"))
    res = audit_predictions(df["label"], df["pred"], sensitive_features={"gender": df["gender"]})
    assert res.verdict == "insufficient"
    store = HistoryStore(tmp_path / "h.db")
    store.record(res, model="m", when="2025-01-01")
    from rich.console import Console

    console = Console(record=True, width=120)
    print_audit_list(store.audits(), tmp_path / "h.db", console=console)
    assert "insufficient" in console.export_text() and "pass" not in console.export_text()
    for on_undecided, passed in (("fail", False), ("pass", True)):
        policy = parse_policy(f'on_undecided = "{on_undecided}"\n[criteria.statistical_parity]\n')
        result = gate(policy, store, model="m")
        assert result.verdict == "insufficient" and result.passed is passed
        console = Console(record=True, width=120)
        print_gate(result, "m", console=console)
        text = console.export_text()
        assert "gate: INSUFFICIENT" in text and "gate: PASS" not in text
    doc = build_report({"m": res}, policy={"criteria": ["statistical_parity"], "views": "all"})
    assert doc["summary"]["verdict"] == "insufficient"
    html = write_report(doc, tmp_path / "report")["html"].read_text()
    assert "cannot be judged against the policy" in html and "meets the policy" not in html


def _error_skewed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M's decisions are wrong twice as often as F's; F is selected less often."""
    rng = np.random.default_rng(0)
    n = 4000
    g = np.repeat(["F", "M"], n // 2)
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < np.where(g == "M", 0.2, 0.1)
    pred = np.where(wrong, 1 - y, y)
    return y, pred, g


@pytest.mark.parametrize("reference", ["min_max", "overall", "largest", "F"])
def test_worst_group_is_worse_off_for_every_metric(reference: str) -> None:
    y, pred, g = _error_skewed()
    view = audit_predictions(y, pred, sensitive_features={"g": g},
                             reference_group=reference).view()
    values = {gr.label: gr.metrics for gr in view.groups}
    for metric, d in view.disparities.items():
        rates = {lab: v[metric] for lab, v in values.items()}
        if d.worst_group is None or len(set(rates.values())) == 1:
            continue
        worst = rates[d.worst_group]
        if metric in LOWER_IS_BETTER:
            assert worst == max(rates.values()), (metric, reference, rates, d.worst_group)
        else:
            assert worst == min(rates.values()), (metric, reference, rates, d.worst_group)
    er = view.criterion("error_rate_parity")
    assert er.worst_group == "M"


def test_error_rate_reading_and_plot_name_the_group_worse_off(tmp_path: Path) -> None:
    y, pred, g = _error_skewed()
    res = audit_predictions(y, pred, sensitive_features={"g": g})
    er = res.view().criterion("error_rate_parity")
    m_err = res.view().group("M").metrics["error_rate"]
    f_err = res.view().group("F").metrics["error_rate"]
    assert er.worst_group == "M" and er.reference == "F" and er.verdict == "fail"
    assert f"M has decisions that are wrong {m_err / f_err:.1f}\u00d7 as often as F" in er.reading
    assert er.ratio == pytest.approx(f_err / m_err)
    d = res.view().disparities["error_rate"]
    assert d.by_group["M"]["ratio"] == pytest.approx(m_err / f_err)
    assert "M" in er.failing_groups and "F" not in er.failing_groups
    html = write_report(build_report({"m": res}, policy={"views": "all", "criteria": []}),
                        tmp_path / "r")["html"].read_text()
    plot = html[html.index("error rate ratio vs F"):]
    plot = plot[:plot.index("</svg>")]
    assert re.search(r'fill="#dc2626"><title>M: ', plot)  # red: the group worse off
    assert re.search(r'fill="#6b7280"><title>F: ', plot)  # grey: the reference


def test_equalized_odds_names_the_worse_component() -> None:
    y, pred, g = _error_skewed()
    eo = audit_predictions(y, pred, sensitive_features={"g": g}).view().criterion(
        "equalized_odds")
    assert eo.worst_group == "M"
    assert "the worse of the TPR and FPR ratios" in eo.reading
    assert eo.reading.startswith("M ")


def test_direction_of_harm_on_real_bios(biosbias_dir: Path) -> None:
    """A keyword screen on real biographies: M's decisions are wrong more often (surgeon is
    the positive class and most men are surgeons), F is selected less often."""
    df = pd.read_json(biosbias_dir / "test.jsonl", lines=True)
    y = (df["profession"] == "surgeon").astype(int).to_numpy()
    pred = df["text"].str.contains(r"\bsurg", case=False, regex=True).astype(int).to_numpy()
    view = audit_predictions(y, pred, sensitive_features={"gender": df["gender"]}).view()
    err = {gr.label: gr.metrics["error_rate"] for gr in view.groups}
    sel = {gr.label: gr.metrics["selection_rate"] for gr in view.groups}
    worse_err = max(err, key=err.__getitem__)
    er = view.criterion("error_rate_parity")
    assert er.worst_group == worse_err and er.reference != worse_err
    assert f"{worse_err} has decisions that are wrong" in er.reading
    assert view.criterion("statistical_parity").worst_group == min(sel, key=sel.__getitem__)
    for metric, d in view.disparities.items():
        rates = {gr.label: gr.metrics[metric] for gr in view.groups}
        pick = max if metric in LOWER_IS_BETTER else min
        assert d.worst_group == pick(rates, key=rates.__getitem__), metric
