#!/usr/bin/env bash
# Set up and run the main job on a fresh machine: install, build the dumps, serve the linked data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e .
exec isecg-kg serve "$@"
