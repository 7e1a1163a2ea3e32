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
