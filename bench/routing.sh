#!/usr/bin/env bash
# Tenant routing: storefront home `GET /s/<slug>/` of one fixed tenant vs a random tenant of
# N, p50/p99 and the connections our pool opened (from /metrics), at 64 and at 2
# connections, twice each, alternating. The http ceiling (ceilings/http, run_http.sh) runs
# in the same job. Needs the N-tenant bench database (bench/run_tenants.sh or
# `tradeport bench tenants --count N`). Usage: D=10s bench/routing.sh
. "$(dirname "$0")/lib.sh"
D=${D:-10s}
ROUNDS=${ROUNDS:-3}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
db_exists "$BENCH_DB" || tpb tenants --count "$N" --database "$BENCH_DB" >>"$RESULTS"
setup_ceilings
trap 'stop_server' EXIT

echo "== http ceiling (ceilings/http: actix-web + diesel/r2d2 + handlebars) on $CEIL_ADDR" >&2
# Its build output goes next to ours (outside the copy) so a fresh copy per job rebuilds incrementally.
CEIL_TARGET=${CEIL_TARGET:-${TP%/release/tradeport}/ceilings-http}
(cd "$CEIL/http" && CARGO_TARGET_DIR="$CEIL_TARGET" cargo build --release -q)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" -c "CREATE DATABASE $CEIL_HTTP_DB"
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -f "$CEIL/http/setup_ceil.sql" >/dev/null
# The copy's run_http.sh hard-codes 127.0.0.1:8080 (often a dev server here): point it at CEIL_ADDR.
sed -i "s#URL=http://127.0.0.1:8080#URL=http://$CEIL_ADDR#" "$CEIL/http/wrk/run_http.sh"
# wrk latency "1.23ms" -> microseconds
to_us() { awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
  m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 0; printf "%d", v * m }'; }
ceiling() { # conns -> text
  DATABASE_URL="$PG_SERVER/$CEIL_HTTP_DB" BIND="$CEIL_ADDR" BIN="$CEIL_TARGET/release/ceil" \
    timeout 300 "$CEIL/http/wrk/run_http.sh" "$D" "$1"
}
declare -A CEIL_P50 CEIL_RPS
for c in 64 2; do
  wait_quiet
  ceiling "$c" >"$WORK/ceiling_http_c$c.txt"
  cat "$WORK/ceiling_http_c$c.txt" >&2
  for ep in plaintext page_static; do
    block=$(awk -v ep="$ep" '/^=== / { on = ($2 == ep) } on' "$WORK/ceiling_http_c$c.txt")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$block" | to_us)
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$block" | to_us)
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$block")
    CEIL_P50[$ep$c]=$p50; CEIL_RPS[$ep$c]=$rps
    emit "$(jq -nc --arg ep "$ep" --argjson c "$c" --argjson p50 "$p50" --argjson p99 "$p99" --argjson rps "$rps" \
      '{figure: "ceiling_http", endpoint: $ep, connections: $c, p50_us: $p50, p99_us: $p99, rps: $rps}')"
  done
done

