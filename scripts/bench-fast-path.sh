#!/usr/bin/env bash
# The fast path in one run (see tests/bench/fast_path/main.rs): webhook → TwiML against a bare
# workflow start, and each turn's overhead over the model's own time for a speech-to-speech
# engine and the cascaded one, against `switchboard dev` (release) with zero-latency fake
# providers and a throwaway Temporal. `--postgres` runs the stack on a throwaway PostgreSQL and
# Redis instead of SQLite and in-process sessions.
#   scripts/bench-fast-path.sh [--postgres] [--webhooks 500] [--calls 10] [--turns 10]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$SWITCHBOARD_ROOT"
ensure_rust
ensure_apt cmake protobuf-compiler
ensure_temporal_cli

postgres=0
if [ "${1:-}" = "--postgres" ]; then postgres=1; shift; ensure_apt postgresql redis-server; fi

THROWAWAY_DIR="$(mktemp -d /tmp/switchboard-bench.XXXXXX)"
trap stop_started EXIT
temporal_port=$(free_port); ui_port=$(free_port)
start_temporal "$temporal_port" "$ui_port"
if [ "$postgres" = 1 ]; then
  pg_port=$(free_port); redis_port=$(free_port)
  start_postgres "$pg_port"
  start_redis "$redis_port"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  export REDIS_URL="redis://127.0.0.1:$redis_port/"
fi
export TEMPORAL_ADDRESS="127.0.0.1:$temporal_port" TEMPORAL_UI_PORT="$ui_port"
export API_BIND="127.0.0.1:$(free_port)" SIM_BIND="127.0.0.1:$(free_port)"
export SWITCHBOARD_DATA_DIR="$THROWAWAY_DIR/data"
unset PUBLIC_URL OPENAI_API_KEY GEMINI_API_KEY DEEPGRAM_API_KEY TTS_API_KEY LLM_API_KEY
cargo build --release --quiet --bin switchboard
cargo run --release --quiet -p switchboard-tests --bin bench-fast-path -- "$@"
