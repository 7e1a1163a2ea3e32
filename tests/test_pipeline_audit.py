"""``fairslm audit``: a model directory audited on a data file, with the report."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from fairslm.cli import main  # noqa: E402
from fairslm.data import make_hiring_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "hiring.parquet"
    make_hiring_corpus(300, seed=0).to_parquet(path)
    return path


def test_audit_command_writes_audit_and_report(tmp_path, tiny_bert, corpus_file, capsys):
    out = tmp_path / "audit.json"
    code = main(["audit", "--model", str(tiny_bert), "--data", str(corpus_file),
                 "--label", "hired", "--sensitive", "gender,race", "--split", "test",
                 "--split-column", "split", "--truth", "qualified", "--n-bootstrap", "20",
                 "--min-group-size", "5", "--out", str(out), "--report", str(tmp_path / "rep")])
    text = capsys.readouterr().out
    audit = json.loads(out.read_text())
    assert audit["kind"] == "fairslm.audit"
    assert audit["task"]["n_rows"] == sum(make_hiring_corpus(300, seed=0)["split"] == "test")
    assert code == (0 if all(c["verdict"] != "fail" for v in audit["views"]
                             for c in v["criteria"]) else 1)
    assert "accuracy (true label):" in text
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Against the true label" in html


def test_audit_command_errors_are_clear(tmp_path, tiny_bert, corpus_file, capsys):
    code = main(["audit", "--model", str(tmp_path / "nope"), "--data", str(corpus_file),
                 "--label", "hired", "--sensitive", "gender"])
    assert code == 2
    assert "nope" in capsys.readouterr().err
    code = main(["audit", "--model", str(tiny_bert), "--data", str(corpus_file),
                 "--label", "hired", "--sensitive", "sex"])
    assert code == 2
    err = capsys.readouterr().err
    assert "sex" in err and "gender" in err  # names the missing column and the ones there are
