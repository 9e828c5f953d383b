#!/usr/bin/env bash
# Offline checks of the deployment template: cfn-lint, `sam validate --lint`, and the table in
# the template against infra/table.json. Installs the SAM CLI and cfn-lint into .venv-sam.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$("$root/scripts/sam-venv.sh")"
export SAM_CLI_TELEMETRY=0 AWS_REGION="${AWS_REGION:-ap-northeast-1}" AWS_DEFAULT_REGION="${AWS_REGION:-ap-northeast-1}"
cd "$root/infra"
"$bin/cfn-lint" template.yaml
echo "cfn-lint: no findings"
"$bin/sam" validate --lint --template template.yaml
"$bin/python" "$root/scripts/check-template.py" template.yaml table.json
