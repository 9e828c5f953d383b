#!/usr/bin/env bash
# Benchmark, with moto_server and the marketplace simulator behind a local Lambda Runtime API
# (../shared/tools/lambda-init-bench: init time, first and warm invoke latency, peak memory).
#   scripts/bench.sh [--stock-only] [ROUNDS]     (default 5)
# 1. The stock check beside its peer (docs/peer-bench.md in ../shared): new-order-check handling
#    an ORDER_CHANGE for an order it can fill (its case and its SKU's stock read at once, the
#    unit reserved; the notification's summary spares the getOrder) and Amazon's
#    Python/boto3 inventory-check Lambda reading one SKU (set up outside git by
#    scripts/peer-setup.sh), in alternating rounds so both see the same machine load. Each round
#    prints both and kenzen ÷ peer; then the medians across rounds against the targets. Without
#    the peer (see scripts/peer-setup.sh for where it comes from) it says why and prints
#    kenzen's figures alone.
# 2. Unless --stock-only: the four release binaries, each one's size and figures under a
#    schedule tick.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$kenzen_root"
stock_only=false
if [ "${1:-}" = --stock-only ]; then stock_only=true; shift; fi
rounds="${1:-5}"
bench="$kenzen_root/../shared/tools/lambda-init-bench"
[ -x "$bench" ] || { echo "lambda-init-bench not found at $bench" >&2; exit 2; }
fns="new-order-check message-resend reply-detect final-cancel"
$stock_only && fns=new-order-check
peer=""
peer_why=""
if peer="$(scripts/peer-setup.sh 2>"${TMPDIR:-/tmp}/kenzen-peer-$$.log")"; then
  cat "${TMPDIR:-/tmp}/kenzen-peer-$$.log" >&2
else
  peer_why="$(tail -n 3 "${TMPDIR:-/tmp}/kenzen-peer-$$.log")"
  peer=""
fi
rm -f "${TMPDIR:-/tmp}/kenzen-peer-$$.log"
cargo build --quiet --release $(for f in $fns; do printf -- '-p %s ' "$f"; done)
cargo build --quiet -p kenzen-tests --bin kenzen-bench-env
kenzen_start_moto
# A bench world (table, bus, queue, simulator) of its own for each part, so one part's calls do
# not use up the SP-API quotas the simulator enforces for the other; its environment in envargs.
start_world() {
  coproc ENVP { target/debug/kenzen-bench-env; }
  KENZEN_STOP_PIDS="$ENVP_PID"
  envargs=(--env "AWS_ENDPOINT_URL=$KENZEN_TEST_AWS_ENDPOINT" --env AWS_ACCESS_KEY_ID=testing
           --env AWS_SECRET_ACCESS_KEY=testing --env AWS_REGION=ap-northeast-1 --env RUST_LOG=warn)
  while read -r line <&"${ENVP[0]}"; do
    [ "$line" = READY ] && break
    envargs+=(--env "$line")
  done
}
stop_world() {
  local pid="$ENVP_PID"
  eval "exec ${ENVP[1]}>&-"
  wait "$pid" 2>/dev/null || true
  KENZEN_STOP_PIDS=""
}
work="$(mktemp -d)"
start_world

# --- 1. The stock check beside the peer -------------------------------------------------------
# kenzen: an ORDER_CHANGE for the bench world's fillable order, as the template's Pipe puts it on
# the bus (the summary's status and items: the check needs no getOrder). It carries no
# notificationId: the same event comes back every invoke, and a notification seen before is
# dropped before the check.
cat > "$work/kenzen-event.json" <<'JSON'
{"version": "0", "id": "2f0c7c8e-6c1e-4a51-9f0a-8d3e1b2c4a55", "detail-type": "OrderChange",
 "source": "kenzen.intake", "account": "123456789012", "time": "2026-12-01T01:00:00Z",
 "region": "ap-northeast-1", "resources": [],
 "detail": {"orderId": "503-9999999-0000002", "changeType": "OrderStatusChange",
            "status": "Unshipped", "fulfillment": "MFN", "marketplaceId": "A1VC38T7YXB528",
            "items": [{"OrderItemId": "99999999999998", "SellerSKU": "BENCH-SKU-STOCKED",
                       "SupplySourceId": "default", "Quantity": 1, "IsBuyerRequestedCancel": false}]}}
JSON
# The peer: one order item, one SKU, as docs/peer-bench.md gives it.
cat > "$work/peer-event.json" <<'JSON'
{"orderItems": [{"orderItemId": "1", "sku": "SKU-1", "quantity": 1}],
 "shipFromAddress": {"name": "Bench Seller", "address_line1": "1 Main St", "email": "seller@example.com",
                     "city": "Seattle", "postal_code": "98101", "country_code": "US", "phone": "2065550100"}}
JSON
peer_env=()
if [ -n "$peer" ]; then
  # Its table: `inv` (hash key SKU) in us-west-2 with the attributes the handler reads.
  if "$kenzen_root/.venv-peer/bin/python" - "$KENZEN_TEST_AWS_ENDPOINT" >&2 <<'PY'
import sys, boto3
db = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-west-2",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
db.create_table(TableName="inv", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "SKU", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "SKU", "AttributeType": "S"}])
db.put_item(TableName="inv", Item={
    "SKU": {"S": "SKU-1"}, "Stock": {"N": "5"}, "WeightValue": {"N": "12"},
    "WeightUnit": {"S": "OZ"}, "Length": {"N": "10"}, "Width": {"N": "8"}, "Height": {"N": "4"},
    "SizeUnit": {"S": "INCHES"}})
