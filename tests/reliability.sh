#!/usr/bin/env bash
# The whole reliability suite of issue 11 in one command, with every figure printed at the end.
#
#   bash tests/reliability.sh            # short form (a few seconds of load per fault, 25 fuzz
#                                        # examples per operation, the bench's --quick load)
#   bash tests/reliability.sh --long     # long form: 20 s of load around each fault, 200 fuzz
#                                        # examples per operation, 60 s at 256 connections
#   bash tests/reliability.sh --no-bench # skip the 256-connection load (it builds release binaries)
#
# Steps (each one's full output is kept in the log folder printed at the start):
#   1. build     cargo build -p orchestrator -p fake-cell -p fake-cognito -p webhook-router
#   2. faults    tests/tests/faults.rs: kill -9 fake-cell / fake-cognito under a write load, SIGSTOP,
#                moto restarted under the event pipe (acknowledged / recovered / lost, recovery times)
#   3. orchestrator faults   orchestrator/tests/it/lifecycle.rs: crash-looping at start with the
#                rest up, SIGTERM-ignoring groups, kill -9 of the orchestrator then `orchestrator kill`
#   4. bad input tests/tests/bad_input.rs
#   5. disk full fake-cell's and fake-cognito's journal-failure tests (real EFBIG under ulimit)
#   6. fuzz      tests/fuzz/run.sh (Schemathesis against every service and the dashboard API)
#   7. load      cargo run -p bench --release -- --only memory (every service at 256 connections)
# Exits non-zero when any step failed. Honours CARGO_TARGET_DIR, and BENCH_EXTRA_ARGS (appended to
# the bench's arguments, e.g. "--no-build --bin-dir DIR" to load binaries built elsewhere).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LONG=0
BENCH=1
for arg in "$@"; do
  case "$arg" in
    --long) LONG=1 ;;
    --no-bench) BENCH=0 ;;
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $arg (use --long, --no-bench)" >&2; exit 2 ;;
  esac
done
if ((LONG)); then
  FAULT_SECONDS=20; FUZZ_EXAMPLES=200; BENCH_ARGS=(--load-duration 60)
else
  FAULT_SECONDS="${HIPPODROME_FAULTS_SECONDS:-3}"; FUZZ_EXAMPLES="${FUZZ_MAX_EXAMPLES:-25}"
  BENCH_ARGS=(--quick)
fi

LOGS="$(mktemp -d -t hippodrome-reliability.XXXXXX)"
echo "reliability suite ($( ((LONG)) && echo long || echo short ) form); logs in $LOGS"
cd "$ROOT" || exit 2

NAMES=(); RESULTS=(); TIMES=()
# step NAME LOGFILE COMMAND...: run, stream the output into the log, record pass/fail and time.
step() {
  local name="$1" log="$LOGS/$2"; shift 2
  echo
  echo "=== $name: $*"
  local start=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  NAMES+=("$name"); TIMES+=($((SECONDS - start)))
  if ((rc == 0)); then RESULTS+=(PASS); else RESULTS+=("FAIL($rc)"); fi
  grep -E '^test .* \.\.\. |^test result:|acknowledged|recovery|SIGSTOP|moto restart|schemathesis|FAILED|panicked' "$log" | tail -n 40
  echo "--- $name: ${RESULTS[-1]} in ${TIMES[-1]} s (log: $log)"
}

step "build" build.log cargo build -p orchestrator -p fake-cell -p fake-cognito -p webhook-router
step "faults (kill -9, SIGSTOP, moto restart)" faults.log \
  env HIPPODROME_FAULTS_SECONDS="$FAULT_SECONDS" cargo test -p tests --test faults -- --nocapture
step "orchestrator faults (crash loop, kill -9 + kill)" orchestrator-faults.log \
  cargo test -p orchestrator --test it lifecycle:: -- --nocapture
step "bad input" bad-input.log cargo test -p tests --test bad_input -- --nocapture
step "disk full: fake-cell" disk-full-cell.log \
  cargo test -p fake-cell --test it journal_failure -- --nocapture
step "disk full: fake-cognito" disk-full-cognito.log \
  cargo test -p fake-cognito --test it disk_full -- --nocapture
step "fuzz (schemathesis)" fuzz.log env FUZZ_MAX_EXAMPLES="$FUZZ_EXAMPLES" bash tests/fuzz/run.sh
if ((BENCH)); then
  step "load (256 connections) + memory" bench.log \
    cargo run -p bench --release -- --only memory "${BENCH_ARGS[@]}" --out "$LOGS/bench.json" \
    ${BENCH_EXTRA_ARGS:-}
fi

echo
echo "================================ figures ================================"
echo "-- faults (lost must be 0)"
grep -hE '^(fake_cell|fake_cognito)( SIGSTOP| disk full)?:|^moto restart:' \
  "$LOGS/faults.log" "$LOGS/disk-full-cognito.log" 2>/dev/null | sed 's/^/  /'
grep -hE '^test .*(crash|kill|sigterm|die).* \.\.\. ' "$LOGS/orchestrator-faults.log" 2>/dev/null \
  | sed 's/^/  orchestrator /'
grep -hE '^test .*journal_failure.* \.\.\. ' "$LOGS/disk-full-cell.log" 2>/dev/null \
  | sed 's/^/  fake_cell disk full: /'
echo "-- bad input"
grep -hE '^test result:' "$LOGS/bad-input.log" 2>/dev/null | sed 's/^/  /'
echo "-- fuzz ($FUZZ_EXAMPLES examples per operation)"
grep -hE '^== schemathesis|^ +[0-9]+ generated|^schemathesis|found failures|died' "$LOGS/fuzz.log" \
  2>/dev/null | sed -E 's/^ +/    /; s/^==/  ==/; s/^schemathesis/  schemathesis/'
LOAD_OK=1
if ((BENCH)) && [[ -f "$LOGS/bench.json" ]]; then
  echo "-- load (256 connections; errors must be 0) and memory"
  python3 - "$LOGS/bench.json" <<'PY' || LOAD_OK=0
import json, sys
r = json.load(open(sys.argv[1]))
bad = 0
for row in r.get("rows", []):
    if row.get("section") == "load":
        errors = row.get("errors") or 0
        bad += errors
        print(f"  {row['figure']}: {row['value']:.0f} {row.get('unit', '')}, errors {errors}")
    elif row.get("section") == "memory":
        base = f" (idle {row['baseline_value']:.1f})" if row.get("baseline_value") is not None else ""
        print(f"  {row['figure']}: {row['value']:.1f} MiB{base}")
for section, why in r.get("failures", []):
    bad += 1
    print(f"  section {section} FAILED: {why}")
sys.exit(1 if bad else 0)
PY
fi
echo "-- steps"
FAILED=0
for i in "${!NAMES[@]}"; do
  printf '  %-50s %-9s %5s s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
  [[ "${RESULTS[$i]}" == PASS ]] || FAILED=1
done
if ((!LOAD_OK)); then echo "  load: errors under load or a failed bench section"; FAILED=1; fi
if ((FAILED)); then echo "reliability suite: FAILED (logs in $LOGS)"; exit 1; fi
echo "reliability suite: all steps passed (logs in $LOGS)"
