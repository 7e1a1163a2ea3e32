"""benchmarks/mitigation.py: which same-seed baseline each row's cut and accuracy change use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
mitigation = pytest.importorskip("mitigation")


def _row(accuracy: float, rms: float) -> dict[str, float]:
    return {"accuracy": accuracy, "rms": rms, "eo_ratio": 1.0, "flip": 0.0, "train_s": 1.0}


def test_a_longer_fine_tune_is_measured_against_the_baseline_trained_as_long() -> None:
    rows = {
        "fine-tune: baseline": _row(0.95, 0.20),
        "fine-tune: baseline, 2 epochs": _row(0.96, 0.10),
        "fine-tune: counterfactual augmentation": _row(0.94, 0.05),
        "fine-tune: counterfactual augmentation, 2 epochs": _row(0.95, 0.05),
        "head: baseline": _row(0.90, 0.30),
        "head: reweighing": _row(0.89, 0.15),
    }
    agg = {a["method"]: a["per_seed"] for a in mitigation.aggregate({0: rows})}
    # Against the 2-epoch baseline: half its gap removed for 1 point, not 75% for nothing.
    assert agg["fine-tune: counterfactual augmentation, 2 epochs"]["cut"] == pytest.approx([50.0])
    assert agg["fine-tune: counterfactual augmentation, 2 epochs"]["dacc"] == pytest.approx([-1.0])
    # The 2-epoch baseline itself and the default rows: against the default baseline.
    assert agg["fine-tune: baseline, 2 epochs"]["cut"] == pytest.approx([50.0])
    assert agg["fine-tune: counterfactual augmentation"]["cut"] == pytest.approx([75.0])
    assert agg["head: reweighing"]["cut"] == pytest.approx([50.0])


def test_without_the_longer_baseline_the_longer_row_has_no_cut() -> None:
    rows = {"fine-tune: baseline": _row(0.95, 0.20),
            "fine-tune: counterfactual augmentation, 2 epochs": _row(0.95, 0.05)}
    agg = {a["method"]: a["per_seed"] for a in mitigation.aggregate({0: rows})}
    cut = agg["fine-tune: counterfactual augmentation, 2 epochs"]["cut"][0]
    assert cut != cut  # NaN: no like-for-like baseline, no figure
