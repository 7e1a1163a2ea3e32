"""Text generation on tiny random Llama/Qwen2 models: batching, caching, seeds, limits."""

from __future__ import annotations

import pytest

from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models import DecodingSettings, GenerationCache, HFTextGenerator, load_generator
from fairslm.models._testing import make_tiny_bert_classifier, make_tiny_causal_lm

PROMPTS = [
    "Bio: she is a surgeon at the hospital. Summary:",
    "he works",
    "Bio: the nurse has ten years of experience in cardiac care and lives in london with her "
    "family. Summary:",
    "Bio: mr smith leads the emergency department team. Summary:",
]
GREEDY = DecodingSettings(max_new_tokens=10)
SAMPLED = DecodingSettings(max_new_tokens=10, temperature=1.0, top_p=0.9, top_k=50,
                           n_samples=3, seed=7)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    return {"llama": make_tiny_causal_lm(root / "llama", arch="llama"),
            "qwen2": make_tiny_causal_lm(root / "qwen2", arch="qwen2", seed=3),
            "bert": make_tiny_bert_classifier(root / "bert")}


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("settings", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_batched_equals_one_by_one(models, arch, settings) -> None:
    gen = load_generator(models[arch], cache=False, batch_size=3)
    batched = gen.generate(PROMPTS, settings)
    alone = [gen.generate([p], settings)[0] for p in PROMPTS]
    assert batched == alone
    assert [len(o) for o in batched] == [settings.n_samples] * len(PROMPTS)
    assert len(gen.last_run_["cut"][0]) == settings.n_samples


@pytest.fixture(scope="module")
def ending_model(models, tmp_path_factory):
    """The tiny Llama made to end some outputs early: its end-of-sequence token scores just
    above a token that greedy decoding picks for some prompts and not others."""
    from collections import Counter

    import torch

    gen = load_generator(models["llama"], cache=False)
    firsts = []
    for p in PROMPTS:
        enc = gen.tokenizer(p, return_tensors="pt")
        out = gen.model.generate(**enc, max_new_tokens=10, do_sample=False,
                                 pad_token_id=gen.tokenizer.pad_token_id)
        firsts.append(set(out[0, enc["input_ids"].shape[1] + 1:].tolist()))
    counts = Counter(t for f in firsts for t in f)
    token = min(t for t, c in counts.items() if c == 1)
    with torch.no_grad():
        head = gen.model.get_output_embeddings().weight
        head[gen.tokenizer.eos_token_id] = 1.001 * head[token]
    path = tmp_path_factory.mktemp("ending") / "llama"
    gen.model.save_pretrained(path)
    gen.tokenizer.save_pretrained(path)
    return path


@pytest.mark.parametrize("settings", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_outputs_that_end_early_leave_the_batch_unchanged(ending_model, settings) -> None:
    gen = load_generator(ending_model, cache=False, batch_size=4)
    batched = gen.generate(PROMPTS, settings)
    cut = [c for row in gen.last_run_["cut"] for c in row]
    assert any(cut) and not all(cut)  # some outputs ended at the EOS token, some at the limit
    assert batched == [gen.generate([p], settings)[0] for p in PROMPTS]
    if settings.greedy:
        for prompt, out in zip(PROMPTS, batched, strict=True):
            enc = gen.tokenizer(prompt, return_tensors="pt")
            ids = gen.model.generate(**enc, max_new_tokens=10, do_sample=False,
                                     pad_token_id=gen.tokenizer.pad_token_id)
            ref = gen.tokenizer.decode(ids[0, enc["input_ids"].shape[1]:],
                                       skip_special_tokens=True)
            assert out == [ref.strip()]


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_greedy_equals_transformers_generate(models, arch) -> None:
    gen = load_generator(models[arch], cache=False)
    ours = gen.generate(PROMPTS, GREEDY)
    for prompt, out in zip(PROMPTS, ours, strict=True):
        enc = gen.tokenizer(prompt, return_tensors="pt")
        ids = gen.model.generate(**enc, max_new_tokens=10, do_sample=False,
                                 pad_token_id=gen.tokenizer.pad_token_id)
        ref = gen.tokenizer.decode(ids[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        assert out == [ref.strip()]


def test_sampling_is_determined_by_the_seed_and_the_stream(models) -> None:
    first = load_generator(models["llama"], cache=False).generate(PROMPTS, SAMPLED)
    again = load_generator(models["llama"], cache=False).generate(PROMPTS, SAMPLED)
    assert first == again
    assert len(set(first[0])) > 1  # the samples of one prompt differ
    other = DecodingSettings.from_dict({**SAMPLED.to_dict(), "seed": 8})
    assert load_generator(models["llama"], cache=False).generate(PROMPTS, other) != first
    gen = load_generator(models["llama"], cache=False)
    shared = gen.generate(PROMPTS[:2], SAMPLED, streams=["pair-1", "pair-1"])
    own = gen.generate(PROMPTS[:2], SAMPLED, streams=["pair-1", "pair-2"])
    assert shared[0] == own[0] and own[1] != shared[1]


def test_cache_serves_repeats_and_keys_on_the_settings(models, tmp_path) -> None:
    gen = load_generator(models["llama"], cache_dir=tmp_path / "cache")
    out = gen.generate(PROMPTS, GREEDY)
    assert gen.last_run_["n_generated"] == 4 and gen.last_run_["n_cached"] == 0
    assert gen.generate(PROMPTS[::-1] + PROMPTS[:1], GREEDY) == out[::-1] + out[:1]
    assert gen.last_run_["n_generated"] == 0 and gen.last_run_["n_cached"] == 5
    # Greedy outputs do not depend on the seed; a longer limit is another setting.
    gen.generate(PROMPTS, DecodingSettings(max_new_tokens=10, seed=5))
    assert gen.last_run_["n_generated"] == 0
    gen.generate(PROMPTS, DecodingSettings(max_new_tokens=11))
    assert gen.last_run_["n_generated"] == 4
    # A new process (a new generator) finds the outputs on disk; the cut flags come back too.
    gen.generate(PROMPTS, GREEDY)
    cut = gen.last_run_["cut"]
    fresh = load_generator(models["llama"], cache_dir=tmp_path / "cache")
    assert fresh.generate(PROMPTS, GREEDY) == out
    assert fresh.last_run_["n_generated"] == 0 and fresh.last_run_["cut"] == cut
    # Another model never sees these outputs.
    other = load_generator(models["qwen2"], cache=gen.cache)
    other.generate(PROMPTS, GREEDY)
    assert other.last_run_["n_generated"] == 4


def test_chat_template_wraps_the_prompt(models) -> None:
    gen = load_generator(models["llama"], cache=False)
    assert gen.chat is False and gen.prompt_text("hi") == "hi"
    gen.tokenizer.chat_template = (
        "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    chat = HFTextGenerator(gen.model, gen.tokenizer, system="Be brief.", cache=False)
    assert chat.prompt_text("Summarise: he is a nurse") == (
        "<s>system: Be brief.\n<s>user: Summarise: he is a nurse\nassistant:")
    assert chat.fingerprint() != gen.fingerprint()
    assert len(chat.generate(["Summarise: he is a nurse"], GREEDY)[0]) == 1


def test_bad_settings_and_inputs_are_refused(models, tmp_path) -> None:
    with pytest.raises(ConfigError, match="identical outputs; pass a temperature > 0"):
        DecodingSettings(n_samples=3)
    with pytest.raises(ConfigError, match="top_p must be in"):
        DecodingSettings(temperature=1.0, top_p=0.0)
    with pytest.raises(ConfigError, match="max_new_tokens must be a positive integer"):
        DecodingSettings(max_new_tokens=0)
    gen = load_generator(models["llama"], cache=False)
    with pytest.raises(ConfigError, match="leaves no room for a prompt within the model's limit of 128"):
        gen.generate(PROMPTS, DecodingSettings(max_new_tokens=128))
    long = "Bio: " + "the nurse works at the hospital " * 30
    with pytest.raises(InvalidDataError, match=r"1 of 2 prompts are too long.*prompt 1 has \d+ "
                                               r"tokens.*past the model's limit of 128 tokens"):
        gen.generate(["he works", long], DecodingSettings(max_new_tokens=20))
    with pytest.raises(ModelLoadError, match="BertForSequenceClassification, not a causal"):
        load_generator(models["bert"])
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_generator(tmp_path / "nowhere")
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError, match="import it first with `fairslm import-gguf`"):
        load_generator(gguf)
    with pytest.raises(ConfigError, match="no chat template"):
        HFTextGenerator(gen.model, gen.tokenizer, chat=True)
    with pytest.raises(InvalidDataError, match="single string"):
        gen.generate("he works", GREEDY)


def test_generation_cache_round_trip(tmp_path) -> None:
    cache = GenerationCache(tmp_path)
    cache.put({"a": {"texts": ["x", "y"], "cut": [False, True]}})
    cache.close()
    assert GenerationCache(tmp_path).get(["a", "b"]) == {
        "a": {"texts": ["x", "y"], "cut": [False, True]}}
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is not a directory"):
        GenerationCache(tmp_path / "file")


def test_an_interrupted_run_keeps_what_it_finished(models, tmp_path, monkeypatch) -> None:
    gen = load_generator(models["llama"], cache_dir=tmp_path, batch_size=1)
    real, calls = gen._decode_batch, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "_decode_batch", flaky)
    with pytest.raises(KeyboardInterrupt):
        gen.generate(PROMPTS, GREEDY)
    again = load_generator(models["llama"], cache_dir=tmp_path, batch_size=1)
    assert again.generate(PROMPTS, GREEDY) == load_generator(
        models["llama"], cache=False).generate(PROMPTS, GREEDY)
    assert again.last_run_["n_cached"] == 2 and again.last_run_["n_generated"] == 2
