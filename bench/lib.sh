# Shared settings of the bench drivers (sourced, not run).
# Everything runs on loopback, in databases named tradeport_bench*, and every load loop is
# bounded by time (wrk -d, timeout) or by count.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# The release binary: `CARGO_TARGET_DIR=/work/target-bench cargo build --release`.
TP=${TP:-${CARGO_TARGET_DIR:-/work/target-bench}/release/tradeport}
PGHOST_ADDR=${PGHOST_ADDR:-127.0.0.1}
PGPORT_NUM=${PGPORT_NUM:-5432}
PG_SERVER="postgres://postgres@$PGHOST_ADDR:$PGPORT_NUM"
export DATABASE_URL="$PG_SERVER/tradeport_bench"
BENCH_DB=tradeport_bench
RAW_DB=tradeport_bench_raw
CEIL_TENANTS_DB=tradeport_bench_ceil_tenants
CEIL_HTTP_DB=tradeport_bench_ceil_http
N=${N:-1000}
# Scratch: the ceilings copy, generated SQL, logs, dumps. Never inside the repository.
WORK=${WORK:-/tmp/tradeport-bench}
CEIL=${CEIL:-/tmp/tradeport-ceilings}
CEILINGS_SRC=${CEILINGS_SRC:-$( [ -d "$REPO/../shared/ceilings" ] && echo "$REPO/../shared/ceilings" || echo /work/shared/ceilings)}
# Our server and the ceiling server listen here (8080 may be taken by a dev server).
TP_ADDR=${TP_ADDR:-127.0.0.1:18080}
CEIL_ADDR=${CEIL_ADDR:-127.0.0.1:18081}
RESULTS=${RESULTS:-$WORK/results.jsonl}
mkdir -p "$WORK"

PSQL=(psql -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -X -q -v ON_ERROR_STOP=1)

# Bench subcommands without the dev-secret warning on every call.
tpb() { RUST_LOG=${BENCH_RUST_LOG:-error} "$TP" bench "$@"; }

now() { date +%s.%N; }
# elapsed START END -> seconds with 3 decimals
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# div A B [decimals]
div() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { if (b == 0) print "null"; else printf "%.*f", d, a / b }'; }
# emit JSON: prints it and appends it to $RESULTS (adds date and host facts)
emit() {
  local line
  line=$(jq -c --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --argjson busy "$(busy)" '. + {date: $date, loadavg: $load, other_builds_at_emit: $busy}' <<<"$1")
  echo "$line"
  echo "$line" >>"$RESULTS"
}

# A fresh copy of the shared ceilings (their README: copy before building or running).
setup_ceilings() {
  if [ ! -d "$CEIL" ]; then
    cp -r "$CEILINGS_SRC" "$CEIL"
    chmod -R u+w "$CEIL"
  fi
}

db_exists() {
  [ "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

# The ceilings' 1,000 x 25-table tenants database, created if missing; prints creation time.
ensure_ceiling_tenants() {
  setup_ceilings
  if ! db_exists "$CEIL_TENANTS_DB"; then
    local t0 t1
    t0=$(now)
    DB=$CEIL_TENANTS_DB N=$N "$CEIL/tenants/create_tenants.sh" | tail -1 >&2
    t1=$(now)
    echo "$(elapsed "$t0" "$t1")"
  fi
}

# wait_http URL [tries]: until it answers 2xx (bounded)
wait_http() {
  local i
  for i in $(seq 1 "${2:-100}"); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

# Our server on $TP_ADDR against the bench database, prod profile (no template reloading,
# JSON logs to a file). Extra environment is passed as arguments: start_server VAR=value...
start_server() {
  env TRADEPORT_PROFILE=prod \
    TRADEPORT_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    DATABASE_URL="$PG_SERVER/$BENCH_DB" TRADEPORT_BIND="$TP_ADDR" "$@" \
    "$TP" serve >>"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://$TP_ADDR/readyz"
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

# metric NAME: the value of an unlabelled metric of our server
metric() {
  curl -fs "http://$TP_ADDR/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# This machine is shared: wait (bounded, QUIET_MAX seconds) until no compiler or test binary
# of another checkout (or headless chromium) runs, so their CPU use stays out of latency
# figures. `busy` counts those processes.
busy() { { pgrep -x rustc; pgrep -x chromium; pgrep -f '/target/debug/deps/'; } 2>/dev/null | sort -u | wc -l; }
wait_quiet() {
  local waited=0
  while [ "$(busy)" -gt 0 ]; do
    if [ "$waited" -ge "${QUIET_MAX:-300}" ]; then
      echo "machine still busy after ${waited}s; measuring anyway" >&2
      break
    fi
    sleep 5
    waited=$((waited + 5))
  done
  [ "$waited" -eq 0 ] || echo "waited ${waited}s for other builds/tests to finish" >&2
}
