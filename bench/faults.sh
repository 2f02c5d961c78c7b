#!/usr/bin/env bash
# The fault suite (SECURITY.md T11–T15 and T19, tests/faults/): the real tradeport binary on its own
# database tp_faults_<random> (dropped at the end), PostgreSQL, Redis and Meilisearch reached
# through fault-injecting proxies written in the tests, a worker killed with SIGKILL, a server
# stopped with SIGTERM. It never stops or restarts the machine's PostgreSQL or Redis, so it can
# run next to other tests. Each scenario prints one JSON figure line; all of them are also
# appended to $FAULTS_FIGURES (default /tmp/tradeport-faults/figures.jsonl).
#
# Usage: bench/faults.sh [t11 t12 t13 t14 t15 t19]  (no argument: all six, ~8–12 min in debug)
# Knobs (environment): FAULTS_RELEASE=1 (release build instead of debug),
#   FAULTS_REDIS_DOWN_SECS=60, FAULTS_REDIS_SLOW_SECS=20, FAULTS_MEILI_DOWN_SECS=60,
#   FAULTS_T11_ORDERS=200, FAULTS_T11_CLIENTS=20, FAULTS_T11_OUTAGE_SECS=5,
#   FAULTS_T12_CHECKOUTS=100, FAULTS_T13_REQUESTS=1000, FAULTS_T15_KILLS=20,
#   FAULTS_T15_ORDERS=350, FAULTS_T15_UPDATES=300, FAULTS_T15_ROLLBACKS=100,
#   FAULTS_T19_PRODUCTS=3000, FAULTS_T19_KILLS=20,
#   FAULTS_MEILI_BIN (default /work/meili-bin/meilisearch, then PATH; T14 skips without one),
#   FAULTS_PG_SERVER (postgres://postgres@127.0.0.1:5432), FAULTS_PG_ADDR, FAULTS_REDIS_ADDR,
#   FAULTS_KEEP_DB=1 (keep the databases for a post-mortem; logs are in /tmp/tp_faults_*/).
set -euo pipefail
cd "$(dirname "$0")/.."
export FAULTS_FIGURES=${FAULTS_FIGURES:-/tmp/tradeport-faults/figures.jsonl}
mkdir -p "$(dirname "$FAULTS_FIGURES")"
profile=()
[ "${FAULTS_RELEASE:-0}" = 1 ] && profile=(--release)
filters=("$@")
[ ${#filters[@]} -eq 0 ] && filters=(t11_ t12_ t13_ t14_ t15_ t19_)
exec nice cargo test "${profile[@]}" --test faults -- --ignored --nocapture --test-threads 1 "${filters[@]}"
