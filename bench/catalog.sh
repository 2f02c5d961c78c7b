#!/usr/bin/env bash
# Catalog, pricing and search figures (issue 4), each next to its ceiling in the same job:
#   1. GET /s/cat-main/api/v1/products?category=<leaf>&per_page=20 as a `dealer` buyer (Bearer)
#      vs the ceiling's /products/{cat} (20 rows), at 64 and 8 connections;
#   2. GET /s/cat-main/catalog/<leaf>?per_page=50 as the same buyer vs the ceiling's /page/{cat};
#   3. GET /s/<slug>/api/v1/search?q=… (a mix of queries) on the PostgreSQL engine (100,000 and
#      2,000 products) and on Meilisearch, with Meilisearch measured directly on the very
#      multi-search requests our server sent for the same mix.
# Needs the release binary (bench/lib.sh), the ceilings (copied to $CEIL) and a Meilisearch on
# $MEILI (see docs/BENCHMARKS.md). Keeps tradeport_bench_catalog for reruns (DROP=1 drops it).
# BIN_COMMIT names the commit the binary was built from (recorded only).
# Usage: D=10s bench/catalog.sh      SEED=0 reuses an existing seeded database; PAGES=0, PG=0 or
# MEILI_RUN=0 skip parts 1+2, the PostgreSQL search or the Meilisearch search.
. "$(dirname "$0")/lib.sh"
DB=tradeport_bench_catalog
BENCH_DB=$DB
export DATABASE_URL="$PG_SERVER/$DB"
D=${D:-10s}
ROUNDS=${ROUNDS:-2}
PRODUCTS=${PRODUCTS:-100000}
TENANTS=${TENANTS:-50}
PER_TENANT=${PER_TENANT:-2000}
BIG=cat-main
SMALL=${SMALL:-cat-0025}
MEILI=${MEILI:-http://127.0.0.1:7700}
MEILI_MASTER=${MEILI_MASTER:-tradeport-test-master-key}
PROXY_PORT=${PROXY_PORT:-7701}
[ -x "$TP" ] || { echo "build first (see bench/lib.sh)" >&2; exit 1; }
OUT=$WORK/catalog
mkdir -p "$OUT"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "${DROP:-0}" = 1 ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    for s in "$BIG" "$SMALL"; do
      curl -fs -X DELETE -H "Authorization: Bearer $MEILI_MASTER" "$MEILI/indexes/tp_tenant_${s//-/_}" >/dev/null || true
    done
  fi
}
trap cleanup EXIT
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

emit "$(jq -nc --arg head "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --argjson dirty "$(git -C "$REPO" status --porcelain 2>/dev/null | wc -l)" \
  --arg cpus "$(nproc)" --arg pg "$("${PSQL[@]}" -d postgres -tAc 'SHOW server_version')" --arg bin "${BIN_COMMIT:-}" \
  '{figure: "catalog_environment", commit: $head, binary_built_from: $bin, uncommitted_paths: $dirty, cpus: $cpus, postgres: $pg,
    note: "shared 2-core machine; loopback only"}')"

# ---- data --------------------------------------------------------------------------------
if [ "${SEED:-1}" = 1 ] || ! db_exists "$DB"; then
  echo "== seeding $DB: $PRODUCTS products in $BIG + $TENANTS x $PER_TENANT" >&2
  emit "$(timeout 3600 env RUST_LOG=error "$TP" bench catalog-seed --database "$DB" \
    --products "$PRODUCTS" --tenants "$TENANTS" --per-tenant "$PER_TENANT")"
fi
# This server runs with autovacuum off: vacuum as it would have. The seed's stock rows update
# every product once (the stock_sync trigger), which leaves one dead row version per product.
"${PSQL[@]}" -d "$DB" -c "VACUUM (ANALYZE)" >/dev/null
emit "$("${PSQL[@]}" -d "$DB" -tAc "SELECT json_build_object('figure', 'catalog_table', 'autovacuum', current_setting('autovacuum'),
  'shared_buffers', current_setting('shared_buffers'), 'products_heap_mb', pg_relation_size('tenant_cat_main.products') / 1048576,
  'products_total_mb', pg_total_relation_size('tenant_cat_main.products') / 1048576,
  'dead_rows', (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'tenant_cat_main.products'::regclass))")"
