"""The regimes' categories and the mapping from a data set's own values to them.

NYC's bias-audit rules (6 RCNY §5-300, "category") use the EEO-1 Component 1 categories: two
sex categories and seven race/ethnicity categories (Hispanic or Latino, then six races of
people not Hispanic or Latino). The EEOC Uniform Guidelines (29 CFR 1607.4(B)) name five race
and ethnic groups; :data:`GUIDELINES_GROUPS` maps the EEO-1 categories onto them.

A mapping file says which of the data's values is which category, one line per value. CSV::

    dimension,value,category
    sex,F,Female
    sex,M,Male
    sex,X,unknown
    race,white,White
    ethnicity,yes,Hispanic or Latino

or TOML (one table per dimension)::

    [sex]
    F = "Female"
    M = "Male"

``unknown`` (any case) marks values that say nothing about the category: such people are
counted as "unknown", never silently dropped. Missing or empty values are unknown without a
line. Values already spelled as a category (any case) need no line.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = [
    "DIMENSIONS",
    "EEO1_ETHNICITY",
    "EEO1_RACE_ETHNICITY",
    "EEO1_SEX",
    "GUIDELINES_GROUPS",
    "HISPANIC",
    "UNKNOWN",
    "CategoryMapping",
    "load_mapping",
    "race_ethnicity_categories",
]

UNKNOWN = "unknown"
HISPANIC = "Hispanic or Latino"
NOT_HISPANIC = "Not Hispanic or Latino"

# EEO-1 Component 1, sex.
EEO1_SEX: tuple[str, ...] = ("Male", "Female")
# EEO-1 Component 1, race/ethnicity: Hispanic or Latino, then races of people not Hispanic or
# Latino, in the form's order.
EEO1_RACE_ETHNICITY: tuple[str, ...] = (
    HISPANIC,
    "White",
    "Black or African American",
    "Native Hawaiian or Other Pacific Islander",
    "Asian",
    "American Indian or Alaska Native",
    "Two or More Races",
)
EEO1_ETHNICITY: tuple[str, ...] = (HISPANIC, NOT_HISPANIC)

# 29 CFR 1607.4(B): "Blacks (Negroes), American Indians (including Alaskan Natives), Asians
# (including Pacific Islanders), Hispanic ... and whites (Caucasians) other than Hispanic".
# Two or More Races did not exist in 1978; it stays its own group, reported separately.
GUIDELINES_GROUPS: dict[str, str] = {
    HISPANIC: "Hispanic",
    "White": "White (not Hispanic)",
    "Black or African American": "Black",
    "Native Hawaiian or Other Pacific Islander": "Asian (including Pacific Islanders)",
    "Asian": "Asian (including Pacific Islanders)",
    "American Indian or Alaska Native": "American Indian (including Alaskan Natives)",
    "Two or More Races": "Two or More Races",
}

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "sex": EEO1_SEX,
    "race": EEO1_RACE_ETHNICITY,
    "ethnicity": EEO1_ETHNICITY,
}
# The DCWP's examples and common forms spell some categories differently; accept those too.
_ALIASES = {
    "native hawaiian or pacific islander": "Native Hawaiian or Other Pacific Islander",
    "native american or alaska native": "American Indian or Alaska Native",
    "white (not hispanic or latino)": "White",
    "black or african american (not hispanic or latino)": "Black or African American",
    "asian (not hispanic or latino)": "Asian",
    "two or more races (not hispanic or latino)": "Two or More Races",
    "non-hispanic or latino": NOT_HISPANIC,
    "not hispanic": NOT_HISPANIC,
}


def _canonical(dimension: str, text: str) -> str | None:
    """The category ``text`` names in ``dimension`` (any case), ``unknown``, or None."""
    key = text.strip().lower()
    if key == UNKNOWN:
        return UNKNOWN
    for cat in DIMENSIONS[dimension]:
        if cat.lower() == key:
            return cat
    alias = _ALIASES.get(key)
    return alias if alias in DIMENSIONS[dimension] else None


@dataclass(frozen=True)
class CategoryMapping:
    """Which data value is which category, per dimension (``sex``, ``race``, ``ethnicity``).

    ``lines`` remembers where each entry came from (``"map.csv:4"``) for messages.

    Examples
    --------
    >>> m = CategoryMapping.from_dict({"sex": {"F": "Female", "M": "male", "?": "unknown"}})
    >>> m.categorize("sex", ["F", "M", "?", None, "Female"]).tolist()
    ['Female', 'Male', 'unknown', 'unknown', 'Female']
    """

    entries: dict[str, dict[str, str]] = field(default_factory=dict)
    lines: dict[tuple[str, str], str] = field(default_factory=dict)
    source: str = "<mapping>"
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]], *, source: str = "<mapping>",
                  lines: Mapping[tuple[str, str], str] | None = None) -> CategoryMapping:
        """Check every entry against the regime's categories and build the mapping."""
        entries: dict[str, dict[str, str]] = {}
        where = dict(lines or {})
        for dim, values in data.items():
            if dim not in DIMENSIONS:
                raise ConfigError(
                    f"{source}: unknown dimension {dim!r}; use one of {', '.join(DIMENSIONS)}"
                )
            if not isinstance(values, Mapping):
                raise ConfigError(f"{source}: [{dim}] must map data values to categories")
            out: dict[str, str] = {}
            for value, category in values.items():
                cat = _canonical(dim, str(category))
                if cat is None:
                    at = where.get((dim, str(value)), source)
                    raise ConfigError(
                        f"{at}: {dim} value {value!r} maps to {category!r}, which is not an EEO-1 "
                        f"{dim} category; use one of: {', '.join(DIMENSIONS[dim])}, or 'unknown'"
                    )
                out[str(value)] = cat
            entries[dim] = out
        return cls(entries=entries, lines=where, source=source)

    def categorize(self, dimension: str, values: Any) -> np.ndarray:
        """Each value's category in ``dimension`` (``unknown`` for missing values).

        Raises :class:`~fairslm.exceptions.InvalidDataError` naming the values that are
        neither mapped nor spelled as a category, with their counts.
        """
        col = pd.Series(values, copy=False)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        own = self.entries.get(dimension, {})
        cats: list[str] = []
        unmapped: list[tuple[str, int]] = []
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        for i, u in enumerate(uniques):
            text = str(u)
            cat = own.get(text)
            if cat is None and isinstance(u, float) and u.is_integer():
                cat = own.get(str(int(u)))  # CSV readers turn 1 into 1.0 when a column has NaN
            if cat is None:
                cat = UNKNOWN if not text.strip() else _canonical(dimension, text)
            if cat is None:
                unmapped.append((text, int(counts[i])))
                cat = UNKNOWN
            cats.append(cat)
        if unmapped:
            listed = ", ".join(f"{v!r} ({n} rows)" for v, n in unmapped[:10])
            more = f" and {len(unmapped) - 10} more" if len(unmapped) > 10 else ""
            where = (f"not in the mapping {self.source}; add" if self.entries else
                     "no mapping file was given; pass --mapping FILE (mapping=) with")
            raise InvalidDataError(
                f"{dimension} values {listed}{more} are not EEO-1 {dimension} categories and "
                f"{where} a line '{dimension},VALUE,CATEGORY' for each (categories: "
                f"{', '.join(DIMENSIONS[dimension])}, or 'unknown')"
            )
        lut = np.asarray([*cats, UNKNOWN], dtype=object)
        return lut[np.where(codes < 0, len(cats), codes)]


