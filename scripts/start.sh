#!/usr/bin/env bash
# Install everything, then start the BEAT-Net app (bundled model, bundled sample ECGs).
# Open the printed address in a browser. Options: --port N (default 8501),
# --address 0.0.0.0 to serve other machines (default 127.0.0.1: this machine only).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
python3 -m pip install -q --no-deps -e .
exec python3 app/launch.py "$@"
