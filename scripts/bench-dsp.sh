#!/usr/bin/env bash
# Per-frame DSP cost of the voice path, side by side with Pipecat's Twilio serializer.
# Creates .venv-bench (gitignored) with pipecat-ai on first use. Extra arguments go to
# bench-dsp, e.g. `scripts/bench-dsp.sh --frames 10000`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# libopus (the recordings' encoder, in `voice`) is built from source with CMake.
ensure_apt cmake

if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
fi
if ! .venv-bench/bin/python -c 'import pipecat' 2>/dev/null; then
    .venv-bench/bin/pip install --quiet pipecat-ai
fi

cargo bench -p switchboard-voice --bench bench-dsp -- --pipecat .venv-bench/bin/python "$@"
