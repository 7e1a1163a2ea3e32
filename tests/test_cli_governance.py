"""The governance commands end to end: policy, audit-predictions --history, history, due, gate."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from fairslm.cli import main

# Group F: 40 rows, group M: 40 rows; hand-set so that F is selected half as often as M.
# F: TP=8 FN=12 FP=2 TN=18 (selection 10/40) ; M: TP=16 FN=4 FP=4 TN=16 (selection 20/40)
ROWS = (
    [("F", 1, 1)] * 8 + [("F", 1, 0)] * 12 + [("F", 0, 1)] * 2 + [("F", 0, 0)] * 18
    + [("M", 1, 1)] * 16 + [("M", 1, 0)] * 4 + [("M", 0, 1)] * 4 + [("M", 0, 0)] * 16
)


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    pd.DataFrame(ROWS, columns=["gender", "label", "pred"]).to_csv("preds.csv", index=False)
    return tmp_path


def _run(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _record(capsys, *extra: str):
    return _run(capsys, "audit-predictions", "preds.csv", "--y-true", "label", "--y-pred", "pred",
                "--sensitive", "gender", "--history", "h.db", "--model", "scr", *extra)


def test_policy_init_and_check(cwd, capsys) -> None:
    code, out, _ = _run(capsys, "policy", "init")
    assert code == 0 and "wrote fairslm-policy.toml" in out
    code, _, err = _run(capsys, "policy", "init")
    assert code == 2 and "error: fairslm-policy.toml already exists; pass --force" in err
    code, out, _ = _run(capsys, "policy", "check", "fairslm-policy.toml")
    assert code == 0
    assert "equal_opportunity" in out and "pre-deployment, every 1 month" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("threshold = 1.2\n", "threshold must be in (0, 1]"),
        ("[criteria.fairness]\n", "unknown criterion 'fairness'"),
        ('[criteria.equal_opportunity]\nschedule = ["often"]\n', "schedule 'often' is not"),
        ("colour = 'red'\n", "unknown key 'colour'"),
    ],
)
def test_policy_check_rejects(cwd, capsys, text, message) -> None:
    (cwd / "bad.toml").write_text(text)
    code, _, err = _run(capsys, "policy", "check", "bad.toml")
    assert code == 2 and err.startswith("error: invalid policy bad.toml") and message in err
    assert "Traceback" not in err


def test_record_history_due_gate(cwd, capsys) -> None:
    _run(capsys, "policy", "init")
    code, out, _ = _record(capsys)
    assert code == 1  # statistical parity fails: 0.25 / 0.5
    assert "recorded audit #1 of scr in h.db" in out
    # back-date the audit so the schedule can be checked at known times
    con = sqlite3.connect("h.db")
    con.execute("UPDATE audits SET recorded_at = '2025-01-31T09:00:00.000000+00:00'")
    con.commit()
    con.close()

    code, out, _ = _run(capsys, "history", "--db", "h.db")
    assert code == 0 and "scr" in out and "statistical_parity" in out
    code, out, _ = _run(capsys, "history", "--db", "h.db", "-m", "scr", "-c",
                        "statistical_parity", "--plot", "trend.svg")
    assert code == 0 and "0.500" in out and "fail" in out
    assert (cwd / "trend.svg").read_text().lstrip().startswith("<?xml")

    code, out, _ = _run(capsys, "due", "--db", "h.db", "--data", "preds.csv",
                        "--now", "2025-02-28T08:59:59")
    assert code == 0 and "nothing due" in out
    code, out, _ = _run(capsys, "due", "--db", "h.db", "--data", "preds.csv",
                        "--now", "2025-02-28T09:00:00")
    assert code == 1 and "1 audit due" in out and "overdue since 2025-02-28" in out
    code, out, _ = _run(capsys, "due", "--db", "h.db", "--dataset-hash", "other",
                        "--now", "2025-02-01")
    assert code == 1 and "data changed since the audit of 2025-01-31" in out

    code, out, _ = _run(capsys, "gate", "--db", "h.db", "--model", "scr")
    assert code == 1 and "gate: FAIL" in out
    assert "statistical_parity (gender): ratio 0.500 is below the policy's 0.8; failing " \
           "groups: F" in out
    (cwd / "lenient.toml").write_text("threshold = 0.5\n[criteria.statistical_parity]\n")
    code, out, _ = _run(capsys, "gate", "--policy", "lenient.toml", "--db", "h.db", "-m", "scr")
    assert code == 0 and "gate: PASS" in out


def test_errors_exit_2_with_message(cwd, capsys) -> None:
    _run(capsys, "policy", "init")
    (cwd / "junk.db").write_text("not a database at all\n" * 20)
    for argv, message in [
        (("gate", "--db", "junk.db", "-m", "scr"), "junk.db is not a fairslm history database"),
        (("history", "--db", "none.db"), "no audit history at none.db"),
        (("due", "--db", "none.db", "-m", "scr"), "no audit history at none.db"),
        (("history", "--db", "h.db", "-c", "statistical_parity"), "--criterion needs --model"),
        (("due", "--dataset-hash", "x", "--data", "preds.csv", "--db", "junk.db"),
         "not both"),
        (("gate", "--policy", "missing.toml", "-m", "scr"), "policy file missing.toml does not exist"),
    ]:
        code, _, err = _run(capsys, *argv)
        assert code == 2, argv
        assert err.startswith("error: ") and message in err, (argv, err)
    _record(capsys)
    code, _, err = _run(capsys, "gate", "--db", "h.db", "-m", "nobody")
    assert code == 2 and "no audits recorded for model 'nobody'" in err
    code, _, err = _run(capsys, "history", "--db", "h.db", "-m", "nobody")
    assert code == 2 and "no audits recorded for model 'nobody'" in err


def test_history_needs_a_model_name(cwd, capsys) -> None:
    code, _, err = _run(capsys, "audit-predictions", "preds.csv", "--y-true", "label",
                        "--y-pred", "pred", "--sensitive", "gender", "--history", "h.db")
    assert code == 2 and "needs a model name; pass --model NAME" in err
