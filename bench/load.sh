#!/usr/bin/env bash
# Load test (issue 9): realistic buyers across 50 tenants (`tradeport bench load`, which seeds
# tradeport_bench_load, starts `tradeport serve` on a free loopback port and stops it) next to
# the http ceiling (ceilings/http: actix-web + diesel/r2d2 + handlebars, wrk at the same
# connection count, with its order endpoint), in one job.
#   1. realistic: BUYERS buyers, think time THINK ms (mean, after every step), DURATION s
#   2. saturation: SAT_BUYERS buyers without think time, SAT_DURATION s (the ratio to the ceiling)
# Usage: bench/load.sh      SEED=0 reuses the seeded database; DROP=1 drops it at the end.
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_load
TENANTS=${TENANTS:-50}
PRODUCTS=${PRODUCTS:-2000}
BUYERS=${BUYERS:-200}
THINK=${THINK:-200}
DURATION=${DURATION:-60}
SAT_BUYERS=${SAT_BUYERS:-64}
SAT_DURATION=${SAT_DURATION:-30}
D=${D:-10s}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
OUT=$WORK/load
mkdir -p "$OUT"
cleanup() {
  [ "${DROP:-0}" = 1 ] && "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

emit "$(jq -nc --arg head "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --argjson dirty "$(git -C "$REPO" status --porcelain 2>/dev/null | wc -l)" --arg cpus "$(nproc)" \
  --arg pg "$("${PSQL[@]}" -d postgres -tAc 'SHOW server_version')" \
  --arg maxconn "$("${PSQL[@]}" -d postgres -tAc 'SHOW max_connections')" \
  '{figure: "load_environment", commit: $head, uncommitted_paths: $dirty, cpus: $cpus, postgres: $pg, max_connections: $maxconn}')"

# ---- the ceiling: bare actix + diesel + handlebars, same machine, same job ------------------
setup_ceilings
CEIL_TARGET=${CEIL_TARGET:-${TP%/release/tradeport}/ceilings-http}
(cd "$CEIL/http" && CARGO_TARGET_DIR="$CEIL_TARGET" nice cargo build --release -q)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" -c "CREATE DATABASE $CEIL_HTTP_DB" >/dev/null
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -f "$CEIL/http/setup_ceil.sql" >/dev/null 2>&1
sed -i "s#URL=http://127.0.0.1:8080#URL=http://$CEIL_ADDR#" "$CEIL/http/wrk/run_http.sh"
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -v stock=1000000 -f "$CEIL/pgbench/reset_orders.sql" >/dev/null 2>&1 || true
to_us() { awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
  m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 0; printf "%d", v * m }'; }
wait_quiet
ORDERS=1 DATABASE_URL="$PG_SERVER/$CEIL_HTTP_DB" BIND="$CEIL_ADDR" BIN="$CEIL_TARGET/release/ceil" \
  timeout 300 "$CEIL/http/wrk/run_http.sh" "$D" "$SAT_BUYERS" >"$OUT/ceiling.txt"
cat "$OUT/ceiling.txt" >&2
for ep in plaintext json products page_static page order; do
  block=$(awk -v ep="$ep" '/^=== / { on = ($2 == ep) } on' "$OUT/ceiling.txt")
  [ -n "$block" ] || continue
  emit "$(jq -nc --arg ep "$ep" --argjson c "$SAT_BUYERS" \
    --argjson p50 "$(awk '$1 == "50%" { print $2 }' <<<"$block" | to_us)" \
    --argjson p99 "$(awk '$1 == "99%" { print $2 }' <<<"$block" | to_us)" \
    --argjson rps "$(awk '/Requests\/sec/ { print $2 }' <<<"$block")" \
    '{figure: "load_ceiling_http", endpoint: $ep, connections: $c, p50_us: $p50, p99_us: $p99, rps: $rps}')"
done

# ---- ours ------------------------------------------------------------------------------------
REUSE=()
[ "${SEED:-1}" = 0 ] && db_exists "$DB" && REUSE=(--reuse)
run_load() { # label buyers duration think -> JSON lines with the label
  local rc=0
  wait_quiet
  env RUST_LOG=error "$TP" bench load --tenants "$TENANTS" --products "$PRODUCTS" --buyers "$2" \
    --duration "$3" --think-ms "$4" --database "$DB" "${REUSE[@]}" >"$OUT/$1.jsonl" 2>"$OUT/$1.txt" || rc=$?
  cat "$OUT/$1.txt" >&2
  while read -r line; do emit "$(jq -c --arg run "$1" '. + {run: $run}' <<<"$line")"; done <"$OUT/$1.jsonl"
  return $rc
}
run_load realistic "$BUYERS" "$DURATION" "$THINK"
REUSE=(--reuse)
run_load saturation "$SAT_BUYERS" "$SAT_DURATION" 0
