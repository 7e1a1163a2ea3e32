"""The one table reader: CSV, TSV, Parquet, JSON Lines files and Hugging Face datasets on disk.

Every command reads its tables here, so one file gives the same labels and groups in an audit,
a debiasing run, training and a comparison (types are inferred the same way everywhere). When
columns are named, only those are read (Parquet and JSON Lines through pyarrow projection, CSV
through ``usecols``), so a wide file is never held in memory twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairslm._optional import import_optional
from fairslm._userfiles import check_input_file, table_read_error, utf8_problem
from fairslm.exceptions import InvalidDataError

__all__ = ["DATA_SUFFIXES", "read_columns", "read_source", "read_table"]

DATA_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_HF_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")


class _MissingColumns(InvalidDataError):
    """Named columns are not in the source; carries them so a caller can name its options."""

    def __init__(self, path: object, found: Sequence[object], missing: list[str], hint: str) -> None:
        self.path, self.found, self.missing = path, list(found), missing
        super().__init__(
            f"column(s) {', '.join(repr(m) for m in missing)} not found in {path}; "
            f"columns are: {', '.join(map(str, found))}. {hint}"
        )


def _missing_columns(path: object, found: Sequence[object], wanted: Sequence[str]) -> None:
    missing = [c for c in wanted if c not in found]
    if missing:
        raise _MissingColumns(path, found, missing,
                              "Pass the right names (text=, label=, sensitive=, ...)")


def _read_parquet(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    columns = schema.names if columns is None else columns
    _missing_columns(path, schema.names, columns)
    return pq.read_table(path, columns=list(columns)).to_pandas()


def _read_csv(path: Path, columns: Sequence[str] | None, sep: str) -> pd.DataFrame:
    # pandas decodes only the columns it keeps: a file that is not UTF-8 elsewhere would be
    # read without a word. One streamed decoding pass (C speed) finds it first.
    problem = utf8_problem(path)
    if problem is not None:
        raise InvalidDataError(problem)
    header = pd.read_csv(path, nrows=0, sep=sep)
    columns = list(header.columns) if columns is None else columns
    _missing_columns(path, list(header.columns), columns)
    return pd.read_csv(path, usecols=list(columns), sep=sep)


def _json_type(value: object) -> Any:
    import pyarrow as pa

    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    return None


def _read_jsonl(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.json as pj

    with path.open("r", encoding="utf-8") as fh:
        first = ""
        for line in fh:
            if line.strip():
                first = line
                break
    if not first:
        raise InvalidDataError(f"{path} has no rows; expected one JSON object a line")
    try:
        row = json.loads(first)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(
            f"cannot read {path}: the first line is not JSON ({exc}); expected JSON Lines, "
            "one object a line"
        ) from exc
    if not isinstance(row, dict):
        raise InvalidDataError(f"cannot read {path}: expected one JSON object a line")
    columns = list(row) if columns is None else columns
    _missing_columns(path, list(row), columns)
    types = [_json_type(row[c]) for c in columns]
    if all(t is not None for t in types):
        # Project while parsing: fields outside the schema are skipped, never materialised.
        schema = pa.schema([(c, t) for c, t in zip(columns, types, strict=True)])
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        try:
            return pj.read_json(path, parse_options=opts).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # types vary between rows (e.g. int and null labels): parse with pandas
    parts = []
    try:
        with pd.read_json(path, lines=True, chunksize=50_000, dtype=False) as reader:
            for chunk in reader:
                _missing_columns(path, list(chunk.columns), columns)
                parts.append(chunk[list(columns)])
    except ValueError as exc:
        raise InvalidDataError(f"cannot read {path} as JSON Lines: {exc}") from exc
    return pd.concat(parts, ignore_index=True)


def _read_file(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    kind = DATA_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InvalidDataError(
            f"unsupported file type {path.suffix!r} for {path}; use .csv, .tsv, .parquet, "
            ".jsonl, or a folder saved with datasets' save_to_disk"
        )
    try:
        if kind == "parquet":
            return _read_parquet(path, columns)
        if kind in ("csv", "tsv"):
            return _read_csv(path, columns, "\t" if kind == "tsv" else ",")
        return _read_jsonl(path, columns)
    except InvalidDataError:
        raise
    except Exception as exc:  # pandas and pyarrow raise their own classes for corrupt files
        raise table_read_error(path, kind, exc) from exc


def _read_hf(path: Path, columns: Sequence[str], split_col: str) -> pd.DataFrame:
    datasets = import_optional("datasets", purpose="reading Hugging Face datasets from disk")
    try:
        obj = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise InvalidDataError(f"cannot load the Hugging Face dataset at {path}: {exc}") from exc
    parts = obj.items() if hasattr(obj, "keys") else [(None, obj)]
    frames = []
    for name, ds in parts:
        _missing_columns(path if name is None else f"{path} (split {name})", ds.column_names, columns)
        df = ds.select_columns(list(columns)).to_pandas()
        if name is not None:
            df[split_col] = name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _is_hf_dir(path: Path) -> bool:
    return any((path / m).exists() for m in _HF_MARKERS)


def _split_files(path: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for p in sorted(path.iterdir()):
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and p.stem not in found:
            found[p.stem] = p
    if not found:
        raise InvalidDataError(
            f"folder {path} holds no data files (.csv, .tsv, .parquet, .jsonl) and is not a "
            "dataset saved with datasets' save_to_disk"
        )
    return found


def read_source(
    source: Any,
    columns: Sequence[str],
    *,
    split_col: str | None,
    splits: Sequence[str] | None,
) -> tuple[pd.DataFrame, str | None, str]:
    """Read ``columns`` from ``source``.

    Returns the frame, the name of the column holding split names (``None`` when there is none)
    and a short description of the source for messages and provenance.
    """
    columns = list(columns)
    if isinstance(source, pd.DataFrame):
        _missing_columns("the DataFrame", list(source.columns), columns)
        return source, split_col, "DataFrame"
    if isinstance(source, Mapping):
        files = {str(k): Path(v) for k, v in source.items()}
    else:
        path = Path(source)
        if not path.exists():
            raise InvalidDataError(f"data file {path} does not exist; check the path")
        if path.is_dir() and _is_hf_dir(path):
            col = split_col or "split"
            df = _read_hf(path, [c for c in columns if c != col], col)
            return df, (col if col in df.columns else split_col), str(path)
        if path.is_dir():
            files = _split_files(path)
        else:
            check_input_file(path)
            return _read_file(path, columns), split_col, str(path)
    col = split_col or "split"
    if splits is not None:
        unknown = [s for s in splits if s not in files]
        if unknown:
            raise InvalidDataError(
                f"split(s) {unknown} not found in {source}; splits are: {', '.join(files)}"
            )
        files = {k: files[k] for k in splits}
    frames = []
    for name, p in files.items():
        if not p.exists():
            raise InvalidDataError(f"data file {p} (split {name!r}) does not exist")
        df = _read_file(p, [c for c in columns if c != col])
        df[col] = name
        frames.append(df)
    return pd.concat(frames, ignore_index=True), col, str(source)


def read_table(
    source: Any,
    columns: Sequence[str] | None = None,
    *,
    options: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a table: a file (CSV, TSV, Parquet, JSON Lines) or a DataFrame; all columns, or only
    ``columns``.

    A DataFrame is checked and returned as is (never copied or modified). Column types are
    inferred from the file (CSV ``0``/``1`` labels are integers), the same for every command.

    Parameters
    ----------
    source : path or DataFrame
    columns : sequence of str, optional
        Read only these columns (an error names any that are missing); all when omitted.
    options : mapping, optional
        The option that named each column (``{"gender": "--sex"}``), for the message when it is
        missing.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
    >>> pd.DataFrame({"text": ["a", "b"], "label": [0, 1], "sex": ["F", "M"]}).to_csv(path, index=False)
    >>> read_table(path, ["label", "sex"]).to_dict("list")
    {'label': [0, 1], 'sex': ['F', 'M']}
    >>> read_table(pd.DataFrame({"a": [1], "b": [2]}), ["b"]).columns.tolist()
    ['a', 'b']
    """
    columns = None if columns is None else list(dict.fromkeys(columns))
    try:
        if isinstance(source, pd.DataFrame):
            _missing_columns("the DataFrame", list(source.columns), columns or [])
            return source
        path = check_input_file(source)
        frame = _read_file(path, columns)
        if len(frame) == 0:
            raise InvalidDataError(f"data file {path} has no rows (only a header); nothing to read")
        return frame
    except _MissingColumns as exc:
        if not options:
            raise
        named = "; ".join(f"{options.get(m, m)} names {m!r}" for m in exc.missing)
        raise _MissingColumns(exc.path, exc.found, exc.missing,
                              f"({named}.) Pass the names of existing columns") from None


def read_columns(
    source: Any, columns: Sequence[str], *, options: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read only ``columns`` of one table; :func:`read_table` with the columns named."""
    return read_table(source, columns, options=options)
