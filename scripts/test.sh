#!/usr/bin/env bash
# Sets up and runs the whole test suite on a fresh Debian/Ubuntu machine:
# installs what is missing, starts throwaway Temporal, PostgreSQL and Redis servers on free
# loopback ports, runs every test on SQLite + in-process sessions, then the integration tests
# again on PostgreSQL + Redis, and tears the servers down.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stt.sh"
cd "$SWITCHBOARD_ROOT"

ensure_rust
ensure_apt protobuf-compiler cmake postgresql redis-server flite chromium chromium-driver
ensure_temporal_cli
ensure_offline_stt

THROWAWAY_DIR="$(mktemp -d /tmp/switchboard-test.XXXXXX)"
trap stop_started EXIT

temporal_port=$(free_port); temporal_ui_port=$(free_port)
pg_port=$(free_port); redis_port=$(free_port)
say "starting throwaway Temporal (:$temporal_port), PostgreSQL (:$pg_port), Redis (:$redis_port)"
start_temporal "$temporal_port" "$temporal_ui_port"
start_postgres "$pg_port"
start_redis "$redis_port"
export SWITCHBOARD_TEST_TEMPORAL_ADDRESS="127.0.0.1:$temporal_port"

say "structure: file sizes, function lengths, module cycles, crate edges"
python3 scripts/structure.py

say "building"
# A fresh clone gains nothing from incremental caches; they would add gigabytes to target/.
export CARGO_INCREMENTAL=0
cargo build --workspace --all-targets --locked

# The integration tests spend most of their time waiting on servers, timers and the simulated
# callers' pacing, not on the CPU: four at a time halves the suite on 2 cores.
TEST_THREADS="${TEST_THREADS:-4}"

say "suite 1/2: every test, on SQLite + in-process sessions"
cargo test --workspace --locked -- --test-threads="$TEST_THREADS"

say "suite 2/2: integration tests on PostgreSQL + Redis"
SWITCHBOARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres" \
SWITCHBOARD_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/" \
  cargo test --workspace --locked --test integration -- --test-threads="$TEST_THREADS"

say "all tests passed on both backends"
