#!/usr/bin/env bash
# Browser tests for the dashboard and fake-cognito's hosted UI: installs what is missing (Debian's
# chromium, playwright-core via `npm ci`), then runs `node --test` against a real stack the tests bring up themselves.
#
# Env: HIPPODROME_ORCHESTRATOR  orchestrator binary (default: $CARGO_TARGET_DIR or <repo>/target, debug/orchestrator)
#      HIPPODROME_CHROMIUM      chromium binary (default /usr/bin/chromium)
# Artefacts (screenshots) land in tests/browser/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

chromium="${HIPPODROME_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "installing chromium (apt)…" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

cd "$here"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ -z "${HIPPODROME_ORCHESTRATOR:-}" ]; then
  export HIPPODROME_ORCHESTRATOR="${CARGO_TARGET_DIR:-$repo/target}/debug/orchestrator"
fi
if [ ! -x "$HIPPODROME_ORCHESTRATOR" ]; then
  echo "building the orchestrator…" >&2
  (cd "$repo" && cargo build -q -p orchestrator)
fi

mkdir -p artifacts
exec node --test --test-concurrency=1 --test-reporter=spec dashboard.test.mjs hosted_ui.test.mjs "$@"
