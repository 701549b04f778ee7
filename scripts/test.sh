#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it: Debian tools the tests
# drive (when run as root), a project-local virtualenv (.venv) with the package and its test
# extras, then pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  for pair in rapper:raptor2-utils roqet:rasqal-utils chromium:chromium wrk:wrk; do
    command -v "${pair%%:*}" >/dev/null || missing="$missing ${pair#*:}"
  done
  if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"  # isecg-kg, oxigraph, rdflib-endpoint for the tests
# The W3C SHACL Core and SPARQL suites, from pinned sdists on PyPI (SHA-256 checked) into .cache/
.venv/bin/python tests/w3c_suites.py
exec .venv/bin/python -m pytest "$@"
