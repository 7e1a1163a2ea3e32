#!/usr/bin/env bash
# Set up .venv if needed, then run the fairslm demo end to end (offline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_env.sh
fairslm demo "$@"
