#!/usr/bin/env bash
# Set up .venv if needed, then run lint, type checks, the import contracts and the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_env.sh
# The report test opens report.html in headless Chromium; install Debian's package where we can.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
    || echo "could not install chromium; the browser test will be skipped" >&2
fi
echo "== ruff" && ruff check .
echo "== mypy" && mypy
echo "== import-linter" && lint-imports --no-cache --no-logo
echo "== pytest" && python -m pytest "$@"
