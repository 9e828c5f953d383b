#!/usr/bin/env bash
# The outcome lab (a benchmark that prints figures; not a test, not a CI step): a seeded buyer
# population (tests/outcomes/population.toml) on the marketplace simulator, played through the
# four real handlers and the real SP-API client under each policy — cancel at once, the manual
# routine, kenzen's fixed slots, kenzen's learned slots — on the same orders and the same buyers'
# draws. Prints per policy, across seeds: the share of unfillable orders ending exempt from the
# cancel rate, messages per case, cancels that count and late shipments; writes outcomes.csv,
# messages.csv, figures.json, outcomes.png and outcomes.svg (and sensitivity.csv) to the out dir.
#   scripts/outcomes.sh [--seeds N] [--orders N] [--out DIR] [--population FILE]
#                       [--policies cancel-at-once,manual,fixed,learned]
#                       [--store memory|moto] [--jobs N] [--quick] [--sensitivity]
#                       [--sensitivity-seeds N] [--sensitivity-orders N]
# Defaults: 5 seeds × 500 orders, out/outcomes, 2 worlds at a time. A try: scripts/outcomes.sh
# --quick (2 seeds × 100 orders). --sensitivity then plays the manual routine and the learned
# slots again with each main population parameter moved down and up (as many seeds and orders
# as the main run unless told) and names the one the gap between them moves most with.
# Exits non-zero only when a never-break rule broke (or a run could not be played), never for a
# missed goal.
#
# The runs keep kenzen's state in the in-memory store the service tests use, so no moto_server
# is needed; with --store moto they run on moto_server instead (through scripts/moto-volume.py,
# as scripts/volume.sh does: the same figures, a few hundred times slower). The harness is built
# optimised, without the release profile's LTO.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"

previous=""
for arg in "$@"; do
  if [ "$previous" = "--store" ] && [ "$arg" = "moto" ]; then
    kenzen_start_moto_fast
  fi
  previous="$arg"
done
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
CARGO_PROFILE_RELEASE_OPT_LEVEL=2 CARGO_PROFILE_RELEASE_INCREMENTAL=true \
  cargo build --quiet --release -p kenzen-tests --bin kenzen-outcomes
# The handlers print one CloudWatch EMF line per run on stdout; the figures are what matter here.
set +e
target/release/kenzen-outcomes "$@" | grep -v '"CloudWatchMetrics"'
rc=${PIPESTATUS[0]}
set -e
if [ -n "${KENZEN_MOTO_PID:-}" ] && [ -r "/proc/$KENZEN_MOTO_PID/status" ]; then
  echo "moto_server peak memory $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$KENZEN_MOTO_PID/status") MiB"
fi
exit "$rc"