echo "== ours: tradeport serve (release, prod profile) on $TP_ADDR, $N tenants" >&2
start_server
URL=http://$TP_ADDR
FIXED=/s/bench-$(printf %04d $(( (N + 1) / 2 )))/
curl -fs "$URL$FIXED" | grep -q "Bench supplier" || { echo "storefront $FIXED did not render" >&2; exit 1; }
timeout 30 wrk -t2 -c64 -d3s -s "$HERE/wrk/random_tenant.lua" "$URL" -- "$N" >/dev/null # warm-up
sleep 11 # let the warm-up's statistics reach pg_stat (see lookups)
# Tenant lookups that reached the database (the tenant cache missed): index scans on
# public.tenants. Backends flush statistics lazily (up to ~10 s when idle), hence the sleeps.
lookups() { "${PSQL[@]}" -d "$BENCH_DB" -tAc "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relid = 'public.tenants'::regclass"; }
run() { # mode conns round -> emits, sets LAST
  local mode=$1 c=$2 round=$3 o0 o1 r1 x0 x1 out
  wait_quiet
  o0=$(metric db_connections_opened_total); x0=$(lookups)
  if [ "$mode" = fixed ]; then
    out=$(timeout 60 wrk -t2 -c"$c" -d"$D" -s "$HERE/wrk/fixed_tenant.lua" "$URL" -- "$FIXED" | tail -1)
  else
    out=$(timeout 60 wrk -t2 -c"$c" -d"$D" -s "$HERE/wrk/random_tenant.lua" "$URL" -- "$N" | tail -1)
  fi
  o1=$(metric db_connections_opened_total)
  r1=$(metric db_connections_recycled_tenant_working_set_total)
  sleep 11; x1=$(lookups)
  LAST=$(jq -c --arg mode "$mode" --argjson c "$c" --argjson round "$round" --argjson n "$N" --argjson busy "$(busy)" \
    --argjson opened "$((o1 - o0))" --argjson lookups "$((x1 - x0))" --argjson opened_total "$o1" --argjson recycled_total "$r1" \
    '{figure: "routing", mode: $mode, tenants: (if $mode == "fixed" then 1 else $n end), connections: $c, round: $round}
     + . + {tenant_lookups_in_db: $lookups, db_connections_opened: $opened, db_connections_opened_total: $opened_total,
            db_connections_recycled_total: $recycled_total, other_builds_running_at_end: $busy}' <<<"$out")
  emit "$LAST"
}
for c in 64 2; do
  f=(); r=()
  for round in $(seq 1 "$ROUNDS"); do
    run fixed "$c" "$round"; f+=("$LAST")
    run random "$c" "$round"; r+=("$LAST")
  done
  emit "$(jq -sc --argjson c "$c" --argjson ceil_p50 "${CEIL_P50[page_static$c]}" --argjson ceil_plain "${CEIL_P50[plaintext$c]}" \
    --argjson ceil_rps "${CEIL_RPS[page_static$c]}" '
    def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    (map(select(.mode == "fixed")) ) as $f | (map(select(.mode == "random"))) as $r |
    ($f | map(.p50_us) | median) as $fp50 | ($r | map(.p50_us) | median) as $rp50 |
    ($f | map(.rps) | median) as $frps | ($r | map(.rps) | median) as $rrps |
    {figure: "routing_summary", connections: $c,
     fixed_p50_us: $fp50, random_p50_us: $rp50, diff_p50_ms: (($rp50 - $fp50) / 1000),
     fixed_p50_us_rounds: ($f | map(.p50_us)), random_p50_us_rounds: ($r | map(.p50_us)),
     fixed_p99_us: ($f | map(.p99_us) | median), random_p99_us: ($r | map(.p99_us) | median),
     fixed_rps: $frps, random_rps: $rrps,
     requests: (map(.requests) | add), db_connections_opened: (map(.db_connections_opened) | add),
     fixed_tenant_lookups_in_db: ($f | map(.tenant_lookups_in_db) | add), random_tenant_lookups_in_db: ($r | map(.tenant_lookups_in_db) | add),
     ceiling_page_static_p50_us: $ceil_p50, ceiling_plaintext_p50_us: $ceil_plain, ceiling_page_static_rps: $ceil_rps,
     ratio_fixed_p50_vs_ceiling_page_static: ($fp50 / $ceil_p50 * 100 | round / 100),
     ratio_rps_fixed_vs_ceiling_page_static: ($frps / $ceil_rps * 100 | round / 100),
     target: "random p50 <= fixed p50 + 0.2 ms; not a connection per request",
     met: ((($rp50 - $fp50) / 1000) <= 0.2 and (map(.db_connections_opened) | add) < (map(.requests) | add) / 100)}' \
    <(printf '%s\n' "${f[@]}" "${r[@]}"))"
done
stop_server
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)"
