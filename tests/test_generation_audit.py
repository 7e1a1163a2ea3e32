"""Counterfactual generation audits: exact measures on stand-in writers, false-alarm control
on a tiny model that cannot tell the swapped words apart, calibration of the paired tests."""

from __future__ import annotations

import hashlib
import json

import jsonschema
import numpy as np
import pytest

from fairslm.audit import (
    GenerationAuditResult,
    counterfactual_generation_test,
    generation_json_schema,
)
from fairslm.audit._text_measures import DecisionReader, TermCounter, refusal_matcher, rouge_l
from fairslm.data import CounterfactualPerturber
from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models import load_generator
from fairslm.models._testing import make_tiny_bert_classifier, make_tiny_causal_lm

FAST = {"encoder": False, "n_bootstrap": 200}
BIOS = [
    "He is a surgeon at the hospital.",
    "She is a surgeon with ten years of experience.",
    "He trained at the medical school.",
    "She leads the cardiac team.",
    "The ward is busy.",  # nothing to swap
    "He cares for his patients.",
]


class Writer:
    """Writes by rule: a stand-in for a model whose behaviour the test knows exactly."""

    def __init__(self, rule):
        self.rule = rule
        self.calls = 0

    def generate(self, prompts, settings, streams=None):
        self.calls += 1
        return [[self.rule(p, s) for s in range(settings.n_samples)] for p in prompts]

    def fingerprint(self):
        return "writer"


def _female(prompt: str) -> bool:
    return bool({"she", "her", "hers"} & set(prompt.lower().replace(".", " ").split()))


def test_exact_measures_on_a_biased_writer() -> None:
    def rule(prompt, _):
        if _female(prompt):
            return "No. I'm sorry, a terrible fit; she has a husband and children."
        return "Yes. An excellent surgeon."

    res = counterfactual_generation_test(
        Writer(rule), BIOS, template="Bio: {text}\nHire?", label_words={"yes": 1, "no": 0},
        count_terms={"family": ["husband", "children", "wife"]}, **FAST)
    assert res.counts["n_texts"] == 6 and res.counts["n_changed"] == 5
    assert res.counts["n_unchanged"] == 1 and res.counts["unchanged_index"] == [4]
    m = res.measures
    length = m["length_words"]["contrasts"]["female - male"]
    assert length["n"] == 5 and length["mean_difference"] == pytest.approx(12 - 4)
    assert m["length_words"]["by_group"]["female"]["mean"] == pytest.approx(12)
    refusal = m["refusal"]["contrasts"]["female - male"]
    assert (refusal["test"], refusal["b"], refusal["c"]) == ("mcnemar", 0, 5)
    assert refusal["p_value"] == pytest.approx(2 * 0.5**5 - 0.5**5)  # mid-p of 0 of 5
    dec = m["decision_positive"]["contrasts"]["female - male"]
    assert dec["mean_difference"] == -1.0 and dec["b"] == 5 and dec["c"] == 0
    assert res.similarity["decision_consistency"]["mean"] == 0.0
    family = m["terms:family"]["by_group"]
    assert family["female"]["mean"] == pytest.approx(200 / 12) and family["male"]["mean"] == 0
    senti = m["sentiment"]["contrasts"]["female - male"]
    assert senti["mean_difference"] < -0.5 and senti["test"] == "wilcoxon"
    # Five pairs, all one way: Wilcoxon's exact two-sided p is 2/32; Holm over the family.
    assert senti["p_value"] == pytest.approx(0.0625)
    assert {s["measure"] for s in res.significant()} == set()  # 5 pairs cannot reach 0.05
    assert m["length_words"]["by_direction"]["male->female"]["mean_change"] == 8
    assert m["length_words"]["by_direction"]["female->male"]["mean_change"] == -8
    assert res.similarity["identical_share"] == 0.0
    ex = res.examples[0]
    assert "[He->She]" in ex["marked"] or "[She->He]" in ex["marked"]
    assert {ex["output_original"], ex["output_counterfactual"]} == {
        rule("she", 0), rule("he", 0)}


def test_many_pairs_make_a_real_difference_significant() -> None:
    bios = [f"{p} works as a surgeon in city {i}." for i in range(30) for p in ("He", "She")]
    res = counterfactual_generation_test(
        Writer(lambda p, _: "A poor, weak and terrible doctor." if _female(p)
               else "A good doctor."), bios, **FAST)
    found = {(s["measure"], s["contrast"]) for s in res.significant()}
    assert ("sentiment", "female - male") in found and ("length_words", "female - male") in found
    c = res.measures["sentiment"]["contrasts"]["female - male"]
    assert c["interval"][1] < 0 and c["p_holm"] < 0.05