def load_mapping(path: str | os.PathLike[str]) -> CategoryMapping:
    """Read a mapping file: CSV (``dimension,value,category``) or TOML (a table per dimension).

    Raises :class:`~fairslm.exceptions.ConfigError` naming the file and line of an entry whose
    category is not one of the regime's.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"mapping file {p} not found; write one with lines dimension,value,category")
    if p.suffix.lower() == ".toml":
        text = p.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"mapping file {p} is not valid TOML: {exc}") from exc
        lines: dict[tuple[str, str], str] = {}
        section = None
        for no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
            elif "=" in line and section is not None and not line.startswith("#"):
                key = line.split("=", 1)[0].strip().strip('"').strip("'")
                lines[(section, key)] = f"{p}:{no}"
        return dataclasses.replace(
            CategoryMapping.from_dict(data, source=str(p), lines=lines), sha256=_digest(p))
    entries: dict[str, dict[str, str]] = {}
    lines = {}
    with p.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ConfigError(f"mapping file {p} is empty; expected a header dimension,value,category")
    header = [h.strip().lower() for h in rows[0]]
    if header != ["dimension", "value", "category"]:
        raise ConfigError(
            f"{p}:1: expected the header 'dimension,value,category'; found {','.join(rows[0])!r}"
        )
    for no, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != 3:
            raise ConfigError(f"{p}:{no}: expected 3 fields (dimension,value,category); found {len(row)}")
        dim, value, cat = (c.strip() for c in row)
        dim = dim.lower()
        if dim not in DIMENSIONS:
            raise ConfigError(f"{p}:{no}: unknown dimension {dim!r}; use one of {', '.join(DIMENSIONS)}")
        if value in entries.get(dim, {}):
            raise ConfigError(f"{p}:{no}: {dim} value {value!r} is mapped twice (also at "
                              f"{lines[(dim, value)]})")
        entries.setdefault(dim, {})[value] = cat
        lines[(dim, value)] = f"{p}:{no}"
    return dataclasses.replace(
        CategoryMapping.from_dict(entries, source=str(p), lines=lines), sha256=_digest(p))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def race_ethnicity_categories(race: np.ndarray, ethnicity: np.ndarray | None) -> np.ndarray:
    """EEO-1 race/ethnicity per person from a race category and, optionally, an ethnicity one.

    Hispanic or Latino ethnicity gives "Hispanic or Latino" whatever the race; not Hispanic
    gives the race; an unknown ethnicity leaves the person unknown unless the race column itself
    says Hispanic or Latino (EEO-1 asks ethnicity first).

    Examples
    --------
    >>> import numpy as np
    >>> race_ethnicity_categories(np.array(["White", "White", "Asian", "Hispanic or Latino"]),
    ...                           np.array(["Hispanic or Latino", "Not Hispanic or Latino",
    ...                                     "unknown", "unknown"])).tolist()
    ['Hispanic or Latino', 'White', 'unknown', 'Hispanic or Latino']
    """
    race = np.asarray(race, dtype=object)
    if ethnicity is None:
        return race
    eth = np.asarray(ethnicity, dtype=object)
    out = np.where(eth == HISPANIC, HISPANIC, race)
    return np.where((eth == UNKNOWN) & (race != HISPANIC), UNKNOWN, out)
