#!/usr/bin/env bash
# Runs one scenario file (any path) through the real handlers on moto_server + the simulator:
#   scripts/scenario.sh tests/scenarios/evening-reader.toml [OUT_DIR]
# Exits non-zero on a broken rule or an unexpected ending. Honours KENZEN_SIM_ADDR and
# KENZEN_SPAPI_ENDPOINT like the demo.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: scripts/scenario.sh SCENARIO.toml [OUT_DIR]" >&2; exit 2; }
scenario="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
kenzen_start_moto
cargo build --quiet -p kenzen-tests --bin kenzen-scenario
target/debug/kenzen-scenario "$scenario" "$@"
