#!/usr/bin/env bash
# Set up (or refresh) .venv with the test tools, make sure Debian's Chromium is there for the
# browser tests, check lint, formatting and types, and run the whole test suite. Extra arguments
# go to pytest (which prints the 25 slowest tests).
set -euo pipefail
cd "$(dirname "$0")"
scripts/venv.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Debian's chromium for the browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "[setup] could not install chromium; browser tests will be reported as errors" >&2
  else
    echo "[setup] /usr/bin/chromium is missing and cannot be installed here (need root and apt-get):" \
         "run 'sudo apt-get install chromium' for the browser tests" >&2
  fi
fi
echo "[check] ruff (lint and format) and mypy" >&2
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy --no-error-summary
exec .venv/bin/python -m pytest "$@"
