#!/usr/bin/env bash
# Quick start 2: set up (first run only) and run the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. scripts/test.sh -k checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Debian's chromium for the browser tests"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