schema_of() { "${PSQL[@]}" -d "$DB" -tAc "SELECT schema_name FROM public.tenants WHERE slug = '$1'"; }
BIG_SCHEMA=$(schema_of "$BIG")
SMALL_SCHEMA=$(schema_of "$SMALL")
CATS=$("${PSQL[@]}" -d "$DB" -tAc "SELECT string_agg(code, ',' ORDER BY position) FROM $BIG_SCHEMA.categories WHERE parent_id IS NOT NULL")
EMAIL=dealer@catalog.bench
PASS=bench-dealer-password

# ---- servers -----------------------------------------------------------------------------
setup_ceilings
CEIL_TARGET=${CEIL_TARGET:-${TP%/release/tradeport}/ceilings-http}
(cd "$CEIL/http" && CARGO_TARGET_DIR="$CEIL_TARGET" cargo build --release -q)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $CEIL_HTTP_DB WITH (FORCE)" -c "CREATE DATABASE $CEIL_HTTP_DB" >/dev/null
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -f "$CEIL/http/setup_ceil.sql" >/dev/null
"${PSQL[@]}" -d "$CEIL_HTTP_DB" -c "ANALYZE" >/dev/null
# The ceiling with its defaults (pool 16, actix's worker count), as bench/routing.sh runs it.
DATABASE_URL="$PG_SERVER/$CEIL_HTTP_DB" BIND="$CEIL_ADDR" "$CEIL_TARGET/release/ceil" >"$OUT/ceil.log" 2>&1 &
CEIL_PID=$!; PIDS+=("$CEIL_PID")
wait_http "http://$CEIL_ADDR/plaintext"

# ours: release, prod profile (no template reloading, JSON logs to a file), no embedded job
# worker (the seed's search-index jobs would otherwise be worked off during the runs).
# start_ours [MEILI_URL]
start_ours() {
  local extra=()
  [ -n "${1:-}" ] && extra=(MEILI_URL="$1" MEILI_KEY="$MEILI_MASTER")
  env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    DATABASE_URL="$PG_SERVER/$DB" TRADEPORT_BIND="$TP_ADDR" "${extra[@]}" \
    "$TP" serve --no-worker >>"$OUT/serve.log" 2>&1 &
  OURS_PID=$!; PIDS+=("$OURS_PID")
  wait_http "http://$TP_ADDR/readyz" 300
}
login() {
  curl -fs -m 10 -X POST -H 'Content-Type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"$PASS\"}" \
    "http://$TP_ADDR/s/${1:-$BIG}/api/v1/auth/login" | jq -r .access_token
}
URL=http://$TP_ADDR
start_ours
TOKEN=$(login)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || { echo "login as $EMAIL failed" >&2; exit 1; }
# The buyer sees dealer prices (price below the base price) on both routes.
FIRST=${CATS%%,*}
check=$(curl -fs -m 10 -H "Authorization: Bearer $TOKEN" "$URL/s/$BIG/api/v1/products?category=$FIRST&per_page=20")
emit "$(jq -c --arg cat "$FIRST" '{figure: "catalog_check", category: $cat, total: .total, items: (.items | length),
  first: (.items[0] | {sku, name, price, base_price, stock_status}),
  dealer_priced: ([.items[] | select(.price != null and .price != .base_price)] | length)}' <<<"$check")"
