#!/usr/bin/env bash
# Install everything, then start BEAT-Net on the bundled sample ECGs.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
python3 -m pip install -q --no-deps -e .
# Until the Streamlit app lands, the CLI's main job: read every sample ECG,
# detect its beats and print what was found.
exec beatnet inspect sample_ecgs/*.hea
