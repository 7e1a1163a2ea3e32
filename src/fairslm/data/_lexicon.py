"""Term lists for counterfactual perturbation: aligned word rows and pools of names.

A :class:`Lexicon` holds, for one attribute (gender, race, religion, ...), its groups, rows of
aligned terms (``{"male": "husband", "female": "wife"}``) and pools of first names per group and
stratum (``names["female"]["black"]``). Built-in lists ship as YAML in ``data/lexicons``; users
add CSV or YAML files, and a malformed row is reported with its file and line number.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from fairslm._userfiles import read_user_text
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["Lexicon", "builtin_lexicon", "load_terms"]

_NAME_COLUMNS = {"name", "group"}


@dataclass(frozen=True)
class Lexicon:
    """Aligned terms and name pools of one attribute.

    Attributes
    ----------
    attribute : str
    groups : tuple of str
    rows : tuple of dict
        Each maps every group to its form of one word.
    names : dict
        ``names[group][stratum]`` is a tuple of first names (the stratum, e.g. race for gender
        swaps, is kept when a name is replaced).
    sources : tuple of str
        Where the lists come from, for provenance.
    """

    attribute: str
    groups: tuple[str, ...]
    rows: tuple[dict[str, str], ...] = ()
    names: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def merge(self, other: Lexicon) -> Lexicon:
        """This lexicon with ``other``'s rows and names added (same groups required)."""
        if set(other.groups) != set(self.groups):
            raise ConfigError(
                f"term list groups {list(other.groups)} do not match the groups of attribute "
                f"{self.attribute!r}: {list(self.groups)}; name the columns/groups the same"
            )
        names = {g: dict(s) for g, s in self.names.items()}
        for g, strata in other.names.items():
            for s, pool in strata.items():
                names.setdefault(g, {})[s] = tuple(dict.fromkeys(names.get(g, {}).get(s, ()) + pool))
        return Lexicon(
            self.attribute, self.groups, self.rows + other.rows, names, self.sources + other.sources
        )

    def pivot_names(self) -> Lexicon:
        """Swap the roles of group and stratum (gender-keyed names -> race-keyed names)."""
        names: dict[str, dict[str, tuple[str, ...]]] = {}
        for g, strata in self.names.items():
            for s, pool in strata.items():
                names.setdefault(s, {})[g] = pool
        return Lexicon(self.attribute, tuple(names), (), names, self.sources)


def _err(path: Path, line: int, message: str) -> InvalidDataError:
    return InvalidDataError(f"{path}, line {line}: {message}")


def _is_blank(row: list[str]) -> bool:
    return not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#")


def _load_csv(path: Path, attribute: str) -> Lexicon:
    try:
        text = read_user_text(path, what="term list")
    except OSError as exc:
        raise InvalidDataError(f"cannot read term list {path}: {exc}") from exc
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    names: dict[str, dict[str, tuple[str, ...]]] = {}
    for row in reader:
        line = reader.line_num
        if _is_blank(row):
            continue
        cells = [c.strip() for c in row]
        if header is None:
            header = [c.lower() if c.lower() in {"name", "group", "stratum"} else c for c in cells]
            if len(header) < 2 or any(not h for h in header) or len(set(header)) != len(header):
                raise _err(path, line, f"the header must name at least two distinct groups; got {cells}")
            continue
        if len(cells) != len(header):
            raise _err(
                path, line,
                f"expected {len(header)} values ({', '.join(header)}), found {len(cells)}: {row}",
            )
        empty = [h for h, c in zip(header, cells, strict=True) if not c]
        if empty:
            raise _err(path, line, f"empty value for {', '.join(empty)}; fill every column")
        if _NAME_COLUMNS <= set(header):
            rec = dict(zip(header, cells, strict=True))
            stratum = rec.get("stratum", "")
            pool = names.setdefault(rec["group"], {}).setdefault(stratum, ())
            names[rec["group"]][stratum] = (*pool, rec["name"])
        else:
            rows.append(dict(zip(header, cells, strict=True)))
    if header is None:
        raise InvalidDataError(f"term list {path} is empty; expected a header of group names")
    groups = tuple(names) if _NAME_COLUMNS <= set(header) else tuple(header)
    if len(groups) < 2:
        raise InvalidDataError(f"term list {path} names fewer than two groups: {list(groups)}")
    return Lexicon(attribute, groups, tuple(rows), names, (str(path),))


