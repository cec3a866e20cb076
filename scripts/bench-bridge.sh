#!/usr/bin/env bash
# Bridge throughput/latency benchmark: N Twilio-like media streams through the real bridge and the
# echo engine over loopback WebSockets (see voice/benches/bench_bridge/main.rs). The server runs
# pinned to CPU 0 and the load driver on the others; the last lines give the headline: streams
# per server core at p99 ≤ 5 ms with nothing dropped.
#   scripts/bench-bridge.sh [--streams 100,500,1000,2000,4000] [--seconds 10]
#                           [--url ws://HOST:PORT/PATH@PID]... [--help]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# libopus (the recordings' encoder, in `voice`) is built from source with CMake.
ensure_apt cmake
# 4000 streams need ~8000 file descriptors (client and server sockets).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec cargo bench -p switchboard-voice --bench bench-bridge -- "$@"
