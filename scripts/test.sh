#!/usr/bin/env bash
# Set up .venv if needed, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_env.sh
echo "== ruff" && ruff check .
echo "== mypy" && mypy
echo "== pytest" && python -m pytest "$@"
