"""A seeded synthetic hiring corpus with known bias, used by the demo and the tests.

Each row is a short candidate profile for one role (data analyst). A latent qualification
drives the skills and experience the text mentions; gender, race/ethnicity and age band are
signalled the way real profiles signal them (first names and surnames, pronouns, affinity
groups, graduation years). The historical ``hired`` label under-selects qualified members of
some groups (labeling bias) and some groups are rarer than others (representation bias); both
strengths come from :class:`HiringCorpusConfig`. Because the true qualification is kept in
``qualified``, a model can be scored against the unbiased truth as well as the biased labels.

Name sources
------------
- White and African-American first names and surnames: M. Bertrand and S. Mullainathan (2004),
  "Are Emily and Greg More Employable than Lakisha and Jamal? A Field Experiment on Labor
  Market Discrimination", American Economic Review 94(4), Table A1.
- Hispanic and Asian first names: K. Tzioumis (2018), "Demographic aspects of first names",
  Scientific Data 5:180025 (names with a high share of the group in mortgage records).
- Hispanic and Asian surnames: J. Comenetz (2016), "Frequently Occurring Surnames in the 2010
  Census", US Census Bureau (surnames with a high share of the group).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, ValidationError, model_validator

from fairslm._config import FrozenModel, config_error
from fairslm.exceptions import ConfigError

__all__ = ["HIRING_COLUMNS", "HiringCorpusConfig", "make_hiring_corpus"]

HIRING_COLUMNS = ("text", "hired", "qualified", "gender", "race", "age_band", "split")

_FIRST_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    # Bertrand & Mullainathan (2004), Table A1.
    ("female", "white"): ("Allison", "Anne", "Carrie", "Emily", "Jill", "Laurie", "Kristen",
                          "Meredith", "Sarah"),
    ("male", "white"): ("Brad", "Brendan", "Geoffrey", "Greg", "Brett", "Jay", "Matthew",
                        "Neil", "Todd"),
    ("female", "black"): ("Aisha", "Ebony", "Keisha", "Kenya", "Lakisha", "Latonya", "Latoya",
                          "Tamika", "Tanisha"),
    ("male", "black"): ("Darnell", "Hakim", "Jamal", "Jermaine", "Kareem", "Leroy", "Rasheed",
                        "Tremayne", "Tyrone"),
    # Tzioumis (2018).
    ("female", "hispanic"): ("Alejandra", "Guadalupe", "Yesenia", "Marisol", "Araceli"),
    ("male", "hispanic"): ("Alejandro", "Jose", "Juan", "Jesus", "Francisco"),
    ("female", "asian"): ("Mei", "Thuy", "Hui", "Jing", "Yan"),
    ("male", "asian"): ("Hung", "Wei", "Jun", "Minh", "Vinh"),
}
_SURNAMES: dict[str, tuple[str, ...]] = {
    # Bertrand & Mullainathan (2004), Table A1.
    "white": ("Baker", "Kelly", "McCarthy", "Murphy", "Murray", "O'Brien", "Ryan", "Sullivan",
              "Walsh"),
    "black": ("Jackson", "Jones", "Robinson", "Washington", "Williams"),
    # Comenetz (2016).
    "hispanic": ("Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez"),
    "asian": ("Nguyen", "Kim", "Chen", "Wang", "Tran", "Le"),
}
_PRONOUNS = {"female": ("She", "her"), "male": ("He", "his")}
_GENDER_AFFINITY = {"female": ("Women in Data", "the Society of Women Engineers")}
_RACE_AFFINITY = {
    "black": ("the National Society of Black Engineers", "Black Data Professionals"),
    "hispanic": ("the Society of Hispanic Professional Engineers", "Latinas in Tech"),
    "asian": ("the Asian American Professionals Network", "the Asian Data Society"),
}
_HBCU = ("Howard University", "Spelman College", "Morehouse College")
_OTHER_SCHOOLS = ("State University", "the University of Michigan", "Ohio State",
                  "a community college", "the University of Texas", "Rutgers")

_GOOD_SKILLS = ("SQL", "Python", "Tableau", "statistics", "A/B testing", "dashboard design",
                "data modelling", "Excel pivot tables")
_WEAK_SKILLS = ("customer service", "filing", "event planning", "cash handling",
                "social media posting", "scheduling")
_GOOD_CERTS = ("a Google Data Analytics certificate", "a Microsoft Power BI certification")

_TEMPLATES = (
    "{name} is applying for the data analyst role. {P} has {years} of experience in {field}. "
    "Skills: {skills}. {extra}",
    "{name}, {edu}. {P} worked {years} in {field} and lists {skills}. {extra}",
    "Candidate {name} brings {years} in {field}. {P} lists {skills}. {extra} {edu_s}",
    "{name} graduated in {grad}. {P} spent {years} in {field}; {p} skills include {skills}. "
    "{extra}",
    "Data analyst applicant: {name}. {P} has {years} of {field} experience; {p} key skills are "
    "{skills}. {extra} Class of {grad}.",
)
_FIELDS_GOOD = ("retail analytics", "marketing analytics", "business intelligence",
                "financial reporting")
_FIELDS_WEAK = ("hospitality", "retail sales", "office administration", "warehouse operations")

_REFERENCE_YEAR = 2024


class HiringCorpusConfig(FrozenModel):
    """Strengths of the biases planted in the synthetic hiring corpus.

    Frozen; an unknown key is an error naming it.

    Parameters
    ----------
    gender_shares, race_shares, age_shares : dict
        Share of each group (representation bias); each must sum to 1.
    label_bias : dict
        ``{feature: {group: p}}``: a qualified member of ``group`` is *not* hired with
        probability ``p`` (labeling bias). Probabilities from several features combine as
        independent chances of being passed over.
    qualified_rate : float
        Share of truly qualified candidates, the same in every group.
    affinity_rate : float
        Chance that a profile names an affinity group of the candidate's gender or race.
    label_noise : float
        Chance that a qualification signal in the text is misleading (a qualified candidate
        written up like an unqualified one, or the reverse).
    splits : dict
        Split name -> share of rows.
    """

    gender_shares: dict[str, float] = Field(default_factory=lambda: {"male": 0.62, "female": 0.38})
    race_shares: dict[str, float] = Field(
        default_factory=lambda: {"white": 0.55, "black": 0.2, "hispanic": 0.15, "asian": 0.10}
    )
    age_shares: dict[str, float] = Field(
        default_factory=lambda: {"under_40": 0.7, "40_and_over": 0.3}
    )
    label_bias: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "gender": {"female": 0.7},
            "race": {"black": 0.65, "hispanic": 0.55},
            "age_band": {"40_and_over": 0.55},
        }
    )
    qualified_rate: float = Field(default=0.5, gt=0.0, lt=1.0)
    affinity_rate: float = Field(default=0.35, ge=0.0, le=1.0)
    label_noise: float = Field(default=0.05, ge=0.0, lt=0.5)
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.6, "validation": 0.2, "test": 0.2}
    )

    @model_validator(mode="after")
    def _check(self) -> HiringCorpusConfig:
        known = {
            "gender": set(_PRONOUNS),
            "race": set(_SURNAMES),
            "age_band": {"under_40", "40_and_over"},
        }
        for name, shares, feature in (
            ("gender_shares", self.gender_shares, "gender"),
            ("race_shares", self.race_shares, "race"),
            ("age_shares", self.age_shares, "age_band"),
            ("splits", self.splits, None),
        ):
            if not shares or any(v < 0 for v in shares.values()):
                raise ValueError(f"{name} must be non-empty with non-negative shares")
            if abs(sum(shares.values()) - 1.0) > 1e-6:
                raise ValueError(f"{name} must sum to 1; they sum to {sum(shares.values()):g}")
            if feature is not None:
                unknown = set(shares) - known[feature]
                if unknown:
                    raise ValueError(
                        f"{name} has unknown groups {sorted(unknown)}; known: {sorted(known[feature])}"
                    )
        for feature, groups in self.label_bias.items():
            if feature not in known:
                raise ValueError(
                    f"label_bias names unknown feature {feature!r}; known: {sorted(known)}"
                )
            for g, p in groups.items():
                if g not in known[feature]:
                    raise ValueError(
                        f"label_bias[{feature!r}] names unknown group {g!r}; "
                        f"known: {sorted(known[feature])}"
                    )
                if not 0.0 <= p <= 1.0:
                    raise ValueError(f"label_bias[{feature!r}][{g!r}] must be in [0, 1]; got {p}")
        return self


def _draw(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=list(shares.values()))]


def _profile(rng: np.random.Generator, gender: str, race: str, age_band: str, strong: bool,
             affinity_rate: float) -> str:
    first = _FIRST_NAMES[(gender, race)]
    name = f"{first[rng.integers(len(first))]} {_SURNAMES[race][rng.integers(len(_SURNAMES[race]))]}"
    if strong:
        skills = list(rng.choice(_GOOD_SKILLS, size=int(rng.integers(2, 4)), replace=False))
        field = _FIELDS_GOOD[rng.integers(len(_FIELDS_GOOD))]
        years = int(rng.integers(3, 10))
    else:
        skills = list(rng.choice(_WEAK_SKILLS, size=2, replace=False))
        if rng.random() < 0.4:
            skills.append(_GOOD_SKILLS[rng.integers(len(_GOOD_SKILLS))])
        field = _FIELDS_WEAK[rng.integers(len(_FIELDS_WEAK))]
        years = int(rng.integers(0, 4))
    age = int(rng.integers(41, 60)) if age_band == "40_and_over" else int(rng.integers(23, 39))
    age = max(age, 23 + years)  # graduated (at 22) before the experience began
    grad = _REFERENCE_YEAR - age + 22
    extra: list[str] = []
    if strong and rng.random() < 0.5:
        extra.append(f"Holds {_GOOD_CERTS[rng.integers(len(_GOOD_CERTS))]}.")
    aff = list(_GENDER_AFFINITY.get(gender, ())) + list(_RACE_AFFINITY.get(race, ()))
    if aff and rng.random() < affinity_rate:
        extra.append(f"Member of {aff[rng.integers(len(aff))]}.")
    school = (
        _HBCU[rng.integers(len(_HBCU))]
        if race == "black" and rng.random() < 0.3
        else _OTHER_SCHOOLS[rng.integers(len(_OTHER_SCHOOLS))]
    )
    big, small = _PRONOUNS[gender]
    template = _TEMPLATES[rng.integers(len(_TEMPLATES))]
    text = template.format(
        name=name, P=big, p=small, years=f"{years} year{'' if years == 1 else 's'}", field=field,
        skills=", ".join(skills),
        extra=" ".join(extra), grad=grad, edu=f"{school} class of {grad}",
        edu_s=f"Studied at {school} (class of {grad}).",
    )
    return " ".join(text.split())


def make_hiring_corpus(
    n: int = 2000,
    *,
    seed: int = 0,
    config: HiringCorpusConfig | dict[str, Any] | None = None,
) -> Any:
    """Generate the synthetic hiring corpus as a pandas DataFrame.

    Parameters
    ----------
    n : int, default 2000
        Number of candidate profiles.
    seed : int, default 0
        Seed of the generator; the same ``(n, seed, config)`` always gives the same rows.
    config : HiringCorpusConfig or dict, optional
        Group shares, bias strengths and splits.

    Returns
    -------
    pandas.DataFrame
        Columns ``text, hired, qualified, gender, race, age_band, split``. ``hired`` is the
        biased historical decision, ``qualified`` the true qualification (both 0/1).

    Examples
    --------
    >>> df = make_hiring_corpus(200, seed=1)
    >>> list(df.columns)
    ['text', 'hired', 'qualified', 'gender', 'race', 'age_band', 'split']
    >>> bool((df["hired"] <= df["qualified"]).all())  # only the qualified were ever hired
    True
    """
    import pandas as pd

    if isinstance(config, dict):
        try:
            config = HiringCorpusConfig(**config)
        except ValidationError as exc:
            raise config_error(exc, HiringCorpusConfig, what="hiring corpus config") from None
    cfg = config or HiringCorpusConfig()
    if int(n) < 1:
        raise ConfigError(f"n must be a positive number of rows; got {n}")
    n = int(n)
    rng = np.random.default_rng(seed)
    gender = _draw(rng, cfg.gender_shares, n)
    race = _draw(rng, cfg.race_shares, n)
    age = _draw(rng, cfg.age_shares, n)
    qualified = (rng.random(n) < cfg.qualified_rate).astype(np.int64)
    # A profile's wording usually follows the true qualification; label_noise flips it.
    strong = np.where(rng.random(n) < cfg.label_noise, 1 - qualified, qualified).astype(bool)
    keep = np.ones(n)
    feats = {"gender": gender, "race": race, "age_band": age}
    for feature, groups in cfg.label_bias.items():
        for g, p in groups.items():
            keep = keep * np.where(feats[feature] == g, 1.0 - p, 1.0)
    hired = (qualified.astype(bool) & (rng.random(n) < keep)).astype(np.int64)
    texts = [
        _profile(rng, gender[i], race[i], age[i], bool(strong[i]), cfg.affinity_rate)
        for i in range(n)
    ]
    split = _draw(rng, cfg.splits, n)
    return pd.DataFrame(
        {
            "text": texts,
            "hired": hired,
            "qualified": qualified,
            "gender": gender.astype(str),
            "race": race.astype(str),
            "age_band": age.astype(str),
            "split": split.astype(str),
        }
    )
