#!/usr/bin/env bash
# Installs checkov into the project-local venv .venv-checkov (idempotent; separate from .venv-sam
# because checkov's pinned boto3 and the SAM CLI's cannot be installed together). Prints the path
# of checkov.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-checkov"
want="checkov==3.3.30"
stamp="$venv/.kenzen-checkov"
if [ ! -x "$venv/bin/checkov" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$want" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/checkov"
