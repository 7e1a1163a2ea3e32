"""The history store: values kept exactly, migrations, and bad or busy files."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest

from fairslm import InvalidDataError, audit_predictions
from fairslm.governance import HISTORY_SCHEMA_VERSION, AuditPolicy, HistoryStore
from fairslm.governance import _history as history_module

# Group A: TP=2 FN=1 FP=1 TN=2 ; group B: TP=1 FN=1 FP=0 TN=2
Y_TRUE = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
GROUP = ["A"] * 6 + ["B"] * 4


def _audit(**kw):
    return audit_predictions(Y_TRUE, Y_PRED, sensitive_features={"g": GROUP}, min_group_size=1,
                             **kw)


def _with_interval(result, criterion: str, low: float, high: float):
    view = result.views[0]
    crits = tuple(
        dataclasses.replace(c, ratio_interval=(low, high)) if c.name == criterion else c
        for c in view.criteria
    )
    return dataclasses.replace(result, views=(dataclasses.replace(view, criteria=crits),))


def test_record_and_read_back_exact_values(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    res = _audit()
    policy = AuditPolicy()
    first = store.record(res, model="scr", dataset_hash="d1", policy=policy,
                         when="2025-01-31T12:00:00Z", model_fingerprint="fp1")
    second = store.record(_with_interval(res, "statistical_parity", 0.25, 0.9), model="scr",
                          dataset_hash="d2", when="2025-03-01T00:00:00Z")
    store.record(res, model="other", when="2025-02-01")
    assert (first, second) == (1, 2)
    assert store.models() == ["other", "scr"]
    records = store.audits("scr")
    assert [r.id for r in records] == [1, 2]
    r1 = records[0]
    assert (r1.model, r1.model_fingerprint, r1.dataset_hash) == ("scr", "fp1", "d1")
    assert r1.policy_hash == policy.policy_hash() and records[1].policy_hash is None
    assert r1.passed is False
    # ratios SP 0.5, EO 0.75, PP 2/3, equalized odds 0 (FPR 0 vs 1/3), error rate 0.25/(1/3)
    assert r1.failing == ("equal_opportunity", "equalized_odds", "error_rate_parity",
                          "predictive_parity", "statistical_parity")
    assert r1.recorded_at.isoformat() == "2025-01-31T12:00:00+00:00"
    assert [r.model for r in store.audits()] == ["scr", "other", "scr"]  # time order
    assert store.result(1).to_dict() == res.to_dict()

    sp = store.series("scr", "statistical_parity")
    assert list(sp["ratio"]) == pytest.approx([0.5, 0.5])
    assert list(sp["verdict"]) == ["fail", "fail"]
    # The first record keeps the audit's own (closed-form) interval, the second the one set.
    own = next(c for c in res.views[0].criteria if c.name == "statistical_parity").ratio_interval
    assert sp["ci_low"].iloc[0] == pytest.approx(own[0]) and sp["ci_low"].iloc[1] == 0.25
    assert sp["ci_high"].iloc[1] == 0.9
    assert list(sp["dataset_hash"]) == ["d1", "d2"]
    assert str(sp["time"].iloc[0]) == "2025-01-31 12:00:00+00:00"
    eo = store.series("scr", "equal_opportunity", view="g")
    assert list(eo["ratio"]) == pytest.approx([0.75, 0.75])
    assert list(eo["worst_group"]) == ["B", "B"]
    assert store.latest("scr").id == 2
    assert store.last_measured("scr", "equal_opportunity", model_fingerprint="fp1").id == 1
    assert store.last_measured("scr", "equal_opportunity", model_fingerprint="fp9") is None


def test_file_stays_one_database(tmp_path) -> None:
    path = tmp_path / "h.db"
    HistoryStore(path).record(_audit(), model="m")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT MAX(version) FROM fairslm_schema").fetchone()[0] == 3
    con.close()
    assert HistoryStore(path).integrity_check() == "ok"


def test_failed_write_leaves_nothing(tmp_path, monkeypatch) -> None:
    store = HistoryStore(tmp_path / "h.db")
    store.record(_audit(), model="m")
    original = history_module._insert_values

    def broken(con, audit_id, values):
        original(con, audit_id, values)
        raise RuntimeError("disk went away")

    monkeypatch.setattr(history_module, "_insert_values", broken)
    with pytest.raises(RuntimeError, match="disk went away"):
        store.record(_audit(), model="m")
    monkeypatch.undo()
    assert [r.id for r in store.audits()] == [1]
    con = sqlite3.connect(tmp_path / "h.db")
    assert con.execute("SELECT COUNT(*) FROM criterion_values").fetchone()[0] == 5
    con.close()


V1_SCHEMA = """
CREATE TABLE fairslm_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
INSERT INTO fairslm_schema VALUES (1, '2025-01-01T00:00:00+00:00');
CREATE TABLE audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, model TEXT NOT NULL,
    model_fingerprint TEXT, dataset_hash TEXT, policy_hash TEXT, result_json TEXT NOT NULL);