page_html=$(curl -fs -m 10 -H "Authorization: Bearer $TOKEN" "$URL/s/$BIG/catalog/$FIRST?per_page=50")
emit "$(jq -nc --arg cat "$FIRST" --argjson bytes "${#page_html}" \
  --argjson rows "$(grep -o 'href="/s/'"$BIG"'/products/' <<<"$page_html" | wc -l)" \
  '{figure: "catalog_page_check", category: $cat, bytes: $bytes, product_links: $rows}')"
echo "$page_html" >"$OUT/page_sample.html"
ceil_bytes=$(curl -fs -m 10 "http://$CEIL_ADDR/page/1" | wc -c)
ceil_json_bytes=$(curl -fs -m 10 "http://$CEIL_ADDR/products/1" | wc -c)
ours_json_bytes=${#check}

# ---- 1 + 2: products JSON and category page vs the ceiling, alternating ------------------
w() { # conns script args... -> JSON line
  local c=$1; shift
  timeout 120 wrk --timeout 30s -t2 -c"$c" -d"$D" -s "$HERE/wrk/$1" "${@:2}" | tail -1
}
[ "${PAGES:-1}" = 1 ] || ROUNDS=0
if [ "$ROUNDS" -gt 0 ]; then # warm-up
  timeout 90 wrk --timeout 30s -t2 -c8 -d3s -s "$HERE/wrk/catalog_category.lua" "$URL" -- \
    "/s/$BIG/api/v1/products?category=%s&per_page=20" "$CATS" "$TOKEN" >/dev/null # warm-up
  timeout 90 wrk --timeout 30s -t2 -c8 -d3s -s "$HERE/wrk/catalog_category.lua" "$URL" -- \
    "/s/$BIG/catalog/%s?per_page=50" "$CATS" "$TOKEN" >/dev/null
  timeout 90 wrk --timeout 30s -t2 -c8 -d3s -s "$HERE/wrk/catalog_category.lua" "http://$CEIL_ADDR" -- "/page/%s" range:1:1000 >/dev/null
fi
for round in $(seq 1 "$ROUNDS"); do
  for c in 64 8; do
    for kind in products page; do
      wait_quiet
      TOKEN=$(login) # access tokens live 15 minutes; wait_quiet may wait 5
      if [ "$kind" = products ]; then
        ceil=$(w "$c" catalog_category.lua "http://$CEIL_ADDR" -- "/products/%s" range:1:1000)
        ours=$(w "$c" catalog_category.lua "$URL" -- "/s/$BIG/api/v1/products?category=%s&per_page=20" "$CATS" "$TOKEN")
      else
        ceil=$(w "$c" catalog_category.lua "http://$CEIL_ADDR" -- "/page/%s" range:1:1000)
        ours=$(w "$c" catalog_category.lua "$URL" -- "/s/$BIG/catalog/%s?per_page=50" "$CATS" "$TOKEN")
      fi
      emit "$(jq -nc --arg kind "$kind" --argjson c "$c" --argjson r "$round" --argjson ceil "$ceil" --argjson ours "$ours" \
        '{figure: ("catalog_" + $kind), connections: $c, round: $r, ours: $ours, ceiling: $ceil,
          rps_ratio: ($ours.rps / $ceil.rps * 1000 | round / 1000),
          p50_ratio: ($ours.p50_us / $ceil.p50_us * 100 | round / 100),
          p99_ratio: ($ours.p99_us / $ceil.p99_us * 100 | round / 100)}')"
      echo "$(tail -1 "$RESULTS")" >>"$OUT/pages.jsonl"
    done
  done
done
TOKEN=$(login)

# ---- 3: search on PostgreSQL -------------------------------------------------------------
# The query mix: Russian words, typos, brands, SKU prefixes, exact SKUs (4 from the tenant),
# with and without a category, with sorts. One path per line, Cyrillic percent-encoded.
mix() { # slug schema -> paths on stdout
  local slug=$1 schema=$2 q
  {
    printf '%s\n' 'q=профиль оконный' 'q=ручка оконная' 'q=подоконник белый' 'q=москитная сетка' \
      'q=пена монтажная' 'q=стеклопакет двухкамерный' 'q=герметик' 'q=отлив оцинкованный' 'q=жалюзи' \
      'q=уплотнитель&category=gaskets' 'q=ручка&category=handles' 'q=подоконник&category=pvc-sills&sort=price_asc' \
      'q=сетка&category=frame-nets&sort=price_desc' 'q=профль' 'q=падаконник' 'q=стеклопокет' 'q=москитня сетка' \
      'q=гермитик' 'q=уплатнитель' 'q=vekka' 'q=Rehau' 'q=Кале&sort=name' 'q=алюминевый отлив' \
      'q=PRF-REH' 'q=STP-VEK' 'q=RUC-ROT-0' 'q=PDK' 'q=ZAM-MAC&sort=newest' 'q=белый&category=window-profiles&sort=name' \
      'q=антрацит&sort=price_asc' 'q=золотой дуб'
    "${PSQL[@]}" -d "$DB" -tAc "SELECT 'q=' || sku FROM $schema.products ORDER BY md5(sku) LIMIT 4"
  } | while IFS= read -r q; do
    # percent-encode each value (keys are ASCII)
    printf '/s/%s/api/v1/search?%s\n' "$slug" "$(tr '&' '\n' <<<"$q" | while IFS='=' read -r k v; do
      printf '%s=%s&' "$k" "$(jq -rn --arg v "$v" '$v | @uri')"; done | sed 's/&$//')"
  done
}
mix "$BIG" "$BIG_SCHEMA" >"$OUT/search_big.txt"
mix "$SMALL" "$SMALL_SCHEMA" >"$OUT/search_small.txt"
# Each query once more, timed by curl, to see which kind is slow (one sample each: indicative).
per_query() { # file engine label token
  local f=$1 engine=$2 label=$3 tok=$4 path t
  while IFS= read -r path; do
    body=$(curl -s -m 30 -w '\n%{time_total}' -H "Authorization: Bearer $tok" "$URL$path")
    t=${body##*$'\n'}; body=${body%$'\n'*}
    jq -c --arg path "$path" --argjson t "$t" '{path: $path, ms: ($t * 1000 | round), total: .total, took_ms: .took_ms, engine: .engine}' <<<"$body" 2>/dev/null \
      || jq -nc --arg path "$path" --argjson t "$t" '{path: $path, ms: ($t * 1000 | round), error: true}'
  done <"$f" | jq -sc --arg engine "$engine" --arg tl "$label" \
    '{figure: "search_per_query", engine: $engine, tenant: $tl, queries: length, errors: (map(select(.error)) | length),
      median_ms: (map(.ms) | sort | .[length / 2 | floor]), slowest: (sort_by(-.ms) | .[0:6] | map({path, ms, total}))}'
}
search_runs() { # engine -> emits c1/c8 for big and small
  local engine=$1 f label c out tok
  for label in big small; do
    f=$OUT/search_$label.txt
    tok=$(login "$([ "$label" = big ] && echo "$BIG" || echo "$SMALL")")
    timeout 90 wrk --timeout 30s -t1 -c1 -d3s -s "$HERE/wrk/catalog_paths.lua" "$URL" -- "$f" "$tok" >/dev/null # warm-up
    for c in 1 8; do
      wait_quiet
      tok=$(login "$([ "$label" = big ] && echo "$BIG" || echo "$SMALL")")
      out=$(timeout 120 wrk --timeout 30s -t$(( c < 2 ? 1 : 2 )) -c"$c" -d"$D" -s "$HERE/wrk/catalog_paths.lua" "$URL" -- "$f" "$tok" | tail -1)
      emit "$(jq -c --arg engine "$engine" --arg tl "$label" --argjson c "$c" --argjson n "$(wc -l <"$f")" \
        '{figure: "search", engine: $engine, tenant: $tl, connections: $c, queries: $n} + .' <<<"$out")"
    done
    emit "$(per_query "$f" "$engine" "$label" "$tok")"
  done
}
[ "${PG:-1}" = 1 ] && search_runs postgres
stop_pid "$OURS_PID"
stop_pid "$CEIL_PID"

