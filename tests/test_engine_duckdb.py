"""The DuckDB file engine gives the numpy engine's table, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairslm import InvalidDataError
from fairslm.engines import count_table_from_arrays, count_table_from_file


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
            "gender": rng.choice(["F", "M", "X"], n),
            "race": rng.choice(["a", "b"], n),
            # dyadic weights: every sum is exact, whatever the summation order
            "w": rng.integers(1, 9, n) / 4.0,
            "score": (rng.integers(0, 1000, n) + 0.5) / 1000,
        }
    )


def _write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path)
    elif path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_json(path, orient="records", lines=True)
    return path


def _assert_same(a, b) -> None:
    assert a.features == b.features
    assert a.levels == b.levels
    assert a.classes == b.classes
    assert a.weighted == b.weighted
    np.testing.assert_array_equal(a.keys, b.keys)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.weight_sums, b.weight_sums)
    np.testing.assert_array_equal(a.weight_sq_sums, b.weight_sq_sums)
    for name in ("score_counts", "score_weight_sums"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y)
    if a.score_sums is not None:
        np.testing.assert_allclose(a.score_sums, b.score_sums, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
@pytest.mark.parametrize("weighted", [False, True])
def test_file_table_equals_numpy_table(tmp_path: Path, suffix: str, weighted: bool) -> None:
    df = _frame()
    path = _write(df, tmp_path / f"preds{suffix}")
    from_file = count_table_from_file(
        path, y_true="label", y_pred="pred", sensitive=["gender", "race"],
        weight="w" if weighted else None, y_score="score",
    )
    from_arrays = count_table_from_arrays(
        df["label"], df["pred"], df[["gender", "race"]],
        sample_weight=df["w"] if weighted else None, y_score=df["score"],
    )
    _assert_same(from_file, from_arrays)


def test_string_labels_and_missing_group(tmp_path: Path) -> None:
    df = _frame(300, 1)
    df["label"] = np.where(df["label"] == 1, "surgeon", "nurse")
    df["pred"] = np.where(df["pred"] == 1, "surgeon", "nurse")
    df.loc[::7, "gender"] = None
    path = _write(df, tmp_path / "p.parquet")
    a = count_table_from_file(path, y_true="label", y_pred="pred", sensitive=["gender"],
                              missing="group")
    b = count_table_from_arrays(df["label"], df["pred"], df[["gender"]], missing="group")
    _assert_same(a, b)
    assert "(missing)" in a.group_labels


def test_memory_limit_is_applied(tmp_path: Path) -> None:
    path = _write(_frame(50), tmp_path / "p.parquet")
    t = count_table_from_file(path, y_true="label", y_pred="pred", sensitive=["gender"],
                              memory_limit="64MB", threads=1)
    assert t.n_rows == 50
    with pytest.raises(InvalidDataError, match="memory_limit='lots'.*'2GB'"):
        count_table_from_file(path, y_true="label", y_pred="pred", sensitive=["gender"],
                              memory_limit="lots")


# -- bad input --------------------------------------------------------------------------


def _err(path: Path, match: str, **kw) -> None:
    args = {"y_true": "label", "y_pred": "pred", "sensitive": ["gender"], **kw}
    with pytest.raises(InvalidDataError, match=match):
        count_table_from_file(path, **args)


def test_misspelt_column_lists_columns_and_suggests(tmp_path: Path) -> None:
    path = _write(_frame(20), tmp_path / "p.csv")
    _err(path, r"column 'gendr' not found in p.csv; columns are: label, pred, gender, race, "
               r"w, score. Did you mean 'gender'\?", sensitive=["gendr"])
    _err(path, r"column 'Label' not found.*Did you mean 'label'\?", y_true="Label")


def test_missing_and_empty_and_unsupported_files(tmp_path: Path) -> None:
    _err(tmp_path / "nope.parquet", "predictions file .*nope.parquet does not exist")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _err(empty, r"empty.csv is empty \(0 bytes\)")
    header = tmp_path / "header.csv"
    header.write_text("label,pred,gender\n")
    _err(header, "header.csv has no rows")
    other = tmp_path / "p.xlsx"
    other.write_text("x")
    _err(other, r"unsupported file type '.xlsx'.*use .parquet, .csv")


def test_corrupt_parquet_and_csv(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    _err(bad, r"cannot read bad.parquet as Parquet: .*Is the file complete and really Parquet")
    good = _write(_frame(200), tmp_path / "cut.parquet")
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    _err(good, r"cannot read cut.parquet as Parquet")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('label,pred,gender\n1,0,F\n0,1\n"unterminated,1,M\n')
    _err(ragged, r"cannot (read|aggregate) ragged.csv")


def test_nan_labels_missing_sensitive_and_bad_weights(tmp_path: Path) -> None:
    df = _frame(40).astype({"label": float})
    df.loc[[3, 5], "label"] = np.nan
    _err(_write(df, tmp_path / "nan.parquet"),
         r"column 'label' of nan.parquet has 2 missing \(NULL/NaN\) value\(s\) out of 40 rows")
    df = _frame(40)
    df.loc[[1, 2, 3], "gender"] = None
    _err(_write(df, tmp_path / "miss.parquet"),
         r"sensitive feature 'gender' has 3 missing value\(s\) out of 40 rows in miss.parquet.*"
         r"--missing group")
    df = _frame(40)
    df.loc[[0, 9], "w"] = -1.0
    _err(_write(df, tmp_path / "neg.parquet"),
         r"weight column of neg.parquet has 2 negative value\(s\) \(smallest -1\)", weight="w")
    df = _frame(40)
    df.loc[4, "w"] = np.nan
    _err(_write(df, tmp_path / "wnan.parquet"),
         r"weight column of wnan.parquet has 1 missing \(NULL/NaN\)", weight="w")
    df = _frame(40)
    df["w"] = "heavy"
    _err(_write(df, tmp_path / "wstr.csv"), "w must be numeric", weight="w")
    df = _frame(40)
    df.loc[0, "score"] = 1.5
    _err(_write(df, tmp_path / "sc.parquet"),
         r"scores in sc.parquet must be probabilities in \[0, 1\]; found values from .* to 1.5",
         y_score="score")
