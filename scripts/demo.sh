#!/usr/bin/env bash
# Set up .venv if needed, then run the fairslm demo end to end (offline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The demo fine-tunes two models: let torch use up to four cores (scripts/_env.sh otherwise
# defaults to one thread per process, the right choice for the parallel test suite).
cores="$(nproc 2>/dev/null || echo 1)"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(( cores > 4 ? 4 : cores ))}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-$OMP_NUM_THREADS}"
source scripts/_env.sh
fairslm demo "$@"
