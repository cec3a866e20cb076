#!/usr/bin/env bash
# Bridge throughput/latency benchmark: N Twilio-like media streams through the real bridge and the
# echo engine over loopback WebSockets (see voice/benches/bench_bridge.rs).
#   scripts/bench-bridge.sh [--streams 50,200,500,1000] [--seconds 10] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# libopus (the recordings' encoder, in `voice`) is built from source with CMake.
ensure_apt cmake
# 1000 streams need ~2000 file descriptors (client and server sockets).
ulimit -n 65536 2>/dev/null || true
exec cargo bench -p switchboard-voice --bench bench-bridge -- "$@"
