"""Every command against every class of bad or unusual input: the matrix behind "What fairslm
guarantees" (docs/guarantees.md).

For each case the command runs in a fresh copy of a small workspace and the test asserts:

* the exit code is the one the class expects (2 for bad input; 0/1 for unusual but valid input;
  143 when the process is terminated) and never 3 (an internal error);
* no traceback is printed;
* on exit 2 the message starts with ``error:`` and names the problem (the file, the column...);
  no message shows a numpy repr (``np.float64(...)``) or the name of a temp file;
* every input file is byte-for-byte unchanged (the history database included);
* no stray output: after an error nothing new exists (no output, no temp file, no folder);
  after a success only the command's declared outputs are new.

Adding a command: append one :class:`Command` row to ``COMMANDS``. Write its valid invocation
with placeholders: ``{data}`` a CSV table (columns text, label, pred, score, weight, gender,
split), ``{model}`` a tiny classifier folder, ``{audit}`` an audit.json, ``{policy}`` a policy
TOML, ``{db}`` a history with one audit of model ``m``, ``{out}`` / ``{outdir}`` the output,
``{gguf}`` a tiny GGUF model file, ``{sensitive}`` / ``{label}`` column names, ``{weight}``
the weight column. Name in ``inputs`` which placeholders are inputs and of what kind
(``table``, ``json``, ``toml``, ``db``, ``model``, ``gguf``): every class of that kind then
runs against it. A config file that names other
inputs goes into ``files`` (a template rendered with the same placeholders). Nothing else
changes: the classes below apply by kind.

Adding a class of bad input: write one function ``(Command, slot) -> Case | None`` and list it
in ``CLASSES`` under the input kinds (or ``"output"``) it applies to.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from fairslm.cli import main  # noqa: E402

# -- the commands ----------------------------------------------------------------------------

BAD = frozenset({2})  # bad input: a message and exit code 2
OK = frozenset({0, 1})  # unusual but valid input: the command runs to its verdict


@dataclass(frozen=True)
class Command:
    """One row of the matrix: a valid invocation of a command, with placeholders.

    Parameters
    ----------
    name : str
        The row's name in test ids.
    argv : tuple of str
        A valid invocation (exit 0 or 1) with ``{placeholders}``.
    inputs : dict of str to str
        Placeholder -> kind of input (``table``, ``json``, ``toml``, ``db``, ``model``).
    output : str or None
        Placeholder of the main output (``out`` for a file, ``outdir`` for a folder).
    output_kind : {"file", "folder", "workdir"}
        ``workdir``: a folder the command fills step by step (a run, a training run).
    out_name : str
        File name ``{out}`` stands for (the suffix matters to some commands).
    files : dict of str to str
        Workspace files rendered from templates with the same placeholders (configs that
        name other inputs); they count as inputs.
    weight_args : tuple of str
        Extra arguments that make the command read the ``{weight}`` column.
    also_writes : tuple of str
        Other files a valid run writes (besides the main output).
    runs : bool
        False for commands too slow to run to the end in a unit test (only cases that stop
        before the work starts are checked).
    expect : dict
        Class name -> (exit codes, message patterns) where this command rightly differs from
        the class's default expectation (say why in a comment).
    folder_whole : bool
        The output folder is written as a whole (a temp folder beside it, then renamed), not
        file by file inside it.
    """

    name: str
    argv: tuple[str, ...]
    inputs: dict[str, str] = field(default_factory=dict)
    output: str | None = "out"
    output_kind: str = "file"
    out_name: str = "result.json"
    files: dict[str, str] = field(default_factory=dict)
    weight_args: tuple[str, ...] = ()
    also_writes: tuple[str, ...] = ()
    runs: bool = True
    expect: dict[str, tuple[frozenset[int], tuple[str, ...]]] = field(default_factory=dict)
    folder_whole: bool = False


_PIPELINE = """\
steps = ["data_audit", "baseline", "audit_baseline", "report"]
[data]
path = "{data}"
label = "{label}"
sensitive = ["{sensitive}"]
[baseline]
model = "{model}"
[audit]
n_bootstrap = 0
"""

_TRAIN = """\
model = "{model}"
max_steps = 2
batch_size = 16
max_length = 16
checkpoint_every = 0
[data]
train = "{data}"
validation = "{data}"
label = "{label}"
sensitive = ["{sensitive}"]
"""

COMMANDS: list[Command] = [
    Command("audit-predictions",
            ("audit-predictions", "{data}", "--y-true", "{label}", "--y-pred", "pred",
             "--sensitive", "{sensitive}", "-o", "{out}"),
            inputs={"data": "table"}, weight_args=("--weight", "{weight}")),
    Command("audit-predictions-spark",
            ("audit-predictions", "{data}", "--y-true", "{label}", "--y-pred", "pred",
             "--sensitive", "{sensitive}", "--engine", "spark", "--spark-master", "local[2]",
             "-o", "{out}"),
            inputs={"data": "table"}, weight_args=("--weight", "{weight}")),
    Command("audit-predictions-history",
            ("audit-predictions", "{data}", "--y-true", "{label}", "--y-pred", "pred",
             "--sensitive", "{sensitive}", "-o", "{out}", "--history", "{db}", "--model", "m"),
            inputs={"data": "table"}, also_writes=("{db}",)),
    Command("data-audit",
            ("data-audit", "{data}", "--label", "{label}", "--sensitive", "{sensitive}",
             "--no-probe", "-o", "{out}"),
            inputs={"data": "table"}, weight_args=("--weight", "{weight}")),
    Command("data-audit-spark",
            ("data-audit", "{data}", "--label", "{label}", "--sensitive", "{sensitive}",
             "--engine", "spark", "--spark-master", "local[2]", "-o", "{out}"),
            inputs={"data": "table"}, weight_args=("--weight", "{weight}"),
            # data-audit has no --missing: the advice is the local engine's.
            expect={"nan-sensitive": (BAD, ("missing", "gender", "explicit value"))}),
    Command("debias",
            ("debias", "{data}", "--label", "{label}", "--sensitive", "{sensitive}",
             "--method", "reweigh", "-o", "{out}"),
            inputs={"data": "table"}, out_name="debiased.parquet",
            weight_args=("--weight", "{weight}"),
            # Reweighing needs every (group, label) cell; groups of two rows leave some empty.
            expect={"many-groups": (BAD, ("cell",))}),
    Command("debias-spark",
            ("debias", "{data}", "--label", "{label}", "--sensitive", "{sensitive}",
             "--method", "reweigh", "--engine", "spark", "--spark-master", "local[2]",
             "-o", "{out}"),
            inputs={"data": "table"}, out_name="debiased.parquet",
            weight_args=("--weight", "{weight}"),
            expect={"many-groups": (BAD, ("cell",)),
                    "nan-sensitive": (BAD, ("missing", "gender", "explicit value"))}),
    Command("debias-report",
            ("debias", "{data}", "--label", "{label}", "--sensitive", "{sensitive}",
             "--method", "reweigh", "-o", "debiased.parquet", "--report", "{out}"),
            also_writes=("debiased.parquet",)),
    Command("audit",
            ("audit", "--model", "{model}", "--data", "{data}", "--label", "{label}",
             "--sensitive", "{sensitive}", "--n-bootstrap", "0", "-o", "{out}"),
            inputs={"model": "model", "data": "table"}),
    Command("audit-report",
            ("audit", "--model", "{model}", "--data", "{data}", "--label", "{label}",
             "--sensitive", "{sensitive}", "--n-bootstrap", "0", "-o", "audit-out.json",
             "--report", "{outdir}"),
            inputs={"data": "table"}, output="outdir", output_kind="folder",
            also_writes=("audit-out.json",)),
    Command("counterfactual",
            ("counterfactual", "--model", "{model}", "--data", "{data}", "--label", "{label}",
             "--sensitive", "{sensitive}", "-o", "{out}"),
            inputs={"model": "model", "data": "table"}),
    Command("compare",
            ("compare", "--data", "{data}", "--pred-column", "pred", "--label-column", "{label}",
             "--sensitive", "{sensitive}", "-o", "{out}"),
            inputs={"data": "table"}),
    Command("compare-svg",
            ("compare", "--data", "{data}", "--pred-column", "pred", "--label-column", "{label}",
             "--sensitive", "{sensitive}", "-o", "comparison.json", "--svg", "{out}"),
            out_name="plot.svg", also_writes=("comparison.json",)),
    Command("compliance",
            ("compliance", "{data}", "--regime", "eeoc", "--sex", "{sensitive}", "--selected",
             "pred", "--mapping", "mapping.csv", "-o", "{outdir}"),
            inputs={"data": "table"}, output="outdir", output_kind="folder",
            # The regimes' own rules: a missing sex is reported as "unknown" (NYC LL144
            # tables), the label column is not read, every value needs a category mapping.
            # With one category the report has no impact ratio to show; that is the regime
            # command's call (its findings say what was measured).
            expect={"nan-sensitive": (OK, ()), "nan-label": (OK, ()), "one-group": (OK, ()),
                    "many-groups": (BAD, ("not EEO-1 sex categories",))}),
    Command("generation-audit",
            ("generation-audit", "--model", "{causal}", "--data", "{data}", "--max-new-tokens",
             "2", "--no-embeddings", "--n-bootstrap", "20", "-o", "{out}"),
            inputs={"data": "table", "causal": "model"},
            # Only the text column is read: the label and group columns are not (the groups
            # come from the swapped words), so their classes are valid input here.
            expect={"misspelt-column": (OK, ()), "nan-sensitive": (OK, ()),
                    "nan-label": (OK, ()), "one-group": (OK, ())}),
    Command("import-gguf", ("import-gguf", "{gguf}", "-o", "{outdir}"),
            inputs={"gguf": "gguf"}, output="outdir", output_kind="folder", folder_whole=True),
    Command("report", ("report", "{audit}", "-o", "{outdir}"),
            inputs={"audit": "json"}, output="outdir", output_kind="folder"),
    Command("policy-init", ("policy", "init", "{out}"), out_name="policy.toml"),
    Command("policy-check", ("policy", "check", "{policy}"),
            inputs={"policy": "toml"}, output=None),
    Command("history", ("history", "--db", "{db}"), inputs={"db": "db"}, output=None),
    Command("history-trend",
            ("history", "--db", "{db}", "-m", "m", "-c", "equal_opportunity", "--plot", "{out}"),
            out_name="trend.svg"),
    Command("due", ("due", "--policy", "{policy}", "--db", "{db}"),
            inputs={"policy": "toml", "db": "db"}, output=None),
    Command("gate", ("gate", "-m", "m", "--policy", "{policy}", "--db", "{db}"),
            inputs={"policy": "toml", "db": "db"}, output=None),
    Command("run", ("run", "{pipeline}", "-o", "{outdir}"),
            inputs={"pipeline": "toml", "data": "table"}, output="outdir",
            output_kind="workdir", files={"pipeline": _PIPELINE}),
    Command("train", ("train", "--config", "{train}", "-o", "{outdir}"),
            inputs={"train": "toml", "data": "table"}, output="outdir", output_kind="workdir",
            files={"train": _TRAIN}),
    # torchrun launches take minutes: only the cases refused before any process starts.
    Command("train-nproc",
            ("train", "--config", "{train}", "-o", "{outdir}", "--nproc", "2", "--backend",
             "gloo"),
            inputs={"train": "toml", "data": "table"}, output="outdir", output_kind="workdir",
            files={"train": _TRAIN}, runs=False),
    Command("sweep",
            ("sweep", "--config", "{train}", "-o", "{outdir}", "--grid", "learning_rate=0.001"),
            inputs={"train": "toml"}, output="outdir", output_kind="workdir",
            files={"train": _TRAIN}),
    Command("sweep-seeds",
            ("sweep", "--config", "{train}", "-o", "{outdir}", "--grid", "learning_rate=0.001",
             "--seeds", "0,1"),
            inputs={"train": "toml"}, output="outdir", output_kind="workdir",
            files={"train": _TRAIN}),
    Command("demo", ("demo", "-o", "{outdir}"), output="outdir", output_kind="workdir",
            runs=False),
]

# -- the workspace ---------------------------------------------------------------------------

WORDS = ("he she surgeon nurse doctor hospital patient care clinic ward team work years "
         "experience medical school").split()
BASE = {"data": "data.csv", "model": "model", "audit": "audit.json", "policy": "policy.toml",
        "db": "history.db", "out": "result.json", "outdir": "outdir",
        "pipeline": "pipeline.toml", "train": "train.toml", "gguf": "tiny.gguf", "causal": "causal",
        "sensitive": "gender", "label": "label", "weight": "weight"}


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = np.repeat(["F", "M"], n // 2)
    label = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.8, label, 1 - label)
    return pd.DataFrame({
        "text": [" ".join(rng.choice(WORDS, 8)) for _ in range(n)],
        "label": label, "pred": pred, "score": rng.random(n).round(3),
        "weight": rng.uniform(0.5, 2.0, n).round(3), "gender": gender,
        "split": rng.choice(["train", "validation", "test"], n, p=[0.4, 0.2, 0.4]),
    })


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairslm import audit_predictions
    from fairslm.governance import HistoryStore, write_default_policy
    from fairslm.models._testing import (
        make_tiny_bert_classifier,
        make_tiny_causal_lm,
        write_tiny_gguf,
    )

    ws = tmp_path_factory.mktemp("workspace")
    df = _frame()
    df.to_csv(ws / "data.csv", index=False)
    df.to_parquet(ws / "data.parquet", index=False)
    make_tiny_bert_classifier(ws / "model")
    causal = make_tiny_causal_lm(ws / "causal", arch="llama")
    write_tiny_gguf(causal, ws / "tiny.gguf")
    res = audit_predictions(df["label"], df["pred"], sensitive_features={"gender": df["gender"]})
    res.to_json(ws / "audit.json")
    write_default_policy(ws / "policy.toml")
    (ws / "mapping.csv").write_text("dimension,value,category\nsex,F,Female\nsex,M,Male\n")
    HistoryStore(ws / "history.db").record(res, model="m", when="2026-01-01")
    return ws


# -- the classes of bad input ----------------------------------------------------------------


@dataclass
class Case:
    """What one class does to a command and what it expects.

    ``prepare(ws, subs)`` makes the bad input in the workspace (``subs`` maps placeholders to
    the valid values) and returns placeholder overrides; ``codes`` are the accepted exit codes;
    ``message`` are regular expressions (formatted with the placeholders) that must all match
    stderr when the exit code is 2. ``weights``: the command reads the weight column.
    """

    prepare: Callable[[Path, dict[str, str]], dict[str, str]]
    codes: frozenset[int]
    message: tuple[str, ...] = ()
    interrupt: bool = False
    weights: bool = False
    check: Callable[[Path], None] | None = None




def _write(ws: Path, name: str, data: bytes | str) -> str:
    (ws / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return name


def _csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False)


def _table_variant(
    slot: str, name: str, change: Callable[[pd.DataFrame], pd.DataFrame]
) -> Callable[[Path, dict[str, str]], dict[str, str]]:
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        df = change(pd.read_csv(ws / "data.csv"))
        return {slot: _write(ws, name, _csv_text(df))}
    return prepare


def _missing(cmd: Command, slot: str, kind: str) -> Case:
    name = {"model": "no-such-model", "table": "no-such.csv"}.get(kind, f"no-such.{kind}")
    return Case(lambda ws, subs: {slot: name}, BAD, (
        re.escape(name), r"not found|does not exist|no such|not a local path|no audit history"))


def _directory(cmd: Command, slot: str, kind: str) -> Case | None:
    if kind == "model":
        return None

    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        (ws / "a-folder").mkdir()
        (ws / "a-folder" / "notes.txt").write_text("not data\n")
        return {slot: "a-folder"}
    return Case(prepare, BAD, ("a-folder", r"folder|director"))


def _empty(cmd: Command, slot: str, kind: str) -> Case | None:
    if kind == "model":
        return None
    name = f"empty.{'csv' if kind == 'table' else kind}"
    return Case(lambda ws, subs: {slot: _write(ws, name, b"")}, BAD, (re.escape(name), "empty"))


def _header_only(cmd: Command, slot: str, kind: str) -> Case:
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        head = (ws / "data.csv").read_text().splitlines()[0]
        return {slot: _write(ws, "header.csv", head + "\n")}
    return Case(prepare, BAD, ("header.csv", r"no rows|no data rows|empty"))


def _corrupt(cmd: Command, slot: str, kind: str) -> Case:
    rng = np.random.default_rng(1)
    junk = rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    if kind == "model":
        def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
            for f in (ws / subs[slot]).glob("*.safetensors"):
                f.write_bytes(junk)
            return {}
        # The message names the model folder: "{model}" or "{causal}", filled in by the runner.
        return Case(prepare, BAD, ("{" + slot + "}", r"corrupt|cannot (load|read)|not a valid|invalid"))
    name = {"table": "corrupt.parquet", "json": "corrupt.json", "toml": "corrupt.toml",
            "db": "corrupt.db", "gguf": "corrupt.gguf"}[kind]
    if kind == "toml":
        junk = b"[[[ this is not toml = \n"
    return Case(lambda ws, subs: {slot: _write(ws, name, junk)}, BAD,
                (re.escape(name), r"corrupt|not a valid|cannot read|not UTF-8|not a fairslm|"
                                  r"not valid|parse|invalid"))


def _truncated(cmd: Command, slot: str, kind: str) -> Case | None:
    source = {"table": "data.parquet", "json": "audit.json", "db": "history.db",
              "gguf": "tiny.gguf"}.get(kind)
    if source is None:
        return None
    name = "truncated" + Path(source).suffix

    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        data = (ws / source).read_bytes()
        return {slot: _write(ws, name, data[: len(data) // 2])}
    return Case(prepare, BAD, (re.escape(name), r"corrupt|truncated|not a valid|cannot read|"
                                                r"not valid|malformed|not a fairslm"))


def _latin1(cmd: Command, slot: str, kind: str) -> Case | None:
    if kind not in ("table", "json", "toml"):
        return None
    name = f"latin1.{'csv' if kind == 'table' else kind}"

    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        text = (ws / subs[slot]).read_text(encoding="utf-8")
        if kind == "table":
            lines = text.splitlines()
            lines[1] = lines[1].replace("he ", "hé ", 1).replace("she ", "shé ", 1)
            text = "\n".join(lines) + "\n"
            text = text.replace("surgeon", "chirurgien·é", 1)
        else:
            text = "# café\n" + text
        return {slot: _write(ws, name, text.encode("latin-1", errors="replace"))}
    return Case(prepare, BAD, (re.escape(name), "UTF-8"))


def _bom(cmd: Command, slot: str, kind: str) -> Case | None:
    if kind not in ("table", "json", "toml"):
        return None
    name = f"bom.{'csv' if kind == 'table' else kind}"

    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        text = (ws / subs[slot]).read_text(encoding="utf-8")
        return {slot: _write(ws, name, "\ufeff" + text)}
    return Case(prepare, OK)


def _quoted_newlines(cmd: Command, slot: str, kind: str) -> Case:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.loc[::7, "text"] = df.loc[::7, "text"] + "\nsecond line, with a comma"
        return df
    prepare = _table_variant(slot, "multiline.csv", change)
    return Case(prepare, OK)


def _misspelt_column(cmd: Command, slot: str, kind: str) -> Case:
    return Case(lambda ws, subs: {"sensitive": "gendr"}, BAD, ("'gendr'",))


def _nan_sensitive(cmd: Command, slot: str, kind: str) -> Case:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df["gender"] = df["gender"].astype(object)
        df.loc[:4, "gender"] = None
        return df
    prepare = _table_variant(slot, "nan-gender.csv", change)
    return Case(prepare, BAD, ("missing", "gender"))


def _nan_label(cmd: Command, slot: str, kind: str) -> Case:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df["label"] = df["label"].astype(object)
        df.loc[:4, "label"] = None
        return df
    prepare = _table_variant(slot, "nan-label.csv", change)
    return Case(prepare, BAD, ("missing", "label"))


def _one_group(cmd: Command, slot: str, kind: str) -> Case:
    prepare = _table_variant(slot, "one-group.csv", lambda df: df.assign(gender="F"))
    return Case(prepare, BAD, (r"one group|single (value|group|sensitive group)",))


def _many_groups(cmd: Command, slot: str, kind: str) -> Case:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(gender=[f"g{i // 2}" for i in range(len(df))])
    prepare = _table_variant(slot, "many-groups.csv", change)
    return Case(prepare, OK)


def _zero_weights(cmd: Command, slot: str, kind: str) -> Case | None:
    if not cmd.weight_args:
        return None
    prepare = _table_variant(slot, "zero-weights.csv", lambda df: df.assign(weight=0.0))
    return Case(prepare, BAD, ("weight", r"zero|positive"), weights=True)


def _negative_weights(cmd: Command, slot: str, kind: str) -> Case | None:
    if not cmd.weight_args:
        return None
    prepare = _table_variant(slot, "negative-weights.csv",
                             lambda df: df.assign(weight=np.where(df.index % 5 == 0, -1.0, 1.0)))
    return Case(prepare, BAD, ("weight", "negative"), weights=True)


def _huge_text(cmd: Command, slot: str, kind: str) -> Case:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.loc[0, "text"] = "surgeon " * 150_000  # 1.2 MB in one cell
        return df
    prepare = _table_variant(slot, "huge-text.csv", change)
    return Case(prepare, OK)


def _no_tokenizer(cmd: Command, slot: str, kind: str) -> Case:
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        for f in ws.joinpath(subs[slot]).iterdir():
            if "token" in f.name or f.name in ("vocab.txt", "special_tokens_map.json"):
                f.unlink()
        return {}
    return Case(prepare, BAD, ("tokenizer",))


def _model_is_file(cmd: Command, slot: str, kind: str) -> Case:
    return Case(lambda ws, subs: {slot: _write(ws, "notes.txt", "not a model\n")}, BAD,
                ("notes.txt",))


def _other_sqlite(cmd: Command, slot: str, kind: str) -> Case:
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(ws / "other.db")) as con:
            con.execute("CREATE TABLE t (x)")
            con.commit()
        return {slot: "other.db"}
    return Case(prepare, BAD, ("other.db", "not a fairslm history"))


def _wrong_type(cmd: Command, slot: str, kind: str) -> Case:
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        import json

        data = json.loads((ws / "audit.json").read_text())
        data["overall"] = "high"
        return {slot: _write(ws, "wrong-type.json", json.dumps(data))}
    return Case(prepare, BAD, ("wrong-type.json", "overall"))


# -- output classes --------------------------------------------------------------------------


def _onto_input(cmd: Command, slot: str, kind: str) -> Case | None:
    target = next(iter(cmd.inputs), None)
    if target is None or cmd.output_kind != "file":
        return None
    return Case(lambda ws, subs: {slot: BASE[target]}, BAD, (re.escape(BASE[target]), "input"))


def _output_is_folder(cmd: Command, slot: str, kind: str) -> Case:
    if cmd.output_kind == "file":
        def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
            (ws / "a-folder").mkdir()
            return {slot: "a-folder"}
        return Case(prepare, BAD, ("a-folder", "folder"))
    return Case(lambda ws, subs: {slot: _write(ws, "a-file.txt", "x\n")}, BAD, ("a-file.txt", "file"))


def _unwritable(cmd: Command, slot: str, kind: str) -> Case:
    # Running as root, permissions do not stop a write; a path through a file always fails.
    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        _write(ws, "blocker", "a file where a folder should be\n")
        return {slot: f"blocker/sub/{cmd.out_name if cmd.output_kind == 'file' else 'out'}"}
    return Case(prepare, BAD, ("blocker",))


def _interrupted(cmd: Command, slot: str, kind: str) -> Case | None:
    if not cmd.runs or cmd.output is None:
        return None
    return Case(lambda ws, subs: {}, frozenset({143}), ("terminated",), interrupt=True)


def _stale_temp(cmd: Command, slot: str, kind: str) -> Case | None:
    if not cmd.runs or cmd.output is None or cmd.output_kind == "workdir":
        return None
    stale = ".result.json.fairslm-999999999-dead.tmp"

    def prepare(ws: Path, subs: dict[str, str]) -> dict[str, str]:
        folder = ws / "outdir" if cmd.output_kind == "folder" and not cmd.folder_whole else ws
        folder.mkdir(exist_ok=True)
        if cmd.output_kind == "folder" and not cmd.folder_whole:
            (folder / stale.replace("result.json", "report.json")).write_text("partial")
        else:
            (folder / stale.replace("result.json", cmd.out_name)).write_text("partial")
        return {}

    def check(ws: Path) -> None:
        assert not list(ws.rglob("*.fairslm-999999999-*.tmp")), "stale temp file not removed"
    return Case(prepare, OK, check=check)


def _valid(cmd: Command, slot: str, kind: str) -> Case | None:
    return Case(lambda ws, subs: {}, OK) if cmd.runs else None


CaseMaker = Callable[[Command, str, str], "Case | None"]
# class name -> (kinds it applies to, maker)
CLASSES: dict[str, tuple[tuple[str, ...], CaseMaker]] = {
    "valid": (("none",), _valid),
    "missing": (("table", "json", "toml", "db", "model", "gguf"), _missing),
    "directory": (("table", "json", "toml", "db", "gguf"), _directory),
    "empty": (("table", "json", "toml", "db", "gguf"), _empty),
    "header-only": (("table",), _header_only),
    "corrupt": (("table", "json", "toml", "db", "model", "gguf"), _corrupt),
    "truncated": (("table", "json", "db", "gguf"), _truncated),
    "non-utf8": (("table", "json", "toml"), _latin1),
    "bom": (("table", "json", "toml"), _bom),
    "quoted-newlines": (("table",), _quoted_newlines),
    "misspelt-column": (("table",), _misspelt_column),
    "nan-sensitive": (("table",), _nan_sensitive),
    "nan-label": (("table",), _nan_label),
    "one-group": (("table",), _one_group),
    "many-groups": (("table",), _many_groups),
    "zero-weights": (("table",), _zero_weights),
    "negative-weights": (("table",), _negative_weights),
    "huge-text": (("table",), _huge_text),
    "no-tokenizer": (("model",), _no_tokenizer),
    "model-is-a-file": (("model",), _model_is_file),
    "other-sqlite": (("db",), _other_sqlite),
    "wrong-type": (("json",), _wrong_type),
    "output-onto-input": (("output",), _onto_input),
    "output-is-a-folder": (("output",), _output_is_folder),
    "unwritable-output": (("output",), _unwritable),
    "interrupted-write": (("none",), _interrupted),
    "stale-temp-file": (("none",), _stale_temp),
}


def _cases() -> list[pytest.param]:
    params = []
    for cmd in COMMANDS:
        slots = [("none", "none")] + list(cmd.inputs.items())
        if cmd.output is not None:
            slots.append((cmd.output, "output"))
        for cls_name, (kinds, maker) in CLASSES.items():
            for slot, kind in slots:
                if kind not in kinds:
                    continue
                case = maker(cmd, slot, kind)
                if case is None:
                    continue
                if cls_name in cmd.expect:
                    case.codes, case.message = cmd.expect[cls_name]
                if not cmd.runs and case.codes != BAD:
                    continue  # a valid input would start the slow work
                tag = "" if slot in ("none", "data", "out", "outdir") else f"-{slot}"
                params.append(pytest.param(cmd, case, id=f"{cmd.name}-{cls_name}{tag}"))
    return params


# -- running a case --------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


class _Armed:
    """Sends SIGTERM to this process when it creates a fairslm temp file or folder, while armed."""

    armed = False
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple[object, ...]) -> None:
        if cls.armed and event in ("open", "os.mkdir") and isinstance(args[0], (str, os.PathLike)):
            if re.search(r"\.fairslm-\d+-[0-9a-f]+\.tmp(/|$)", os.fspath(args[0])):
                cls.armed = False
                os.kill(os.getpid(), signal.SIGTERM)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], interrupt: bool) -> tuple[int, str, str]:
    if interrupt:
        if not _Armed.installed:
            sys.addaudithook(_Armed.hook)
            _Armed.installed = True
        _Armed.armed = True
    try:
        code = main(argv)
    finally:
        _Armed.armed = False
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("cmd", "case"), _cases())
def test_bad_input(cmd: Command, case: Case, template: Path, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    monkeypatch.chdir(ws)
    monkeypatch.setenv("FAIRSLM_LOG_DIR", str(tmp_path / "logs"))
    subs = dict(BASE)
    for slot, text in cmd.files.items():  # configs naming the other inputs
        subs[slot] = f"config-{slot}.toml"
        (ws / subs[slot]).write_text(text.format(**subs))
    overrides = case.prepare(ws, subs)
    subs.update(overrides)
    for slot, text in cmd.files.items():
        if slot not in overrides:  # the config is not the bad input: let it name the bad one
            (ws / subs[slot]).write_text(text.format(**subs))
    argv = [a.format(**subs) for a in cmd.argv]
    if case.weights:
        argv += [a.format(**subs) for a in cmd.weight_args]
    before = _snapshot(ws)

    code, out, err = _run(argv, capsys, case.interrupt)

    shown = f"fairslm {' '.join(argv)} -> {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    assert code != 3, "internal error\n" + shown
    assert "Traceback" not in out + err, shown
    assert code in case.codes, shown
    # Messages speak the user's terms: no numpy reprs, no names of fairslm's temp files.
    assert "np.float64" not in err and "np.int64" not in err, shown
    assert not re.search(r"\.fairslm-\d+-[0-9a-f]+\.tmp", err), shown
    if code == 2:
        assert err.startswith("error: ") or "\nerror: " in err, shown
        for pattern in case.message:
            assert re.search(pattern.format(**subs), err, re.IGNORECASE), (
                f"message does not match {pattern!r}\n{shown}")
    after = _snapshot(ws)
    output = subs.get(cmd.output) if cmd.output else None
    allowed = set()
    if code in (0, 1) or (code == 143 and cmd.output_kind == "workdir"):
        allowed = {p for p in after if output and (p == output or p.startswith(output + os.sep))}
        allowed |= {p.format(**subs) for p in cmd.also_writes}
    changed = sorted(p for p in before if after.get(p) != before[p] and p not in allowed)
    stale = [p for p in changed if ".fairslm-999999999-" in p]
    assert sorted(set(changed) - set(stale)) == [], f"inputs changed: {changed}\n{shown}"
    new = sorted(p for p in after if p not in before and p not in allowed)
    assert new == [], f"stray output: {new}\n{shown}"
    temps = [p for p in after if p.endswith(".tmp") and ".fairslm-999999999-" not in p]
    assert temps == [], f"temp files left: {temps}\n{shown}"
    if case.check is not None:
        case.check(ws)


@pytest.mark.parametrize(("extra", "message"), [
    (("--nproc", "0"), r"--nproc"),
    (("--nproc", "two"), r"--nproc"),
    (("--nproc", "2", "--backend", "mpi"), r"unknown backend 'mpi'"),
    (("--nproc", "64"), r"shared by 64 processes"),
    (("--nproc", "2", "-o", "{train}"), r"{train}"),
    (("--nproc", "2", "-o", "{data}"), r"{data}"),
])
def test_train_launch_options_refused_before_any_process(
        extra: tuple[str, ...], message: str, template: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``train --nproc/--backend`` values that cannot run stop before torchrun starts."""
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    monkeypatch.chdir(ws)
    subs = {**BASE, "train": "config-train.toml"}
    (ws / subs["train"]).write_text(_TRAIN.format(**subs))
    before = _snapshot(ws)
    argv = ["train", "--config", subs["train"], *(a.format(**subs) for a in extra)]
    if "-o" not in extra:
        argv += ["-o", "outdir"]
    code, out, err = _run(argv, capsys, interrupt=False)
    shown = f"fairslm {' '.join(argv)} -> {code}\n{out[-2000:]}\n{err[-2000:]}"
    assert code == 2 and "Traceback" not in out + err, shown
    assert re.search(message.format(**subs), err), shown
    assert _snapshot(ws) == before, shown
