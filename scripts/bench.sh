#!/usr/bin/env bash
# Benchmark: builds the four Lambda binaries in release mode and prints, for each, its size and
# what ../shared/tools/lambda-init-bench measures (init time, first and warm invoke latency,
# peak memory) against a local Lambda Runtime API, with moto_server and the simulator behind it.
#   scripts/bench.sh [RUNS]     (default 5)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
runs="${1:-5}"
bench="$kenzen_root/../shared/tools/lambda-init-bench"
[ -x "$bench" ] || { echo "lambda-init-bench not found at $bench" >&2; exit 2; }
fns="new-order-check message-resend reply-detect final-cancel"
cargo build --quiet --release $(for f in $fns; do printf -- '-p %s ' "$f"; done)
cargo build --quiet -p kenzen-tests --bin kenzen-bench-env
kenzen_start_moto
coproc ENVP { target/debug/kenzen-bench-env; }
KENZEN_STOP_PIDS="$ENVP_PID"
envargs=(--env "AWS_ENDPOINT_URL=$KENZEN_TEST_AWS_ENDPOINT" --env AWS_ACCESS_KEY_ID=testing
         --env AWS_SECRET_ACCESS_KEY=testing --env AWS_REGION=ap-northeast-1 --env RUST_LOG=warn)
while read -r line <&"${ENVP[0]}"; do
  [ "$line" = READY ] && break
  envargs+=(--env "$line")
done
for f in $fns; do
  bin="target/release/$f"
  echo "== $f: binary $(stat -c %s "$bin") bytes, gzip $(gzip -9c "$bin" | wc -c) bytes"
  "$bench" "$bin" --runs "$runs" --invokes 3 "${envargs[@]}"
done
