#!/usr/bin/env bash
# Runs the four real Lambda binaries under `cargo lambda watch` (a local Lambda emulator) with
# the environment the SAM template gives them — LWA credentials read from a Secrets Manager
# secret — against moto_server and the marketplace simulator, invokes each with fixture events
# (schedule ticks, an ORDER_CHANGE from the intake, domain events) and checks the table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
bin="$(scripts/sam-venv.sh)"
kenzen_start_moto
cargo build --quiet -p kenzen-tests --bin kenzen-bench-env
cargo build --quiet -p new-order-check -p message-resend -p reply-detect -p final-cancel
coproc SIMENV { target/debug/kenzen-bench-env; }
KENZEN_STOP_PIDS="$SIMENV_PID"
declare -A sim
while read -r line <&"${SIMENV[0]}"; do
  [ "$line" = READY ] && break
  sim["${line%%=*}"]="${line#*=}"
done
py="$(dirname "$("$kenzen_root/scripts/moto-venv.sh")")/python"
# The secret the template creates, with the simulator's credentials in it.
secret_arn="$("$py" - <<PY
import boto3, json
sm = boto3.client("secretsmanager", endpoint_url="$KENZEN_TEST_AWS_ENDPOINT", region_name="ap-northeast-1")
print(sm.create_secret(Name="kenzen-lwa-local-$$", SecretString=json.dumps({
    "client_id": "${sim[KENZEN_LWA_CLIENT_ID]}",
    "client_secret": "${sim[KENZEN_LWA_CLIENT_SECRET]}",
    "refresh_token": "${sim[KENZEN_LWA_REFRESH_TOKEN]}"}))["ARN"])
PY
)"
# The template's Globals environment, with parameter defaults and local resource names.
envfile="$(mktemp)"
"$bin/python" - "$envfile" <<PY
import sys, yaml
class L(yaml.SafeLoader): pass
L.add_multi_constructor("!", lambda l, s, n: {"tag": s, "value": l.construct_scalar(n) if isinstance(n, yaml.ScalarNode) else l.construct_sequence(n) if isinstance(n, yaml.SequenceNode) else None})
t = yaml.load(open("infra/template.yaml"), Loader=L)
params = {k: v.get("Default") for k, v in t["Parameters"].items()}
params.update({"SellerId": "${sim[KENZEN_SELLER_ID]}", "Strategy": "ask-buyer"})
local = {"Table": "${sim[KENZEN_TABLE]}", "EventBus": "${sim[KENZEN_EVENT_BUS]}", "LwaSecret": "$secret_arn"}
def ref(node):
    # A plain value, or !Ref of a parameter or a local resource (AWS::NoValue: none).
    if isinstance(node, dict) and node.get("tag") == "Ref":
        name = node["value"]
        return None if name == "AWS::NoValue" else local[name] if name in local else params[name]
    return node
def condition(name):
    # The template's conditions over parameter defaults: !Equals [!Ref X, value] and !Not.
    c = t["Conditions"][name]
    neg = c.get("tag") == "Not"
    if neg:
        c = c["value"][0]
    if c.get("tag") != "Equals":
        sys.exit(f"condition {name}: the local wiring cannot resolve !{c.get('tag')}")
    a, b = c["value"]
    return (str(ref(a)) == str(ref(b))) != neg
out = []
for k, v in t["Globals"]["Function"]["Environment"]["Variables"].items():
    if isinstance(v, dict) and v.get("tag") == "If":
        name, yes, no = v["value"]
        v = ref(yes if condition(name) else no)
        if v is None:
            continue
    elif isinstance(v, dict) and v.get("tag") == "Ref":
        v = ref(v)
    elif isinstance(v, dict) and v.get("tag") == "FindInMap":
        m, k1, k2 = v["value"]
        v = t["Mappings"][m][k1][k2]
    elif isinstance(v, dict):
        sys.exit(f"{k}: the local wiring cannot resolve !{v.get('tag')}")
    out.append(f"{k}={'' if v is None else v}")
out += ["KENZEN_SPAPI_ENDPOINT=${sim[KENZEN_SPAPI_ENDPOINT]}", "KENZEN_LWA_ENDPOINT=${sim[KENZEN_LWA_ENDPOINT]}",
        "AWS_ENDPOINT_URL=$KENZEN_TEST_AWS_ENDPOINT", "AWS_ACCESS_KEY_ID=testing",
        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=ap-northeast-1"]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
grep -q "^KENZEN_LWA_SECRET_ID=arn:" "$envfile" || { echo "template wiring has no secret id" >&2; exit 1; }
# The run-time settings resolve from their parameters' defaults (the mode a new stack starts in).
for v in KENZEN_MODE KENZEN_APPROVAL_DEFAULT; do
  grep -q "^$v=[a-z]" "$envfile" || { echo "template wiring gives no $v" >&2; exit 1; }
done
port="$(kenzen_free_port)"
"$bin/cargo-lambda" lambda watch --invoke-port "$port" --env-file "$envfile" --ignore-changes \
  >"$(mktemp)" 2>&1 &
KENZEN_STOP_PIDS="$SIMENV_PID $!"
invoke() { # function, event file
  local out
  out="$("$bin/cargo-lambda" lambda invoke "$1" --invoke-port "$port" --data-file "$2" 2>&1)" || {
    echo "FAILED: $1 with $2: $out" >&2; return 1; }
  echo "ok  $1 <- $(basename "$2")"
}
for _ in $(seq 1 120); do
  "$bin/cargo-lambda" lambda invoke message-resend --invoke-port "$port" \
    --data-file functions/message-resend/fixtures/schedule.json >/dev/null 2>&1 && break
  sleep 1
done
order=503-9999999-0000001
sed "s/503-0000013-0000001/$order/" functions/new-order-check/fixtures/order-change.json > "$envfile.oc.json"
invoke new-order-check functions/new-order-check/fixtures/schedule.json
invoke new-order-check "$envfile.oc.json"
invoke message-resend functions/message-resend/fixtures/schedule.json
invoke reply-detect functions/reply-detect/fixtures/schedule.json
invoke reply-detect functions/reply-detect/fixtures/case-opened.json
invoke final-cancel functions/final-cancel/fixtures/schedule.json
invoke final-cancel functions/final-cancel/fixtures/buyer-requested-cancel.json
# A refused event must come back as a function error (so a broken wiring cannot look green).
if invoke new-order-check functions/reply-detect/fixtures/case-opened.json 2>/dev/null; then
  echo "FAILED: new-order-check accepted a CaseOpened event" >&2
  exit 1
fi
echo "ok  new-order-check refused a CaseOpened event"
"$py" - <<PY
import boto3, sys
db = boto3.client("dynamodb", endpoint_url="$KENZEN_TEST_AWS_ENDPOINT", region_name="ap-northeast-1")
case = db.get_item(TableName="${sim[KENZEN_TABLE]}", Key={"pk": {"S": "ORDER#$order"}, "sk": {"S": "CASE"}}).get("Item")
if not case:
    sys.exit("no case for $order in the table after the invocations")
cursor = db.get_item(TableName="${sim[KENZEN_TABLE]}", Key={"pk": {"S": "POLL"}, "sk": {"S": "CURSOR"}}).get("Item")
if not cursor:
    sys.exit("new-order-check did not store its poll cursor")
print("table: case for $order in state", case["state"]["S"], "; poll cursor", cursor["at"]["S"])
PY
