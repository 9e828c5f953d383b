#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium, installing Debian's `chromium` package first
# when /usr/bin/chromium is missing (needs root, as in the dev container and CI), with a Japanese
# font (fonts-ipafont-gothic) so the screenshots show amazon.co.jp titles. Idempotent. Exits
# non-zero, saying why, when Chromium cannot be installed or does not run.
#   scripts/chromium.sh
set -euo pipefail
bin=/usr/bin/chromium
font=fonts-ipafont-gothic
want=()
[ -x "$bin" ] || want+=(chromium)
dpkg -s "$font" >/dev/null 2>&1 || want+=("$font")
if [ ${#want[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    [ -x "$bin" ] || {
      echo "chromium.sh: $bin is missing and installing it needs root (apt-get install chromium)" >&2
      exit 1
    }
    echo "chromium.sh: $font is missing (Japanese titles show as boxes); installing needs root" >&2
  else
    echo "chromium.sh: installing ${want[*]} (once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Waits for another apt run to finish rather than failing on its lock.
    apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq)
    if ! "${apt[@]}" install --no-install-recommends "${want[@]}" >/dev/null 2>&1; then
      # The package lists may be missing or stale in a fresh container.
      "${apt[@]}" update >/dev/null
      "${apt[@]}" install --no-install-recommends "${want[@]}" >/dev/null
    fi
  fi
fi
if ! version="$("$bin" --version 2>/dev/null)"; then
  echo "chromium.sh: $bin is installed but does not run" >&2
  exit 1
fi
echo "chromium.sh: $version" >&2
echo "$bin"
