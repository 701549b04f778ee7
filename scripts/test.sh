#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run it: Debian tools the tests
# drive (when run as root), a project-local virtualenv (.venv) with the package and its test
# extras, then pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=""
  # virtuoso-t and nginx: the external-engine and proxy tests start their own on loopback;
  # java runs HermiT (shipped by owlready2) in the DL reasoner test
  for pair in rapper:raptor2-utils roqet:rasqal-utils chromium:chromium wrk:wrk \
      virtuoso-t:virtuoso-opensource nginx:nginx node:nodejs npm:npm java:default-jre-headless; do
    command -v "${pair%%:*}" >/dev/null || missing="$missing ${pair#*:}"
  done
  if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
  fi
fi
# Fuseki for the external-engine tests: its server jar from Maven Central, kept under .cache/
# (gitignored). Where Maven Central cannot be reached the Fuseki tests skip, saying so.
fuseki=.cache/fuseki/jena-fuseki-server-5.6.0.jar
if [ ! -f "$fuseki" ] && command -v mvn >/dev/null && command -v java >/dev/null; then
  timeout 300 mvn -q -B dependency:copy -Dartifact=org.apache.jena:jena-fuseki-server:5.6.0 \
    -DoutputDirectory=.cache/fuseki >/dev/null 2>&1 \
    || echo "test.sh: jena-fuseki-server 5.6.0 not fetched (Maven Central unreachable?); the Fuseki tests will skip" >&2
fi
# JavaScript from npm, pinned by package-lock.json into node_modules/ (gitignored): Comunica for
# the client tests and the query page's editor, bundled here (tests never fetch anything)
bash scripts/npm-setup.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"  # isecg-kg, oxigraph, rdflib-endpoint for the tests
# The W3C SHACL Core and SPARQL suites, from pinned sdists on PyPI (SHA-256 checked) into .cache/
.venv/bin/python tests/w3c_suites.py
exec .venv/bin/python -m pytest "$@"
