#!/bin/bash
# callgrind.sh BIN NAME N METHOD...: instructions per request under callgrind. A cell restored from
# $WORK/state runs under valgrind; for each METHOD (LEXICAL, TENSOR, HYBRID, HEALTH): 20 warm-up
# requests, counters zeroed, N requests over one keep-alive connection, counters dumped to
# $WORK/NAME.out.K (K = 1, 2, ... in METHOD order). Read them with costs.py.
set -euo pipefail
source "$(dirname "$0")/common.sh"
BIN=$1 NAME=$2 N=$3
shift 3
rm -f "$WORK/$NAME".out*
PID=$(start_cell "$BIN" "$WORK/cg-state" valgrind --tool=callgrind \
    --callgrind-out-file="$WORK/$NAME.out" --dump-instr=no)
wait_ready "$PID"
for METHOD in "$@"; do
    python3 "$HERE/load.py" "$INDEX_PORT" "$METHOD" 20 1000000
    callgrind_control -z "$PID" >/dev/null
    python3 "$HERE/load.py" "$INDEX_PORT" "$METHOD" "$N" 0
    callgrind_control -d "$PID" >/dev/null
done
stop_cell "$PID"
ls "$WORK/$NAME".out.*
