#!/usr/bin/env bash
# Set up (or refresh) .venv and start the app on http://127.0.0.1:8501 (localhost only).
# Extra arguments go to `streamlit run`, e.g. ./run-app.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")"
scripts/venv.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py --server.address 127.0.0.1 \
  --browser.gatherUsageStats false "$@"
