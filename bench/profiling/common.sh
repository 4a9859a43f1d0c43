# Shared by the profiling scripts: where things live and how a cell is started on the saved state.
# WORK holds the saved index state and scratch copies; PORT is the cell's main port, INDEX_PORTS
# the range its index servers take. The saved state remembers its index's port (the first of
# the range), so every script must use the same range: searches go to INDEX_PORT.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${WORK:-/tmp/hippodrome-profiling}
PORT=${PORT:-19600}
INDEX_PORT=${INDEX_PORT:-19610}
INDEX_PORTS="$INDEX_PORT-$((INDEX_PORT + 10))"

# start_cell BIN DIR [WRAPPER...]: a cell on a fresh copy of $WORK/state in DIR; prints its pid.
start_cell() {
    local bin=$1 dir=$2
    shift 2
    rm -rf "$dir" && cp -r "$WORK/state" "$dir"
    "$@" "$bin" --open --port "$PORT" --index-ports "$INDEX_PORTS" \
        --state-file "$dir/cell.json" ${EXTRA:-} >"$dir/log" 2>&1 &
    echo $!
}

# wait_ready PID: the index answers, then the cell's CPU is idle for 2 s (the HNSW graph is
# rebuilt in the background after a restart; searches before that are exact scans). When the
# index never answers (a wrong INDEX_PORT, a cell that died), the cell is stopped and this
# fails: a measurement of nothing would otherwise follow.
wait_ready() {
    local pid=$1 prev cur
    for _ in $(seq 1 1200); do
        curl -sf "localhost:$INDEX_PORT/indexes/bench/health" >/dev/null && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the cell (pid $pid) exited before its index answered on port $INDEX_PORT" >&2
            return 1
        fi
        sleep 0.5
    done
    if ! curl -sf "localhost:$INDEX_PORT/indexes/bench/health" >/dev/null; then
        stop_cell "$pid"
        echo "no index 'bench' answered on port $INDEX_PORT in 10 minutes (the saved state's port?)" >&2
        return 1
    fi
    prev=$(python3 "$HERE/cpu.py" "$pid")
    for _ in $(seq 1 300); do
        sleep 2
        cur=$(python3 "$HERE/cpu.py" "$pid")
        python3 -c "import sys; sys.exit(0 if $cur - $prev < 0.05 else 1)" && return
        prev=$cur
    done
}

# stop_cell PID: SIGTERM, then wait until it is gone (SIGKILL after 10 s), so the next cell finds
# its ports free. (The cell is not this shell's child when started by `$(start_cell ...)`.)
stop_cell() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true # reaps it when it is this shell's child
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}
