#!/usr/bin/env bash
# The one test command (README.md): lint, every Rust test, the Python end-to-end suite against a
# stack this script brings up (temp project root, free port offset) and tears down itself, the
# dashboard's browser tests, and a short schemathesis run against every service.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# Project-local dependencies (idempotent; .ci/run has usually done this already).
bash tests/install-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (every crate)"
# Its own log file, so two runs on one machine never read each other's.
TEST_LOG=$(mktemp /tmp/hippodrome-cargo-test-XXXXXX.log)
cargo test --workspace --quiet 2>&1 | tee "$TEST_LOG"
grep -q "test result:" "$TEST_LOG"
rm -f "$TEST_LOG"

step "exports and Dockerfile: schemas, hadolint, start order (offline)"
bash tests/export/validate.sh

step "end-to-end suite (pytest) against a real stack"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
# `cargo test --workspace` already built these binaries (with its own feature set); building them
# again with `cargo build -p ...` would resolve features differently and recompile the AWS SDK.
for bin in orchestrator fake-cell fake-cognito webhook-router; do
  [ -x "$TARGET/debug/$bin" ] || cargo build -p "$bin" --quiet
done
ORCH="$TARGET/debug/orchestrator"
# Tests that need a second, differently configured instance start the standalone binaries.
export FAKE_CELL_BIN="$TARGET/debug/fake-cell" FAKE_COGNITO_BIN="$TARGET/debug/fake-cognito"
E2E_ROOT=$(mktemp -d /tmp/hippodrome-e2e-XXXXXX)
# A port offset whose ports are all free, so a user's own stack is never touched.
OFFSET=$(python3 tests/e2e/free_offset.py)
cleanup() {
  "$ORCH" stop --project-root "$E2E_ROOT" >/dev/null 2>&1 || "$ORCH" kill --project-root "$E2E_ROOT" >/dev/null 2>&1 || true
}
# A failed run keeps the stack's state and logs for a look; a passed one leaves nothing behind
# (KEEP=1 keeps them either way, as tests/fuzz/run.sh does).
on_failure() {
  cleanup
  echo "e2e stack's state and logs kept in $E2E_ROOT/.hippodrome" >&2
}
trap on_failure EXIT
# The team side of the stack: a fixture Lambda process (the gateway invokes it by name) and two
# state machines the seed creates from their files, as a team's hippodrome.toml declares them.
cat > "$E2E_ROOT/hippodrome.toml" <<TOML
[[services]]
name = "e2e_lambda"
port = 9016
command = ["python3", "$ROOT/fixtures/lambdas/fixture_lambda.py", "{port}"]
layer = 1
health_url = "/_received"

[[lambdas]]
name = "e2e_lambda"
service = "e2e_lambda"
timeout_s = 5

[[state_machines]]
name = "e2e-order-flow"
definition = "$ROOT/fixtures/state_machines/order_flow.asl.json"

[[state_machines]]
name = "e2e-failing-flow"
definition = "$ROOT/fixtures/state_machines/failing_flow.asl.json"
TOML
"$ORCH" up --detach --project-root "$E2E_ROOT" --port-offset "$OFFSET" --table-prefix e2e- --layer-timeout 120
set -a
# shellcheck disable=SC1091
. "$E2E_ROOT/.hippodrome/.env.e2e"
set +a
export HIPPODROME_DASHBOARD_URL="http://127.0.0.1:$((9000 + OFFSET))"
export HIPPODROME_ROUTER_URL="http://127.0.0.1:$((9009 + OFFSET))"
export HIPPODROME_E2E_ROOT="$E2E_ROOT"
export HIPPODROME_PORT_OFFSET="$OFFSET"
.hippodrome/venvs/e2e/bin/python -m pytest tests/e2e -q -p no:cacheprovider
cleanup
trap - EXIT
if [[ "${KEEP:-0}" == 1 ]]; then echo "e2e stack's state and logs kept in $E2E_ROOT/.hippodrome"; else rm -rf "$E2E_ROOT"; fi

step "dashboard in a real browser (headless chromium + playwright-core)"
HIPPODROME_ORCHESTRATOR="$ORCH" bash tests/browser/run.sh

step "bad input: schemathesis against every service's OpenAPI (no 5xx, JSON errors)"
WEBHOOK_ROUTER_BIN="$TARGET/debug/webhook-router" bash tests/fuzz/run.sh
