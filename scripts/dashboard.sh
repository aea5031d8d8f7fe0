#!/usr/bin/env bash
# Quick start 1: set up (first run only) and open the dashboard on the shipped weights.
# Extra arguments go to streamlit, e.g. scripts/dashboard.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/streamlit run dashboard/app.py --browser.gatherUsageStats false "$@"