CREATE INDEX audits_by_model ON audits (model, recorded_at);
"""


def test_older_schema_is_migrated(tmp_path) -> None:
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.execute(
        "INSERT INTO audits (recorded_at, model, dataset_hash, result_json) VALUES (?, ?, ?, ?)",
        ("2025-01-31T12:00:00.000000+00:00", "scr", "d1", _audit().to_json()),
    )
    con.commit()
    con.close()
    store = HistoryStore(path)
    record = store.latest("scr")
    assert record.passed is False and record.dataset_hash == "d1"
    assert record.fairslm_version == _audit().provenance["fairslm_version"]
    assert list(store.series("scr", "statistical_parity")["ratio"]) == pytest.approx([0.5])
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT version FROM fairslm_schema")] == [1, 2, 3]
    con.close()
    assert store.record(_audit(), model="scr") == 2


def test_unreadable_old_audit_refuses_migration_and_keeps_file(tmp_path) -> None:
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.execute("INSERT INTO audits (recorded_at, model, result_json) VALUES ('t', 'm', '{}x')")
    con.commit()
    con.close()
    with pytest.raises(InvalidDataError, match=r"cannot migrate history .*v1.db from schema "
                                               r"version 1 to 2: a stored audit is unreadable"):
        HistoryStore(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT MAX(version) FROM fairslm_schema").fetchone()[0] == 1
    con.close()


def test_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "h.db"
    HistoryStore(path)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO fairslm_schema VALUES (?, 'later')", (HISTORY_SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(InvalidDataError, match=r"has schema version 4, newer than this fairslm "
                                               r"reads \(3\); upgrade fairslm"):
        HistoryStore(path)


def test_not_a_database(tmp_path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    with pytest.raises(InvalidDataError, match=r"notes.db is not a fairslm history database "
                                               r"\(SQLite: file is not a database\)"):
        HistoryStore(path)
    assert path.read_text().startswith("these are my notes")  # never modified


def test_other_sqlite_database_is_refused(tmp_path) -> None:
    path = tmp_path / "crm.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(InvalidDataError, match=r"is an SQLite database but not a fairslm history "
                                               r"\(its tables are customers\)"):
        HistoryStore(path)


def test_locked_file_message(tmp_path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path, timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(InvalidDataError, match=r"h.db is locked by another process "
                                                   r"\(waited 0.05 s\); retry when"):
            store.record(_audit(), model="m")
        assert store.audits() == []  # readers are not blocked by a writer (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.record(_audit(), model="m") == 1


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(InvalidDataError, match=r"no audit history at .*none.db; record audits "
                                               r"into it with `fairslm audit-predictions"):
        HistoryStore(tmp_path / "none.db", create=False)
    with pytest.raises(InvalidDataError, match=r"is a folder; pass a file path"):
        HistoryStore(tmp_path)


def test_model_without_audits(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    with pytest.raises(InvalidDataError, match=r"no audits recorded for model 'scr' .*the "
                                               r"history is empty\)"):
        store.latest("scr")
    store.record(_audit(), model="a")
    with pytest.raises(InvalidDataError, match=r"models with audits: a\); record one with "
                                               r"`fairslm audit-predictions .* --model scr`"):
        store.series("scr", "statistical_parity")


def test_series_unknown_criterion_or_view(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    store.record(_audit(criteria=["statistical_parity"]), model="m")
    with pytest.raises(InvalidDataError, match=r"no audit of model 'm' measured "
                                               r"'equal_opportunity'; its audits measured: "
                                               r"statistical_parity"):
        store.series("m", "equal_opportunity")
    with pytest.raises(InvalidDataError, match=r"has a view 'race'; its views are: g"):
        store.series("m", "statistical_parity", view="race")


def test_bad_model_name(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"model must be a non-empty name"):
        HistoryStore(tmp_path / "h.db").record(_audit(), model=" ")


def test_result_json_is_kept_whole(tmp_path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    store.record(_audit(), model="m")
    con = sqlite3.connect(tmp_path / "h.db")
    data = json.loads(con.execute("SELECT result_json FROM audits").fetchone()[0])
    con.close()
    assert data["kind"] == "fairslm.audit"
    with pytest.raises(InvalidDataError, match=r"no audit with id 7"):
        store.result(7)


def _bytes(path) -> dict[str, bytes]:
    """Every file of the database (main file and any -wal/-shm beside it) and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


def test_read_only_opening_never_changes_a_file(tmp_path) -> None:
    crm = tmp_path / "crm.db"
    con = sqlite3.connect(crm)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for path, message in ((crm, "not a fairslm history"), (empty, "empty file")):
        before = _bytes(path)
        with pytest.raises(InvalidDataError, match=message):
            HistoryStore(path, read_only=True)
        assert _bytes(path) == before  # no WAL switch, no schema written
    # A writer refuses the unrelated database before switching it to WAL, too.
    before = _bytes(crm)
    with pytest.raises(InvalidDataError, match="not a fairslm history"):
        HistoryStore(crm)
    assert _bytes(crm) == before


def test_read_only_reads_a_history_and_an_older_one_without_touching_them(tmp_path) -> None:
    path = tmp_path / "h.db"
    HistoryStore(path).record(_audit(), model="scr", when="2025-01-31")
    before = _bytes(path)
    store = HistoryStore(path, read_only=True)
    assert [r.model for r in store.audits()] == ["scr"]
    assert store.series("scr", "statistical_parity")["ratio"].tolist() == pytest.approx([0.5])
    with pytest.raises(InvalidDataError, match="opened read-only"):
        store.record(_audit(), model="scr")
    assert _bytes(path) == before

    old = tmp_path / "v1.db"
    con = sqlite3.connect(old)
    con.executescript(V1_SCHEMA)
    con.execute(
        "INSERT INTO audits (recorded_at, model, dataset_hash, result_json) VALUES (?, ?, ?, ?)",
        ("2025-01-31T12:00:00.000000+00:00", "scr", "d1", _audit().to_json()),
    )
    con.commit()
    con.close()
    before = _bytes(old)
    store = HistoryStore(old, read_only=True)  # migrated in memory for reading
    assert store.latest("scr").passed is False
    assert list(store.series("scr", "statistical_parity")["ratio"]) == pytest.approx([0.5])
    assert _bytes(old) == before
