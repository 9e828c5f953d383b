#!/usr/bin/env bash
# SP-API calls per case (a report, exits 0): plays the never-answers and buyer-requests
# scenarios and prints, from the simulator's log, each case's calls by operation next to the
# least a case needs (getOrder <= 6, getMessagingActionsForOrder <= 1, getAttributes <= 1).
#   scripts/calls-per-case.sh [OUT_DIR]     (default out/calls-per-case)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
out="${1:-out/calls-per-case}"
kenzen_start_moto
cargo build --quiet -p kenzen-tests --bin kenzen-scenario --bin kenzen-calls-per-case
runs=()
for name in never-answers buyer-requests; do
  mkdir -p "$out/$name"
  if ! target/debug/kenzen-scenario "tests/scenarios/$name.toml" "$out/$name" >"$out/$name/scenario.txt"; then
    echo "scenario $name did not pass (see $out/$name/scenario.txt); counting its calls anyway" >&2
  fi
  for d in "$out/$name"/*/; do
    [ -f "$d/requests.jsonl" ] && runs+=("${d%/}")
  done
done
target/debug/kenzen-calls-per-case "${runs[@]}"
