"""The history file under two writing processes, and a writer killed mid-transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fairslm.governance import HistoryStore

SRC = str(Path(__file__).resolve().parents[1] / "src")

WRITER = """
import sys, time, pathlib
from fairslm import audit_predictions
from fairslm.governance import HistoryStore

db, tag, go, n = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), int(sys.argv[4])
res = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
                        min_group_size=1)
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:  # start both writers together
    time.sleep(0.005)
store = HistoryStore(db)  # both may create the file at once
for i in range(n):
    store.record(res, model=tag, dataset_hash=f"{tag}-{i}")
"""

STUCK_WRITER = """
import sys, time, pathlib
import fairslm.governance._history as history
from fairslm import audit_predictions

db, marker = sys.argv[1], pathlib.Path(sys.argv[2])
original = history._insert_values

def stall(con, audit_id, values):
    original(con, audit_id, values)
    marker.write_text("inside the transaction")
    time.sleep(120)

history._insert_values = stall
res = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"],
                        min_group_size=1)
history.HistoryStore(db).record(res, model="killed")
"""


def _spawn(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_processes_lose_nothing(tmp_path) -> None:
    db, go, n = tmp_path / "h.db", tmp_path / "go", 40
    procs = [_spawn(WRITER, str(db), tag, str(go), str(n)) for tag in ("left", "right")]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    store = HistoryStore(db)
    records = store.audits()
    assert len(records) == 2 * n
    assert len({r.id for r in records}) == 2 * n
    for tag in ("left", "right"):
        assert {r.dataset_hash for r in store.audits(tag)} == {f"{tag}-{i}" for i in range(n)}
    assert store.integrity_check() == "ok"
    con = sqlite3.connect(db)
    # every audit has its five criterion rows, no more, no fewer
    assert con.execute("SELECT COUNT(*) FROM criterion_values").fetchone()[0] == 5 * 2 * n
    con.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writer_killed_mid_transaction_leaves_file_sound(tmp_path) -> None:
    db, marker = tmp_path / "h.db", tmp_path / "marker"
    store = HistoryStore(db, timeout=0.05)
    from fairslm import audit_predictions

    res = audit_predictions([1, 0, 1, 0], [1, 0, 1, 0], sensitive_features=["a", "a", "b", "b"],
                            min_group_size=1)
    store.record(res, model="kept")
    proc = _spawn(STUCK_WRITER, str(db), str(marker))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer never reached its transaction"
            time.sleep(0.01)
        # While it holds the write lock, readers still see the committed state.
        assert [r.model for r in store.audits()] == ["kept"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    after = HistoryStore(db)
    assert after.integrity_check() == "ok"
    assert [r.model for r in after.audits()] == ["kept"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM criterion_values").fetchone()[0] == 5
    con.close()
    assert after.record(res, model="next") == 2
