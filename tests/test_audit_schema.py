"""audit.json follows the packaged JSON Schema and records its provenance."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from fairslm import AuditResult, __version__, audit_file, audit_predictions
from fairslm.audit import audit_json_schema


def _validate(res: AuditResult) -> dict:
    data = json.loads(res.to_json())
    jsonschema.Draft202012Validator(audit_json_schema()).validate(data)
    return data


@pytest.fixture(scope="module")
def rich_result() -> AuditResult:
    rng = np.random.default_rng(0)
    n = 1200
    sf = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "race": rng.choice(["a", "b", "c"], n)})
    yt = rng.integers(0, 2, n)
    yp = np.where(rng.random(n) < 0.8, yt, 1 - yt)
    return audit_predictions(yt, yp, sensitive_features=sf, y_score=rng.random(n),
                             sample_weight=rng.random(n), n_bootstrap=100, seed=3,
                             min_group_size=150)


def test_binary_result_with_everything_validates(rich_result: AuditResult) -> None:
    data = _validate(rich_result)
    assert data["schema_version"] == "1.2" and data["verdict"] == rich_result.verdict
    prov = data["provenance"]
    assert prov["fairslm_version"] == __version__ and prov["seed"] == 3
    assert prov["engine"] == "numpy" and len(prov["table_sha256"]) == 64
    assert data["options"]["n_bootstrap"] == 100 and data["options"]["threshold"] == 0.8


def test_multiclass_and_file_results_validate(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    yt = rng.integers(0, 3, 300)
    res = audit_predictions(yt, rng.integers(0, 3, 300), sensitive_features=rng.choice(["a", "b"], 300))
    _validate(res)
    path = tmp_path / "p.csv"
    pd.DataFrame({"y": yt % 2, "p": (yt + 1) % 2, "g": rng.choice(["a", "b"], 300)}).to_csv(
        path, index=False
    )
    data = _validate(audit_file(path, y_true="y", y_pred="p", sensitive=["g"]))
    assert data["provenance"]["engine"] == "duckdb"
    assert data["provenance"]["source"] == {"file": "p.csv", "bytes": path.stat().st_size,
                                            "format": "csv"}


def test_schema_rejects_a_renamed_field(rich_result: AuditResult) -> None:
    data = json.loads(rich_result.to_json())
    data["views"][0]["groups"][0]["n"] = data["views"][0]["groups"][0].pop("count")
    with pytest.raises(jsonschema.ValidationError, match="'count' is a required property"):
        jsonschema.validate(data, audit_json_schema())


def test_round_trip_keeps_intervals_and_tests(rich_result: AuditResult, tmp_path: Path) -> None:
    path = rich_result.to_json(tmp_path / "a.json") and tmp_path / "a.json"
    again = AuditResult.from_json(path)
    assert again.to_dict() == rich_result.to_dict()
    frame = again.to_frame("disparities")
    assert {"ratio_interval_low", "ratio_interval_high", "p_value_holm", "test"} <= set(frame)
    crit = again.view("sex").criterion("statistical_parity")
    assert crit.ratio_interval == rich_result.view("sex").criterion("statistical_parity").ratio_interval


def test_the_json_written_is_the_json_safe_form(rich_result: AuditResult) -> None:
    """to_json writes straight from the objects; it must say exactly what to_dict says."""
    from fairslm._artifact import json_text

    fast, slow = rich_result.to_json(), json.dumps(rich_result.to_dict(), indent=2)
    assert json.dumps(json.loads(fast)) == json.dumps(json.loads(slow))  # values and key order
    assert "NaN" not in fast and "Infinity" not in fast
    # What orjson does not take goes through json_safe and json, with the same result.
    data = {1: (np.float32(0.5), float("nan")), "x": np.int64(3), (1, 2): "t", "n": 2**70,
            "é": float("-inf")}
    assert json.loads(json_text(data)) == {"1": [0.5, None], "x": 3, "(1, 2)": "t", "n": 2**70,
                                           "é": None}
    assert '"é"' in json_text({"é": [np.float64("nan"), np.array([1.0, np.nan])]})
    assert json.loads(json_text({"a": np.array([1.0, np.nan])})) == {"a": [1.0, None]}
