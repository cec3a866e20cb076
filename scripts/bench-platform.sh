#!/usr/bin/env bash
# What auth + row-level security + rate limiting add to a REST request, measured against a
# throwaway PostgreSQL (the application connecting as switchboard_app) and Redis.
# Extra arguments go to bench-platform, e.g. `scripts/bench-platform.sh 5000`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SWITCHBOARD_ROOT"
ensure_rust
ensure_apt cmake postgresql redis-server

THROWAWAY_DIR="$(mktemp -d /tmp/switchboard-bench.XXXXXX)"
trap stop_started EXIT
pg_port=$(free_port); redis_port=$(free_port)
start_postgres "$pg_port"
start_redis "$redis_port"
owner="postgres://postgres@127.0.0.1:$pg_port/postgres"
DATABASE_URL="$owner" DATABASE_MIGRATION_URL="$owner" cargo run --release --quiet --bin switchboard -- migrate up
psql "$owner" -qc "ALTER ROLE switchboard_app LOGIN PASSWORD 'switchboard_app'"
DATABASE_URL="postgres://switchboard_app:switchboard_app@127.0.0.1:$pg_port/postgres" \
DATABASE_MIGRATION_URL="$owner" REDIS_URL="redis://127.0.0.1:$redis_port/" \
  cargo run --release --quiet --bin bench-platform -- "$@"
