"""A cache of model scores keyed by (model fingerprint, text hash).

Audits, counterfactual tests and re-runs score many texts more than once; the cache returns
their rows without running the model again. It lives in memory and, when given a directory, in
a small SQLite file there so that it survives the process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fairslm.exceptions import ConfigError

__all__ = ["DiskBackedCache", "ScoreCache", "open_cache_db"]

_DB_NAME = "fairslm-scores.sqlite"


def open_cache_db(
    cache_dir: str | Path | None, name: str, create_table: str
) -> sqlite3.Connection | None:
    """The SQLite file ``name`` in ``cache_dir`` (created with its table), or None for no dir."""
    if cache_dir is None:
        return None
    path = Path(cache_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"cache_dir {str(path)!r} exists and is not a directory; pass a directory "
            "(it is created if missing)"
        )
    path.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path / name), check_same_thread=False)
    db.execute(create_table)
    db.commit()
    return db


class DiskBackedCache:
    """What the caches share: a lock and an optional SQLite connection, closed with the cache."""

    _db: sqlite3.Connection | None
    _lock: threading.Lock

    def close(self) -> None:
        """Close the on-disk database (the in-memory entries stay usable)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __del__(self) -> None:
        # Close the database with the cache, so no connection is left for the collector.
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()


class ScoreCache(DiskBackedCache):
    """Rows of scores (one float vector per text) keyed by model fingerprint and text hash.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Directory for an on-disk SQLite cache shared by every model (rows are keyed by the
        model's fingerprint, so models never see each other's scores). ``None`` keeps the cache
        in memory only.

    Examples
    --------
    >>> import numpy as np
    >>> cache = ScoreCache()
    >>> cache.put("model-a", ["h1"], np.array([[0.25, 0.75]]))
    >>> cache.get("model-a", ["h1", "h2"])
    {'h1': array([0.25, 0.75])}
    """

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._memory: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        self._db = open_cache_db(
            cache_dir,
            _DB_NAME,
            "CREATE TABLE IF NOT EXISTS scores (fingerprint TEXT NOT NULL, text_hash TEXT "
            "NOT NULL, n INTEGER NOT NULL, scores BLOB NOT NULL, "
            "PRIMARY KEY (fingerprint, text_hash))",
        )

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, fingerprint: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached rows for those of ``hashes`` that are known, keyed by hash."""
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        with self._lock:
            for h in hashes:
                row = self._memory.get((fingerprint, h))
                if row is None:
                    missing.append(h)
                else:
                    found[h] = row
            if self._db is not None and missing:
                # SQLite limits the number of bound parameters; look rows up in chunks.
                for start in range(0, len(missing), 500):
                    chunk = missing[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT text_hash, scores FROM scores WHERE fingerprint = ? "
                        f"AND text_hash IN ({marks})",
                        [fingerprint, *chunk],
                    ).fetchall()
                    for h, blob in rows:
                        vec = np.frombuffer(blob, dtype=np.float64).copy()
                        self._memory[(fingerprint, h)] = vec
                        found[h] = vec
        return found

    def put(self, fingerprint: str, hashes: Sequence[str], rows: np.ndarray) -> None:
        """Store one row of ``rows`` for each hash."""
        rows = np.asarray(rows, dtype=np.float64)
        with self._lock:
            for h, row in zip(hashes, rows, strict=True):
                self._memory[(fingerprint, h)] = row.copy()
            if self._db is not None:
                self._db.executemany(
                    "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                    [
                        (fingerprint, h, int(row.shape[0]), row.tobytes())
                        for h, row in zip(hashes, rows, strict=True)
                    ],
                )
                self._db.commit()

    def clear(self) -> None:
        """Forget every row, in memory and on disk."""
        with self._lock:
            self._memory.clear()
            if self._db is not None:
                self._db.execute("DELETE FROM scores")
                self._db.commit()

