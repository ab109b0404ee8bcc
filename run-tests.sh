#!/usr/bin/env bash
# The test suite in two tiers.
#   ./run-tests.sh            the full tier, what CI runs (.ci/run): set up or refresh .venv, make
#                             sure Debian's Chromium is there for the browser tests, check lint,
#                             formatting and types, and run every test.
#   ./run-tests.sh fast [ARGS]  the fast tier, while you work: every test but those marked slow,
#                             research or e2e (it trains no benchmark: about 2 minutes on 2
#                             cores); ARGS go to pytest.
#   ./run-tests.sh ARGS       while you work: pytest ARGS, e.g. -k NAME or tests/test_cli.py.
# The two working forms reuse .venv when it is installed for the current requirements (set-up runs
# only when it is missing or stale) and skip Chromium, lint and types. pytest prints the 25
# slowest tests at the end of every run.
set -euo pipefail
cd "$(dirname "$0")"
FAST_TIER="not slow and not research and not e2e"

scripts/venv.sh requirements-dev.txt # creates or refreshes .venv only when needed

if [ $# -gt 0 ]; then
  if [ "$1" = fast ]; then
    shift
    set -- -m "$FAST_TIER" "$@"
  elif [ ! -x /usr/bin/chromium ]; then
    echo "[note] no /usr/bin/chromium: browser (e2e) tests will error; './run-tests.sh' with no" \
         "arguments installs it" >&2
  fi
  exec .venv/bin/python -m pytest "$@"
fi

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
exec .venv/bin/python -m pytest
