#!/usr/bin/env bash
# Regenerate the README's dashboard screenshots (docs/screenshots/*.png) by running the browser test
# with SRN_SCREENSHOTS=1; ordinary test runs write their screenshots to a temporary folder instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SRN_SCREENSHOTS=1 exec scripts/test.sh tests/test_dashboard_browser.py -k test_the_dashboard_in_a_browser "$@"
