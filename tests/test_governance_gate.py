"""The gate: the latest audit against the policy's thresholds, with failing groups named."""

from __future__ import annotations

import pytest

from fairslm import InvalidDataError, audit_predictions
from fairslm.governance import HistoryStore, gate, parse_policy

# Group A: TP=2 FN=1 FP=1 TN=2 ; group B: TP=1 FN=1 FP=0 TN=2
# selection A 1/2, B 1/4 -> 0.5 ; TPR A 2/3, B 1/2 -> 0.75 ; precision A 2/3, B 1 -> 2/3
Y_TRUE = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
GROUP = ["A"] * 6 + ["B"] * 4
BASE = "min_group_size = 1\n"


def _store(tmp_path, **kw):
    store = HistoryStore(tmp_path / "h.db")
    kw.setdefault("min_group_size", 1)
    res = audit_predictions(Y_TRUE, Y_PRED, sensitive_features={"g": GROUP}, **kw)
    store.record(res, model="m", when="2025-01-01")
    return store


def _checks(result):
    return [(c.criterion, c.verdict, c.blocks, c.failing_groups) for c in result.checks]


def test_failing_criteria_and_groups_are_named(tmp_path) -> None:
    result = gate(parse_policy(BASE), _store(tmp_path), model="m")
    assert not result.passed
    assert _checks(result) == [
        ("statistical_parity", "fail", True, ("B",)),
        ("equal_opportunity", "fail", True, ("B",)),
        ("predictive_parity", "fail", True, ("A",)),
    ]
    sp = result.checks[0]
    assert sp.ratio == pytest.approx(0.5) and sp.view == "g"
    assert sp.reading == ("ratio 0.500 is below the policy's 0.8; failing groups: B "
                          "(reference A)")
    assert (result.audit_id, result.problems) == (1, ())


def test_policy_thresholds_decide_not_the_audits(tmp_path) -> None:
    store = _store(tmp_path)  # audited at 0.8
    policy = parse_policy(BASE + "[criteria.equal_opportunity]\nthreshold = 0.75\n"
                                 "[criteria.predictive_parity]\nthreshold = 0.6\n")
    result = gate(policy, store, model="m")
    assert result.passed
    assert [c.verdict for c in result.checks] == ["pass", "pass"]
    assert result.checks[0].reading == "ratio 0.750 reaches the policy's 0.75"
    strict = gate(parse_policy(BASE + "threshold = 0.5\n[criteria.statistical_parity]\n"),
                  store, model="m")
    assert strict.passed  # 0.5 >= 0.5


def test_stricter_policy_than_audit_fails(tmp_path) -> None:
    store = _store(tmp_path, threshold=0.5)
    result = gate(parse_policy(BASE + "[criteria.equal_opportunity]\nthreshold = 0.9\n"),
                  store, model="m")
    assert _checks(result) == [("equal_opportunity", "fail", True, ("B",))]


def test_criterion_not_measured_blocks(tmp_path) -> None:
    store = _store(tmp_path, criteria=["statistical_parity"])
    result = gate(parse_policy(BASE + "threshold = 0.5\n[criteria.statistical_parity]\n"
                                      "[criteria.equal_opportunity]\n"), store, model="m")
    assert _checks(result) == [("statistical_parity", "pass", False, ()),
                               ("equal_opportunity", "missing", True, ())]
    assert result.checks[1].reading == (
        "not measured by audit #1; audit with the policy's criteria"
    )


@pytest.mark.parametrize(("on_undecided", "passed"), [("fail", False), ("pass", True)])
def test_undecided_criteria_follow_the_policy(tmp_path, on_undecided, passed) -> None:
    store = _store(tmp_path, min_group_size=5)  # B has 4 rows: too few to judge
    policy = parse_policy(f'on_undecided = "{on_undecided}"\nmin_group_size = 5\n'
                          "[criteria.statistical_parity]\n")
    result = gate(policy, store, model="m")
    assert [c.verdict for c in result.checks] == ["insufficient"]
    assert result.passed is passed


def test_audit_with_smaller_groups_than_policy_is_a_problem(tmp_path) -> None:
    store = _store(tmp_path)
    result = gate(parse_policy("threshold = 0.5\n[criteria.statistical_parity]\n"), store,
                  model="m")
    assert result.checks[0].verdict == "pass"
    assert not result.passed
    assert result.problems == (
        "audit #1 used min_group_size=1, below the policy's 30: small groups may have decided "
        "its verdicts; re-run the audit with the policy's settings",
    )


def test_every_view_is_checked(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    res = audit_predictions(Y_TRUE, Y_PRED, min_group_size=1,
                            sensitive_features={"g": GROUP, "h": ["x", "y"] * 5})
    store.record(res, model="m")
    result = gate(parse_policy(BASE + "[criteria.statistical_parity]\n"), store, model="m")
    assert [c.view for c in result.checks] == ["g & h", "g", "h"]


def test_model_without_audits(tmp_path) -> None:
    store = _store(tmp_path)
    with pytest.raises(InvalidDataError, match=r"no audits recorded for model 'new' .*models "
                                               r"with audits: m\)"):
        gate(parse_policy(BASE), store, model="new")
