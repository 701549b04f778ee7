#!/usr/bin/env bash
# Install the project's npm packages (package-lock.json) into node_modules/ and bundle the query
# page's SPARQL editor (CodeMirror 6) into scripts/isecg_kg/web/static/editor/editor.js with
# esbuild. The bundle is built here, at set-up, not committed: it is third-party code of about
# 340 KB that would change with every dependency update, and the lock file pins it exactly.
# With --optional, a machine without npm gets a warning instead of an error (the page then
# offers a plain textarea).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  if [ "${1:-}" = --optional ]; then
    echo "npm not found: the query page will use a plain text area (install Node.js and npm," \
         "then run scripts/npm-setup.sh, for the SPARQL editor)" >&2
    exit 0
  fi
  echo "npm not found: install Node.js 20+ and npm" >&2
  exit 2
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bundle=scripts/isecg_kg/web/static/editor/editor.js
if [ ! -f "$bundle" ] || [ scripts/isecg_kg/web/editor/editor.js -nt "$bundle" ] \
    || [ package-lock.json -nt "$bundle" ]; then
  npm run --silent build-editor
fi
