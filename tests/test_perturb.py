"""Counterfactual perturbation: swap correctness on tricky sentences, names, user term lists."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairslm import ConfigError, InvalidDataError
from fairslm.data import CounterfactualPerturber, Edit, builtin_lexicon, load_terms


def swap(text: str, **kw) -> str:
    return CounterfactualPerturber(**kw).perturb([text]).texts[0]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # possessive vs object "her"
        ("She thanked her mother.", "He thanked his father."),
        ("I told her that she was right.", "I told him that he was right."),
        ("We saw her.", "We saw him."),
        ("They gave her the award for her work.", "They gave him the award for his work."),
        ("Her own patients love her, and her new clinic.", "His own patients love him, and his new clinic."),
        ("He met her at noon; her, not him!", "She met him at noon; him, not her!"),
        # his -> her / hers
        ("The book is his.", "The book is hers."),
        ("Each doctor and his or her patients; his/her notes.",
         "Each doctor and her or his patients; her/his notes."),
        ("Tell him or her that.", "Tell her or him that."),
        ("İstanbul: he left, ﬁne.", "İstanbul: she left, ﬁne."),  # lower() changes length here
        ("His wife said hers was better.", "Her husband said his was better."),
        # case and punctuation kept
        ("HE IS HERE. He's a man.", "SHE IS HERE. She's a woman."),
        ("\"Himself,\" said the King.", "\"Herself,\" said the Queen."),
        ("Mr. Lee and Mrs. Lee", "Ms. Lee and Mr. Lee"),
        ("(his book) [her] {him}", "(her book) [him] {her}"),
        # whole words only
        ("Shepherd, theme, hemisphere, Manchester, sonnet", "Shepherd, theme, hemisphere, Manchester, sonnet"),
        ("The woman's husband and the man's wife.", "The man's wife and the woman's husband."),
    ],
)
def test_gender_swaps(before: str, after: str) -> None:
    assert swap(before, names=False) == after


def test_edits_locate_the_original_words() -> None:
    text = "Mr. Smith said his son is a nurse."
    res = CounterfactualPerturber(names=False).perturb([text])
    assert res.edits[0] == [
        Edit(0, 2, "Mr", "Ms"), Edit(15, 18, "his", "her"), Edit(19, 22, "son", "daughter"),
    ]
    for e in res.edits[0]:
        assert text[e.start:e.end] == e.original
    assert res.marked(0) == "[Mr->Ms]. Smith said [his->her] [son->daughter] is a nurse."
    assert res.direction == ["male->female"]


def test_names_swap_within_race_and_not_inside_words() -> None:
    p = CounterfactualPerturber(seed=3)
    res = p.perturb(["Emily met Bradley and Emily's friend Jamal.", "brad and jay are words here"])
    lex = builtin_lexicon("gender")
    out = res.texts[0]
    new_emily = res.edits[0][0].replacement
    new_jamal = res.edits[0][-1].replacement
    assert new_emily in lex.names["male"]["white"]
    assert new_jamal in lex.names["female"]["black"]
    assert out == f"{new_emily} met Bradley and {new_emily}'s friend {new_jamal}."
    assert res.texts[1] == "brad and jay are words here" and res.n_unchanged == 1


def test_race_attribute_keeps_gender() -> None:
    res = CounterfactualPerturber("race", seed=1).perturb(["Lakisha and Greg"])
    lex = builtin_lexicon("race")
    a, b = res.edits[0]
    assert a.replacement in lex.names["white"]["female"]
    assert b.replacement in lex.names["black"]["male"]
    assert res.direction == ["black->white"]  # tie: the first mentioned group


def test_deterministic_and_seed_dependent() -> None:
    texts = [f"{n} is a surgeon." for n in ("Emily", "Sarah", "Greg", "Todd", "Anne", "Neil")]
    a = CounterfactualPerturber(seed=0).perturb(texts).texts
    b = CounterfactualPerturber(seed=0).perturb(list(reversed(texts))).texts
    assert a == list(reversed(b))  # a text's result does not depend on its batch
    c = CounterfactualPerturber(seed=1).perturb(texts).texts
    assert a != c


def test_target_only_rewrites_other_groups() -> None:
    res = CounterfactualPerturber(names=False).perturb(
        ["He and she.", "She is here.", "No one."], target="female"
    )
    assert res.texts == ["She and she.", "She is here.", "No one."]
    assert res.changed.tolist() == [True, False, False]
    assert res.n_unchanged == 2 and res.directions() == {"male->female": 1}


def test_unknown_target_and_attribute() -> None:
    with pytest.raises(ConfigError, match="target 'x' is not a group of attribute 'gender'; "
                                          "groups are: male, female"):
        CounterfactualPerturber().perturb(["he"], target="x")
    with pytest.raises(ConfigError, match="no built-in term list for attribute 'religion'"):
        CounterfactualPerturber("religion").perturb(["church"])


def test_non_string_texts() -> None:
    with pytest.raises(InvalidDataError, match=r"item 1 is 3 \(int\)"):
        CounterfactualPerturber().perturb(["he", 3])


def test_user_csv_term_list(tmp_path) -> None:
    path = tmp_path / "religion.csv"
    path.write_text("# comment\nchristian,muslim,jewish\nchurch,mosque,synagogue\n"
                    "Bible,Quran,Torah\n")
    p = CounterfactualPerturber("religion", terms=path)
    res = p.perturb(["The Church and the bible."], target="jewish")
    # a capital in the text is kept; otherwise the list's own spelling is used
    assert res.texts == ["The Synagogue and the Torah."]
    assert res.direction == ["christian->jewish"]
    # without a target each group present goes to another group, drawn with the seed
    res = p.perturb(["The mosque."])
    assert res.texts[0] in {"The church.", "The synagogue."}


def test_user_yaml_terms_and_names(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("groups: [young, old]\nterms:\n  - [youthful, elderly]\n"
                    "  - {young: teen, old: retiree}\nnames:\n  young: [Zoe]\n  old: [Agnes]\n")
    res = CounterfactualPerturber("age", terms=path).perturb(["Zoe, a youthful teen."])
    assert res.texts == ["Agnes, a elderly retiree."]


def test_user_gender_terms_extend_builtin(tmp_path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("male,female\nfireman,firewoman\n")
    assert swap("The fireman and his son.", terms=path, names=False) == (
        "The firewoman and her daughter."
    )


def test_malformed_csv_row_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("male,female\nhe,she\n\nking,queen,royal\n")
    with pytest.raises(InvalidDataError, match=r"bad\.csv, line 4: expected 2 values "
                                               r"\(male, female\), found 3"):
        load_terms(path)
    path.write_text("male,female\nhe,\n")
    with pytest.raises(InvalidDataError, match=r"bad\.csv, line 2: empty value for female"):
        load_terms(path)


def test_malformed_yaml_row_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("groups: [a, b]\nterms:\n  - [x, y]\n  - [z]\n")
    with pytest.raises(InvalidDataError, match=r"bad\.yaml, line 4: expected 2 terms \(a, b\), "
                                               r"found 1"):
        load_terms(path)
    path.write_text("groups: [a, b]\ncolour: red\nterms: []\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['colour'\]"):
        load_terms(path)


def test_term_list_groups_must_match(tmp_path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("man,woman\nfireman,firewoman\n")
    with pytest.raises(ConfigError, match=r"groups \['man', 'woman'\] do not match the groups "
                                          r"of attribute 'gender'"):
        CounterfactualPerturber(terms=path).perturb(["x"])


def test_names_list_cites_its_source() -> None:
    lex = builtin_lexicon("gender")
    assert any("names_bertrand_mullainathan_2004" in s for s in lex.sources)
    assert "Kenya" not in lex.names["female"]["black"]  # a place name too: not swapped
    assert len(lex.names["male"]["black"]) == 9


def test_multi_word_terms(tmp_path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("christian,muslim\nSunday school,Friday prayer\nchurch,mosque\n")
    res = CounterfactualPerturber("religion", terms=path).perturb(
        ["After Sunday school at church; Sunday-schooled."], target="muslim"
    )
    assert res.texts == ["After Friday prayer at mosque; Sunday-schooled."]


WORDS = ["he", "She", "HIS", "her", "him", "hers", "man", "Woman", "nurse", "Emily", "Jamal",
         "the", "book", "Bradley", "sonnet", "herself", "Mr", "Mrs", ".", ",", "!"]


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12), st.integers(0, 3))
@settings(max_examples=60, deadline=None)
def test_edits_reproduce_the_output(words, seed) -> None:
    text = " ".join(words)
    res = CounterfactualPerturber(seed=seed).perturb([text])
    out, pos = [], 0
    for e in res.edits[0]:
        assert text[e.start:e.end] == e.original and e.start >= pos
        out += [text[pos:e.start], e.replacement]
        pos = e.end
    out.append(text[pos:])
    assert "".join(out) == res.texts[0]
    assert res.changed[0] == bool(res.edits[0])
    # untouched words stay: nothing outside the edits changes
    for w in ("nurse", "book", "Bradley", "sonnet"):
        assert res.texts[0].count(w) >= text.count(w)
