"""The history of audits: one embedded SQLite file, appended to by every recorded audit.

Why SQLite (standard library) rather than DuckDB: several audit jobs may record into the same
file at once, from different processes. SQLite serialises writers across processes with file
locks and a busy timeout, so a second writer waits its turn; DuckDB lets only one process open a
file for writing at a time, so a second audit would fail instead of waiting. Every write is one
transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a writer killed half-way leaves nothing
behind, and the write-ahead log (WAL) lets readers go on while an audit is being recorded. WAL
needs a local file system (not NFS/SMB), as SQLite documents.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fairslm.audit import AuditResult
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.governance._policy import AuditPolicy
from fairslm.governance._schedule import as_utc

__all__ = ["DEFAULT_HISTORY_PATH", "HISTORY_SCHEMA_VERSION", "AuditRecord", "HistoryStore"]

DEFAULT_HISTORY_PATH = Path("fairslm-history.db")
HISTORY_SCHEMA_VERSION = 3
# Long enough for another audit's commit (milliseconds) under heavy load, short enough that a
# stuck writer is reported within a CI step.
_DEFAULT_TIMEOUT_S = 30.0

_SCHEMA_TABLE = "fairslm_schema"


# -- migrations: each step brings the file from version n-1 to n inside one transaction --------
def _to_v1(con: sqlite3.Connection) -> None:
    con.execute(
        """CREATE TABLE audits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at TEXT NOT NULL,
            model TEXT NOT NULL,
            model_fingerprint TEXT,
            dataset_hash TEXT,
            policy_hash TEXT,
            result_json TEXT NOT NULL
        )"""
    )
    con.execute("CREATE INDEX audits_by_model ON audits (model, recorded_at)")


def _to_v2(con: sqlite3.Connection) -> None:
    # Version 2 keeps the policy itself and one row per criterion value, for trends and `due`.
    con.execute("ALTER TABLE audits ADD COLUMN policy_json TEXT")
    con.execute("ALTER TABLE audits ADD COLUMN passed INTEGER")
    con.execute("ALTER TABLE audits ADD COLUMN fairslm_version TEXT")
    con.execute(
        """CREATE TABLE criterion_values (
            audit_id INTEGER NOT NULL REFERENCES audits (id),
            view_index INTEGER NOT NULL,
            view TEXT NOT NULL,
            class_label TEXT,
            criterion TEXT NOT NULL,
            ratio REAL,
            difference REAL,
            ci_low REAL,
            ci_high REAL,
            threshold REAL,
            verdict TEXT NOT NULL,
            reference TEXT,
            worst_group TEXT,
            failing_groups TEXT NOT NULL
        )"""
    )
    con.execute("CREATE INDEX criterion_values_by_audit ON criterion_values (audit_id, criterion)")
    rows = con.execute("SELECT id, result_json FROM audits").fetchall()
    for audit_id, text in rows:
        data = json.loads(text)
        values = _criterion_rows(data)
        con.execute(
            "UPDATE audits SET passed = ?, fairslm_version = ? WHERE id = ?",
            (_passed(values), data.get("provenance", {}).get("fairslm_version"), audit_id),
        )
        _insert_values(con, audit_id, values)


def _to_v3(con: sqlite3.Connection) -> None:
    # Version 3 keeps regime bias audits (NYC Local Law 144, EEOC), dated by the audit itself.
    con.execute(
        """CREATE TABLE regime_audits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at TEXT NOT NULL,
            model TEXT NOT NULL,
            regime TEXT NOT NULL,
            audit_date TEXT,
            dataset_hash TEXT,
            result_json TEXT NOT NULL
        )"""
    )
    con.execute("CREATE INDEX regime_audits_by_model ON regime_audits (model, regime, audit_date)")


_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _to_v1, 2: _to_v2, 3: _to_v3}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _criterion_rows(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One row per (view, criterion) from an audit's JSON form."""
    rows = []
    for index, view in enumerate(data.get("views", [])):
        for c in view.get("criteria", []):
            interval = c.get("ratio_interval") or (None, None)
            rows.append(
                (
                    index, view["name"], view.get("label"), c["name"], _num(c.get("ratio")),
                    _num(c.get("difference")), _num(interval[0]), _num(interval[1]),
                    _num(c.get("threshold")), c["verdict"], c.get("reference"),
                    c.get("worst_group"), json.dumps(list(c.get("failing_groups", []))),
                )
            )
    return rows


