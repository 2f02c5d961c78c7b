#!/usr/bin/env bash
# Identity figures: login requests per second (argon2id verification dominates), and what the
# per-request session check (signature + revocation lookup in PostgreSQL) adds to a storefront
# request. Build first: CARGO_TARGET_DIR=/work/target-bench cargo build --release
# Usage: bench/identity.sh        (one JSON line per figure, also appended to $RESULTS)
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_identity
export DATABASE_URL="$PG_SERVER/$DB"
D=${D:-10s}
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null' EXIT
RUST_LOG=error "$TP" migrate >/dev/null
EMAIL=bench-admin@identity.bench
PASS=bench-identity-password
RUST_LOG=error "$TP" tenant create --slug bench-id --name "Bench identity" --admin-email "$EMAIL" --admin-password "$PASS" >/dev/null
# The prod profile, as deployed (the dev profile re-reads templates on every page).
TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  TRADEPORT_BIND=$TP_ADDR TRADEPORT__LOG__FILTER=error "$TP" serve >"$WORK/identity_serve.log" 2>&1 &
SERVER=$!
wait_http "http://$TP_ADDR/healthz"
URL="http://$TP_ADDR"

for c in 1 4; do
  out=$(wrk -t$(( c < 2 ? 1 : 2 )) -c$c -d"$D" -s "$HERE/wrk/login.lua" "$URL" -- "$EMAIL" "$PASS" | tail -1)
  emit "$(jq -c --argjson c $c '{figure: "login", connections: $c} + .' <<<"$out")"
done

TOKEN=$(curl -fs -X POST -H 'Content-Type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"$PASS\"}" "$URL/api/v1/auth/login" | jq -r .access_token)
for round in 1 2 3; do
  anon=$(wrk -t2 -c2 -d"$D" -s "$HERE/wrk/fixed_tenant.lua" "$URL" -- /s/bench-id/ | tail -1)
  authed=$(wrk -t2 -c2 -d"$D" -s "$HERE/wrk/authed.lua" "$URL" -- /s/bench-id/ "$TOKEN" | tail -1)
  emit "$(jq -nc --argjson a "$anon" --argjson b "$authed" --argjson r $round \
    '{figure: "session_check", round: $r, connections: 2, anonymous_p50_us: $a.p50_us, signed_in_p50_us: $b.p50_us,
      added_p50_ms: (($b.p50_us - $a.p50_us) / 1000), anonymous_p99_us: $a.p99_us, signed_in_p99_us: $b.p99_us,
      anonymous_rps: $a.rps, signed_in_rps: $b.rps, non2xx: ($a.non2xx + $b.non2xx), target: "added p50 < 1 ms"}')"
done