PY
  then
    peer_env=(--env INVENTORY_TABLE_NAME=inv --env "AWS_ENDPOINT_URL=$KENZEN_TEST_AWS_ENDPOINT"
              --env AWS_REGION=us-west-2 --env AWS_ACCESS_KEY_ID=testing
              --env AWS_SECRET_ACCESS_KEY=testing)
  else
    peer_why="its table could not be created in moto_server"
    peer=""
  fi
fi

# Prints a lambda-init-bench report's medians (one run: the run's figures) as
# "init first warm rss" to stdout; its report goes to $work/last.txt.
measure() {
  if ! "$@" > "$work/last.txt" 2>&1; then
    return 1
  fi
  awk '$1 == "init" || $1 == "first" || $1 == "warm" || $1 == "rss_mb" { v[$1] = $5 }
       END { print v["init"], v["first"], v["warm"], v["rss_mb"] }' "$work/last.txt"
}

# The simulator enforces Amazon's getOrder quota (0.5/s, burst 30) like Amazon; kenzen makes one
# call per invoke, so rounds past the burst wait for it instead of measuring a throttled call.
invokes=4
quota_used=0
quota_start=$SECONDS
echo
if [ -n "$peer" ]; then
  echo "== stock check: new-order-check beside the peer, $rounds rounds of 1 start + $invokes invokes each"
  echo "   peer: $(cat "$(dirname "$peer")/COMMIT" 2>/dev/null | cut -c1-12) python $("$kenzen_root/.venv-peer/bin/python" -c 'import sys, boto3; print("%d.%d.%d boto3 %s" % (sys.version_info[:3] + (boto3.__version__,)))')"
else
  echo "== stock check: new-order-check, $rounds rounds of 1 start + $invokes invokes each"
  echo "   peer round skipped: ${peer_why:-the peer is not available}"
  echo "   (scripts/peer-setup.sh says where the peer comes from; kenzen's figures follow alone)"
fi
printf '%-6s %-7s %9s %9s %9s %8s\n' round who "init ms" "first ms" "warm ms" "rss MB"
: > "$work/rows"
for r in $(seq 1 "$rounds"); do
  wait_s=$(( (quota_used + invokes - 30 + 1) * 2 - (SECONDS - quota_start) ))
  [ "$wait_s" -gt 0 ] && sleep "$wait_s"
  p="- - - -"
  if [ -n "$peer" ]; then
    if ! p="$(measure env -u AWS_REGION "$bench" "$peer" --event "$work/peer-event.json" \
                --runs 1 --invokes "$invokes" "${peer_env[@]}")"; then
      echo "   peer round $r failed: $(tail -n 1 "$work/last.txt")"
      p="- - - -"
    fi
  fi
  if ! k="$(measure "$bench" target/release/new-order-check --event "$work/kenzen-event.json" \
              --runs 1 --invokes "$invokes" "${envargs[@]}")"; then
    echo "new-order-check failed in round $r:" >&2
    cat "$work/last.txt" >&2
    exit 1
  fi
  quota_used=$((quota_used + invokes))
  echo "$r $p $k" >> "$work/rows"
  python3 - "$r" "$p" "$k" <<'PY'
import sys
r, p, k = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
row = lambda who, v: print(f"{r:<6} {who:<7} {v[0]:>9} {v[1]:>9} {v[2]:>9} {v[3]:>8}")
if p[0] != "-":
    row("peer", p)
row("kenzen", k)
if p[0] != "-":
    row("k÷p", [f"{float(a) / float(b):.3f}" for a, b in zip(k, p)])
PY
done
python3 - "$work/rows" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
names = ["init", "first", "warm", "rss"]
targets = {"init": 0.10, "first": 0.33, "warm": 0.25, "rss": 0.50}
med = lambda xs: statistics.median(xs) if xs else None
peer = [[float(x) for x in r[1:5]] for r in rows if r[1] != "-"]
kenzen = [[float(x) for x in r[5:9]] for r in rows]
ratios = [[float(r[5 + i]) / float(r[1 + i]) for i in range(4)] for r in rows if r[1] != "-"]
print(f"{'median':<6} {'kenzen':<7} " + " ".join(
    f"{med([k[i] for k in kenzen]):{9 if i < 3 else 8}.2f}" for i in range(4)))
if peer:
    print(f"{'median':<6} {'peer':<7} " + " ".join(
        f"{med([p[i] for p in peer]):{9 if i < 3 else 8}.2f}" for i in range(4)))
    print(f"median of the rounds' kenzen ÷ peer ({len(ratios)} rounds):")
    for i, n in enumerate(names):
        m = med([x[i] for x in ratios])
        verdict = "met" if m <= targets[n] else "NOT met"
        print(f"  {n:<6} {m:6.3f}×   target ≤ {targets[n]:.2f}×  {verdict}")
PY
stop_world
if $stock_only; then rm -rf "$work"; exit 0; fi

# --- 2. The four binaries under a schedule tick ------------------------------------------------
# new-order-check's poll calls searchOrders once per invoke, and its quota (as Amazon's: a burst
# of 20, then one call per 3 minutes) holds 6 runs of 3 invokes: more would measure the wait.
runs=$((rounds < 6 ? rounds : 6))
echo
[ "$runs" -lt "$rounds" ] && echo "(the four binaries: $runs runs each; searchOrders' quota holds no more)"
start_world
for f in $fns; do
  bin="target/release/$f"
  echo "== $f: binary $(stat -c %s "$bin") bytes, gzip $(gzip -9c "$bin" | wc -c) bytes"
  "$bench" "$bin" --runs "$runs" --invokes 3 "${envargs[@]}"
done
stop_world
rm -rf "$work"