# ---- 3: search on Meilisearch -------------------------------------------------------------
[ "${MEILI_RUN:-1}" = 1 ] || exit 0
curl -fs -m 5 "$MEILI/health" >/dev/null || { echo "no Meilisearch at $MEILI" >&2; exit 1; }
for s in "$BIG" "$SMALL"; do
  t0=$(now)
  env TRADEPORT_PROFILE=prod TRADEPORT_JWT_SECRET=unused-for-reindex-000000000000000000000000000000000000000000000 \
    MEILI_URL="$MEILI" MEILI_KEY="$MEILI_MASTER" RUST_LOG=error timeout 1800 "$TP" search reindex --tenant "$s" >&2
  t1=$(now)
  emit "$(jq -nc --arg s "$s" --argjson secs "$(elapsed "$t0" "$t1")" '{figure: "meili_reindex", tenant: $s, seconds: $secs}')"
done
# Capture the multi-search bodies our server sends for the mix, through a logging proxy.
cat >"$OUT/proxy.py" <<'PY'
import http.client, http.server, sys
port, upstream, capture = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host, uport = upstream.split("//")[1].split(":")
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def relay(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():  # the Rust SDK streams its bodies
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
        if self.command == "POST" and self.path.startswith("/multi-search") and body:
            with open(capture, "ab") as f: f.write(body.replace(b"\n", b" ") + b"\n")
        c = http.client.HTTPConnection(host, int(uport), timeout=30)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "accept-encoding", "transfer-encoding", "content-length")}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "content-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
