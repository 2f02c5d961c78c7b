#!/usr/bin/env bash
# T11 (SECURITY.md) now lives in the fault suite: PostgreSQL is cut off through a proxy in the
# test (connections reset, new ones refused for ~5 s) while 20 clients place 200 orders, so the
# machine's PostgreSQL is never stopped. This name is kept for scripts that called it.
# Usage: bench/reliability_orders.sh   (same as bench/faults.sh t11)
exec "$(dirname "$0")/faults.sh" t11_ "$@"
