#!/usr/bin/env bash
# Quick start 2: set up (first run only) and run the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. scripts/test.sh -k checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."

# Another apt or dpkg may be running (an unattended upgrade, a second install): wait for it, up to 10 minutes.
# apt-get install waits by itself (DPkg::Lock::Timeout); apt 2.6's update ignores that option for the lists
# lock and fails at once, so it is retried while that lock is the reason.
apt_get() {
  local as=() errors
  [ "$(id -u)" -ne 0 ] && as=(sudo)
  errors=$(mktemp)
  for attempt in $(seq 120); do
    if "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq "$@" 2>"$errors"; then
      rm -f "$errors"
      return 0
    fi
    if ! grep -q "Could not get lock" "$errors" || [ "$attempt" -eq 120 ]; then
      cat "$errors" >&2
      rm -f "$errors"
      return 1
    fi
    [ "$attempt" -eq 1 ] && echo "test: waiting for another apt to release its lock"
    sleep 5
  done
}

scripts/setup.sh --dev
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Debian's chromium for the browser tests"
  apt_get update
  apt_get install -y chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
