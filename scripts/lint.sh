#!/usr/bin/env bash
# Lint and format check with ruff (settings in pyproject.toml); changes nothing.
# To apply the formatter and the safe fixes: .venv/bin/ruff format . && .venv/bin/ruff check --fix .
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
status=0
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
exit "$status"
