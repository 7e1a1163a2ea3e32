"""Trend data for reports and its SVG plot."""

from __future__ import annotations

import dataclasses
import re

import pytest

from fairslm import audit_predictions
from fairslm.governance import HistoryStore, trend, trend_svg

pytest.importorskip("matplotlib")


def _audit(y_pred, interval=None):
    # The percentile method without replicates: an audit with no interval at all.
    res = audit_predictions([1, 1, 0, 0, 1, 1, 0, 0], y_pred, min_group_size=1,
                            sensitive_features=["a"] * 4 + ["b"] * 4, interval_method="bootstrap")
    if interval is None:
        return res
    view = res.views[0]
    crits = tuple(dataclasses.replace(c, ratio_interval=interval) for c in view.criteria)
    return dataclasses.replace(res, views=(dataclasses.replace(view, criteria=crits),))


@pytest.fixture
def store(tmp_path):
    store = HistoryStore(tmp_path / "h.db")
    # selection rates a 2/4, b 1/4 -> ratio 0.5; then equal (ratio 1.0)
    store.record(_audit([1, 1, 0, 0, 1, 0, 0, 0]), model="m", when="2025-01-01")
    store.record(_audit([1, 1, 0, 0, 1, 1, 0, 0], interval=(0.7, 1.0)), model="m",
                 when="2025-04-01")
    return store


def test_trend_points(store) -> None:
    data = trend(store, "m", "statistical_parity", svg=False)
    assert data["svg"] is None
    assert [(p["time"], p["ratio"], p["ci_low"], p["ci_high"], p["verdict"])
            for p in data["points"]] == [
        ("2025-01-01T00:00:00+00:00", 0.5, None, None, "fail"),
        ("2025-04-01T00:00:00+00:00", 1.0, 0.7, 1.0, "pass"),
    ]
    assert [p["audit_id"] for p in data["points"]] == [1, 2]
    assert data["points"][0]["threshold"] == 0.8


def test_trend_svg_is_self_contained_with_interval_bars(store) -> None:
    svg = trend(store, "m", "statistical_parity")["svg"]
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert 'id="ci-bars' in svg
    # nothing is fetched from elsewhere: no external links, images or font files
    assert not re.search(r'(xlink:)?href="(?!#)', svg)
    assert "<image" not in svg and "@font-face" not in svg
    again = trend(store, "m", "statistical_parity")["svg"]
    assert again == svg  # same data, same bytes


def test_no_interval_no_bars(store) -> None:
    data = trend(store, "m", "statistical_parity", svg=False)
    svg = trend_svg(data["points"][:1], title="x")
    assert 'id="ci-bars' not in svg
