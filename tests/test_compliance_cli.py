"""``fairslm compliance`` end to end: files written, history and `due`, the EU AI Act bundle,
and every bad input with its message and exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairslm.cli import main
from fairslm.compliance import ComplianceResult, EvidenceBundle, eu_ai_act_bundle


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame({
        "gender": rng.choice(["F", "M", "X"], n, p=[0.48, 0.48, 0.04]),
        "race": rng.choice(["white", "black", "asian", "hispanic"], n),
        "passed": rng.integers(0, 2, n),
        "screen": rng.integers(0, 2, n),
        "score": rng.random(n).round(3),
        "label": rng.integers(0, 2, n),
    })
    frame.to_csv("rows.csv", index=False)
    (tmp_path / "map.csv").write_text(
        "dimension,value,category\nsex,F,Female\nsex,M,Male\nsex,X,unknown\nrace,white,White\n"
        "race,black,Black or African American\nrace,asian,Asian\nrace,hispanic,Hispanic or Latino\n"
    )
    return tmp_path


def _run(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


NYC = ("compliance", "rows.csv", "--regime", "nyc-ll144", "--sex", "gender", "--race", "race",
       "--mapping", "map.csv", "--data-type", "historical", "--audit-date", "2026-02-01")


def test_nyc_writes_tables_json_html_and_records_for_due(cwd, capsys) -> None:
    code, out, err = _run(capsys, *NYC, "--selected", "passed", "--history", "h.db",
                          "--model", "screener", "--out", "nyc")
    assert code == 0, err
    assert "recorded bias audit #1 of screener" in out
    res = ComplianceResult.from_json(cwd / "nyc" / "compliance.json")
    frame = pd.read_csv("rows.csv")
    assert res.table("sex").unknown == (frame.gender == "X").sum()
    females = frame[frame.gender == "F"]
    assert res.table("sex").row("Female").selected == females.passed.sum()
    sex_csv = pd.read_csv(cwd / "nyc" / "sex.csv")
    assert list(sex_csv.columns) == ["Category", "# of Applicants", "# Selected",
                                     "Selection Rate", "Impact Ratio"]
    assert sex_csv.iloc[-1]["Category"] == "Unknown (not included in the calculations)"
    html = (cwd / "nyc" / "compliance.html").read_text()
    assert "6 RCNY §5-301(a)" in html and "<script" not in html
    (cwd / "pol.toml").write_text(
        '[criteria.statistical_parity]\nschedule = ["quarterly"]\n'
        '[regimes.nyc-ll144]\nschedule = ["yearly"]\n')
    code, out, _ = _run(capsys, "due", "--policy", "pol.toml", "--db", "h.db", "--now",
                        "2026-06-01")
    assert code == 0 and "next due 2027-02-01" in out
    code, out, _ = _run(capsys, "due", "--policy", "pol.toml", "--db", "h.db", "--now",
                        "2027-02-02")
    assert code == 1 and "expired 2027-02-01" in out and "6 RCNY §5-301(a)" in out


def test_scores_without_labels_and_classification(cwd, capsys) -> None:
    code, _, err = _run(capsys, *NYC, "--y-score", "score", "--thresholds", "0.25,0.5,0.75")
    assert code == 0, err
    res = json.loads((cwd / "compliance" / "compliance.json").read_text())
    assert res["score_audit"]["labelled"] is False
    assert res["score_audit"]["thresholds"] == pytest.approx([0.25, 0.5, 0.75], abs=1e-3)
    assert "Scoring Rate" in (cwd / "compliance" / "sex.csv").read_text()
    code, _, err = _run(capsys, *NYC, "--classification", "race", "--out", "cls")
    assert code == 0, err
    assert (cwd / "cls" / "sex.white.csv").exists()


def test_eeoc_steps(cwd, capsys) -> None:
    code, out, err = _run(capsys, "compliance", "rows.csv", "--regime", "eeoc", "--sex", "gender",
                          "--mapping", "map.csv", "--step", "screen=screen",
                          "--step", "offer=passed", "--out", "eeoc")
    assert code == 0, err
    res = ComplianceResult.from_json(cwd / "eeoc" / "compliance.json")
    assert [t.step for t in res.tables] == ["screen", "offer", "bottom line"]
    assert "29 CFR 1607.4(C)" in out


def test_eu_bundle_maps_artefacts(cwd, capsys) -> None:
    frame = pd.read_csv("rows.csv")
    frame.to_parquet("preds.parquet")
    code, _, err = _run(capsys, "audit-predictions", "preds.parquet", "--y-true", "label",
                        "--y-pred", "passed", "--sensitive", "gender", "--out", "audit.json",
                        "--history", "h.db", "--model", "screener")
    assert code in (0, 1), err
    _run(capsys, *NYC, "--selected", "passed", "--out", "nyc")
    code, out, err = _run(
        capsys, "compliance", "--regime", "eu-ai-act", "--audit", "audit.json",
        "--evidence", "nyc/compliance.json", "--history", "h.db", "--model", "screener",
        "--system", "CV screener", "--annex-iii", "4(a) recruitment", "--signer", "A. Person",
        "--out", "eu")
    assert code == 0, err
    bundle = EvidenceBundle.from_json(cwd / "eu" / "eu-ai-act-bundle.json")
    assert bundle.system == {"name": "CV screener", "annex_iii": "4(a) recruitment"}
    assert bundle.signer["name"] == "A. Person" and bundle.signer["signature"] is None
    assert bundle.item("art-13-3-b-v").status == "evidence held"
    assert bundle.item("art-10-2-f").status == "partial evidence"  # no data audit given
    assert bundle.item("art-10-2-g").status == "no evidence held"
    assert any("1 audit(s) of screener" in x for x in bundle.item("art-72").evidence)
    import hashlib
    digest = hashlib.sha256((cwd / "audit.json").read_bytes()).hexdigest()
    assert {"name": "model audit", "kind": "fairslm.audit", "sha256": digest,
            "source": "audit.json"} in bundle.inputs
    text = (cwd / "eu" / "eu-ai-act-bundle.html").read_text()
    assert "Art. 10(2)(f)" in text and "compliant" not in text.lower()
    again = eu_ai_act_bundle(audit=cwd / "audit.json", created=bundle.created)
    assert again.bundle_sha256 != bundle.bundle_sha256  # different inputs, different hash
    assert eu_ai_act_bundle(audit=cwd / "audit.json", created=bundle.created).bundle_sha256 == (
        again.bundle_sha256)


BAD = [
    # (extra arguments, message on stderr)
    ((*NYC,), "neither decisions nor scores given"),
    ((*NYC, "--selected", "passed", "--y-score", "score"), "give one output of the tool"),
    (("compliance", "rows.csv", "--regime", "nyc-ll144", "--race", "race", "--mapping", "map.csv",
      "--data-type", "historical", "--audit-date", "2026-02-01", "--selected", "passed"),
     "the sex column is missing"),
    (("compliance", "rows.csv", "--regime", "eeoc", "--selected", "passed"),
     "the sex and race columns are both missing"),
    ((*NYC[:5], "sex", *NYC[6:], "--selected", "passed"),
     "column(s) 'sex' not found in rows.csv; columns are: gender, race"),
    ((*NYC[:8], "--data-type", "historical", "--audit-date", "2026-02-01", "--selected", "passed"),
     "sex values 'M' (125 rows), 'F' (102 rows), 'X' (13 rows) are not EEO-1 sex categories and "
     "no mapping file was given; pass --mapping FILE"),
    ((*NYC, "--selected", "passed", "--mapping", "bad_map.csv"),
     "bad_map.csv:3: sex value 'M' maps to 'Man', which is not an EEO-1 sex category"),
    ((*NYC, "--y-score", "flat"), "all 240 scores equal 0.5"),
    ((*NYC[:10], "--audit-date", "2026-02-01", "--selected", "passed"), "--data-type is required"),
    ((*NYC[:11], "test", *NYC[12:], "--selected", "passed"), "test data needs an explanation"),
    ((*NYC[:13], "02/01/2026", "--selected", "passed"), "is not an ISO date"),
    ((*NYC, "--selected", "passed", "--exclude-small"), "needs the auditor's justification"),
    ((*NYC, "--selected", "passed", "--exclude", "Female", "--exclusion-justification", "few"),
     "cannot exclude 'Female'"),
    ((*NYC, "--selected", "race"), "which value means selected is ambiguous"),
    ((*NYC, "--selected", "passed", "--step", "a=screen"), "--step (for eeoc) does not apply"),
    ((*NYC, "--selected", "passed", "--thresholds", "a,b"), "--thresholds takes comma-separated"),
    (("compliance", "rows.csv", "--regime", "uk"), "--regime must be one of"),
    (("compliance", "--regime", "eu-ai-act"), "pass at least the model audit"),
    (("compliance", "rows.csv", "--regime", "eu-ai-act", "--audit", "a.json"),
     "DATA (the rows file) (for nyc-ll144, eeoc) does not apply"),
    (("compliance", "--regime", "eu-ai-act", "--audit", "rows.csv"),
     "model audit JSON is not valid JSON"),
    (("compliance", "rows.csv", "--regime", "eeoc", "--sex", "gender", "--mapping", "map.csv",
      "--step", "screen"), "--step takes NAME=COLUMN"),
    (("compliance", "rows.csv", "--regime", "eeoc", "--sex", "gender", "--mapping", "map.csv",
      "--selected", "passed", "--history", "h.db"), "--history needs --model NAME"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_exits_2_with_a_message(cwd, capsys, argv, message) -> None:
    (cwd / "bad_map.csv").write_text("dimension,value,category\nsex,F,Female\nsex,M,Man\n")
    frame = pd.read_csv("rows.csv")
    frame["flat"] = 0.5
    frame.to_csv("rows.csv", index=False)
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err


def test_report_command_takes_compliance_files(cwd, capsys) -> None:
    pd.read_csv("rows.csv").to_parquet("preds.parquet")
    _run(capsys, "audit-predictions", "preds.parquet", "--y-true", "label", "--y-pred", "passed",
         "--sensitive", "gender", "--out", "audit.json")
    _run(capsys, *NYC, "--y-score", "score", "--out", "nyc")
    code, _, err = _run(capsys, "report", "audit.json", "nyc/compliance.json", "--out", "rep")
    assert code == 0, err
    html = (cwd / "rep" / "report.html").read_text()
    assert "Regulatory audits" in html and "score distribution by sex" in html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[regimes.nyc-ll144]\nschedule = ["yearly"]\n', None),
        ('[regimes.gdpr]\nschedule = ["yearly"]\n', "unknown regime 'gdpr'; known regimes: nyc-ll144"),
        ('[regimes.nyc-ll144]\nschedule = ["on-data-change"]\n', "due by date"),
        ('[regimes.nyc-ll144]\nevery = 1\n',
         "unknown key 'regimes.nyc-ll144.every'; valid keys in [regimes.nyc-ll144]: schedule"),
    ],
)
def test_policy_regimes(cwd, capsys, text, message) -> None:
    (cwd / "p.toml").write_text(text)
    code, out, err = _run(capsys, "policy", "check", "p.toml")
    if message is None:
        assert code == 0 and "nyc-ll144 bias audit" in out and "every 12 months" in out
    else:
        assert code == 2 and message in err, err
