#!/usr/bin/env bash
# Tenant figures, each with its ceiling in the same job:
#   1. onboarding one tenant vs the raw DDL of its schema (psql, one connection);
#   2. an additive tenant migration over N tenants vs the raw psql script;
#   3. `tradeport migrate` over N up-to-date tenants (target < 15 s);
#   4. pg_dump (and a pg_restore check) of the N-tenant database.
# Leaves the databases tradeport_bench (N tenants) and tradeport_bench_ceil_tenants for
# routing.sh / memory.sh; run_all.sh drops them. Usage: N=1000 bench/run_tenants.sh
. "$(dirname "$0")/lib.sh"
[ -x "$TP" ] || { echo "build first: CARGO_TARGET_DIR=${TP%/release/tradeport} cargo build --release" >&2; exit 1; }
setup_ceilings

# The tenant DDL exactly as onboarding runs it: the bookkeeping table, then every tenant
# migration in order (migrations/tenant/*/up.sql).
TENANT_SQL=$(cat "$REPO"/migrations/tenant/*/up.sql)
raw_schema() { printf 'tenant_raw_%04d' "$1"; }

echo "== ceiling: ${N} x 25-table tenants, one psql per tenant (ceilings/tenants/create_tenants.sh)" >&2
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_TENANTS_DB WITH (FORCE)"
wait_quiet
ceil_create_s=$(ensure_ceiling_tenants)
emit "$(jq -nc --argjson n "$N" --argjson s "$ceil_create_s" \
  '{figure: "ceiling_create_tenants_25_tables", tenants: $n, total_s: $s, per_tenant_ms: ($s * 1000 / $n)}')"

echo "== raw DDL of our tenant schema, ${N} schemas over one psql connection" >&2
tpb create --database "$RAW_DB"
cat "$REPO"/migrations/platform/*/up.sql | "${PSQL[@]}" -d "$RAW_DB" >/dev/null
for i in $(seq 1 "$N"); do
  s=$(raw_schema "$i")
  printf 'BEGIN;\nCREATE SCHEMA "%s";\nSET LOCAL search_path = "%s", public;\n' "$s" "$s"
  printf 'CREATE TABLE tenant_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());\n'
  printf '%s\nCOMMIT;\n' "$TENANT_SQL"
done >"$WORK/raw_ddl.sql"
wait_quiet
t0=$(now); "${PSQL[@]}" -d "$RAW_DB" -f "$WORK/raw_ddl.sql" >/dev/null; t1=$(now)
raw_s=$(elapsed "$t0" "$t1")
raw_ms=$(div "$raw_s" "$N" 6 | awk '{ printf "%.3f", $1 * 1000 }')

echo "== ours: tradeport bench tenants --count ${N} (one connection, one existing admin)" >&2
wait_quiet
ours=$(tpb tenants --count "$N" --database "$BENCH_DB")
echo "$ours" >>"$RESULTS"
emit "$(jq -c --argjson raw_s "$raw_s" --argjson raw_ms "$raw_ms" --argjson n "$N" \
  '{figure: "onboarding_vs_raw_ddl", tenants: $n, ours_mean_ms: .mean_ms, ours_p50_ms: .p50_ms,
    ours_p95_ms: .p95_ms, ours_first_100_mean_ms: .first_100_mean_ms, ours_last_100_mean_ms: .last_100_mean_ms,
    ours_total_s: .total_s, ceiling_raw_ddl_total_s: $raw_s, ceiling_raw_ddl_mean_ms: $raw_ms,
    ratio_mean: ((.mean_ms / $raw_ms) * 100 | round / 100), target: "ratio <= 2",
    met: ((.mean_ms / $raw_ms) <= 2)}' <<<"$ours")"

echo "== additive migration: raw psql script vs our runner (two rounds, tags a and b)" >&2
additive_raw() { # tag -> seconds
  local tag=$1 i s
  for i in $(seq 1 "$N"); do
    s=$(raw_schema "$i")
    printf 'BEGIN; ALTER TABLE "%s".settings ADD COLUMN bench_note_%s text; CREATE INDEX ON "%s".settings (bench_note_%s); ALTER TABLE "%s".staff ADD COLUMN bench_title_%s text; COMMIT;\n' \
      "$s" "$tag" "$s" "$tag" "$s" "$tag"
  done >"$WORK/raw_additive_$tag.sql"
  local t0 t1
  wait_quiet
  t0=$(now); "${PSQL[@]}" -d "$RAW_DB" -f "$WORK/raw_additive_$tag.sql" >/dev/null; t1=$(now)
  elapsed "$t0" "$t1"
}
for round in "a 1" "b default"; do
  set -- $round
  tag=$1; workers=$2
  raw_s=$(additive_raw "$tag")
  wait_quiet
  if [ "$workers" = default ]; then
    ours=$(tpb migrate-additive --database "$BENCH_DB" --tag "$tag")
  else
    ours=$(tpb migrate-additive --database "$BENCH_DB" --tag "$tag" --workers "$workers")
  fi
  echo "$ours" >>"$RESULTS"
  emit "$(jq -c --argjson raw_s "$raw_s" \
    '{figure: "additive_migration_vs_raw_script", tag: (.migration), tenants, workers, applied, failed,
      ours_total_s: .total_s, ceiling_raw_script_s: $raw_s, ratio: ((.total_s / $raw_s) * 100 | round / 100),
      target: "ratio <= 2", met: ((.total_s / $raw_s) <= 2)}' <<<"$ours")"
