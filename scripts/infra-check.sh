#!/usr/bin/env bash
# Offline checks of the deployment template: cfn-lint, `sam validate --lint`, the table in the
# template against infra/table.json, the parameters and notice rules (scripts/check-template.py,
# with its self-test first), and checkov. Installs the SAM CLI and cfn-lint into
# .venv-sam, checkov into .venv-checkov.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$("$root/scripts/sam-venv.sh")"
checkov="$("$root/scripts/checkov-venv.sh")"
export SAM_CLI_TELEMETRY=0 AWS_REGION="${AWS_REGION:-ap-northeast-1}" AWS_DEFAULT_REGION="${AWS_REGION:-ap-northeast-1}"
cd "$root/infra"
"$bin/cfn-lint" template.yaml
echo "cfn-lint: no findings"
"$bin/sam" validate --lint --template template.yaml
"$bin/python" "$root/scripts/check-template.py" --self-test template.yaml
"$bin/python" "$root/scripts/check-template.py" template.yaml table.json
# checkov's cloudformation framework reads SAM resources too (its "serverless" framework is the
# Serverless Framework's serverless.yml). Every failed check fails the tests: fix it in the
# template, or skip it there (Metadata: checkov: skip) with the reason. --skip-download keeps it
# offline (no Prisma Cloud guidelines).
if ! out="$("$checkov" -f template.yaml --framework cloudformation --quiet --compact --skip-download 2>&1)"; then
  echo "$out"
  echo "checkov: failed checks above; fix each in template.yaml or skip it there with its reason" >&2
  exit 1
fi
summary="$(sed -n 's/^Passed checks: \([0-9]*\), Failed checks: \([0-9]*\), Skipped checks: \([0-9]*\)$/\1 \2 \3/p' <<<"$out")"
read -r passed failed skipped <<<"${summary:-0 0 0}"
if [ "$passed" -eq 0 ] || [ "$failed" -ne 0 ]; then
  echo "$out"
  echo "checkov: no summary with passed checks and none failed; did it read template.yaml?" >&2
  exit 1
fi
echo "checkov: $passed passed, $failed failed, $skipped skipped (each skip's reason is in template.yaml)"
