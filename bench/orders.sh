#!/usr/bin/env bash
# Order placement over HTTP (issue 5) next to the pgbench atomic-order ceiling, in one job:
#   uniform (99,999 SKUs) and hot (99 SKUs) at 64 and 8 connections, each request three lines
#   of distinct SKUs with qty 1..3 (as the ceiling's order_atomic_*.sql), and a scarce-stock run
#   (300 per hot SKU, sells out) checked for oversell. Ours: POST /s/ord-main/api/v1/orders with
#   `lines` and a fresh Idempotency-Key, as a buyer whose store needs no e-mail confirmation.
# Needs the release binary (bench/lib.sh) and pgbench. Keeps tradeport_bench_orders (DROP=1 drops it).
# Usage: D=10s bench/orders.sh      SEED=0 reuses the seeded database.
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_orders
D=${D:-10s}
SECS=${D%s}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
OUT=$WORK/orders
mkdir -p "$OUT"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ "${DROP:-0}" = 1 ] && "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

emit "$(jq -nc --arg head "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --argjson dirty "$(git -C "$REPO" status --porcelain 2>/dev/null | wc -l)" --arg cpus "$(nproc)" \
  --arg pg "$("${PSQL[@]}" -d postgres -tAc 'SHOW server_version')" --arg bin "${BIN_COMMIT:-}" \
  '{figure: "orders_environment", commit: $head, binary_built_from: $bin, uncommitted_paths: $dirty, cpus: $cpus, postgres: $pg}')"

# ---- data: one store of 99,999 products (the catalog bench's generator), 1,000,000 each ----
if [ "${SEED:-1}" = 1 ] || ! db_exists "$DB"; then
  emit "$(timeout 1800 env RUST_LOG=error "$TP" bench catalog-seed --database "$DB" --products 99999 --tenants 0 --per-tenant 0 \
    | jq -c '. + {figure: "orders_seed"}')"
fi
S=$("${PSQL[@]}" -d "$DB" -tAc "SELECT schema_name FROM public.tenants WHERE slug = 'cat-main'")
TID=$("${PSQL[@]}" -d "$DB" -tAc "SELECT id FROM public.tenants WHERE slug = 'cat-main'")
"${PSQL[@]}" -d "$DB" -c "UPDATE $S.products SET status = 'active', min_qty = 1, order_multiple = 1, unit = 'pcs' WHERE status <> 'active' OR min_qty <> 1 OR order_multiple <> 1 OR unit <> 'pcs'" \
  -c "INSERT INTO $S.settings (key, value) VALUES ('require_email_confirmation', 'false') ON CONFLICT (key) DO UPDATE SET value = 'false'" >/dev/null
"${PSQL[@]}" -d "$DB" -tAc "SELECT sku FROM $S.products ORDER BY id" >"$OUT/skus_uniform.txt"
head -99 "$OUT/skus_uniform.txt" >"$OUT/skus_hot.txt"
# reset_ours STOCK: empties orders and sets every product's stock (one warehouse) to STOCK
reset_ours() {
  "${PSQL[@]}" -d "$DB" -c "SET search_path = $S, public" -c "TRUNCATE $S.order_events, $S.order_allocations, $S.order_lines, $S.notifications, $S.reservation_allocations, $S.waitlist, $S.reservations, $S.payment_allocations, $S.invoices, $S.invoice_years, $S.ledger_entries, $S.company_balances, $S.payments, $S.orders" \
    -c "DELETE FROM public.mail_outbox WHERE tenant_id = $TID" -c "DELETE FROM public.jobs WHERE tenant_id = $TID" \
    -c "INSERT INTO $S.stock (product_id, warehouse_id, quantity) SELECT p.id, w.id, $1 FROM $S.products p, (SELECT id FROM $S.warehouses ORDER BY position, id LIMIT 1) w ON CONFLICT (product_id, warehouse_id) DO UPDATE SET quantity = EXCLUDED.quantity, reserved = 0" \
    -c "VACUUM ANALYZE $S.stock" -c "VACUUM ANALYZE $S.products" -c "CHECKPOINT" >/dev/null
}

