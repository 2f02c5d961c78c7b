#!/usr/bin/env bash
# Our order placement's SQL without HTTP, next to the pgbench atomic-order ceiling, in one job:
# how much of the ceiling our statements alone can reach (docs/BENCHMARKS.md, "Order placement").
# pgbench runs bench/pgbench/place_direct.sql (the statements our server sends for an order of
# three uniform SKUs) against tradeport_bench_orders, then the same with every trigger of the
# tables it writes disabled (no stock totals, no foreign keys, no cache generation: an upper
# bound, never a state the platform runs in; they are enabled again on exit), then the ceiling.
# Needs the database bench/orders.sh seeds (run it first). Usage: D=10s bench/orders_sql.sh
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_orders
D=${D:-10s}
SECS=${D%s}
db_exists "$DB" || { echo "seed $DB first: bench/orders.sh" >&2; exit 1; }
S=$("${PSQL[@]}" -d "$DB" -tAc "SELECT schema_name FROM public.tenants WHERE slug = 'cat-main'")
read -r COMPANY ACCOUNT < <("${PSQL[@]}" -d "$DB" -tAc "SELECT m.company_id || ' ' || m.account_id FROM $S.company_members m
  JOIN public.accounts a ON a.id = m.account_id WHERE a.email = 'dealer@catalog.bench'" | tr -d '\r')
K=$(( $("${PSQL[@]}" -d "$DB" -tAc "SELECT max(id) FROM $S.products") / 3 ))
TABLES=("$S.stock" "$S.products" "$S.orders" "$S.order_lines" "$S.order_allocations" "$S.order_events" "$S.notifications" public.mail_outbox)
triggers() { local t; for t in "${TABLES[@]}"; do "${PSQL[@]}" -d "$DB" -c "ALTER TABLE $t $1 TRIGGER ALL" >/dev/null; done; }
trap 'triggers ENABLE' EXIT
setup_ceilings
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" -c "CREATE DATABASE $CEIL_HTTP_DB" >/dev/null
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -f "$CEIL/http/setup_ceil.sql" >/dev/null 2>&1
PGB=(pgbench -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -n -M prepared -j 2)
# run NAME DB CONNS SCRIPT [-D ...] -> JSON
run() {
  local name=$1 db=$2 c=$3 script=$4 out
  shift 4
  out=$(timeout $((SECS + 60)) "${PGB[@]}" -c "$c" -T "$SECS" "$@" -f "$script" "$db" 2>&1)
  jq -nc --arg n "$name" --argjson c "$c" --argjson tps "$(grep -oP '^tps = \K[0-9.]+' <<<"$out" | head -1 || echo null)" \
    --argjson lat "$(grep -oP '^latency average = \K[0-9.]+' <<<"$out" | head -1 || echo null)" \
    --argjson failed "$(grep -oP 'number of failed transactions: \K[0-9]+' <<<"$out" | head -1 || echo 0)" \
    '{run: $n, connections: $c, tps: $tps, latency_ms: $lat, failed: $failed}'
}
OURS=(-D "schema=$S" -D "company=$COMPANY" -D "account=$ACCOUNT" -D "k=$K")
for c in 64 8; do
  "${PSQL[@]}" -d "$CEIL_HTTP_DB" -v stock=1000000 -f "$CEIL/pgbench/reset_orders.sql" >/dev/null 2>&1
  ceil=$(run ceiling "$CEIL_HTTP_DB" "$c" "$CEIL/pgbench/order_atomic_uniform.sql")
  ours=$(run ours "$DB" "$c" "$HERE/pgbench/place_direct.sql" "${OURS[@]}")
  triggers DISABLE
  bare=$(run ours_without_triggers "$DB" "$c" "$HERE/pgbench/place_direct.sql" "${OURS[@]}")
  triggers ENABLE
  emit "$(jq -nc --argjson c "$c" --argjson k "$ceil" --argjson o "$ours" --argjson b "$bare" \
    '{figure: "orders_sql", connections: $c, ceiling: $k, ours: $o, ours_without_triggers: $b,
      ratio: ($o.tps / $k.tps), ratio_without_triggers: ($b.tps / $k.tps)}')"
done
