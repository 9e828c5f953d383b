#!/usr/bin/env bash
# Installs moto_server into the project-local venv .venv (idempotent). Prints the path of moto_server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
want="moto[server]==5.2.5"
stamp="$venv/.kenzen-moto"
if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$want" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/moto_server"
