#!/usr/bin/env bash
# Installs what the test suites need into project-local folders, idempotently:
# the e2e Python venv (.hippodrome/venvs/e2e), the node verifier's node_modules, and the pinned moto
# venv shared by every stack ($HIPPODROME_CACHE_DIR/moto-<version>, built by the same script `up` runs).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.hippodrome/venvs/e2e
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum tests/e2e/requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "installing the e2e venv ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q -r tests/e2e/requirements.txt
  echo "$want" > "$STAMP"
fi

# The export validators (kubernetes-validate, check-jsonschema, hadolint): tests/export/validate.sh.
EVENV=.hippodrome/venvs/export
ESTAMP="$EVENV/.requirements.sha256"
ewant=$(sha256sum tests/export/requirements.txt | cut -d' ' -f1)
if [ ! -x "$EVENV/bin/python" ] || [ "$(cat "$ESTAMP" 2>/dev/null)" != "$ewant" ]; then
  echo "installing the export validators ($EVENV)"
  python3 -m venv "$EVENV"
  "$EVENV/bin/pip" install --disable-pip-version-check -q -r tests/export/requirements.txt
  echo "$ewant" > "$ESTAMP"
fi

if [ -f tests/e2e/node/package.json ] && command -v npm >/dev/null; then
  if [ ! -d tests/e2e/node/node_modules ]; then
    echo "installing the node verifier's packages"
    (cd tests/e2e/node && npm ci --no-audit --no-fund --silent)
  fi
fi

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  echo "installing chromium (for the dashboard's browser tests)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# moto: the same script the orchestrator runs as moto's setup step (in place, locked, resumable).
CACHE=${HIPPODROME_CACHE_DIR:-$HOME/.cache/hippodrome}
REQ=$(grep -v '^#' fixtures/moto-requirements.txt | head -1)
MOTO="$CACHE/moto-${REQ##*==}"
if [ ! -f "$MOTO/.complete" ]; then
  echo "installing $REQ into $MOTO"
  sh orchestrator/scripts/install-moto.sh "$MOTO" "$REQ" "$(cat fixtures/moto-constraints.txt)"
fi
