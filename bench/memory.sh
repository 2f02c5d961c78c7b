#!/usr/bin/env bash
# Database memory: backend memory after 10,000 requests spread over N tenants, with the
# tenant working set bound (default 64) and effectively off (100000):
#   a. over HTTP: `tradeport serve` + wrk (bounded by count) on every tenant's back-office API
#      (signed in as the bench admin) and on the anonymous storefront home, then /proc of the
#      server's backends;
#   b. through the pool and the `with_tenant` door (`tradeport bench pool-memory`), then each
#      pooled backend's own memory contexts and /proc;
#   c. the ceiling: ceilings/tenants/relcache_mem.sh (one connection touches every table of
#      1,000 x 25-table tenants).
# Needs the N-tenant bench database. Usage: REQUESTS=10000 bench/memory.sh
. "$(dirname "$0")/lib.sh"
REQUESTS=${REQUESTS:-10000}
WORKING_SETS=${WORKING_SETS:-"64 100000"}
# staff: the back-office API of each tenant (signed in; reads the tenant schema twice);
# home: the anonymous storefront home (reads only public.tenants, through a 2 s cache).
HTTP_KINDS=${HTTP_KINDS:-"staff home"}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
db_exists "$BENCH_DB" || tpb tenants --count "$N" --database "$BENCH_DB" >>"$RESULTS"
trap 'stop_server' EXIT

# The bench admin (owner of every bench tenant) signs in once; its token is sent to
# every tenant's back office.
login() {
  curl -fs -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench-admin@tradeport.bench\",\"password\":\"bench-admin-password\"}" \
    "http://$TP_ADDR/api/v1/auth/login" | jq -r .access_token
}
for ws in $WORKING_SETS; do
  for kind in $HTTP_KINDS; do
    if [ "$kind" = staff ]; then path='/s/bench-%04d/api/v1/admin/staff'; else path='/s/bench-%04d/'; fi
    echo "== HTTP: $REQUESTS requests of GET $path over $N tenants, tenant_working_set=$ws" >&2
    start_server TRADEPORT__DATABASE__TENANT_WORKING_SET="$ws"
    token=$([ "$kind" = staff ] && login || true)
    [ "$kind" != staff ] || [ -n "$token" ] || { echo "bench admin login failed" >&2; exit 1; }
    wait_quiet
    out=$(timeout 150 wrk -t2 -c8 -d90s -s "$HERE/wrk/counted_tenants.lua" "http://$TP_ADDR" -- "$N" "$REQUESTS" 2 "$path" "$token" | tail -1)
    opened=$(metric db_connections_opened_total)
    recycled=$(metric db_connections_recycled_tenant_working_set_total)
    mem=$(tpb backend-memory --database "$BENCH_DB" --label "http $kind working_set=$ws")
    emit "$(jq -c --argjson ws "$ws" --arg kind "$kind" --arg path "$path" --argjson wrk "$out" --argjson opened "$opened" --argjson recycled "$recycled" \
      '{figure: "memory_http", request: $kind, path: $path, working_set: $ws, requests: $wrk.requests, non2xx: $wrk.non2xx,
        p50_us: $wrk.p50_us, p99_us: $wrk.p99_us,
        db_connections_opened: $opened, db_connections_recycled_working_set: $recycled} + (. | del(.figure, .label, .database))' <<<"$mem")"
    stop_server
  done
done

for ws in $WORKING_SETS; do
  echo "== pool + with_tenant door: $REQUESTS tenant reads over $N tenants, tenant_working_set=$ws" >&2
  wait_quiet
  out=$(tpb pool-memory --database "$BENCH_DB" --requests "$REQUESTS" --tenants "$N" --working-set "$ws")
  emit "$out"
done

echo "== ceiling: relcache_mem.sh (one connection, every table of $N x 25-table tenants)" >&2
setup_ceilings
ensure_ceiling_tenants >/dev/null
DB=$CEIL_TENANTS_DB N=$N "$CEIL/tenants/relcache_mem.sh" >"$WORK/relcache_mem.txt" 2>&1 || true
cat "$WORK/relcache_mem.txt" >&2
# psql aligned output: the data rows are "  <size> | <size> | <n>"
vals=$(awk -F'|' 'NF == 3 && $3 ~ /^ *[0-9]+ *$/ { gsub(/^ +| +$/, "", $1); gsub(/^ +| +$/, "", $2); print $1 "|" $2 }' "$WORK/relcache_mem.txt")
before=$(sed -n 1p <<<"$vals"); after=$(sed -n 2p <<<"$vals")
emit "$(jq -nc --arg b "$before" --arg a "$after" --argjson n "$N" \
  '{figure: "ceiling_relcache_mem_25_tables", tenants: $n,
    before: {backend_total: ($b | split("|")[0]), cache_ctx: ($b | split("|")[1])},
    after: {backend_total: ($a | split("|")[0]), cache_ctx: ($a | split("|")[1])}}')"
