# Shared by the scripts: installs and starts moto_server on a free loopback port, exports
# KENZEN_TEST_AWS_ENDPOINT, and stops it when the calling script exits. Source it; do not run it.

kenzen_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

kenzen_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Stops what the scripts started (moto_server, and any pids in KENZEN_STOP_PIDS), keeping the
# script's own exit status.
kenzen_cleanup() {
  local rc=$?
  for pid in ${KENZEN_MOTO_PID:-} ${KENZEN_STOP_PIDS:-}; do
    kill "$pid" 2>/dev/null || true
  done
  exit "$rc"
}

# Waits for the moto_server started as KENZEN_MOTO_PID on `port` (its log in `log`), then
# exports its endpoint and the test credentials; `label` names it in the message.
kenzen_await_moto() {
  local port="$1" log="$2" label="$3"
  trap 'kenzen_cleanup' EXIT
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
      export KENZEN_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
      export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=ap-northeast-1
      echo "$label on $KENZEN_TEST_AWS_ENDPOINT (log: $log)" >&2
      return 0
    fi
    sleep 0.2
  done
  echo "moto_server did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

kenzen_start_moto() {
  local moto port log
  moto="$("$kenzen_root/scripts/moto-venv.sh")"
  port="$(kenzen_free_port)"
  log="${TMPDIR:-/tmp}/kenzen-moto-$$.log"
  "$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  KENZEN_MOTO_PID=$!
  kenzen_await_moto "$port" "$log" "moto_server"
}

# moto_server through scripts/moto-volume.py (the same answers, without sorting a whole table on
# every DynamoDB Query): for the benchmarks that fill tables with thousands of items.
kenzen_start_moto_fast() {
  local moto python port log
  moto="$("$kenzen_root/scripts/moto-venv.sh")"
  python="$(dirname "$moto")/python3"
  port="$(kenzen_free_port)"
  log="${TMPDIR:-/tmp}/kenzen-moto-fast-$$.log"
  "$python" "$kenzen_root/scripts/moto-volume.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  KENZEN_MOTO_PID=$!
  kenzen_await_moto "$port" "$log" "moto_server (scripts/moto-volume.py)"
}
