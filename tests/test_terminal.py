"""Terminal tables: they fit 80 columns and write missing numbers as n/a, as the report does."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console

from fairslm import audit_predictions
from fairslm.reporting import format_number
from fairslm.reporting.terminal import print_audit_summary, print_trend


def _console() -> Console:
    return Console(width=80, record=True, force_terminal=False, color_system=None)


def _printed_in_80_columns(print_fn: Any, obj: Any) -> str:
    """What ``print_fn(obj, console)`` prints at 80 columns, checked to fit with nothing cut."""
    console = _console()
    print_fn(obj, console)
    text = console.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    return text


def test_audit_summary_fits_80_columns_without_cutting_names() -> None:
    rng = np.random.default_rng(0)
    n = 600
    res = audit_predictions(
        rng.integers(0, 2, n), rng.integers(0, 2, n),
        sensitive_features={"gender": rng.choice(["female", "male"], n),
                            "race": rng.choice(["Black", "White", "Hispanic"], n)},
        y_score=rng.random(n), n_bootstrap=50, seed=0,
        criteria=["statistical_parity", "equal_opportunity", "predictive_parity",
                  "equalized_odds", "error_rate_parity"],
    )
    text = _printed_in_80_columns(print_audit_summary, res)
    for name in ("statistical_parity", "equal_opportunity", "predictive_parity",
                 "equalized_odds", "error_rate_parity", "female, Hispanic"):
        assert name in text
    assert "sel = selection rate" in text


def test_missing_numbers_read_n_a_everywhere() -> None:
    assert format_number(float("nan")) == format_number(None) == format_number(float("inf")) == "n/a"
    point = {"audit_id": 1, "time": "2026-01-01T00:00", "view": "gender", "class": None,
             "ratio": float("nan"), "ci_low": None, "ci_high": None, "verdict": "undefined",
             "worst_group": None}
    console = _console()
    print_trend({"points": [point]}, model="m", criterion="statistical_parity", console=console)
    text = console.export_text()
    assert "n/a" in text and "nan" not in text


def test_run_summary_fits_80_columns_without_cutting_names() -> None:
    from fairslm.reporting import print_run_summary

    failing = {"criterion": "statistical_parity", "view": "gender & race & age_band",
               "ratio": 0.0, "worst_group": "female, Hispanic, 40_and_over"}
    run = {
        "steps": [{"name": "counterfactual", "status": "ran", "seconds": 39.0}],
        "models": {
            "baseline": {"verdict": "fail", "failing": [failing], "worst ratio": 0.0,
                         "worst view": "gender", "accuracy (labels)": 0.836,
                         "accuracy (true label)": 0.769, "evidence": "-"},
            "mitigated with a long name": {
                "verdict": "pass", "failing": [], "worst ratio": 0.8747, "worst view": "race",
                "accuracy (labels)": 0.715, "accuracy (true label)": float("nan"),
                "evidence": "thin on race: 0.875 (interval 0.69-1.00)"},
        },
        "verdict": "pass", "final_model": "mitigated with a long name",
        "report": {"html": "fairslm-demo/report.html"},
    }
    text = _printed_in_80_columns(print_run_summary, run)
    for piece in ("baseline: FAIL", "mitigated with a long name: PASS", "accuracy (true label): 0.769",
                  "accuracy (true label): n/a", "evidence: thin on race: 0.875 (interval 0.69-1.00)",
                  "failing: statistical_parity on gender & race & age_band: 0.000",
                  "40_and_over)"):
        assert piece in text
    assert "evidence: -" not in text
