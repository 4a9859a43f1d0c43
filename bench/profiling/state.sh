#!/bin/bash
# state.sh BIN [DOCS]: fill a fresh cell with DOCS (10,000) bench documents and keep its state in
# $WORK/state for the other scripts (a restored cell rebuilds its graph, so this runs once).
set -euo pipefail
source "$(dirname "$0")/common.sh"
BIN=$1
DOCS=${2:-10000}
rm -rf "$WORK/state" && mkdir -p "$WORK/state"
"$BIN" --open --port "$PORT" --index-ports "$INDEX_PORTS" --state-file "$WORK/state/cell.json" \
    >"$WORK/state.log" 2>&1 &
PID=$!
trap 'stop_cell $PID' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 "$HERE/fill.py" "http://127.0.0.1:$PORT" "$DOCS"
wait_ready "$PID"
stop_cell "$PID"
echo "state of $DOCS documents in $WORK/state"
