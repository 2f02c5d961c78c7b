#!/usr/bin/env bash
# T8 under a slow database: 20 rounds of 50 concurrent one-unit orders for 10 units, with every
# packet between our server and PostgreSQL delayed by 50 ms (bench/py/latency_proxy.py, the
# Toxiproxy `latency` toxic). Uses bench/orders.sh's database. Checks: exactly 10 accepted per
# round, stock 0 after each, nothing else.
# Usage: bench/race_latency.sh       LATENCY_MS=50 ROUNDS=20 CLIENTS=50
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_orders
db_exists "$DB" || { echo "run bench/orders.sh first (it seeds $DB)" >&2; exit 1; }
LATENCY_MS=${LATENCY_MS:-50}
PROXY_PORT=${PROXY_PORT:-15432}
OUT=$WORK/race
mkdir -p "$OUT"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT
python3 "$HERE/py/latency_proxy.py" "$PROXY_PORT" "$PGPORT_NUM" "$LATENCY_MS" &
PIDS+=($!)
sleep 0.5
env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  DATABASE_URL="postgres://postgres@127.0.0.1:$PROXY_PORT/$DB" TRADEPORT_BIND="$TP_ADDR" \
  TRADEPORT__DATABASE__POOL_MAX_SIZE=32 "$TP" serve --no-worker >"$OUT/serve.log" 2>&1 &
PIDS+=($!)
wait_http "http://$TP_ADDR/readyz" 600
tok() { curl -fs -m 30 -X POST -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
  "http://$TP_ADDR/s/cat-main/api/v1/auth/login" | jq -r .access_token; }
BUYER=$(tok dealer@catalog.bench bench-dealer-password)
# The seed's staff account (src/cli/bench_catalog.rs).
STAFF=$(tok bench-admin@catalog.bench bench-admin-password)
SKU=$("${PSQL[@]}" -d "$DB" -tAc "SELECT sku FROM tenant_cat_main.products ORDER BY id LIMIT 1")
summary=$(timeout 1800 python3 "$HERE/py/race.py" "http://$TP_ADDR" cat-main "$BUYER" "$STAFF" "$SKU" 10 "${CLIENTS:-50}" "${ROUNDS:-20}" | tee "$OUT/rounds.jsonl" | tail -1)
emit "$(jq -c --argjson ms "$LATENCY_MS" '. + {figure: "t8_race_with_latency", latency_ms: $ms}' <<<"$summary")"
