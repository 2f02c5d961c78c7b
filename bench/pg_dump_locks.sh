#!/usr/bin/env bash
# pg_dump vs max_locks_per_transaction. pg_dump takes an ACCESS SHARE lock on every table it
# dumps, all in one transaction, and the shared lock table has
# max_locks_per_transaction x (max_connections + max_prepared_transactions) slots. Running
# out fails the dump ("out of shared memory") and, while it lasts, other sessions' lock
# requests, so this runs on a PRIVATE instance (port $PRIV_PORT, data under $WORK, stopped
# at the end), never on the shared server: N tenants of our schema and the ceilings'
# N x 25-table tenants, dumped (-s) at several max_locks_per_transaction values.
# Usage: N=1000 LOCK_SETTINGS="16 32 64 256 512" bench/pg_dump_locks.sh
. "$(dirname "$0")/lib.sh"
PRIV_PORT=${PRIV_PORT:-5433}
LOCK_SETTINGS=${LOCK_SETTINGS:-"16 32 64 256 512"}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PRIV=$WORK/pg-private
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
setup_ceilings

stop_private() { as_pg "$PGBIN/pg_ctl" -D "$PRIV/data" -m fast -w stop >/dev/null 2>&1 || true; }
start_private() { # max_locks_per_transaction
  as_pg "$PGBIN/pg_ctl" -D "$PRIV/data" -w -l "$PRIV/log" -o "-p $PRIV_PORT -k $PRIV -c listen_addresses=127.0.0.1 \
    -c max_connections=100 -c max_prepared_transactions=0 -c max_locks_per_transaction=$1 -c fsync=off" start >/dev/null
}
trap stop_private EXIT
rm -rf "$PRIV"; mkdir -p "$PRIV"; chown postgres: "$PRIV" 2>/dev/null || true
as_pg "$PGBIN/initdb" -D "$PRIV/data" -A trust -U postgres >/dev/null
start_private 64

echo "== private instance: $N tenants of our schema (tradeport bench tenants), $N x 25-table ceiling tenants" >&2
DATABASE_URL="postgres://postgres@127.0.0.1:$PRIV_PORT/tradeport_bench" tpb tenants --count "$N" --database tradeport_bench >/dev/null
PGPORT=$PRIV_PORT DB=$CEIL_TENANTS_DB N=$N "$CEIL/tenants/create_tenants.sh" | tail -1 >&2

tables() {
  psql -h 127.0.0.1 -p "$PRIV_PORT" -U postgres -X -d "$1" -tAc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
}
ours_tables=$(tables tradeport_bench); ceil_tables=$(tables "$CEIL_TENANTS_DB")
for mlpt in $LOCK_SETTINGS; do
  stop_private; start_private "$mlpt"
  for db in tradeport_bench "$CEIL_TENANTS_DB"; do
    t=$([ "$db" = tradeport_bench ] && echo "$ours_tables" || echo "$ceil_tables")
    rc=0; t0=$(now)
    timeout 600 pg_dump -h 127.0.0.1 -p "$PRIV_PORT" -U postgres -s "$db" >/dev/null 2>"$WORK/dump.err" || rc=$?
    t1=$(now)
    emit "$(jq -nc --arg db "$db" --argjson mlpt "$mlpt" --argjson slots "$((mlpt * 100))" --argjson tables "$t" \
      --argjson rc "$rc" --argjson s "$(elapsed "$t0" "$t1")" --arg err "$(head -c 200 "$WORK/dump.err" | tr '\n' ' ')" \
      '{figure: "pg_dump_locks", database: $db, tables: $tables, max_locks_per_transaction: $mlpt,
        lock_table_slots: $slots, ok: ($rc == 0), total_s: $s, stderr: $err}')"
  done
done
stop_private
rm -rf "$PRIV"
