#!/usr/bin/env bash
# Installs the AWS SAM CLI, cfn-lint and cargo-lambda (with zig) into the project-local venv
# .venv-sam (idempotent;
# separate from .venv so their pinned dependencies do not clash with moto's). Prints the venv's
# bin directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-sam"
want="aws-sam-cli==1.170.0 cfn-lint==1.58.0 cargo-lambda==1.9.2 ziglang==0.17.1"
stamp="$venv/.kenzen-sam"
if [ ! -x "$venv/bin/sam" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin"