def _yaml_value(node: Any) -> Any:
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def _load_yaml(path: Path, attribute: str) -> Lexicon:
    try:
        text = read_user_text(path, what="term list")
        root = yaml.compose(text)
    except OSError as exc:
        raise InvalidDataError(f"cannot read term list {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidDataError(f"term list {path} is not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise InvalidDataError(
            f"term list {path} must be a mapping with 'groups' and 'terms' and/or 'names'"
        )
    top = {k.value: v for k, v in root.value}
    unknown = set(top) - {"attribute", "groups", "terms", "names", "source", "ambiguous"}
    if unknown:
        raise ConfigError(f"term list {path}: unknown key(s) {sorted(unknown)}; "
                          "allowed: attribute, groups, terms, names, source, ambiguous")
    groups = _yaml_value(top.get("groups"))
    if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, str) for g in groups):
        line = top["groups"].start_mark.line + 1 if "groups" in top else 1
        raise _err(path, line, f"'groups' must list at least two group names; got {groups!r}")
    rows: list[dict[str, str]] = []
    terms = top.get("terms")
    if terms is not None:
        if not isinstance(terms, yaml.SequenceNode):
            raise _err(path, terms.start_mark.line + 1, "'terms' must be a list of rows")
        for node in terms.value:
            line = node.start_mark.line + 1
            value = _yaml_value(node)
            if isinstance(value, list):
                if len(value) != len(groups):
                    raise _err(path, line, f"expected {len(groups)} terms ({', '.join(groups)}), "
                                           f"found {len(value)}: {value}")
                value = dict(zip(groups, value, strict=True))
            if not isinstance(value, dict) or set(value) != set(groups):
                raise _err(path, line, f"a row must give one term for each of {groups}; got {value!r}")
            if not all(isinstance(v, str) and v.strip() for v in value.values()):
                raise _err(path, line, f"every term must be a non-empty string; got {value!r}")
            rows.append({g: str(value[g]).strip() for g in groups})
    names: dict[str, dict[str, tuple[str, ...]]] = {}
    ambiguous = set(_yaml_value(top.get("ambiguous")) or ())
    if "names" in top:
        node = top["names"]
        value = _yaml_value(node)
        if not isinstance(value, dict):
            raise _err(path, node.start_mark.line + 1, "'names' must map each group to names")
        for g, pool in value.items():
            if g not in groups:
                raise _err(path, node.start_mark.line + 1,
                           f"names given for unknown group {g!r}; groups are {groups}")
            strata = pool if isinstance(pool, dict) else {"": pool}
            for s, lst in strata.items():
                if not isinstance(lst, list) or not all(isinstance(n, str) and n for n in lst):
                    raise _err(path, node.start_mark.line + 1,
                               f"names[{g}][{s}] must be a list of names; got {lst!r}")
                names.setdefault(g, {})[str(s)] = tuple(n for n in lst if n not in ambiguous)
    if not rows and not names:
        raise InvalidDataError(f"term list {path} has neither 'terms' nor 'names'")
    attr = str(_yaml_value(top.get("attribute")) or attribute)
    return Lexicon(attr, tuple(groups), tuple(rows), names, (str(path),))


def load_terms(path: str | Path, *, attribute: str = "custom") -> Lexicon:
    """Read a term list from a CSV or YAML file.

    CSV: a header naming the groups, then one row of aligned terms a line (``male,female`` /
    ``husband,wife``); or a header ``name,group[,stratum]`` for name pools. YAML: keys
    ``groups``, ``terms`` (rows as lists or mappings) and/or ``names`` (``group: [names]`` or
    ``group: {stratum: [names]}``). Lines starting with ``#`` are comments.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidDataError(f"term list {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return _load_csv(path, attribute)
    if suffix in (".yaml", ".yml"):
        return _load_yaml(path, attribute)
    raise InvalidDataError(f"term list {path} must be .csv or .yaml; got {suffix!r}")


@functools.cache
def _builtin(name: str) -> Lexicon:
    # Parsed once per process: the shipped lists never change and YAML parsing is slow.
    ref = resources.files("fairslm.data").joinpath("lexicons", name)
    with resources.as_file(ref) as p:
        return _load_yaml(Path(p), name)


BUILTIN_ATTRIBUTES = ("gender", "race")


def builtin_lexicon(attribute: str, *, names: bool = True) -> Lexicon | None:
    """The lexicon shipped for ``attribute`` (gender: words and names; race: names), or None."""
    if attribute == "gender":
        lex = _builtin("gender_terms.yaml")
        if names:
            lex = lex.merge(_builtin("names_bertrand_mullainathan_2004.yaml"))
        return Lexicon("gender", lex.groups, lex.rows, lex.names, lex.sources)
    if attribute == "race":
        if not names:
            return None
        lex = _builtin("names_bertrand_mullainathan_2004.yaml").pivot_names()
        return Lexicon("race", lex.groups, (), lex.names, lex.sources)
    return None


def combine(attribute: str, names: bool, terms: Iterable[Any]) -> Lexicon:
    """The built-in lexicon for ``attribute`` merged with user term lists."""
    lex = builtin_lexicon(attribute, names=names)
    for t in terms:
        user = t if isinstance(t, Lexicon) else load_terms(t, attribute=attribute)
        lex = user if lex is None else lex.merge(user)
    if lex is None:
        raise ConfigError(
            f"no built-in term list for attribute {attribute!r} (built in: "
            f"{', '.join(BUILTIN_ATTRIBUTES)}); pass terms='FILE.csv' or .yaml with its groups"
        )
    return lex


def as_list(terms: Any) -> list[Any]:
    if terms is None:
        return []
    if isinstance(terms, (str, Path, Lexicon)):
        return [terms]
    return list(terms)
