"""What is due, at injected times: exact schedule boundaries, data changes, new versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fairslm import ConfigError, InvalidDataError, audit_predictions
from fairslm.governance import HistoryStore, due, file_sha256, parse_policy


def _audit(criteria=None):
    return audit_predictions([1, 0, 1, 0], [1, 0, 1, 0], sensitive_features=["a", "a", "b", "b"],
                             min_group_size=1, criteria=criteria)


def _policy(schedule: str, criterion: str = "equal_opportunity"):
    return parse_policy(f"[criteria.{criterion}]\nschedule = {schedule}\n")


def _status(report):
    return [(i.criterion, i.rule, i.status) for i in report.items]


@pytest.fixture
def store(tmp_path):
    return HistoryStore(tmp_path / "h.db")


@pytest.mark.parametrize(
    ("last", "rule", "just_before", "due_at"),
    [
        ("2025-01-31T12:00:00", "monthly", "2025-02-28T11:59:59", "2025-02-28T12:00:00"),
        ("2024-01-31T12:00:00", "1m", "2024-02-29T11:59:59", "2024-02-29T12:00:00"),  # leap
        ("2024-11-30T00:00:00", "quarterly", "2025-02-27T23:59:59", "2025-02-28T00:00:00"),
        ("2024-02-29T08:00:00", "yearly", "2025-02-28T07:59:59", "2025-02-28T08:00:00"),
        ("2025-01-01T00:00:00", "90d", "2025-03-31T23:59:59", "2025-04-01T00:00:00"),
        ("2025-01-01T00:00:00", "2w", "2025-01-14T23:59:59", "2025-01-15T00:00:00"),
    ],
)
def test_interval_due_exactly_at_the_boundary(store, last, rule, just_before, due_at) -> None:
    store.record(_audit(), model="m", when=last)
    policy = _policy(f'["{rule}"]')
    before = due(policy, store, model="m", now=just_before)
    assert not before.any_due
    assert before.items[0].due_at == datetime.fromisoformat(due_at).replace(tzinfo=UTC)
    at = due(policy, store, model="m", now=due_at)
    assert _status(at) == [("equal_opportunity", at.items[0].rule, "due")]
    assert at.items[0].reason.startswith(f"overdue since {due_at[:10]} (0 days)")


def test_latest_audit_of_the_criterion_resets_the_clock(store) -> None:
    policy = parse_policy('[criteria.statistical_parity]\nschedule = ["monthly"]\n'
                          '[criteria.equal_opportunity]\nschedule = ["monthly"]\n')
    store.record(_audit(), model="m", when="2025-01-10")
    # a later audit that measured statistical parity only
    store.record(_audit(["statistical_parity"]), model="m", when="2025-02-05")
    report = due(policy, store, model="m", now="2025-02-20")
    assert _status(report) == [("statistical_parity", "every 1 month", "ok"),
                               ("equal_opportunity", "every 1 month", "due")]
    assert report.items[0].reason == "next due 2025-03-05"
    assert report.items[1].reason == "overdue since 2025-02-10 (10 days); last audit 2025-01-10"


def test_never_audited_model_has_everything_due(store) -> None:
    store.record(_audit(), model="other", when="2025-01-01")
    report = due(parse_policy(""), store, model="new", now="2025-01-02")
    assert [i.status for i in report.items] == ["due"] * 6
    assert {i.reason for i in report.items} == {"never audited for this model", "never audited"}


def test_default_policy_checks_every_model(store) -> None:
    store.record(_audit(), model="a", when="2025-01-01", dataset_hash="h1")
    store.record(_audit(), model="b", when="2025-03-01", dataset_hash="h1")
    report = due(parse_policy(""), store, dataset_hash="h1", now="2025-03-15")
    # a: quarterly due Apr 1 (ok), monthly due Feb 1 (due); b: monthly due Apr 1 (ok)
    assert [(i.model, i.criterion, i.rule) for i in report.due] == [
        ("a", "equal_opportunity", "every 1 month")
    ]
    assert len(report.items) == 2 * 6
    assert report.to_dicts()[0]["last_audit"] == "2025-01-01T00:00:00+00:00"


def test_data_change(store, tmp_path) -> None:
    policy = _policy('["on-data-change"]', "predictive_parity")
    store.record(_audit(), model="m", when="2025-01-01", dataset_hash="aaaaaaaaaaaaaaaa")
    same = due(policy, store, model="m", dataset_hash="aaaaaaaaaaaaaaaa", now="2026-01-01")
    assert _status(same) == [("predictive_parity", "on-data-change", "ok")]
    changed = due(policy, store, model="m", dataset_hash="bbbbbbbbbbbbbbbb", now="2025-01-02")
    assert changed.any_due
    assert changed.items[0].reason == (
        "data changed since the audit of 2025-01-01 (aaaaaaaaaaaa -> bbbbbbbbbbbb)"
    )
    unknown = due(policy, store, model="m", now="2025-01-02")
    assert _status(unknown) == [("predictive_parity", "on-data-change", "unknown")]
    assert not unknown.any_due
    data = tmp_path / "data.csv"
    data.write_bytes(b"text,label\nx,1\n")
    # SHA-256 of those 15 bytes, computed once with `sha256sum`
    assert file_sha256(data) == "daef1dfe24e7a7bcac3625035177508295754744f8596eecd9fe0f685d9593f8"
    by_file = due(policy, store, model="m", data=data, now="2025-01-02")
    assert by_file.any_due


def test_data_change_without_recorded_hash(store) -> None:
    store.record(_audit(), model="m", when="2025-01-01")
    report = due(_policy('["on-data-change"]'), store, model="m", dataset_hash="x",
                 now="2025-01-02")
    assert report.items[0].reason == "the audit of 2025-01-01 recorded no dataset hash"
    assert report.any_due


def test_pre_deployment_per_model_version(store) -> None:
    policy = _policy('["pre-deployment"]')
    store.record(_audit(), model="m", when="2025-01-01", model_fingerprint="v1")
    assert not due(policy, store, model="m", now="2030-01-01").any_due
    assert not due(policy, store, model="m", model_fingerprint="v1", now="2030-01-01").any_due
    v2 = due(policy, store, model="m", model_fingerprint="v2", now="2025-01-02")
    assert v2.items[0].reason == "never audited for model version v2"


def test_bad_input(store, tmp_path) -> None:
    with pytest.raises(ConfigError, match="pass either a dataset hash or a data file"):
        due(parse_policy(""), store, dataset_hash="x", data=tmp_path / "d.csv")
    with pytest.raises(InvalidDataError, match=r"has no audits yet; pass --model NAME"):
        due(parse_policy(""), store)
    with pytest.raises(InvalidDataError, match=r"data file .*missing.csv does not exist"):
        due(parse_policy(""), store, model="m", data=tmp_path / "missing.csv")
    with pytest.raises(InvalidDataError, match=r"no audit history at .*nothing.db"):
        due(parse_policy(""), tmp_path / "nothing.db", model="m")
    with pytest.raises(ConfigError, match=r"time 'soon' is not an ISO 8601"):
        due(parse_policy(""), store, model="m", now="soon")
