#!/usr/bin/env bash
# Every platform-core figure with its ceilings, in one job, then drops the bench databases.
# Build first: CARGO_TARGET_DIR=/work/target-bench cargo build --release
# Usage: bench/run_all.sh            (results: one JSON line per figure, also in $RESULTS)
. "$(dirname "$0")/lib.sh"
: >"$RESULTS"
rm -rf "$CEIL"   # a fresh copy of ../shared/ceilings for this job
emit "$(jq -nc --arg head "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || cat "$REPO/.bench-commit" 2>/dev/null || echo unknown)" \
  --arg cpus "$(nproc)" --arg pg "$("${PSQL[@]}" -d postgres -tAc 'SHOW server_version')" \
  '{figure: "environment", commit: $head, cpus: $cpus, postgres: $pg, note: "shared 2-core machine; loopback only"}')"
cleanup() {
  for db in "$BENCH_DB" "$RAW_DB" "$CEIL_TENANTS_DB" "$CEIL_HTTP_DB" tradeport_bench_restore; do
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
[ "${KEEP:-0}" = 1 ] || trap cleanup EXIT
"$HERE/run_tenants.sh"
"$HERE/accounts_fk.sh"
"$HERE/routing.sh"
"$HERE/memory.sh"
"$HERE/pg_dump_locks.sh"
echo "results: $RESULTS" >&2
