"""``fairslm generation-audit`` end to end on a tiny Llama, bad input, and the report section."""

from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

import fairslm.audit._generation as generation_module
from fairslm import audit_predictions
from fairslm.audit import GenerationAuditResult, generation_json_schema
from fairslm.cli._app import app
from fairslm.models._testing import make_tiny_bert_classifier, make_tiny_causal_lm
from fairslm.reporting import build_report, render_html, report_from_files

BIOS = ["He is a surgeon at the hospital.", "She is a nurse in london.", "The ward is busy.",
        "She worked in cardiac care for ten years.", "His patients love him."]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("gencli")
    data = root / "bios.jsonl"
    pd.DataFrame({"text": BIOS}).to_json(data, orient="records", lines=True)
    return {"root": root, "data": data, "llama": make_tiny_causal_lm(root / "llama"),
            "bert": make_tiny_bert_classifier(root / "bert")}


def _run(files, *args):
    return CliRunner().invoke(app, ["generation-audit", "--data", str(files["data"]),
                                    "--no-embeddings", "--n-bootstrap", "100", *args])


def test_cli_writes_json_and_html(files, tmp_path) -> None:
    out, html = tmp_path / "g.json", tmp_path / "g.html"
    res = _run(files, "--model", str(files["llama"]), "--template", "Bio: {text} Summary:",
               "--max-new-tokens", "6", "--samples", "2", "--seed", "3",
               "--label-word", "yes=1", "--label-word", "no=0",
               "--count", "family=family,children,husband", "--out", str(out), "--html", str(html))
    assert res.exit_code == 0, res.output
    assert "4 of 5 texts rewritten for gender; 1 had nothing to swap (row 2)" in res.output
    data = json.loads(out.read_text())
    jsonschema.Draft202012Validator(generation_json_schema()).validate(data)
    assert data["decoding"] == {**data["decoding"], "method": "sampling", "n_samples": 2,
                                "temperature": 1.0, "seed": 3, "max_new_tokens": 6,
                                "template": "Bio: {text} Summary:"}
    assert data["options"]["decision"]["label_words"] == {"yes": 1, "no": 0}
    assert set(data["measures"]) >= {"length_words", "refusal", "sentiment", "terms:family",
                                     "decision_positive"}
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<mark" in page and "<script" not in page
    # The same run again is served from the cache directory.
    cache = tmp_path / "cache"
    for expected in (8, 0):
        res = _run(files, "--model", str(files["llama"]), "--max-new-tokens", "6",
                   "--cache-dir", str(cache), "--out", str(tmp_path / "again.json"))
        assert res.exit_code == 0, res.output
        again = json.loads((tmp_path / "again.json").read_text())
        assert again["counts"]["n_generated"] == expected


class Biased:
    def generate(self, prompts, settings, streams=None):
        return [["Terrible, awful and weak." if " she " in f" {p.lower()} " else "Good."]
                * settings.n_samples for p in prompts]


def test_fail_on_difference_exits_1(files, tmp_path, monkeypatch) -> None:
    data = tmp_path / "many.jsonl"
    pd.DataFrame({"text": [f"{p} works in ward {i}." for i in range(12)
                           for p in ("He", "She")][::2]}).to_json(data, orient="records",
                                                                  lines=True)
    monkeypatch.setattr(generation_module, "load_generator", lambda model, **kw: Biased())
    args = ["generation-audit", "--model", "m", "--data", str(data), "--no-embeddings",
            "--out", str(tmp_path / "g.json")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Differences significant at 0.05 (Holm)" in res.output
    res = CliRunner().invoke(app, [*args, "--fail-on-difference"])
    assert res.exit_code == 1, res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "Summarise this."], "'{text}' placeholder"),
        (["--max-new-tokens", "200"], "leaves no room for a prompt"),
        (["--samples", "3", "--temperature", "0"], "would give 3 identical outputs"),
        (["--label-word", "yes"], "--label-word takes WORD=CLASS"),
        (["--count", "family"], "--count takes NAME=TERM,TERM"),
        (["--count", "family=@missing.txt"], "cannot read the term list"),
        (["--reference", "robot"], "reference_group 'robot' is not a group"),
        (["--decision-regex", "("], "decision regex '(' is not valid"),
    ],
)
def test_bad_options_exit_2_with_a_message(files, args, message) -> None:
    res = _run(files, "--model", str(files["llama"]), *args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_outputs_never_replace_the_input(files) -> None:
    before = files["data"].read_bytes()
    for flag in ("--out", "--html"):
        res = _run(files, "--model", str(files["llama"]), flag, str(files["data"]))
        assert res.exit_code == 2 and "refusing to" in res.output and "input" in res.output
    assert files["data"].read_bytes() == before


def test_bad_models_and_data_exit_2(files, tmp_path) -> None:
    res = _run(files, "--model", str(files["bert"]))
    assert res.exit_code == 2 and "not a causal (decoder) language model" in res.output
    plain = tmp_path / "plain.jsonl"
    pd.DataFrame({"text": ["The ward is busy.", "A nurse."]}).to_json(plain, orient="records",
                                                                     lines=True)
    res = CliRunner().invoke(app, ["generation-audit", "--model", str(files["llama"]),
                                   "--data", str(plain)])
    assert res.exit_code == 2 and "none of the 2 texts contains a gender term" in res.output
    long = tmp_path / "long.jsonl"
    pd.DataFrame({"text": ["He works. " + "the nurse works " * 40]}).to_json(
        long, orient="records", lines=True)
    res = CliRunner().invoke(app, ["generation-audit", "--model", str(files["llama"]),
                                   "--data", str(long), "--no-embeddings"])
    assert res.exit_code == 2 and "too long to generate from" in res.output
    assert "Traceback" not in res.output


def test_report_has_a_generated_texts_section(files, tmp_path) -> None:
    out = tmp_path / "g.json"
    res = _run(files, "--model", str(files["llama"]), "--max-new-tokens", "5", "--out", str(out))
    assert res.exit_code == 0, res.output
    audit = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
                              min_group_size=1)
    audit.to_json(tmp_path / "audit.json")
    report = report_from_files([str(tmp_path / "audit.json"), f"writer={out}"])
    assert set(report["generation"]) == {"writer"}
    html = render_html(report)
    assert "Generated texts" in html and "Pairs whose outputs differ most" in html
    direct = build_report(audit, generation=GenerationAuditResult.from_json(out))
    assert set(direct["generation"]) == {"model"}
