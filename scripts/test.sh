#!/usr/bin/env bash
# Install everything the project and its tests need, then run the test suite.
# Used by the README's test command and by CI (.ci/run).
#
# The browser test drives Debian's chromium (/usr/bin/chromium) with
# Playwright; it is installed here with apt when missing. Playwright itself
# must never download a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
    if ! { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium; }; then
        echo "warning: could not install chromium with apt; the browser test will be skipped" >&2
    fi
fi
python3 -m pip install -q -r requirements.txt
python3 -m pip install -q --no-deps -e .
python3 -m pytest -q "$@"
