"""The audit policy: defaults, validation messages, and the audit arguments it produces."""

from __future__ import annotations

import pytest

from fairslm import ConfigError, audit_predictions
from fairslm.governance import (
    DEFAULT_POLICY_TOML,
    AuditPolicy,
    CriterionPolicy,
    load_policy,
    parse_policy,
    write_default_policy,
)


def test_default_file_is_the_guides_schedule() -> None:
    policy = parse_policy(DEFAULT_POLICY_TOML)
    assert policy == AuditPolicy()
    assert policy.threshold == 0.8 and policy.min_group_size == 30
    assert {n: c.schedule for n, c in policy.criteria.items()} == {
        "statistical_parity": ("pre-deployment", "quarterly"),
        "equal_opportunity": ("pre-deployment", "monthly"),
        "predictive_parity": ("pre-deployment", "on-data-change"),
    }
    assert "# " in DEFAULT_POLICY_TOML  # the written file explains itself


def test_init_writes_and_refuses_to_overwrite(tmp_path) -> None:
    path = write_default_policy(tmp_path / "p.toml")
    assert load_policy(path) == AuditPolicy()
    with pytest.raises(ConfigError, match=r"p.toml already exists; pass --force to overwrite"):
        write_default_policy(path)
    path.write_text("threshold = 0.9\n")
    write_default_policy(path, force=True)
    assert load_policy(path).threshold == 0.8


def test_audit_kwargs_drive_the_audit() -> None:
    policy = parse_policy(
        'threshold = 0.9\nmin_group_size = 1\nreference_group = { g = "B" }\n'
        '[criteria.equal_opportunity]\nschedule = ["monthly"]\n'
    )
    kwargs = policy.audit_kwargs()
    assert kwargs == {"threshold": 0.9, "reference_group": {"g": "B"}, "min_group_size": 1,
                      "criteria": ["equal_opportunity"]}
    res = audit_predictions([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0],
                            sensitive_features={"g": ["A"] * 3 + ["B"] * 3}, **kwargs)
    crit = res.view("g").criteria
    assert [c.name for c in crit] == ["equal_opportunity"]
    assert crit[0].reference == "B" and crit[0].threshold == 0.9


def test_per_criterion_threshold_and_hash() -> None:
    policy = parse_policy("[criteria.statistical_parity]\nthreshold = 0.9\n"
                          "[criteria.equal_opportunity]\n")
    assert policy.threshold_for("statistical_parity") == 0.9
    assert policy.threshold_for("equal_opportunity") == 0.8
    assert policy.criteria["equal_opportunity"].schedule == ("pre-deployment",)
    same = parse_policy("[criteria.statistical_parity]\nthreshold = 0.9\n"
                        "[criteria.equal_opportunity]\n")
    assert policy.policy_hash() == same.policy_hash()
    assert policy.policy_hash() != AuditPolicy().policy_hash()


def test_policy_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        AuditPolicy().threshold = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("threshold = 1.5", r"threshold: threshold must be in \(0, 1\].*got 1.5"),
        ("threshold = 0", r"threshold must be in \(0, 1\].*got 0"),
        ("[criteria.equal_opportunity]\nthreshold = -0.2",
         r"criteria.equal_opportunity.threshold: threshold must be in \(0, 1\].*got -0.2"),
        ("[criteria.statistical_parityy]",
         r"unknown criterion 'statistical_parityy'; known criteria: statistical_parity, "
         r"equal_opportunity, predictive_parity, equalized_odds, error_rate_parity"),
        ('[criteria.equal_opportunity]\nschedule = ["fortnightly"]',
         r"schedule 'fortnightly' is not understood; use 'pre-deployment', 'on-data-change', "
         r"'90d'"),
        ('[criteria.equal_opportunity]\nschedule = ["0d"]', r"schedule '0d' has a period of 0"),
        ("treshold = 0.8", r"unknown key 'treshold'; valid keys: criteria, min_group_size, .*reference_group, regimes, threshold"),
        ("[criteria.equal_opportunity]\nschedules = []",
         r"unknown key 'criteria.equal_opportunity.schedules'; valid keys in "
         r"\[criteria.equal_opportunity\]: schedule, threshold"),
        ("criteria = {}", r"the policy lists no criteria"),
        ('on_undecided = "maybe"', r"on_undecided: Input should be 'fail' or 'pass'"),
        ("min_group_size = -1", r"min_group_size: Input should be greater than or equal to 0"),
        ("threshold = ", r"is not valid TOML"),
    ],
)
def test_bad_policy_messages(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_policy(text, source="p.toml")


def test_error_names_the_file(tmp_path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("threshold = 2\n")
    with pytest.raises(ConfigError, match=r"invalid policy .*policy.toml: threshold"):
        load_policy(path)


def test_missing_policy_file_says_how_to_create_one(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; write the default one with "
                                          r"`fairslm policy init .*nope.toml`"):
        load_policy(tmp_path / "nope.toml")


def test_criterion_policy_rules_are_parsed() -> None:
    spec = CriterionPolicy(schedule=("pre-deployment", "90d", "on_data_change"))
    assert [r.kind for r in spec.rules] == ["pre-deployment", "interval", "on-data-change"]