for label in big small; do
  : >"$OUT/meili_$label.jsonl"
  timeout 600 python3 "$OUT/proxy.py" "$PROXY_PORT" "$MEILI" "$OUT/meili_$label.jsonl" &
  PROXY_PID=$!; PIDS+=("$PROXY_PID")
  sleep 1
  start_ours "http://127.0.0.1:$PROXY_PORT"
  TOKEN=$(login "$([ "$label" = big ] && echo "$BIG" || echo "$SMALL")")
  while IFS= read -r path; do
    curl -fs -m 10 -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL$path" || echo "capture failed: $path" >&2
  done <"$OUT/search_$label.txt"
  stop_pid "$OURS_PID"; stop_pid "$PROXY_PID"
  emit "$(jq -nc --arg tl "$label" --argjson n "$(wc -l <"$OUT/meili_$label.jsonl")" --argjson q "$(wc -l <"$OUT/search_$label.txt")" \
    '{figure: "meili_capture", tenant: $tl, multi_search_requests: $n, queries: $q}')"
done
start_ours "$MEILI"
for label in big small; do
  f=$OUT/search_$label.txt
  TOKEN=$(login "$([ "$label" = big ] && echo "$BIG" || echo "$SMALL")")
  timeout 90 wrk --timeout 30s -t1 -c1 -d3s -s "$HERE/wrk/catalog_paths.lua" "$URL" -- "$f" "$TOKEN" >/dev/null # warm-up
  timeout 90 wrk --timeout 30s -t1 -c1 -d3s -s "$HERE/wrk/catalog_meili.lua" "$MEILI" -- "$OUT/meili_$label.jsonl" "$MEILI_MASTER" >/dev/null
  for c in 1 8; do
    t=$(( c < 2 ? 1 : 2 ))
    wait_quiet
    TOKEN=$(login "$([ "$label" = big ] && echo "$BIG" || echo "$SMALL")")
    direct=$(timeout 120 wrk --timeout 30s -t$t -c"$c" -d"$D" -s "$HERE/wrk/catalog_meili.lua" "$MEILI" -- "$OUT/meili_$label.jsonl" "$MEILI_MASTER" | tail -1)
    ours=$(timeout 120 wrk --timeout 30s -t$t -c"$c" -d"$D" -s "$HERE/wrk/catalog_paths.lua" "$URL" -- "$f" "$TOKEN" | tail -1)
    emit "$(jq -nc --arg tl "$label" --argjson c "$c" --argjson d "$direct" --argjson o "$ours" \
      '{figure: "search", engine: "meilisearch", tenant: $tl, connections: $c, ours: $o, meili_direct: $d,
        p95_added_ms: (($o.p95_us - $d.p95_us) / 1000), met: ((($o.p95_us - $d.p95_us) / 1000) <= 10)}')"
  done
  emit "$(per_query "$f" meilisearch "$label" "$TOKEN")"
done
stop_pid "$OURS_PID"
emit "$(jq -nc --argjson cb "$ceil_bytes" --argjson cj "$ceil_json_bytes" --argjson oj "$ours_json_bytes" \
  '{figure: "catalog_sizes", ceiling_page_bytes: $cb, ceiling_products_json_bytes: $cj, ours_products_json_bytes: $oj}')"
echo "results: $RESULTS (this job's lines also in $OUT)" >&2
