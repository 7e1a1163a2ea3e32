"""The ``fairslm`` command imports only what the command it runs needs.

Start-up is most of the time of a command on a small file: importing pandas alone costs about
half a second, scipy a quarter. Each check runs the command in a fresh interpreter and asserts
on the modules it loaded (never on wall time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Never needed to parse arguments or print help.
HEAVY = ("pandas", "pyarrow", "scipy", "duckdb", "torch", "transformers", "matplotlib",
         "sklearn", "pyspark", "jinja2", "jsonschema")
# The audit of a predictions file reads it with DuckDB and needs none of the others.
NOT_FOR_A_FILE_AUDIT = tuple(m for m in HEAVY if m != "duckdb")

_RUN = """
import json, sys
out = sys.argv[1]
{body}
with open(out, "w") as f:
    json.dump({{"code": code, "modules": sorted(sys.modules)}}, f)
"""


def _loaded(tmp_path: Path, body: str, *args: str) -> tuple[object, set[str]]:
    """Run ``body`` (which sets ``code``) in a fresh interpreter; its exit code and modules."""
    script = tmp_path / "run.py"
    script.write_text(_RUN.format(body=body))
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, str(script), str(out), *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    top = {m.split(".")[0] for m in data["modules"]}
    return data["code"], top


def _cli(tmp_path: Path, *argv: str) -> tuple[object, set[str]]:
    return _loaded(tmp_path, "from fairslm.cli import main\ncode = main(sys.argv[2:])", *argv)


def test_import_fairslm_is_light(tmp_path: Path) -> None:
    code, modules = _loaded(tmp_path, "import fairslm, fairslm.cli, fairslm.audit\ncode = 0")
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("audit-predictions", "--help"),
                                  ("train", "--help")])
def test_help_and_version_are_light(tmp_path: Path, argv: tuple[str, ...]) -> None:
    code, modules = _cli(tmp_path, *argv)
    assert code == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_public_names_still_resolve() -> None:
    import fairslm
    import fairslm.audit
    import fairslm.engines

    for package in (fairslm, fairslm.audit, fairslm.engines):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
        assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = fairslm.nope  # type: ignore[attr-defined]


def test_file_audit_needs_no_pandas_or_scipy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 400
    pd.DataFrame({
        "y": rng.integers(0, 2, n), "p": rng.integers(0, 2, n),
        "g": rng.choice(["F", "M", "X"], n), "h": rng.choice(["a", "b", ""], n),
    }).to_parquet(tmp_path / "preds.parquet")
    code, modules = _cli(tmp_path, "audit-predictions", "preds.parquet", "--y-true", "y",
                         "--y-pred", "p", "--sensitive", "g,h", "--missing", "group",
                         "-o", "audit.json")
    assert code in (0, 1)
    assert "duckdb" in modules
    assert not modules & set(NOT_FOR_A_FILE_AUDIT), sorted(modules & set(NOT_FOR_A_FILE_AUDIT))
    audit = json.loads((tmp_path / "audit.json").read_text())
    # The empty strings of h are missing values, audited as their own group.
    assert {g["label"] for g in audit["views"][0]["groups"]} >= {"F, a", "M, (missing)"}


@pytest.mark.parametrize("values", [
    ["b", "a", None, "b", float("nan"), "c"],
    [3, 1, 2, 3, 1],
    [2.5, float("nan"), -1.0, 2.5],
    [True, False, True],
    ["x", 1, "y"],
])
def test_factorize_without_pandas_matches_pandas(values: list[object]) -> None:
    from fairslm.engines._inputs import _factorize, level_order

    arr = np.asarray(values, dtype=object) if any(isinstance(v, str) for v in values) else (
        np.asarray(values))
    codes, uniques = _factorize(arr)
    pd_codes, pd_uniques = pd.factorize(arr, use_na_sentinel=True)
    # Same groups, whatever the order of their levels.
    assert [None if c < 0 else uniques[c] for c in codes] == [
        None if c < 0 else pd_uniques[c] for c in pd_codes]
    if all(isinstance(v, str) for v in uniques) or all(
            not isinstance(v, str) for v in uniques):
        assert [uniques[i] for i in level_order(uniques)] == sorted(uniques)
        sorted_codes, sorted_uniques = _factorize(arr, sort=True)
        pd_sorted_codes, pd_sorted_uniques = pd.factorize(arr, sort=True)
        assert sorted_codes.tolist() == pd_sorted_codes.tolist()
        assert list(sorted_uniques) == list(pd_sorted_uniques)
    else:
        with pytest.raises(TypeError):
            _factorize(arr, sort=True)
