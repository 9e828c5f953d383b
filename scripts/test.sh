#!/usr/bin/env bash
# Runs every check and test kenzen has: rustfmt, clippy (-D warnings), the offline template
# checks, then all tests with moto_server (installed into .venv on first use) started for them
# and stopped afterwards, and the demo's seller report rendered in headless Chromium
# (scripts/report-check.sh; installs Debian's chromium if missing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
echo "== tracked files: no build output in git" >&2
python3 scripts/check-tracked.py --self-test
python3 scripts/check-tracked.py
echo "== imports: no circle, the service imports no adapter" >&2
python3 scripts/check-imports.py --self-test
python3 scripts/check-imports.py
echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy -D warnings" >&2
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "== infra: cfn-lint, sam validate --lint, table definition, checkov" >&2
scripts/infra-check.sh
kenzen_start_moto
echo "== cargo test" >&2
cargo test --workspace "$@"
echo "== the seller report of the demo, rendered in headless Chromium" >&2
scripts/report-check.sh
