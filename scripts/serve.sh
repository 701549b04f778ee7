#!/usr/bin/env bash
# Set up and run the main job on a fresh machine: a project-local virtualenv (.venv) with the
# package, then `isecg-kg serve`, which builds the dumps when needed and serves the linked data
# (extra arguments go to serve, e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/npm-setup.sh --optional  # the query page's editor; without npm, a plain textarea
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
# the kept releases (dist/releases/VERSION), rebuilt from their commits where missing
.venv/bin/isecg-kg release || echo "serve.sh: not every kept release could be rebuilt (above); serving the rest" >&2
exec .venv/bin/isecg-kg serve "$@"
