"""Shared fixtures: paths to the real data set, deterministic threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
BIOSBIAS_DIR = Path(
    os.environ.get(
        "FAIRSLM_BIOSBIAS_DIR", REPO.parent / "shared" / "data" / "biosbias-surgeon-nurse"
    )
)


@pytest.fixture(scope="session")
def biosbias_dir() -> Path:
    """The real Bias in Bios surgeon/nurse split; tests using it skip when it is absent."""
    if not (BIOSBIAS_DIR / "train.jsonl").exists():
        pytest.skip(f"Bias in Bios data not found at {BIOSBIAS_DIR}")
    return BIOSBIAS_DIR


@pytest.fixture(scope="session")
def spark():
    """One local[2] Spark session for the whole test run (starting one takes 4-7 s).

    Skips only when no Java is installed; a missing pyspark is an error, because the test
    command installs the ``spark`` extra.
    """
    import shutil

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark tests need Java 17 or 21; none found on PATH or in JAVA_HOME")
    from fairslm.engines import spark_session

    session = spark_session(
        "local[2]",
        app_name="fairslm-tests",
        # Tiny test tables: fewer partitions, no broadcast thresholds to tune, quick shutdown.
        config={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT sequence classifier with a small word vocabulary,
    built offline in well under a second (:func:`fairslm.models._testing.make_tiny_bert_classifier`)."""
    pytest.importorskip("transformers")
    from fairslm.models._testing import make_tiny_bert_classifier

    return make_tiny_bert_classifier(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """The same tiny BERT without a classification head: a bare encoder."""
    pytest.importorskip("transformers")
    from fairslm.models._testing import make_tiny_bert_classifier

    return make_tiny_bert_classifier(tmp_path_factory.mktemp("tiny-encoder"), with_head=False)


def _leaning_scores(n: int = 4000, seed: int = 0):
    """(y, group, fair, baseline): baseline scores that lean on the group ("M"/"F"); fair scores
    that do not, but are noisier. The case the score blends trade between."""
    import numpy as np

    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.5, "M", "F")
    y = (rng.random(n) < np.where(g == "M", 0.7, 0.3)).astype(int)
    signal = np.where(y == 1, 1.0, -1.0)
    lean = np.where(g == "M", 1.2, -1.2)
    base = 1 / (1 + np.exp(-(1.5 * signal + lean + rng.normal(0, 1.0, n))))
    fair = 1 / (1 + np.exp(-(1.5 * signal + rng.normal(0, 1.3, n))))
    return y, g, fair, base


@pytest.fixture(scope="session")
def leaning_scores():
    """Builds the synthetic case of :func:`_leaning_scores` (``leaning_scores(seed=1)``)."""
    return _leaning_scores

