#!/usr/bin/env bash
# The cost of the tenant schemas' foreign keys to public.accounts at N tenants: every
# REFERENCES public.accounts in a tenant migration adds a constraint (and two triggers on
# public.accounts) per tenant, so account writes and the first touch of public.accounts in a
# backend scale with the number of tenants. Runs in rolled-back transactions on the bench
# database (N tenants, bench/run_tenants.sh). Usage: bench/accounts_fk.sh
. "$(dirname "$0")/lib.sh"
db_exists "$BENCH_DB" || { echo "no $BENCH_DB database; run bench/run_tenants.sh first (KEEP=1 with run_all.sh)" >&2; exit 1; }
q() { "${PSQL[@]}" -d "$BENCH_DB" -tAc "$1"; }
tenants=$(q "SELECT count(*) FROM public.tenants")
fks=$(q "SELECT count(*) FROM pg_constraint WHERE confrelid = 'public.accounts'::regclass")
triggers=$(q "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.accounts'::regclass")
# psql \timing lines ("Time: 12.345 ms") in statement order
timings=$("${PSQL[@]}" -d "$BENCH_DB" <<'SQL' | awk '/^Time:/ { print $2 }'
\timing on
BEGIN;
UPDATE public.accounts SET name = name WHERE id = (SELECT min(id) FROM public.accounts);
UPDATE public.accounts SET name = name WHERE id = (SELECT min(id) FROM public.accounts);
INSERT INTO public.accounts (email, name) VALUES ('fk-probe@tradeport.bench', 'Probe');
DELETE FROM public.accounts WHERE email = 'fk-probe@tradeport.bench';
ROLLBACK;
SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts;
SQL
)
cache=$("${PSQL[@]}" -d "$BENCH_DB" -tAc "SELECT 1 FROM public.accounts LIMIT 1" \
  -c "SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts" | tail -1)
baseline=$("${PSQL[@]}" -d "$BENCH_DB" -tAc "SELECT 1 FROM public.platform_migrations LIMIT 1" \
  -c "SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts" | tail -1)
t() { sed -n "${1}p" <<<"$timings"; }
emit "$(jq -nc --argjson tenants "$tenants" --argjson fks "$fks" --argjson triggers "$triggers" \
  --argjson first_update "$(t 2)" --argjson second_update "$(t 3)" --argjson insert "$(t 4)" --argjson delete "$(t 5)" \
  --argjson cache "$cache" --argjson baseline "$baseline" \
  '{figure: "accounts_foreign_keys", tenants: $tenants, constraints_referencing_accounts: $fks, triggers_on_accounts: $triggers,
    first_update_in_backend_ms: $first_update, next_update_ms: $second_update, insert_ms: $insert,
    delete_unreferenced_account_ms: $delete, backend_cache_after_reading_accounts_mb: ($cache / 1048576 * 100 | round / 100),
    backend_cache_after_reading_platform_migrations_mb: ($baseline / 1048576 * 100 | round / 100)}')"