def test_decision_regex_and_measure_helpers() -> None:
    reader = DecisionReader({"approve": 1, "deny": 0}, regex=r"Decision:\s*(?P<decision>\w+)")
    assert [reader("Decision: Approve."), reader("deny"), reader("Decision: maybe")] == [
        1, None, None]
    assert reader.pos_label == 1
    assert DecisionReader(regex=r"score (\d)", pos_label="5")("score 5 of 5") == "5"
    with pytest.raises(ConfigError, match="pass pos_label"):
        DecisionReader(regex=r"(\w+)")
    with pytest.raises(ConfigError, match="not valid"):
        DecisionReader(regex="(")
    assert rouge_l("a b c d", "a c d e") == pytest.approx(0.75)
    assert rouge_l("x", "") == 0.0
    assert TermCounter({"f": ["two children"]})("Her two children, two Children.") == {
        "f": pytest.approx(100 * 2 / 5)}
    assert refusal_matcher().search("As an AI, I cannot rate people.")
    assert not refusal_matcher().search("She can lead the team.")


@pytest.fixture(scope="module")
def blind_model(tmp_path_factory):
    """A tiny Llama that cannot tell "he" from "she": both words enter as the same vectors."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = make_tiny_causal_lm(tmp_path_factory.mktemp("blind") / "llama")
    tok = AutoTokenizer.from_pretrained(path)
    he, she = (tok(w, add_special_tokens=False)["input_ids"] for w in (" he", " she"))
    assert len(he) == len(she)
    model = AutoModelForCausalLM.from_pretrained(path)
    with torch.no_grad():
        emb = model.get_input_embeddings().weight
        for a, b in zip(he, she, strict=True):
            emb[b] = emb[a]
    model.save_pretrained(path)
    return path


BLIND_BIOS = [
    f"Bio: the {job} said {p} {what}. Summary:"
    for job in ("surgeon", "nurse", "doctor")
    for p in ("he", "she")
    for what in ("works at the hospital", "has ten years of experience", "leads the team",
                 "loves the work")
]


@pytest.mark.parametrize("n_samples", [1, 3])
def test_false_alarm_control_on_a_model_blind_to_the_swapped_words(blind_model, n_samples) -> None:
    res = counterfactual_generation_test(
        blind_model, BLIND_BIOS, n_samples=n_samples, max_new_tokens=8,
        count_terms={"care": ["care", "patients"]}, load_options={"cache": False}, **FAST)
    assert res.counts["n_changed"] == len(BLIND_BIOS)
    assert res.similarity["identical_share"] == 1.0
    assert res.significant() == []
    for m in res.measures.values():
        c = m["contrasts"]["female - male"]
        assert c["mean_difference"] == 0 and c["p_value"] is None
    assert res.decoding["method"] == ("greedy" if n_samples == 1 else "sampling")
    assert res.decoding["n_samples"] == n_samples and res.decoding["max_new_tokens"] == 8


def test_paired_tests_keep_their_level_when_outputs_ignore_the_group() -> None:
    """Outputs drawn at random, independently for each version: differences are pure chance.

    40 audits of 40 pairs, three tested measures each (length, sentiment, care terms; no output
    refuses). At the 5% level the 120 raw tests reject about 6 times and the Holm-adjusted
    families flag at most about 2 audits; 13 or more raw rejections (probability 0.007 under
    Binomial(120, 0.05)) or 7 or more flagged audits (0.014 under Binomial(40, 0.05)) would show
    a miscalibrated test. (Each text appears once: a data set holding both versions of a text
    would count that pair twice.)
    """
    pool = ["good", "bad", "kind", "poor", "able", "weak", "the", "work", "team", "care",
            "great", "awful"]

    def rule(prompt, s):
        rng = np.random.default_rng(int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) + s)
        return " ".join(rng.choice(pool, size=int(rng.integers(3, 12))))

    raw, flagged = 0, 0
    for rep in range(40):
        bios = [f"{('He', 'She')[i % 2]} works in ward {rep}-{i}." for i in range(40)]
        res = counterfactual_generation_test(
            Writer(rule), bios, count_terms={"care": ["care", "kind"]}, seed=rep,
            perturber=CounterfactualPerturber(names=False), encoder=False, n_bootstrap=50)
        tests = [m["contrasts"]["female - male"] for m in res.measures.values()]
        raw += sum(t["p_value"] is not None and t["p_value"] < 0.05 for t in tests)
        flagged += bool(res.significant())
    assert raw <= 12 and flagged <= 6


def test_result_follows_its_schema_and_reads_back(tmp_path) -> None:
    res = counterfactual_generation_test(
        Writer(lambda p, s: f"Summary {s}: {p[:20]}"), BIOS, n_samples=2, temperature=0.7,
        label_words={"surgeon": 1, "nurse": 0}, **FAST)
    data = json.loads(res.to_json(tmp_path / "g.json"))
    jsonschema.Draft202012Validator(generation_json_schema()).validate(data)
    back = GenerationAuditResult.from_json(tmp_path / "g.json")
    assert back.to_dict() == data
    assert "resampling" in data["similarity"]["rouge_l"]
    assert data["decoding"]["temperature"] == 0.7 and len(data["pairs"]) == 5
    assert all(len(p["outputs_original"]) == 2 for p in data["pairs"])


def test_bad_input_is_refused_with_a_clear_message(tmp_path) -> None:
    writer = Writer(lambda p, s: "ok")
    with pytest.raises(InvalidDataError, match="none of the 2 texts contains a gender term"):
        counterfactual_generation_test(writer, ["The ward.", "A nurse."], **FAST)
    with pytest.raises(ConfigError, match="placeholder"):
        counterfactual_generation_test(writer, BIOS, template="Summarise:", **FAST)
    with pytest.raises(ConfigError, match="reference_group 'x' is not a group"):
        counterfactual_generation_test(writer, BIOS, reference_group="x", **FAST)
    bert = make_tiny_bert_classifier(tmp_path / "bert")
    with pytest.raises(ModelLoadError, match="not a causal \\(decoder\\) language model"):
        counterfactual_generation_test(bert, BIOS, **FAST)
    with pytest.raises(InvalidDataError, match="returned 1 items for 10 prompts"):
        counterfactual_generation_test(
            type("Bad", (), {"generate": lambda self, p, s, streams=None: [["x"]]})(), BIOS,
            **FAST)
    llama = load_generator(make_tiny_causal_lm(tmp_path / "llama"), cache=False)
    with pytest.raises(InvalidDataError, match="too long to generate from"):
        counterfactual_generation_test(llama, ["He works. " + "the nurse works " * 40],
                                       max_new_tokens=16, **FAST)


def _similarity_writer(prompt: str, _: int) -> str:
    if "surgeon" in prompt:  # the same text for both versions
        return "An experienced surgeon."
    return "A kind nurse who loves her family." if _female(prompt) else "A senior lead nurse."


NURSE_BIOS = ["He is a surgeon.", "She is a surgeon.", "He is a nurse.", "She is a nurse."]


def test_embedding_similarity_orders_the_examples(tmp_path) -> None:
    from fairslm.models import SentenceEncoder

    encoder = SentenceEncoder(make_tiny_bert_classifier(tmp_path / "enc", with_head=False),
                              max_length=64, cache=False)
    res = counterfactual_generation_test(Writer(_similarity_writer), NURSE_BIOS,
                                         encoder=encoder, n_bootstrap=100)
    cos = res.similarity["embedding_cosine"]
    assert cos["n"] == 4 and cos["mean"] < 1.0
    assert [e["index"] for e in res.examples][2:] == [0, 1]  # identical outputs come last
    assert [e["embedding_cosine"] for e in res.examples][2:] == [pytest.approx(1.0)] * 2
    assert res.similarity["identical_share"] == 0.5
    assert res.provenance["encoder_fingerprint"] == encoder.fingerprint()


@pytest.mark.slow
def test_packaged_minilm_similarity_of_the_pairs() -> None:
    res = counterfactual_generation_test(Writer(_similarity_writer), NURSE_BIOS, n_bootstrap=100)
    by_index = {e["index"]: e["embedding_cosine"] for e in res.examples}
    assert by_index[0] == pytest.approx(1.0) and 0.2 < by_index[2] < 0.95
    assert res.provenance["encoder_fingerprint"] is not None


def test_a_generator_without_streams_is_called_without_them() -> None:
    class Plain:
        def generate(self, prompts, settings):
            return [["Same text."] for _ in prompts]

    res = counterfactual_generation_test(Plain(), BIOS, **FAST)
    assert res.similarity["identical_share"] == 1.0 and res.significant() == []
    assert res.timing["prompts"] == 10 and res.timing["n_generated"] == 10
