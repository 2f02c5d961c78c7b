#!/usr/bin/env bash
# T11 (SECURITY.md): PostgreSQL stopped with `-m immediate` and started again while 20 clients
# place 200 orders over HTTP (each client pausing T11_PACE s between orders; PostgreSQL stops
# after a quarter are answered), retrying each with the same Idempotency-Key until it is answered.
# Checks: every 201 order exists exactly once, no order exists that no client was told about,
# stock taken equals the quantities ordered, each order has its mail in the outbox, /readyz is
# false during the outage and true after. STOPS THE MACHINE'S POSTGRESQL for ~5 s: run it alone.
# Needs bench/orders.sh's database (tradeport_bench_orders) and the release binary.
# Usage: bench/reliability_orders.sh
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_orders
db_exists "$DB" || { echo "run bench/orders.sh first (it seeds $DB)" >&2; exit 1; }
OUT=$WORK/reliability
mkdir -p "$OUT"
S=$("${PSQL[@]}" -d "$DB" -tAc "SELECT schema_name FROM public.tenants WHERE slug = 'cat-main'")
TID=$("${PSQL[@]}" -d "$DB" -tAc "SELECT id FROM public.tenants WHERE slug = 'cat-main'")
"${PSQL[@]}" -d "$DB" -c "SET search_path = $S, public" \
  -c "TRUNCATE $S.order_events, $S.order_allocations, $S.order_lines, $S.notifications, $S.reservation_allocations, $S.waitlist, $S.reservations, $S.payment_allocations, $S.invoices, $S.invoice_years, $S.ledger_entries, $S.company_balances, $S.payments, $S.orders" \
  -c "DELETE FROM public.mail_outbox WHERE tenant_id = $TID" \
  -c "UPDATE $S.stock SET quantity = 1000, reserved = 0" >/dev/null
"${PSQL[@]}" -d "$DB" -tAc "SELECT sku FROM $S.products ORDER BY id LIMIT 300" >"$OUT/skus.txt"
env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  DATABASE_URL="$PG_SERVER/$DB" TRADEPORT_BIND="$TP_ADDR" "$TP" serve --no-worker >"$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
wait_http "http://$TP_ADDR/readyz" 300
TOKEN=$(curl -fs -m 10 -X POST -H 'Content-Type: application/json' \
  -d '{"email":"dealer@catalog.bench","password":"bench-dealer-password"}' "http://$TP_ADDR/s/cat-main/api/v1/auth/login" | jq -r .access_token)
clients=$(timeout 300 python3 "$HERE/py/restart_checkouts.py" "http://$TP_ADDR" "$TOKEN" "$OUT/skus.txt")
# Wait for PostgreSQL to accept connections again (bounded), then compare.
for _ in $(seq 1 100); do pg_isready -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -q && break; sleep 0.2; done
db=$("${PSQL[@]}" -d "$DB" -tAc "SELECT json_build_object(
  'orders', (SELECT count(*) FROM $S.orders),
  'numbers', (SELECT coalesce(json_agg(number ORDER BY number), '[]') FROM $S.orders),
  'keys_distinct', (SELECT count(DISTINCT idempotency_key) FROM $S.orders),
  'stock_taken', (SELECT sum(1000 - quantity) FROM $S.stock),
  'qty_ordered', (SELECT coalesce(sum(qty), 0) FROM $S.order_lines),
  'negative_stock', (SELECT count(*) FROM $S.stock WHERE quantity < 0),
  'orders_without_mail', (SELECT count(*) FROM $S.orders o WHERE NOT EXISTS (SELECT 1 FROM public.mail_outbox m WHERE m.tenant_id = $TID AND m.subject LIKE '%' || o.number || '%')))")
emit "$(jq -nc --argjson c "$clients" --argjson d "$db" '{figure: "t11_restart_during_checkouts",
  clients: ($c | del(.numbers)), database: ($d | del(.numbers)),
  lost_orders: (($c.numbers - $d.numbers) | length), unknown_orders: (($d.numbers - $c.numbers) | length),
  duplicates: ($d.orders - $d.keys_distinct), oversold: ($d.stock_taken - $d.qty_ordered)}')"
