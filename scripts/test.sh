#!/usr/bin/env bash
# Install everything the project and its tests need, then run the test suite.
# Used by the README's test command and by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
python3 -m pip install -q --no-deps -e .
python3 -m pytest -q "$@"
