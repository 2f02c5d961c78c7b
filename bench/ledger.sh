#!/usr/bin/env bash
# Ledger figures (issue 6): a buyer company with 100,000 movements (shipments with due dates
# over ten years, payments, reversals), then the time of the position query our cabinet runs
# (balance, debt, overdue, credit left: bench/pgbench/ledger_position.sql, the statement of
# finance::ledger::position) and of `GET /api/v1/account` over HTTP, which runs it.
# Needs the release binary (bench/lib.sh). Keeps tradeport_bench_ledger (DROP=1 drops it).
# Usage: N=100000 bench/ledger.sh
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_ledger
MOVES=${MOVES:-100000}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
OUT=$WORK/ledger
mkdir -p "$OUT"
PID=
cleanup() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  [ "${DROP:-0}" = 1 ] && "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
if ! db_exists "$DB"; then
  timeout 600 env RUST_LOG=error "$TP" bench catalog-seed --database "$DB" --products 100 --tenants 0 --per-tenant 0 >/dev/null
fi
S=$("${PSQL[@]}" -d "$DB" -tAc "SELECT schema_name FROM public.tenants WHERE slug = 'cat-main'")
COMPANY=$("${PSQL[@]}" -d "$DB" -tAc "SELECT m.company_id FROM $S.company_members m JOIN public.accounts a ON a.id = m.account_id WHERE a.email = 'dealer@catalog.bench'")
# The movements: as many shipments as payments, one in fifty payments reversed.
have=$("${PSQL[@]}" -d "$DB" -tAc "SELECT count(*) FROM $S.ledger_entries WHERE company_id = $COMPANY")
if [ "$have" -lt "$MOVES" ]; then
  "${PSQL[@]}" -d "$DB" -c "SET search_path = $S, public" -c "
    INSERT INTO ledger_entries (company_id, side, kind, amount, booked_on, due_on, document)
    SELECT $COMPANY, 'debit', 'opening', 1000 + (i % 97), current_date - (i % 3650), current_date - (i % 3650) + 30, 'bench ' || i
      FROM generate_series(1, $MOVES / 2) i" -c "
    INSERT INTO ledger_entries (company_id, side, kind, amount, booked_on, document)
    SELECT $COMPANY, 'credit', 'payment', 990 + (i % 89), current_date - (i % 3650), 'bench pay ' || i
      FROM generate_series(1, $MOVES / 2) i" -c "VACUUM ANALYZE ledger_entries" -c "VACUUM ANALYZE company_balances" >/dev/null
fi
n=$("${PSQL[@]}" -d "$DB" -tAc "SELECT count(*) FROM $S.ledger_entries WHERE company_id = $COMPANY")
# The query alone: 2,000 runs on one connection, latency from pgbench's per-statement report.
out=$(PGOPTIONS="-c search_path=$S,public" timeout 300 pgbench -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -n -M prepared -c 1 -t 2000 \
  -D company="$COMPANY" -f "$HERE/pgbench/ledger_position.sql" "$DB" 2>&1)
emit "$(jq -nc --argjson n "$n" --argjson lat "$(grep -oP '^latency average = \K[0-9.]+' <<<"$out")" \
  --argjson tps "$(grep -oP '^tps = \K[0-9.]+' <<<"$out")" \
  '{figure: "ledger_position_query", movements: $n, runs: 2000, latency_avg_ms: $lat, per_second: $tps, target_ms: 10}')"
# The kept totals must equal the ledger summed from scratch.
check=$("${PSQL[@]}" -d "$DB" -tAc "SELECT json_build_object(
  'recomputed', (SELECT sum(amount) FILTER (WHERE side = 'credit') - sum(amount) FILTER (WHERE side = 'debit') FROM $S.ledger_entries WHERE company_id = $COMPANY),
  'kept', (SELECT credit - debit FROM $S.company_balances WHERE company_id = $COMPANY))")
emit "$(jq -nc --argjson c "$check" '{figure: "ledger_totals_check"} + $c + {equal: ($c.recomputed == $c.kept)}')"
plan=$("${PSQL[@]}" -d "$DB" -c "SET search_path = $S, public" -c "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON) $(sed 's/:company/'"$COMPANY"'/g' "$HERE/pgbench/ledger_position.sql" | grep -v '^--')" | grep -E 'Execution Time|Index')
echo "$plan" >"$OUT/plan.txt"
# Over HTTP: the buyer's cabinet (session check, membership, position, settings), 8 s on one connection.
env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  DATABASE_URL="$PG_SERVER/$DB" TRADEPORT_BIND="$TP_ADDR" "$TP" serve --no-worker >"$OUT/serve.log" 2>&1 &
PID=$!
wait_http "http://$TP_ADDR/readyz" 300
TOKEN=$(curl -fs -m 10 -X POST -H 'Content-Type: application/json' -d '{"email":"dealer@catalog.bench","password":"bench-dealer-password"}' \
  "http://$TP_ADDR/s/cat-main/api/v1/auth/login" | jq -r .access_token)
curl -fs -m 10 -H "Authorization: Bearer $TOKEN" "http://$TP_ADDR/s/cat-main/api/v1/account" | jq -c '{balance, debt, overdue}' >"$OUT/account.json"
http=$(timeout 60 wrk --timeout 10s -t1 -c1 -d8s -s "$HERE/wrk/authed.lua" "http://$TP_ADDR" -- /s/cat-main/api/v1/account "$TOKEN" | tail -1)
emit "$(jq -nc --argjson n "$n" --argjson h "$http" --argjson a "$(cat "$OUT/account.json")" \
  '{figure: "ledger_account_http", movements: $n, account: $a, http: $h}')"
