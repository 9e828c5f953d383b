#!/usr/bin/env bash
# Runs the demo, the fault scenarios and the SP-API client tests with every SP-API call routed
# through ../shared/tools/spapi-contract-proxy (Prism validating requests and responses against
# Amazon's models) and fails on any violation.
#   scripts/contract.sh [PROXY_TOOL] [SCENARIO.toml ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
proxy="${1:-$kenzen_root/../shared/tools/spapi-contract-proxy}"
shift || true
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=()
  # The wire shapes the fault scenarios add (lost answers and getFeeds, per-line feeds, the
  # report kinds, 403s); the client tests below cover the rest one call at a time, and the
  # whole suite runs in scripts/test.sh.
  for name in server-errors feed-report-error messaging-unavailable duplicate-events \
              lost-answers-everywhere partial-request report-summary-only \
              report-document-error report-windows-31j messaging-unauthorized eu-marketplaces auto-headroom; do
    scenarios+=("tests/scenarios/$name.toml")
  done
fi
[ -x "$proxy" ] || { echo "contract proxy not found at $proxy" >&2; exit 2; }
sim_port="$(kenzen_free_port)"
proxy_port="$(kenzen_free_port)"
log="$(mktemp -d)/prism.log"
"$proxy" --upstream "http://127.0.0.1:$sim_port" --port "$proxy_port" --log "$log" &
proxy_pid=$!
KENZEN_STOP_PIDS="$proxy_pid"
kenzen_start_moto
for _ in $(seq 1 600); do
  grep -q "Prism is listening" "$log" 2>/dev/null && break
  kill -0 "$proxy_pid" 2>/dev/null || { echo "contract proxy exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.5
done
grep -q "Prism is listening" "$log" || { echo "contract proxy did not start" >&2; exit 1; }
cargo build --quiet -p kenzen-tests --bin kenzen-demo --bin kenzen-scenario --bin kenzen-bench-env
cargo build --quiet -p kenzen-cli --bin kenzen
export KENZEN_SIM_ADDR="127.0.0.1:$sim_port" KENZEN_SPAPI_ENDPOINT="http://127.0.0.1:$proxy_port"
out="$(mktemp -d)"
target/debug/kenzen-demo "$out/demo" >/dev/null
for sc in "${scenarios[@]}"; do
  target/debug/kenzen-scenario "$sc" "$out/$(basename "$sc" .toml)" >/dev/null
done
# The SP-API client's own tests (lost answers, 403s, getFeeds, getListingsItem, reports), one at a
# time against the one simulator address behind the proxy.
cargo test --quiet -p kenzen-tests --test e2e spapi_client -- --test-threads=1
# The subscription setup, twice (the second run meets 409s), against a standing simulator.
coproc SIMENV { target/debug/kenzen-bench-env; }
KENZEN_STOP_PIDS="$proxy_pid $SIMENV_PID"
subenv=()
while read -r line <&"${SIMENV[0]}"; do
  [ "$line" = READY ] && break
  case "$line" in KENZEN_SPAPI_ENDPOINT=*) ;; *) subenv+=("$line") ;; esac
done
queue="arn:aws:sqs:ap-northeast-1:123456789012:kenzen-notifications"
env "${subenv[@]}" AWS_ENDPOINT_URL="$KENZEN_TEST_AWS_ENDPOINT" target/debug/kenzen subscribe "$queue"
again="$(env "${subenv[@]}" AWS_ENDPOINT_URL="$KENZEN_TEST_AWS_ENDPOINT" target/debug/kenzen subscribe "$queue")"
echo "$again"
[ "$(grep -c 'already there' <<<"$again")" -eq 2 ] || { echo "the second kenzen subscribe did not find both already there" >&2; exit 1; }
echo "requests validated by the proxy: $(grep -c 'Request received' "$log")"
"$proxy" --report "$log"
