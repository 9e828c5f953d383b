#!/usr/bin/env bash
# Sets up the performance peer of docs/peer-bench.md (Amazon's selling-partner-api-samples,
# use-cases/merchant-fulfillment/code/python, handler src/inventory_check_handler.lambda_handler,
# licence MIT-0) outside git, and prints the path of its Lambda entry point: a two-line wrapper
# that starts it under awslambdaric. Idempotent. Used by scripts/bench.sh.
#
# Where the peer comes from, first match wins:
#   1. KENZEN_PEER_DIR/python (default .peer/python): the extracted folder, left from an earlier
#      run or put there by hand;
#   2. KENZEN_PEER_GIT: a clone (bare or not) of amzn/selling-partner-api-samples, from which
#      only use-cases/merchant-fulfillment/code/python is extracted with `git archive`
#      (revision KENZEN_PEER_REV, default HEAD). Unset, a mirror at
#      /work/.mirror/amzn+selling-partner-api-samples/repo is used if present.
# Its Python venv is .venv-peer: python3.11 (the peer's Lambda runtime) if there is one, else
# python3, with awslambdaric, boto3 and the generated client's needs from PyPI.
# Exit status 2, with the reason on stderr, when the peer cannot be had.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${KENZEN_PEER_DIR:-$root/.peer}"
git_dir="${KENZEN_PEER_GIT:-/work/.mirror/amzn+selling-partner-api-samples/repo}"
rev="${KENZEN_PEER_REV:-HEAD}"
sub="use-cases/merchant-fulfillment/code/python"
venv="$root/.venv-peer"
want="awslambdaric==4.2.2 boto3==1.44.8 six python-dateutil urllib3 certifi"
fail() { echo "peer: $*" >&2; exit 2; }

if [ ! -f "$dir/python/src/inventory_check_handler.py" ]; then
  git --git-dir="$git_dir" rev-parse --verify --quiet "$rev^{commit}" >/dev/null 2>&1 \
    || git -C "$git_dir" rev-parse --verify --quiet "$rev^{commit}" >/dev/null 2>&1 \
    || fail "no extracted peer at $dir/python and no samples repository at $git_dir" \
            "(set KENZEN_PEER_DIR to a folder holding python/ = $sub," \
            "or KENZEN_PEER_GIT to a clone of amzn/selling-partner-api-samples)"
  commit="$(git --git-dir="$git_dir" rev-parse "$rev^{commit}" 2>/dev/null \
            || git -C "$git_dir" rev-parse "$rev^{commit}")"
  mkdir -p "$dir"
  rm -rf "$dir/python.new"
  mkdir "$dir/python.new"
  { git --git-dir="$git_dir" archive --format=tar "$commit" "$sub" 2>/dev/null \
      || git -C "$git_dir" archive --format=tar "$commit" "$sub"; } \
    | tar -x -C "$dir/python.new" --strip-components=4 \
    || fail "git archive of $sub at $commit from $git_dir failed"
  [ -f "$dir/python.new/src/inventory_check_handler.py" ] \
    || fail "$sub at $commit has no src/inventory_check_handler.py"
  rm -rf "$dir/python"
  mv "$dir/python.new" "$dir/python"
  echo "$commit" > "$dir/COMMIT"
  echo "peer: extracted $sub at $commit into $dir/python" >&2
fi

py=""
for p in python3.11 python3; do
  if command -v "$p" >/dev/null; then py="$(command -v "$p")"; break; fi
done
[ -n "$py" ] || fail "no python3 on PATH"
stamp="$venv/.kenzen-peer"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$py $want" ]; then
  rm -rf "$venv"
  "$py" -m venv "$venv" >&2 || fail "$py -m venv $venv failed"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2 \
    || fail "pip install into $venv failed (PyPI unreachable?)"
  echo "$py $want" > "$stamp"
fi
ver="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$ver" = 3.11 ] || echo "peer: python 3.11 not found; the peer runs on python $ver" >&2

wrapper="$dir/bootstrap"
cat > "$wrapper.new" <<SH
#!/bin/sh
cd '$dir/python' || exit 1
exec '$venv/bin/python' -m awslambdaric src.inventory_check_handler.lambda_handler
SH
chmod +x "$wrapper.new"
mv "$wrapper.new" "$wrapper"
echo "$wrapper"