# ---- the ceiling's tables --------------------------------------------------------------------
setup_ceilings
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" -c "CREATE DATABASE $CEIL_HTTP_DB" >/dev/null
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -f "$CEIL/http/setup_ceil.sql" >/dev/null 2>&1
PGB=(pgbench -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -n -M prepared -j 2)
# ceiling SCRIPT CONNS STOCK -> JSON
ceiling() {
  "${PSQL[@]}" -d "$CEIL_HTTP_DB" -v stock="$3" -f "$CEIL/pgbench/reset_orders.sql" >/dev/null 2>&1
  local out
  out=$(timeout $((SECS + 60)) "${PGB[@]}" -c "$2" -T "$SECS" -f "$CEIL/pgbench/$1.sql" "$CEIL_HTTP_DB" 2>&1)
  jq -nc --arg s "$1" --argjson c "$2" \
    --argjson tps "$(grep -oP '^tps = \K[0-9.]+' <<<"$out" | head -1)" \
    --argjson lat "$(grep -oP '^latency average = \K[0-9.]+' <<<"$out" | head -1)" \
    --argjson n "$(grep -oP 'number of transactions actually processed: \K[0-9]+' <<<"$out" | head -1)" \
    --argjson orders "$("${PSQL[@]}" -d "$CEIL_HTTP_DB" -tAc 'SELECT count(*) FROM orders')" \
    '{script: $s, connections: $c, tps: $tps, latency_ms: $lat, transactions: $n, orders: $orders}'
}

# ---- ours ----------------------------------------------------------------------------------
env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  DATABASE_URL="$PG_SERVER/$DB" TRADEPORT_BIND="$TP_ADDR" "$TP" serve --no-worker >>"$OUT/serve.log" 2>&1 &
PIDS+=($!)
wait_http "http://$TP_ADDR/readyz" 300
URL=http://$TP_ADDR
login() {
  curl -fs -m 10 -X POST -H 'Content-Type: application/json' -d '{"email":"dealer@catalog.bench","password":"bench-dealer-password"}' \
    "$URL/s/cat-main/api/v1/auth/login" | jq -r .access_token
}
# ours SKUFILE CONNS -> JSON (wrk's line, plus orders and 5xx from the database and the log)
ours() {
  local token out
  token=$(login)
  out=$(timeout $((SECS + 60)) wrk --timeout 30s -t2 -c"$2" -d"$D" -s "$HERE/wrk/orders.lua" "$URL" -- \
    /s/cat-main/api/v1/orders "$1" "$token" | tail -1)
  jq -c --argjson orders "$("${PSQL[@]}" -d "$DB" -tAc "SELECT count(*) FROM $S.orders")" \
    --argjson e5 "$(grep -c '"status":5[0-9][0-9]' "$OUT/serve.log" || true)" \
    --argjson deadlocks "$(grep -ci 'deadlock' "$OUT/serve.log" || true)" \
    '. + {orders: $orders, server_5xx_in_log: $e5, deadlocks_in_log: $deadlocks}' <<<"$out"
}
# oversell: per product, the stock taken must equal what was ordered, and never below zero
oversell() {
  "${PSQL[@]}" -d "$DB" -tAc "SELECT json_build_object(
    'min_quantity', (SELECT min(quantity) FROM $S.stock),
    'mismatched', (SELECT count(*) FROM $S.stock s LEFT JOIN (SELECT product_id, sum(qty) q FROM $S.order_lines GROUP BY 1) l USING (product_id) WHERE $1 - s.quantity <> coalesce(l.q, 0)),
    'sold_out', (SELECT count(*) FROM $S.stock WHERE quantity = 0),
    'orders', (SELECT count(*) FROM $S.orders))"
}

for case in uniform hot; do
  for c in 64 8; do
    reset_ours 1000000
    o=$(ours "$OUT/skus_$case.txt" "$c")
    ceil=$(ceiling "order_atomic_$case" "$c" 1000000)
    emit "$(jq -nc --arg case "$case" --argjson c "$c" --argjson o "$o" --argjson k "$ceil" \
      '{figure: "orders_placement", case: $case, connections: $c, ours: $o, ceiling: $k, ratio: (($o.rps) / ($k.tps))}')"
    emit "$(jq -nc --arg case "$case" --argjson c "$c" --argjson v "$(oversell 1000000)" '{figure: "orders_check", case: $case, connections: $c} + $v')"
  done
done
# scarce: 300 per SKU, 64 connections on the hot set; it sells out, and must not oversell
reset_ours 300
o=$(ours "$OUT/skus_hot.txt" 64)
emit "$(jq -nc --argjson o "$o" --argjson v "$(oversell 300)" '{figure: "orders_scarce", ours: $o} + {check: $v}')"
ceil=$(ceiling order_atomic_hot 64 300)
emit "$(jq -nc --argjson k "$ceil" '{figure: "orders_scarce_ceiling", ceiling: $k}')"
