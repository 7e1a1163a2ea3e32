"""Counterfactual perturbation: rewrite a text as if its subject belonged to another group.

Terms are matched as whole words (``Brad`` never matches inside ``Bradley``), case is carried
over (``He`` -> ``She``, ``HIS`` -> ``HER``) and punctuation is untouched. The word-swapping
approach is counterfactual data augmentation (Lu et al., 2018, "Gender Bias in Neural Natural
Language Processing"; Zhao et al., NAACL 2018); names follow the name-substitution design of
resume audit studies (Bertrand & Mullainathan, AER 2004).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from fairslm.data._lexicon import Lexicon, as_list, combine
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["CounterfactualPerturber", "Edit", "PerturbationResult"]

# Words after which "her" is an object pronoun ("told her that", "gave her the", "saw her.")
# rather than a possessive determiner ("her patients", "her own"): determiners, prepositions,
# conjunctions, pronouns, auxiliaries and a few adverbs. Any other following word is read as the
# noun or adjective "her" qualifies. A heuristic: "gave her money" becomes "gave his money".
_OBJECT_FOLLOWERS = frozenset(
    """
    a an the this that these those some any every each no
    to in on at for from with about as by of into onto over under up down out off away back
    through after before during around since until till like without against between among
    toward towards across behind near upon via per than
    and or but nor so because when while if though although whether where who whom whose which
    what how why
    i you he she it we they me him her us them his its our their my your himself herself itself
    themselves myself yourself
    is was be been being are were am do does did has have had will would can could shall should
    may might must
    again too also now then here there today yesterday tonight tomorrow once twice not never
    always still just yet either neither both all
    """.split()
)
_WORD = re.compile(r"\w+")
# The word after "her"/"his", looking past a paired pronoun ("his/her", "his or her patients").
_FOLLOWING_WORD = re.compile(
    r"(?:\s*(?:/|\bor\b|\band\b)\s*(?:his|her|hers|him)\b)?\s+([^\W\d_]+)", re.IGNORECASE
)


class Edit(NamedTuple):
    """One replacement, located in the ORIGINAL text: ``text[start:end] == original``."""

    start: int
    end: int
    original: str
    replacement: str


@dataclass(frozen=True)
class PerturbationResult:
    """The perturbed texts and what changed in each.

    Attributes
    ----------
    original : list of str
    texts : list of str
        The counterfactual texts (equal to the original where nothing was swapped).
    changed : ndarray of bool
    edits : list of list of Edit
        Per text, the replacements in original-text coordinates.
    direction : list of str or None
        Per text, ``"male->female"`` style; ``None`` where nothing was swapped.
    """

    original: list[str]
    texts: list[str]
    changed: NDArray[np.bool_]
    edits: list[list[Edit]]
    direction: list[str | None]
    attribute: str

    @property
    def n_changed(self) -> int:
        return int(self.changed.sum())

    @property
    def n_unchanged(self) -> int:
        """Texts with nothing to swap (reported, never silently dropped)."""
        return int((~self.changed).sum())

    def __len__(self) -> int:
        return len(self.texts)

    def marked(self, i: int, *, fmt: str = "[{original}->{replacement}]") -> str:
        """Text ``i`` with every edit shown in place, e.g. ``"[He->She] is a nurse"``."""
        text, out, pos = self.original[i], [], 0
        for e in self.edits[i]:
            out.append(text[pos:e.start])
            out.append(fmt.format(original=e.original, replacement=e.replacement))
            pos = e.end
        out.append(text[pos:])
        return "".join(out)

    def directions(self) -> dict[str, int]:
        """Number of changed texts per direction."""
        return dict(Counter(d for d in self.direction if d is not None))


def _match_case(src: str, repl: str) -> str:
    if len(src) > 1 and src.isupper():
        return repl.upper()
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    return repl


def _text_seed(seed: int, text: str) -> list[int]:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return [int(seed), int.from_bytes(digest[:8], "little")]


class CounterfactualPerturber:
    """Swap the terms and names that mark a group for those of another group.

    Parameters
    ----------
    attribute : str, default "gender"
        ``"gender"`` (built-in pronouns, titles, gendered nouns and first names), ``"race"``
        (built-in first names) or any attribute described by ``terms``.
    seed : int, default 0
        Seeds the choice of replacement names (and of target groups when an attribute has more
        than two); the result for a text depends only on the seed and the text.
    terms : path, Lexicon or list of them, optional
        User term lists (CSV or YAML, see :func:`fairslm.data.load_terms`), added to the
        built-in lists of the attribute.
    names : bool, default True
        Swap first names from the built-in name lists.

    Notes
    -----
    "her" is both the object pronoun ("him") and the possessive ("his"). It is read as
    possessive when the next word (after white space, and past a paired pronoun as in "his or
    her patients" or "his/her") is not one of a small set of function
    words (determiners, prepositions, conjunctions, pronouns, auxiliaries, some adverbs), and as
    the object otherwise, including before punctuation. "his" becomes "her" before such a word
    and "hers" otherwise. A word listed in several rows maps by its first row: "Mr" -> "Ms",
    "Mrs" and "Ms" -> "Mr". Names are swapped only when capitalised, and keep their stratum:
    a gender swap of a name keeps its race list and a race swap keeps its gender list.

    Examples
    --------
    >>> p = CounterfactualPerturber()
    >>> r = p.perturb(["He said her help saved him.", "The nurse is kind."])
    >>> r.texts
    ['She said his help saved her.', 'The nurse is kind.']
    >>> r.direction, r.n_unchanged
    (['male->female', None], 1)
    """

    def __init__(
        self,
        attribute: str = "gender",
        *,
        seed: int = 0,
        terms: Any = None,
        names: bool = True,
    ) -> None:
        self.attribute = attribute
        self.seed = seed
        self.terms = terms
        self.names = names
        self._lexicon: Lexicon | None = None

    # -- the compiled lexicon ----------------------------------------------------------------
    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._compile()
        assert self._lexicon is not None
        return self._lexicon

    def _compile(self) -> None:
        lex = combine(self.attribute, self.names, as_list(self.terms))
        index: dict[str, tuple[str, str, Any]] = {}
        row_of: dict[tuple[str, str], int] = {}
        for i, row in enumerate(lex.rows):
            for g, term in row.items():
                key = term.lower()
                index.setdefault(key, ("row", g, i))
                row_of.setdefault((g, key), i)
        for g, strata in lex.names.items():
            for s, pool in strata.items():
                for name in pool:
                    index.setdefault(name.lower(), ("name", g, s))
        if not index:
            raise ConfigError(f"the term lists for {self.attribute!r} hold no terms")
        # One-word terms are found by a dictionary lookup of each word (fast); terms with spaces
        # or punctuation ("Sunday school") by one alternation, longest first.
        phrases = sorted((t for t in index if not _WORD.fullmatch(t)), key=lambda t: (-len(t), t))
        self._phrases = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in phrases) + r")(?!\w)",
                       re.IGNORECASE)
            if phrases else None
        )
        self._index = index
        self._row_of = row_of
        self._lexicon = lex

    # -- perturbation ---------------------------------------------------------------------
    def _row_replacement(self, text: str, end: int, key: str, g: str, dst: str, i: int) -> str:
        if self.attribute == "gender" and key in ("her", "his"):
            m = _FOLLOWING_WORD.match(text, end)
            possessive = m is not None and m.group(1).lower() not in _OBJECT_FOLLOWERS
            if key == "her":
                return "his" if possessive else "him"
            return "her" if possessive else "hers"
        return self.lexicon.rows[i][dst]

    def _name_replacement(self, g: str, stratum: str, dst: str, rng: np.random.Generator) -> str:
        pools = self.lexicon.names.get(dst, {})
        pool = pools.get(stratum) or tuple(n for p in pools.values() for n in p)
        if not pool:
            raise ConfigError(f"no names for group {dst!r} to replace a {g!r} name with")
        return str(pool[int(rng.integers(len(pool)))])

    def _perturb_one(self, text: str, target: str | None) -> tuple[str, list[Edit], str | None]:
        lex = self.lexicon
        hits = []
        index = self._index
        low = text.lower()
        if len(low) != len(text):  # a few characters change length when lowered
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        spans = [(m.start(), m.end()) for m in _WORD.finditer(low) if m.group(0) in index]
        if self._phrases is not None:
            covered = [(m.start(), m.end()) for m in self._phrases.finditer(text)]
            if covered:
                spans = sorted(
                    covered
                    + [(a, b) for a, b in spans if not any(c < b and a < d for c, d in covered)]
                )
        for a, b in spans:
            word = text[a:b]
            kind, g, extra = index[low[a:b]]
            if kind == "name" and not word[:1].isupper():
                continue  # "brad" or "jay" in lower case is a word, not a name
            hits.append(((a, b, word), kind, g, extra))
        if not hits:
            return text, [], None
        # The text's group: the one with most matched terms; a tie goes to the first mentioned.
        counts = Counter(g for _, _, g, _ in hits)
        first: dict[str, int] = {}
        for pos, (_, _, g, _) in enumerate(hits):
            first.setdefault(g, pos)
        src = max(counts, key=lambda g: (counts[g], -first[g]))
        rngs: list[np.random.Generator] = []

        def rng() -> np.random.Generator:  # built on first use: most texts need no draw
            if not rngs:
                rngs.append(np.random.default_rng(_text_seed(self.seed, text)))
            return rngs[0]

        mapping: dict[str, str] = {}
        for g in lex.groups:
            if target is not None:
                mapping[g] = target
            elif len(lex.groups) == 2:
                mapping[g] = lex.groups[1 - lex.groups.index(g)]
            else:
                others = [o for o in lex.groups if o != g]
                mapping[g] = others[int(rng().integers(len(others)))]
        edits: list[Edit] = []
        chosen: dict[str, str] = {}
        for (a, b, word), kind, g, extra in hits:
            dst = mapping[g]
            if dst == g:
                continue
            key = low[a:b]
            if kind == "row":
                repl = self._row_replacement(text, b, key, g, dst, self._row_of[(g, key)])
            else:
                if key not in chosen:
                    chosen[key] = self._name_replacement(g, extra, dst, rng())
                repl = chosen[key]
            repl = _match_case(word, repl)
            if repl != word:
                edits.append(Edit(a, b, word, repl))
        if not edits:
            return text, [], None
        out, pos = [], 0
        for e in edits:
            out += [text[pos:e.start], e.replacement]
            pos = e.end
        out.append(text[pos:])
        return "".join(out), edits, f"{src}->{mapping[src]}"

    def perturb(self, texts: Any, *, target: str | None = None) -> PerturbationResult:
        """Rewrite each text toward ``target`` (or, without one, swap every group's terms).

        Parameters
        ----------
        texts : str or sequence of str
        target : str, optional
            The group to rewrite toward (e.g. ``"female"``): terms of other groups become this
            group's, terms already of it stay. Without a target, with two groups every term
            becomes the other group's; with more, each group present is mapped to another
            group drawn with the seed.

        Returns
        -------
        PerturbationResult
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidDataError(
                    f"texts must be strings; item {i} is {t!r} ({type(t).__name__})"
                )
        lex = self.lexicon
        if target is not None and target not in lex.groups:
            raise ConfigError(
                f"target {target!r} is not a group of attribute {self.attribute!r}; groups are: "
                f"{', '.join(lex.groups)}"
            )
        out_texts, all_edits, directions = [], [], []
        for t in texts:
            new, edits, direction = self._perturb_one(t, target)
            out_texts.append(new)
            all_edits.append(edits)
            directions.append(direction)
        changed = np.array([bool(e) for e in all_edits], dtype=bool)
        return PerturbationResult(
            original=texts, texts=out_texts, changed=changed, edits=all_edits,
            direction=directions, attribute=self.attribute,
        )

    def __repr__(self) -> str:
        return (
            f"CounterfactualPerturber(attribute={self.attribute!r}, seed={self.seed}, "
            f"terms={self.terms!r}, names={self.names})"
        )
