"""The plain-language reading of each fairness criterion, shown next to its verdict.

The four criteria and their readings follow the usual definitions: statistical parity
(demographic parity; Calders & Verwer 2010, and the four-fifths rule of the US EEOC Uniform
Guidelines, 29 CFR 1607.4(D)), equal opportunity (Hardt, Price & Srebro 2016), predictive parity
(Chouldechova 2017) and equalized odds (Hardt, Price & Srebro 2016).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CRITERIA_GUIDE", "criterion_guide", "ratio_meaning"]

CRITERIA_GUIDE: dict[str, dict[str, str]] = {
    "statistical_parity": {
        "title": "Statistical parity",
        "measures": "selection rate",
        "definition": (
            "The share of each group that receives the favourable decision (here: is selected), "
            "divided by the same share for the reference group."
        ),
        "ideal": "1.0: every group is selected at the same rate.",
        "use_case": (
            "Decisions that should not depend on group membership at all, and settings where "
            "the historical labels themselves may be biased, such as shortlisting candidates. "
            "It is the quantity the four-fifths rule of US employment law looks at."
        ),
        "risk": (
            "It ignores qualification: a model can pass by selecting unqualified members of a "
            "group, and it can fail when groups truly differ in the outcome."
        ),
        "meaning": "0.8 = the group is selected 20% less often than the reference group.",
    },
    "equal_opportunity": {
        "title": "Equal opportunity",
        "measures": "true positive rate",
        "definition": (
            "Among the people who truly merit the favourable outcome, the share that receives "
            "it (the true positive rate), divided by the same share for the reference group."
        ),
        "ideal": "1.0: qualified people are selected at the same rate in every group.",
        "use_case": (
            "When missing a qualified person is the main harm: hiring, admissions, lending to "
            "creditworthy applicants."
        ),
        "risk": (
            "It trusts the labels: if the labels record past discrimination, equal opportunity "
            "measured against them repeats it. It says nothing about false positives."
        ),
        "meaning": (
            "0.8 = qualified members of the group are selected 20% less often than qualified "
            "members of the reference group."
        ),
    },
    "predictive_parity": {
        "title": "Predictive parity",
        "measures": "precision (positive predictive value)",
        "definition": (
            "Among the people the model selects, the share that truly merit it (precision), "
            "divided by the same share for the reference group."
        ),
        "ideal": "1.0: a favourable decision is equally reliable for every group.",
        "use_case": (
            "When people act on the model's positive decisions and those decisions must mean "
            "the same thing for everyone, such as risk scores."
        ),
        "risk": (
            "When base rates differ between groups it cannot hold together with equal error "
            "rates (Chouldechova 2017); like equal opportunity it trusts the labels."
        ),
        "meaning": (
            "0.8 = a favourable decision for the group is correct 20% less often than for the "
            "reference group."
        ),
    },
    "equalized_odds": {
        "title": "Equalized odds",
        "measures": "true and false positive rates",
        "definition": (
            "Both the true positive rate and the false positive rate compared with the "
            "reference group; the reported ratio is the worse of the two."
        ),
        "ideal": "1.0: both kinds of error are equally common in every group.",
        "use_case": (
            "When both errors harm people: screening, fraud flags, content moderation."
        ),
        "risk": (
            "The strictest of the four: meeting it often costs accuracy, and it trusts the "
            "labels."
        ),
        "meaning": (
            "0.8 = on the worse of its two error rates, the group is treated 20% differently "
            "from the reference group."
        ),
    },
}


def criterion_guide(name: str) -> dict[str, str]:
    """The reading of criterion ``name`` (a generic one for criteria not in the guide)."""
    if name in CRITERIA_GUIDE:
        return CRITERIA_GUIDE[name]
    title = name.replace("_", " ").capitalize()
    return {
        "title": title,
        "measures": name,
        "definition": f"{title}: the group's value divided by the reference group's value.",
        "ideal": "1.0",
        "use_case": "",
        "risk": "",
        "meaning": "0.8 = the group's value is 20% lower than the reference group's.",
    }


def ratio_meaning(name: str, ratio: Any) -> str:
    """One sentence saying what ``ratio`` means for criterion ``name``.

    Examples
    --------
    >>> ratio_meaning("statistical_parity", 0.75)
    'The worst group is selected 25% less often than the reference group.'
    >>> ratio_meaning("statistical_parity", None)
    'The ratio is undefined: see the per-group table for the reason.'
    """
    if ratio is None or ratio != ratio:
        return "The ratio is undefined: see the per-group table for the reason."
    r = float(ratio)
    pct = round(abs(1.0 - r) * 100)
    less = "less" if r < 1 else "more"
    subject = {
        "statistical_parity": f"The worst group is selected {pct}% {less} often",
        "equal_opportunity": f"Qualified members of the worst group are selected {pct}% {less} often",
        "predictive_parity": f"A favourable decision for the worst group is correct {pct}% {less} often",
        "equalized_odds": f"On its worse error rate, the worst group differs by {pct}%",
    }.get(name, f"The worst group's value differs by {pct}%")
    if pct == 0:
        return "The worst group and the reference group are treated alike (ratio 1.0)."
    return f"{subject} than the reference group."
