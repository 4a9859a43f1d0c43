#!/bin/bash
# ab.sh SCRIPT BIN...: the cell's CPU per request under wrk, binaries alternating (ROUNDS, 3).
# Each round restores each binary from $WORK/state, waits for its graph, warms up 2 s, then
# loads 6 s at 64 connections and reads the process's CPU time around it. SCRIPT is a wrk Lua
# file (distinct.lua: every HYBRID body distinct). EXTRA adds fake-cell arguments.
# On a shared 2-core host one binary moves by ±20% between rounds: read several.
set -euo pipefail
source "$(dirname "$0")/common.sh"
SCRIPT=$1
shift
for _ in $(seq 1 "${ROUNDS:-3}"); do
    for BIN in "$@"; do
        PID=$(start_cell "$BIN" "$WORK/ab-state")
        wait_ready "$PID"
        wrk -t2 -c32 -d2s -s "$SCRIPT" "http://127.0.0.1:$INDEX_PORT" >/dev/null
        C0=$(python3 "$HERE/cpu.py" "$PID")
        OUT=$(wrk -t2 -c64 -d6s -s "$SCRIPT" "http://127.0.0.1:$INDEX_PORT")
        C1=$(python3 "$HERE/cpu.py" "$PID")
        N=$(echo "$OUT" | awk '/requests in/ {print $1}')
        RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
        NON=$(echo "$OUT" | grep -c "Non-2xx" || true)
        python3 -c "print('$(basename "$BIN")', round(($C1 - $C0) * 1e6 / $N, 1), 'µs of cell CPU/request,', '$RPS', 'req/s', '(NON-2xx ANSWERS)' if $NON else '')"
        stop_cell "$PID"
    done
done
