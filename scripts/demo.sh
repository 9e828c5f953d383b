#!/usr/bin/env bash
# The demo: kenzen's main job on the simulated marketplace (see README). Installs moto_server
# into .venv if needed, starts it, runs the demo, stops it.
#   scripts/demo.sh [OUTPUT_DIR]    (default out/demo)
# Honours KENZEN_SIM_ADDR and KENZEN_SPAPI_ENDPOINT (to route SP-API calls through the contract
# proxy).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
kenzen_start_moto
cargo build --quiet -p kenzen-tests --bin kenzen-demo
target/debug/kenzen-demo "$@"
