#!/usr/bin/env bash
# The seller report as a seller sees it: runs the demo (both strategies, the real handlers on
# moto_server + the simulator), renders each strategy's report.html in headless Chromium
# (installed by scripts/chromium.sh if missing), and checks that the screenshot is not blank,
# that every order row of the report is in the rendered DOM, and that no metrics line reached the
# terminal. Keeps the screenshots; prints their paths and the report's figures. Fails, never
# skips, when Chromium cannot be installed or run.
#   scripts/report-check.sh [OUT_DIR]    (default target/report-check)
# Uses the moto_server of the calling script (scripts/test.sh) when KENZEN_TEST_AWS_ENDPOINT is
# set, else starts its own.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
python3 scripts/report-check.py --self-test
chromium="$(scripts/chromium.sh)"
out="${1:-$kenzen_root/target/report-check}"
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -z "${KENZEN_TEST_AWS_ENDPOINT:-}" ]; then
  kenzen_start_moto
fi
cargo build --quiet -p kenzen-tests --bin kenzen-demo
if ! target/debug/kenzen-demo "$out/demo" >"$out/demo.txt" 2>"$out/demo.err"; then
  cat "$out/demo.txt" "$out/demo.err" >&2
  echo "report-check: the demo failed (its output above)" >&2
  exit 1
fi
if grep -q '"CloudWatchMetrics"' "$out/demo.txt"; then
  echo "report-check: EMF metrics lines reached the demo's terminal output ($out/demo.txt)" >&2
  exit 1
fi
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-dev-shm-usage
       --disable-background-networking --disable-component-update --disable-sync)
# Headless Chromium now and then crashes on start (a segfault seen once in CI on --dump-dom): each
# render gets three attempts, each with a fresh profile; every attempt's log is kept.
render() { # LOG OUTPUT_FILE CHROMIUM_ARGS...
  local log="$1" output="$2" attempt rc
  shift 2
  for attempt in 1 2 3; do
    local profile
    profile="$(mktemp -d)"
    rc=0
    timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$profile" "$@" >"$output" 2>>"$log" || rc=$?
    rm -rf "$profile"
    if [ "$rc" -eq 0 ]; then
      return 0
    fi
    echo "report-check: Chromium attempt $attempt exited $rc" >>"$log"
  done
  return 1
}
for strategy in ask-buyer cancel-first; do
  html="$out/demo/$strategy/report.html"
  [ -s "$html" ] || { echo "report-check: the demo wrote no $html" >&2; exit 1; }
  shot="$out/$strategy.png"
  log="$out/$strategy.chromium.log"
  : >"$log"
  if ! render "$log" /dev/null --screenshot="$shot" --window-size=1280,2000 "file://$html" \
    || ! render "$log" "$out/$strategy.dom.html" --dump-dom "file://$html"; then
    grep -v -e dbus -e crashpad "$log" | tail -20 >&2
    echo "report-check: Chromium could not render $html (log: $log)" >&2
    exit 1
  fi
  [ -s "$shot" ] || { echo "report-check: Chromium wrote no screenshot $shot" >&2; exit 1; }
  echo "report-check: $strategy"
  python3 scripts/report-check.py "$shot" "$out/$strategy.dom.html" "$out/demo/$strategy/report.json"
done
echo "report-check: screenshots in $out (ask-buyer.png, cancel-first.png); the reports in $out/demo/"