def _passed(values: list[tuple[Any, ...]]) -> int | None:
    """1 pass, 0 fail, NULL when no criterion could be judged (the verdict "insufficient")."""
    verdicts = {row[9] for row in values}
    if "fail" in verdicts:
        return 0
    return 1 if "pass" in verdicts else None


def _insert_audit(con: sqlite3.Connection, row: tuple[Any, ...]) -> int:
    cur = con.execute(
        """INSERT INTO audits (recorded_at, model, model_fingerprint, dataset_hash, policy_hash,
               policy_json, passed, fairslm_version, result_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        row,
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def _insert_values(con: sqlite3.Connection, audit_id: int, values: list[tuple[Any, ...]]) -> None:
    con.executemany(
        """INSERT INTO criterion_values (audit_id, view_index, view, class_label, criterion,
               ratio, difference, ci_low, ci_high, threshold, verdict, reference, worst_group,
               failing_groups)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [(audit_id, *v) for v in values],
    )


@dataclass(frozen=True)
class AuditRecord:
    """One recorded audit, without its full result (see :meth:`HistoryStore.result`)."""

    id: int
    recorded_at: datetime
    model: str
    model_fingerprint: str | None
    dataset_hash: str | None
    policy_hash: str | None
    passed: bool | None  # None: no criterion could be judged
    failing: tuple[str, ...]
    fairslm_version: str | None

    @property
    def verdict(self) -> str:
        """``"pass"``, ``"fail"`` or ``"insufficient"`` (no criterion could be judged)."""
        return "insufficient" if self.passed is None else ("pass" if self.passed else "fail")


