#!/usr/bin/env bash
# The volume benchmark (prints figures; not a test, not a CI step): one simulated day of orders
# with 5% unfillable plus a burst of unfillable orders within one hour, announced by ORDER_CHANGE
# notifications with the backstop poll, through the four real handlers on moto_server and the
# marketplace simulator on the virtual clock, two containers per function. Prints orders, cases,
# messages, feeds, the simulator's 429s, per-operation utilisation of Amazon's usage plans, runs
# cut by their budget or over the Lambda timeout, ship-by misses and wall time, next to the goals.
#   scripts/volume.sh [ORDERS_PER_DAY] [BURST] [DAYS] [--out DIR] [--containers N]
#                     [--concurrency N] [--strategy ask-buyer|cancel-first] [--seed N]
# Defaults: 10000 300 1, out/volume. A quick check: scripts/volume.sh 1000 30.
# Exits non-zero only when a never-break rule broke (or the run could not be played), never for a
# missed goal.
#
# Two things keep the 10,000-order run within minutes: the harness is built optimised (without
# the release profile's LTO, which only matters for the deployed functions), and moto_server runs
# through scripts/moto-volume.py, which stops moto's DynamoDB Query from sorting the whole table
# on every call (the answers are the same).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"

kenzen_start_moto_fast
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
CARGO_PROFILE_RELEASE_OPT_LEVEL=2 CARGO_PROFILE_RELEASE_INCREMENTAL=true \
  cargo build --quiet --release -p kenzen-tests --bin kenzen-volume
# The handlers print one CloudWatch EMF line per run on stdout; the figures are what matter here.
set +e
target/release/kenzen-volume "$@" | grep -v '"CloudWatchMetrics"'
rc=${PIPESTATUS[0]}
set -e
if [ -r "/proc/$KENZEN_MOTO_PID/status" ]; then
  echo "moto_server peak memory $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$KENZEN_MOTO_PID/status") MiB"
fi
exit "$rc"
