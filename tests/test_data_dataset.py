"""Loading data sets from every supported source, and the messages for bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairslm import Dataset, DatasetSpec, InvalidDataError, load_dataset

FRAME = pd.DataFrame(
    {
        "text": ["she is a nurse", "he is a surgeon", "he is a nurse", "she operates"],
        "label": ["nurse", "surgeon", "nurse", "surgeon"],
        "gender": ["F", "M", "M", "F"],
        "w": [1.0, 2.0, 1.0, 0.5],
        "extra": [1, 2, 3, 4],
    }
)


def _write_all(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    FRAME.to_parquet(tmp_path / "d.parquet")
    FRAME.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    return [tmp_path / "d.csv", tmp_path / "d.parquet", tmp_path / "d.jsonl"]


def test_every_file_format_gives_the_same_dataset(tmp_path) -> None:
    paths = _write_all(tmp_path)
    sets = [load_dataset(p, weight="w", pos_label="surgeon") for p in paths]
    sets.append(load_dataset(FRAME, weight="w", pos_label="surgeon"))
    hashes = {d.content_hash for d in sets}
    assert len(hashes) == 1
    for d in sets:
        assert d.texts == FRAME["text"].tolist()
        assert d.labels.tolist() == FRAME["label"].tolist()
        assert d.classes == ("nurse", "surgeon")
        assert d.pos_label == "surgeon"
        assert d.weights.tolist() == [1.0, 2.0, 1.0, 0.5]
        assert d.sensitive["gender"].tolist() == ["F", "M", "M", "F"]
        assert len(d) == 4


def test_files_are_read_with_only_the_needed_columns(tmp_path) -> None:
    for p in _write_all(tmp_path):
        ds = load_dataset(p)
        assert "extra" not in ds.frame.columns and "w" not in ds.frame.columns


def test_dataframe_is_not_modified_and_hash_is_stable() -> None:
    before = FRAME.copy()
    a = load_dataset(FRAME)
    b = load_dataset(FRAME.copy())
    pd.testing.assert_frame_equal(FRAME, before)
    assert a.content_hash == b.content_hash
    changed = FRAME.copy()
    changed.loc[0, "text"] = "she is a doctor"
    assert load_dataset(changed).content_hash != a.content_hash
    with pytest.raises(ValueError):
        a.labels[0] = "x"


def test_int_labels_default_positive_class() -> None:
    df = FRAME.assign(label=[0, 1, 0, 1])
    ds = load_dataset(df)
    assert ds.pos_label == 1 and ds.classes == (0, 1)
    assert load_dataset(df, pos_label="0").pos_label == 0  # typed on a command line


def test_string_labels_without_pos_label_leave_it_open() -> None:
    assert load_dataset(FRAME).pos_label is None


def test_split_folder_and_split_method(tmp_path) -> None:
    FRAME.iloc[:2].to_json(tmp_path / "train.jsonl", orient="records", lines=True)
    FRAME.iloc[2:].to_json(tmp_path / "test.jsonl", orient="records", lines=True)
    FRAME.iloc[:2].to_json(tmp_path / "extra.txt", orient="records", lines=True)
    ds = load_dataset(tmp_path, sensitive=["gender"])
    assert ds.spec.split == "split" and set(ds.split_names) == {"train", "test"}
    assert ds.split("test").texts == FRAME["text"].iloc[2:].tolist()
    only = load_dataset(tmp_path, splits=["train"])
    assert only.split_names == ("train",)
    with pytest.raises(InvalidDataError, match=r"split 'dev' not found; splits are: test, train"):
        ds.split("dev")


def test_split_column_filter_and_no_rows_left() -> None:
    df = FRAME.assign(part=["a", "a", "b", "b"], gender=["F", "M", "F", "M"])
    ds = load_dataset(df, split="part", splits=["b"])
    assert ds.texts == ["he is a nurse", "she operates"]
    with pytest.raises(InvalidDataError, match=r"no rows left after keeping splits \['c'\]; "
                                               r"splits in DataFrame are: a, b"):
        load_dataset(df, split="part", splits=["c"])


def test_hf_dataset_saved_to_disk(tmp_path) -> None:
    datasets = pytest.importorskip("datasets")
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_pandas(FRAME.iloc[[0, 1]].reset_index(drop=True)),
            "test": datasets.Dataset.from_pandas(FRAME.iloc[[2, 3]].reset_index(drop=True)),
        }
    )
    dd.save_to_disk(str(tmp_path / "hf"))
    ds = load_dataset(tmp_path / "hf")
    assert sorted(ds.split_names) == ["test", "train"]
    assert ds.split("train").texts == FRAME["text"].iloc[:2].tolist()


def test_with_frame_keeps_spec() -> None:
    ds = load_dataset(FRAME, pos_label="surgeon")
    sub = ds.with_frame(pd.concat([ds.frame, ds.frame.iloc[[0]]]))
    assert len(sub) == 5 and sub.spec == ds.spec and sub.pos_label == "surgeon"
    assert isinstance(sub, Dataset)


def test_spec_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="colour"):
        DatasetSpec(colour="red")  # type: ignore[call-arg]


# -- bad input --------------------------------------------------------------------------------

def test_unknown_column_lists_columns(tmp_path) -> None:
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(InvalidDataError, match=r"column\(s\) 'sex' not found in .*d\.csv; "
                                               r"columns are: text, label, gender, w, extra"):
        load_dataset(path, sensitive="sex")
    with pytest.raises(InvalidDataError, match="'body' not found in the DataFrame"):
        load_dataset(FRAME, text="body")


def test_single_valued_sensitive_column() -> None:
    with pytest.raises(InvalidDataError, match=r"sensitive column 'gender' has a single value "
                                               r"'F' in all 2 rows"):
        load_dataset(FRAME.iloc[[0, 3]])


def test_empty_and_non_string_texts() -> None:
    with pytest.raises(InvalidDataError, match=r"text column 'text' has 1 empty text\(s\) "
                                               r"\(row\(s\) 2\)"):
        load_dataset(FRAME.assign(text=["a", "b", "  ", "c"]))
    with pytest.raises(InvalidDataError, match=r"must hold strings; found 5 \(int\) in row\(s\) 1"):
        load_dataset(FRAME.assign(text=["a", 5, "b", "c"]))
    with pytest.raises(InvalidDataError, match=r"has 1 missing value\(s\) \(row\(s\) 3\)"):
        load_dataset(FRAME.assign(text=["a", "b", "c", None]))


def test_unreadable_and_missing_files(tmp_path) -> None:
    with pytest.raises(InvalidDataError, match="does not exist"):
        load_dataset(tmp_path / "nope.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"this is not parquet")
    with pytest.raises(InvalidDataError, match=r"cannot read .*bad\.parquet as parquet"):
        load_dataset(bad)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(InvalidDataError, match="first line is not JSON"):
        load_dataset(bad)
    with pytest.raises(InvalidDataError, match=r"unsupported file type '\.xlsx'"):
        (tmp_path / "x.xlsx").write_text("x")
        load_dataset(tmp_path / "x.xlsx")


def test_no_rows(tmp_path) -> None:
    path = tmp_path / "empty.csv"
    FRAME.iloc[:0].to_csv(path, index=False)
    with pytest.raises(InvalidDataError, match="has no rows"):
        load_dataset(path)


def test_bad_pos_label_and_weights() -> None:
    with pytest.raises(InvalidDataError, match=r"pos_label 'doctor' is not among the labels "
                                               r"of column 'label': \['nurse', 'surgeon'\]"):
        load_dataset(FRAME, pos_label="doctor")
    with pytest.raises(InvalidDataError, match="finite non-negative"):
        load_dataset(FRAME.assign(w=[1.0, -1.0, 1.0, 1.0]), weight="w")


def test_jsonl_with_varying_types_falls_back(tmp_path) -> None:
    path = tmp_path / "v.jsonl"
    rows = [{"text": "a b", "label": 1, "gender": "F"}, {"text": "c d", "label": 0.5, "gender": "M"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = load_dataset(path)
    assert np.allclose(ds.labels.astype(float), [1.0, 0.5])


def test_mapping_of_split_files_and_splits_without_column(tmp_path) -> None:
    FRAME.iloc[[0, 1]].to_csv(tmp_path / "a.csv", index=False)
    FRAME.iloc[[2, 3]].to_parquet(tmp_path / "b.parquet")
    ds = load_dataset({"train": tmp_path / "a.csv", "test": tmp_path / "b.parquet"},
                      split="part")
    assert ds.spec.split == "part" and ds.split("test").texts == FRAME["text"].iloc[2:].tolist()
    with pytest.raises(InvalidDataError, match=r"split\(s\) \['dev'\] not found"):
        load_dataset({"train": tmp_path / "a.csv"}, splits=["dev"])
    with pytest.raises(InvalidDataError, match="splits= needs a split column"):
        load_dataset(FRAME, splits=["train"])