done

echo "== ceiling: additive migration over the 25-table tenants (ceilings/tenants/migrate_all.sh)" >&2
wait_quiet
t0=$(now); DB=$CEIL_TENANTS_DB N=$N "$CEIL/tenants/migrate_all.sh"; t1=$(now)
emit "$(jq -nc --argjson n "$N" --argjson s "$(elapsed "$t0" "$t1")" \
  '{figure: "ceiling_migrate_all_25_tables", tenants: $n, total_s: $s}')"

echo "== tradeport migrate over ${N} up-to-date tenants (real binary, 3 runs)" >&2
for run in 1 2 3; do
  wait_quiet
  t0=$(now)
  DATABASE_URL="$PG_SERVER/$BENCH_DB" "$TP" migrate >"$WORK/migrate_$run.log" 2>&1
  t1=$(now)
  s=$(elapsed "$t0" "$t1")
  emit "$(jq -nc --argjson run "$run" --argjson s "$s" --arg last "$(tail -1 "$WORK/migrate_$run.log")" \
    '{figure: "migrate_up_to_date", run: $run, total_s: $s, summary: $last, target: "< 15 s", met: ($s < 15)}')"
done

echo "== pg_dump" >&2
locks() { # database -> tables pg_dump locks (plain and partitioned tables outside the system schemas)
  "${PSQL[@]}" -d "$1" -tAc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
}
capacity=$("${PSQL[@]}" -d postgres -tAc "SELECT current_setting('max_locks_per_transaction')::int
  * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)")
mlpt=$("${PSQL[@]}" -d postgres -tAc "SHOW max_locks_per_transaction")
dump() { # figure database args... -> emits
  local fig=$1 db=$2; shift 2
  local t0 t1 rc=0
  wait_quiet
  t0=$(now)
  pg_dump -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres "$@" "$db" >"$WORK/$fig.dump" 2>"$WORK/$fig.err" || rc=$?
  t1=$(now)
  emit "$(jq -nc --arg fig "$fig" --arg db "$db" --argjson rc "$rc" --argjson s "$(elapsed "$t0" "$t1")" \
    --argjson bytes "$(stat -c %s "$WORK/$fig.dump")" --argjson tables "$(locks "$db")" \
    --argjson capacity "$capacity" --argjson mlpt "$mlpt" --arg err "$(head -c 300 "$WORK/$fig.err")" \
    '{figure: $fig, database: $db, exit_code: $rc, ok: ($rc == 0), total_s: $s, dump_bytes: $bytes,
      tables_locked: $tables, max_locks_per_transaction: $mlpt, lock_table_slots: $capacity, stderr: $err}')"
}
dump pg_dump_ours "$BENCH_DB" -Fc
dump pg_dump_ours_schema_only "$BENCH_DB" -s
if [ -s "$WORK/pg_dump_ours.dump" ]; then
  tpb create --database tradeport_bench_restore
  t0=$(now)
  rc=0; pg_restore -h "$PGHOST_ADDR" -p "$PGPORT_NUM" -U postgres -d tradeport_bench_restore "$WORK/pg_dump_ours.dump" 2>"$WORK/pg_restore.err" || rc=$?
  t1=$(now)
  restored=$("${PSQL[@]}" -d tradeport_bench_restore -tAc "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\_%'")
  emit "$(jq -nc --argjson rc "$rc" --argjson s "$(elapsed "$t0" "$t1")" --argjson schemas "$restored" --argjson n "$N" \
    --arg err "$(head -c 300 "$WORK/pg_restore.err")" \
    '{figure: "pg_restore_ours", exit_code: $rc, total_s: $s, tenant_schemas_restored: $schemas, ok: ($rc == 0 and $schemas == $n), stderr: $err}')"
  tpb drop --database tradeport_bench_restore
fi
# The ceilings' 25-table dump would exhaust the shared lock table of this server (and fail
# other sessions' lock requests meanwhile): bench/pg_dump_locks.sh runs it on a private instance.

echo "== catalog footprint of the bench database (ceilings/tenants/catalog_stats.sql)" >&2
"${PSQL[@]}" -d "$BENCH_DB" -f "$CEIL/tenants/catalog_stats.sql" >"$WORK/catalog_stats_ours.txt"
cat "$WORK/catalog_stats_ours.txt" >&2

tpb drop --database "$RAW_DB"
rm -f "$WORK"/*.dump
