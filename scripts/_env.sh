#!/usr/bin/env bash
# Create or reuse the virtual environment .venv in the checkout and install fairslm into it
# with everything the demo and the tests need. Re-installs only when pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.fairslm-install-stamp"
want="$(cat "$root/pyproject.toml" "$root/scripts/_env.sh" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing fairslm and its dependencies into $venv (first run takes a few minutes)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[ml,dev,spark]" 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
# Offline by design: models load from local directories only; one thread per process is faster
# on small shared machines.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