class HistoryStore:
    """An append-only history of audits in one SQLite file.

    Parameters
    ----------
    path : path-like
        The database file; created (with its folder) when missing unless ``create=False``.
    create : bool, default True
        Whether a missing file may be created.
    read_only : bool, default False
        Open for reading only: the file is never changed (no schema, no migration, no switch
        to WAL). A history written by an older fairslm is migrated in a private in-memory copy.
        Read-only commands (``history``, ``due``, ``gate``) pass True.
    timeout : float, default 30
        Seconds to wait for another process's write before giving up.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> from fairslm import audit_predictions
    >>> res = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
    ...                         min_group_size=1)
    >>> store = HistoryStore(pathlib.Path(tmp.name) / "history.db")
    >>> store.record(res, model="screener", dataset_hash="abc", when="2026-01-31")
    1
    >>> store.series("screener", "equal_opportunity")[["ratio", "verdict"]].to_dict("records")
    [{'ratio': 0.0, 'verdict': 'fail'}]
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_HISTORY_PATH,
        *,
        create: bool = True,
        read_only: bool = False,
        timeout: float = _DEFAULT_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self.timeout = float(timeout)
        self.read_only = bool(read_only)
        self._memory: sqlite3.Connection | None = None
        if not self.path.exists():
            if not create or read_only:
                raise InvalidDataError(
                    f"no audit history at {self.path}; record audits into it with "
                    f"`fairslm audit-predictions ... --history {self.path} --model NAME`"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise InvalidDataError(f"history path {self.path} is a folder; pass a file path")
        if read_only:
            self._open_read_only()
        else:
            self._prepare()

    # -- connections --------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are opened and closed explicitly below.
        if self.read_only:
            # mode=ro: SQLite itself refuses every write, so reading cannot change the file.
            # With no -wal file beside it no writer is at work, and immutable=1 keeps SQLite
            # from creating the -wal/-shm files a read-only reader could not remove again.
            idle = not Path(f"{self.path}-wal").exists()
            uri = f"{self.path.resolve().as_uri()}?mode=ro{'&immutable=1' if idle else ''}"
            con = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
        else:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return con

    def _translate(self, exc: sqlite3.Error) -> Exception:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return InvalidDataError(
                f"history {self.path} is locked by another process (waited {self.timeout:g} s); "
                "retry when the other audit has finished"
            )
        if "not a database" in text or "malformed" in text or "encrypted" in text:
            return InvalidDataError(
                f"{self.path} is not a fairslm history database (SQLite: {text}); pass the "
                "history file fairslm wrote, or a new path to start one"
            )
        return InvalidDataError(f"cannot use history {self.path}: {text}")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if self._memory is not None:
            yield self._memory
            return
        try:
            with closing(self._connect()) as con:
                yield con
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, taken with the write lock up front so writers queue, not deadlock."""
        if self.read_only:
            raise InvalidDataError(
                f"history {self.path} was opened read-only; open it with read_only=False to record"
            )
        try:
            with closing(self._connect()) as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def _version(self, con: sqlite3.Connection) -> int:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if _SCHEMA_TABLE in tables:
            row = con.execute(f"SELECT MAX(version) FROM {_SCHEMA_TABLE}").fetchone()
            return int(row[0] or 0)
        user_tables = sorted(t for t in tables if not t.startswith("sqlite_"))
        if user_tables:
            raise InvalidDataError(
                f"{self.path} is an SQLite database but not a fairslm history (its tables are "
                f"{', '.join(user_tables)}); pass another path for the history"
            )
        return 0

    def _enable_wal(self, con: sqlite3.Connection) -> None:
        """Switch a new file to WAL. The switch needs the file to itself and SQLite answers
        "locked" at once, without its busy handler, when another process is opening the same
        new file; so wait for that here, up to the store's timeout."""
        deadline = time.monotonic() + self.timeout
        while con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            try:
                con.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_newer(self, version: int) -> None:
        if version > HISTORY_SCHEMA_VERSION:
            raise InvalidDataError(
                f"history {self.path} has schema version {version}, newer than this fairslm "
                f"reads ({HISTORY_SCHEMA_VERSION}); upgrade fairslm to use it"
            )

    def _open_read_only(self) -> None:
        if self.path.stat().st_size == 0:
            raise InvalidDataError(
                f"{self.path} is an empty file, not a fairslm history; pass the history file "
                f"fairslm wrote (`fairslm audit-predictions ... --history FILE --model NAME` "
                "records into one)"
            )
        with self._read() as con:
            version = self._version(con)
        self._check_newer(version)
        if version == 0:
            raise InvalidDataError(
                f"{self.path} is an SQLite database with no tables, not a fairslm history; pass "
                "the history file fairslm wrote"
            )
        if version == HISTORY_SCHEMA_VERSION:
            return
        # Written by an older fairslm: bring a private in-memory copy up to date and read that.
        memory = sqlite3.connect(":memory:", isolation_level=None)
        try:
            with self._read() as con:
                con.backup(memory)
            memory.execute("BEGIN")
            for step in range(version + 1, HISTORY_SCHEMA_VERSION + 1):
                self._migrate(memory, step)
            memory.execute("COMMIT")
        except BaseException:
            memory.close()
            raise
        self._memory = memory

    def _migrate(self, con: sqlite3.Connection, step: int) -> None:
        try:
            _MIGRATIONS[step](con)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidDataError(
                f"cannot migrate history {self.path} from schema version {step - 1} to "
                f"{step}: a stored audit is unreadable ({exc!r}); the file is unchanged"
            ) from exc

    def _prepare(self) -> None:
        # Check what the file is before changing anything: an unrelated SQLite file must be
        # refused as it was, not switched to WAL first.
        with self._read() as con:
            version = self._version(con)
        self._check_newer(version)
        with self._read() as con:
            self._enable_wal(con)
        if version == HISTORY_SCHEMA_VERSION:
            return
        with self._write() as con:
            # Check again under the write lock: another process may have migrated meanwhile.
            if version == 0:
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {_SCHEMA_TABLE} "
                    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
            version = self._version(con)
            now = as_utc(None).isoformat()
            for step in range(version + 1, HISTORY_SCHEMA_VERSION + 1):
                self._migrate(con, step)
                con.execute(f"INSERT INTO {_SCHEMA_TABLE} VALUES (?, ?)", (step, now))

    # -- writing ------------------------------------------------------------------------------
    def record(
        self,
        result: AuditResult,
        *,
        model: str,
        dataset_hash: str | None = None,
        policy: AuditPolicy | None = None,
        when: datetime | str | None = None,
        model_fingerprint: str | None = None,
    ) -> int:
        """Append one audit; returns its id.

        ``dataset_hash`` and ``model_fingerprint`` default to the result's provenance
        (``dataset_hash``/``data_sha256`` and ``model_fingerprint``); ``when`` defaults to now
        (naive times and ISO strings are read as UTC).
        """
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"model must be a non-empty name such as 'screener-v2'; got {model!r}")
        data = result.to_dict()
        prov = data.get("provenance", {})
        if dataset_hash is None:
            dataset_hash = prov.get("dataset_hash") or prov.get("data_sha256")
        if model_fingerprint is None:
            model_fingerprint = prov.get("model_fingerprint")
        values = _criterion_rows(data)
        row = (
            as_utc(when).isoformat(timespec="microseconds"),
            model.strip(),
            model_fingerprint,
            dataset_hash,
            None if policy is None else policy.policy_hash(),
            None if policy is None else json.dumps(policy.to_json_dict(), sort_keys=True),
            _passed(values),
            prov.get("fairslm_version"),
            json.dumps(data, allow_nan=False),
        )
        with self._write() as con:
            audit_id = _insert_audit(con, row)
            _insert_values(con, audit_id, values)
        return audit_id

    # -- reading ------------------------------------------------------------------------------
    def models(self) -> list[str]:
        """Names of the models with at least one audit, sorted."""
        with self._read() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT model FROM audits ORDER BY model")]

    def _no_audits(self, model: str) -> InvalidDataError:
        known = self.models()
        listed = f"models with audits: {', '.join(known)}" if known else "the history is empty"
        return InvalidDataError(
            f"no audits recorded for model {model!r} in {self.path} ({listed}); record one with "
            f"`fairslm audit-predictions ... --history {self.path} --model {model}`"
        )

    def audits(self, model: str | None = None) -> list[AuditRecord]:
        """Every recorded audit (of ``model``), oldest first."""
        sql = (
            "SELECT a.id, a.recorded_at, a.model, a.model_fingerprint, a.dataset_hash, "
            "a.policy_hash, a.passed, a.fairslm_version, "
            "(SELECT group_concat(DISTINCT c.criterion) FROM criterion_values c "
            " WHERE c.audit_id = a.id AND c.verdict = 'fail') "
            "FROM audits a"
        )
        args: tuple[Any, ...] = ()
        if model is not None:
            sql += " WHERE a.model = ?"
            args = (model,)
        with self._read() as con:
            rows = con.execute(sql + " ORDER BY a.recorded_at, a.id", args).fetchall()
        return [
            AuditRecord(
                id=r[0], recorded_at=datetime.fromisoformat(r[1]), model=r[2],
                model_fingerprint=r[3], dataset_hash=r[4], policy_hash=r[5],
                passed=None if r[6] is None else bool(r[6]),
                failing=tuple(sorted(r[8].split(","))) if r[8] else (),
                fairslm_version=r[7],
            )
            for r in rows
        ]

    def latest(self, model: str) -> AuditRecord:
        """The model's most recent audit; an error naming the known models when it has none."""
        records = self.audits(model)
        if not records:
            raise self._no_audits(model)
        return records[-1]

    def result(self, audit_id: int) -> AuditResult:
        """The full :class:`~fairslm.audit.AuditResult` of one recorded audit."""
        with self._read() as con:
            row = con.execute("SELECT result_json FROM audits WHERE id = ?", (audit_id,)).fetchone()
        if row is None:
            raise InvalidDataError(f"no audit with id {audit_id} in {self.path}")
        return AuditResult.from_dict(json.loads(row[0]))

    def last_measured(
        self, model: str, criterion: str, *, model_fingerprint: str | None = None
    ) -> AuditRecord | None:
        """The latest audit of ``model`` (and fingerprint) that measured ``criterion``."""
        sql = (
            "SELECT DISTINCT a.id FROM audits a JOIN criterion_values c ON c.audit_id = a.id "
            "WHERE a.model = ? AND c.criterion = ?"
        )
        args: list[Any] = [model, criterion]
        if model_fingerprint is not None:
            sql += " AND a.model_fingerprint = ?"
            args.append(model_fingerprint)
        with self._read() as con:
            ids = {r[0] for r in con.execute(sql, args)}
        found = [r for r in self.audits(model) if r.id in ids]
        return found[-1] if found else None

    def series(self, model: str, criterion: str, view: str | None = None) -> Any:
        """A criterion's value over time for a model, as a pandas DataFrame.

        Columns: ``audit_id, time, view, class, ratio, ci_low, ci_high, difference, threshold,
        verdict, worst_group, dataset_hash``; one row per audit (and class, for multiclass
        audits). ``view=None`` takes each audit's first view (the intersection of all features).
        """
        import pandas as pd

        if not self.audits(model):
            raise self._no_audits(model)
        sql = (
            "SELECT a.id, a.recorded_at, c.view, c.class_label, c.ratio, c.ci_low, c.ci_high, "
            "c.difference, c.threshold, c.verdict, c.worst_group, a.dataset_hash "
            "FROM audits a JOIN criterion_values c ON c.audit_id = a.id "
            "WHERE a.model = ? AND c.criterion = ? AND "
        )
        args: list[Any] = [model, criterion]
        if view is None:
            sql += "c.view_index = 0"
        else:
            sql += "c.view = ?"
            args.append(view)
        with self._read() as con:
            rows = con.execute(sql + " ORDER BY a.recorded_at, a.id", args).fetchall()
            if not rows:
                crits = [r[0] for r in con.execute(
                    "SELECT DISTINCT c.criterion FROM criterion_values c JOIN audits a "
                    "ON c.audit_id = a.id WHERE a.model = ? ORDER BY 1", (model,))]
                views = [r[0] for r in con.execute(
                    "SELECT DISTINCT c.view FROM criterion_values c JOIN audits a "
                    "ON c.audit_id = a.id WHERE a.model = ? ORDER BY 1", (model,))]
        if not rows:
            if criterion not in crits:
                raise InvalidDataError(
                    f"no audit of model {model!r} measured {criterion!r}; its audits measured: "
                    f"{', '.join(crits) or 'nothing'}"
                )
            raise InvalidDataError(
                f"no audit of model {model!r} has a view {view!r}; its views are: {', '.join(views)}"
            )
        columns = ["audit_id", "time", "view", "class", "ratio", "ci_low", "ci_high",
                   "difference", "threshold", "verdict", "worst_group", "dataset_hash"]
        frame = pd.DataFrame(rows, columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
        for col in ("ratio", "ci_low", "ci_high", "difference", "threshold"):
            frame[col] = frame[col].astype("float64")
        return frame

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` for a sound file."""
        with self._read() as con:
            return str(con.execute("PRAGMA integrity_check").fetchone()[0])
