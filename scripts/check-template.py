#!/usr/bin/env python3
"""Checks infra/template.yaml against infra/table.json, the one table definition the tests and
the demo use: attribute definitions, key schema, indexes and the TTL attribute must agree. Also
that alerts can arrive (the alert topic's key grants CloudWatch and EventBridge), that every
function keeps its failed runs (an on-failure destination), and that the Pipe's input template
quotes its placeholders. And that every function may make each DynamoDB call the adapter
(shared/app/src/adapters/dynamo/) makes.

And what the seller sees: every parameter has a description and a place in the console's
parameter groups, every default fits its own constraints, SellerId's pattern refuses an empty value
and takes the sample id scripts/sam-build.sh deploys with, MarketplaceId allows exactly the
marketplaces of shared/src/marketplace.rs, the new functions' settings reach the functions. The
notices: one rule per kenzen event, per-case ones only with Notices=all, each text built only from
allowed fields (no buyer data, never the whole event), the e-mail text a JSON string and the Slack
one {"text": ...} with the same words, every target with a dead-letter queue, and the Slack
endpoint read from the seller's secret, never a URL written in the template.

usage: check-template.py TEMPLATE TABLE_JSON   (exit 1 with the differences)
       check-template.py --self-test TEMPLATE   (breaks the template one way at a time: each is caught)
"""
import json
import os
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


Loader.add_multi_constructor("!", _any_tag)


def main():
    template = yaml.load(open(sys.argv[1]), Loader=Loader)
    want = json.load(open(sys.argv[2]))
    got = template["Resources"]["Table"]["Properties"]
    problems = []

    def same(name, a, b):
        if a != b:
            problems.append(f"{name}: template has {a!r}, table.json has {b!r}")

    norm = lambda xs, k: sorted(xs, key=lambda x: x[k])
    same("AttributeDefinitions", norm(got["AttributeDefinitions"], "AttributeName"),
         norm(want["AttributeDefinitions"], "AttributeName"))
    same("KeySchema", got["KeySchema"], want["KeySchema"])
    same("GlobalSecondaryIndexes", norm(got["GlobalSecondaryIndexes"], "IndexName"),
         norm(want["GlobalSecondaryIndexes"], "IndexName"))
    same("BillingMode", got["BillingMode"], want["BillingMode"])
    same("TimeToLiveAttribute", got["TimeToLiveSpecification"]["AttributeName"],
         want["TimeToLiveAttribute"])
    resources = template["Resources"]
    # Alerts that arrive: the topic's key is one whose policy lets alarms and EventBridge publish.
    topic_key = resources["AlertTopic"]["Properties"].get("KmsMasterKeyId")
    if topic_key == "alias/aws/sns":
        problems.append("AlertTopic uses alias/aws/sns, which alarms and EventBridge cannot use")
    elif topic_key is not None:
        key = resources.get(topic_key, {})
        grants = [st for st in key.get("Properties", {}).get("KeyPolicy", {}).get("Statement", [])
                  if isinstance(st.get("Principal"), dict) and "Service" in st["Principal"]]
        services = {svc for st in grants for svc in st["Principal"]["Service"]}
        for need in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            if need not in services:
                problems.append(f"AlertTopic's key {topic_key} does not grant {need}")
    # Runs that fail are kept: every function has an on-failure destination.
    invoke = template.get("Globals", {}).get("Function", {}).get("EventInvokeConfig", {})
    for name, r in resources.items():
        if r.get("Type") == "AWS::Serverless::Function":
            own = r.get("Properties", {}).get("EventInvokeConfig", invoke)
            if not own.get("DestinationConfig", {}).get("OnFailure"):
                problems.append(f"{name} has no on-failure destination")
    # The Pipe's input template quotes every placeholder of a string value; only the items (an
    # array in Amazon's model) go unquoted. No buyer data: the postal code is never taken.
    pipe = next((r for r in resources.values() if r.get("Type") == "AWS::Pipes::Pipe"), None)
    if pipe is not None:
        tmpl = pipe["Properties"]["TargetParameters"]["InputTemplate"]
        import re
        arrays = (".Summary.OrderItems",)
        for m in re.finditer(r"(.)<(\$[^>]*)>(.)", tmpl):
            quoted = m.group(1) == '"' and m.group(3) == '"'
            if m.group(2).endswith(arrays):
                if quoted:
                    problems.append(f"Pipe InputTemplate quotes an array: {m.group(0)!r}")
            elif not quoted:
                problems.append(f"Pipe InputTemplate placeholder not quoted: {m.group(0)!r}")
        if "PostalCode" in tmpl or "BuyerInfo" in tmpl:
            problems.append("Pipe InputTemplate puts buyer data on the bus")
    # Every DynamoDB call the adapter makes is granted to every function (they share it).
    import glob, os, re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    used = set()
    # A call marked `// operator only` within the eight lines before it is made by the `kenzen`
    # command under the seller's own credentials (reports, stock import, template edits), never
    # by a function: it needs no grant.
    for path in glob.glob(os.path.join(root, "shared/app/src/adapters/dynamo/*.rs")):
        lines = open(path).read().split("\n")
        for i, line in enumerate(lines):
            for call in re.findall(r"\.(get_item|put_item|update_item|delete_item|query|scan|"
                                   r"batch_get_item|batch_write_item|transact_write_items)\(\)",
                                   line):
                if any("// operator only" in l for l in lines[max(0, i - 8):i]):
                    continue
                used.add("dynamodb:" + "".join(w.capitalize() for w in call.split("_")))
    for name, r in resources.items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        granted = set()
        for pol in r.get("Properties", {}).get("Policies", []):
            for st in (pol.get("Statement", []) if isinstance(pol, dict) else []):
                acts = st.get("Action", [])
                granted.update([acts] if isinstance(acts, str) else acts)
        for need in sorted(used - granted):
            problems.append(f"{name} may not call {need}, which the DynamoDB adapter uses")
    problems += check_parameters(sys.argv[1], root)
    problems += check_notices(sys.argv[1])
    if problems:
        print("infra/template.yaml has problems:")
        print("\n".join(problems))
        sys.exit(1)
    print("template table matches infra/table.json; alerts, failed runs, the Pipe template, "
          "DynamoDB grants, parameters and notice rules checked")


class TaggedLoader(yaml.SafeLoader):
    """Reads short-form tags as their long form ({"Fn::If": [...]}, {"Ref": ...}), to tell an
    !If or a !GetAtt from a plain value."""


def _long_form(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix == "Ref" else "Fn::" + suffix: value}


TaggedLoader.add_multi_constructor("!", _long_form)

# SellerId values the pattern must take and refuse (the first is what scripts/sam-build.sh
# deploys with, read from there too).
SELLER_IDS_OK = ["A2EXAMPLESELLER", "A1B2C3D4E5F6G7", "AABCDEFGHIJKL"]
SELLER_IDS_BAD = ["", " ", "a2exampleseller", "B2EXAMPLESELLER", "A2EXAMPLE", "A2EXAMPLESELLER1X",
                  "A2EXAMPLE-SELLER"]
# The functions' settings the template must pass on (Rust reads them: shared/app/src/config.rs).
SETTINGS = {"KENZEN_MODE": "Mode", "KENZEN_APPROVAL_DEFAULT": "ApprovalDefault"}


def _matches(pattern, value):
    """CloudFormation's AllowedPattern must match the whole value (Java regex; the patterns here
    use only what Python's re reads the same way)."""
    return re.fullmatch(pattern, value) is not None


def check_parameters(path, root):
    t = yaml.load(open(path), Loader=TaggedLoader)
    params = t.get("Parameters", {})
    problems = []
    iface = t.get("Metadata", {}).get("AWS::CloudFormation::Interface", {})
    grouped = [p for g in iface.get("ParameterGroups", []) for p in g.get("Parameters", [])]
    labels = iface.get("ParameterLabels", {})
    for name, p in params.items():
        if not str(p.get("Description", "")).strip():
            problems.append(f"parameter {name} has no Description")
        if grouped.count(name) != 1:
            problems.append(f"parameter {name} is in {grouped.count(name)} ParameterGroups, not 1")
        if name not in labels:
            problems.append(f"parameter {name} has no ParameterLabel")
        if "AllowedPattern" in p and "ConstraintDescription" not in p:
            problems.append(f"parameter {name} has an AllowedPattern but no ConstraintDescription")
        if "Default" in p:
            d = str(p["Default"])
            if "AllowedPattern" in p and not _matches(p["AllowedPattern"], d):
                problems.append(f"parameter {name}: its Default {d!r} fails its own AllowedPattern")
            if "AllowedValues" in p and d not in [str(v) for v in p["AllowedValues"]]:
                problems.append(f"parameter {name}: its Default {d!r} is not an AllowedValue")
            if p.get("Type") == "Number" and (float(d) < float(p.get("MinValue", d)) or
                                               float(d) > float(p.get("MaxValue", d))):
                problems.append(f"parameter {name}: its Default {d} is out of its range")
        if p.get("Type") == "Number" and "AllowedValues" not in p and not (
                "MinValue" in p and "MaxValue" in p):
            problems.append(f"parameter {name} is a number without MinValue and MaxValue")
    for name in grouped:
        if name not in params:
            problems.append(f"ParameterGroups name {name}, which is no parameter")
    # SellerId: a merchant token, never empty; the sample the offline build deploys with passes.
    pattern = params.get("SellerId", {}).get("AllowedPattern")
    if "Default" in params.get("SellerId", {}):
        problems.append("SellerId has a Default: every seller must give their own")
    if not pattern:
        problems.append("SellerId has no AllowedPattern")
    else:
        build = open(os.path.join(root, "scripts/sam-build.sh")).read()
        sample = re.findall(r"SellerId=([A-Za-z0-9]+)", build)
        for v in dict.fromkeys(SELLER_IDS_OK + sample):
            if not _matches(pattern, v):
                problems.append(f"SellerId pattern {pattern!r} refuses {v!r}")
        for v in SELLER_IDS_BAD:
            if _matches(pattern, v):
                problems.append(f"SellerId pattern {pattern!r} takes {v!r}")
    # MarketplaceId: exactly the marketplaces kenzen knows.
    rs = open(os.path.join(root, "shared/src/marketplace.rs")).read()
    known = re.findall(r'row\(\s*"([A-Z0-9]+)"', rs)
    allowed = params.get("MarketplaceId", {}).get("AllowedValues", [])
    if not known or set(known) != set(allowed):
        problems.append(f"MarketplaceId AllowedValues differ from shared/src/marketplace.rs: "
                        f"missing {sorted(set(known) - set(allowed))}, "
                        f"unknown {sorted(set(allowed) - set(known))}")
    # The Slack webhook is a secret's name, never a URL.
    slack = params.get("SlackWebhookSecret", {})
    sp = slack.get("AllowedPattern", "")
    for v in ("https://hooks.slack.com/services/T000/B000/XXXX", "http://example.com"):
        if _matches(sp, v):
            problems.append(f"SlackWebhookSecret takes a URL ({v!r}): it must name a secret")
    for v in ("", "kenzen/slack", "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:"
              "kenzen/slack-AbCdEf"):
        if not _matches(sp, v):
            problems.append(f"SlackWebhookSecret refuses {v!r}")
    for name, p in params.items():
        if "://" in str(p.get("Default", "")):
            problems.append(f"parameter {name} has a URL as its Default")
    # The settings reach the functions from their parameters.
    env = t.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for var, param in SETTINGS.items():
        if env.get(var) != {"Ref": param}:
            problems.append(f"Globals environment {var} is not !Ref {param}")
    return problems


# The event fields a notice may show: ids, kenzen's own words, times. Nothing about the buyer.
NOTICE_FIELDS = {
    "$.detail.orderId", "$.detail.reason", "$.detail.outcome", "$.detail.feedId",
    "$.detail.alert", "$.detail.detail", "$.detail.approveBy", "$.detail.defaultAction",
    "$.detail.text", "$.detail.alarmName", "$.detail.configuration.description",
}
BUYER_WORDS = re.compile(r"buyer|name|address|mail|phone|postal|city|shipping", re.I)
# kenzen's events and whether each notice waits for Notices=all (per-case) or always goes out.
NOTICE_EVENTS = {
    "CaseOpened": True, "BuyerRequestedCancel": True, "CancelSubmitted": True, "CaseClosed": True,
    "ApprovalNeeded": False, "KenzenAlert": False, "DailyDigest": False,
}


def _render(template, paths):
    """Fills an input template as EventBridge does (a value put in as it is), with samples."""
    sample = {k: f"503-0000000-{i:07d}" for i, k in enumerate(paths)}
    return re.sub(r"<([A-Za-z0-9_.-]+)>", lambda m: sample.get(m.group(1), m.group(0)), template)


def _is_slack(target):
    return target.get("Arn") == {"Fn::GetAtt": "SlackDestination.Arn"}


def check_notices(path):
    t = yaml.load(open(path), Loader=TaggedLoader)
    resources = t["Resources"]
    conditions = t.get("Conditions", {})
    problems = []
    seen = {}
    for name, r in resources.items():
        if r.get("Type") != "AWS::Events::Rule":
            continue
        props = r.get("Properties", {})
        targets = []
        for tg in props.get("Targets", []):
            if isinstance(tg, dict) and "Fn::If" in tg:
                cond, yes, no = tg["Fn::If"]
                if cond not in conditions:
                    problems.append(f"{name}: target condition {cond} is not defined")
                targets += [x for x in (yes, no) if isinstance(x, dict) and "Ref" not in x]
            else:
                targets.append(tg)
        notice = [tg for tg in targets if tg.get("Arn") == {"Ref": "AlertTopic"} or _is_slack(tg)]
        if not notice:
            continue
        pattern = props.get("EventPattern", {})
        for dt in pattern.get("detail-type", []):
            if pattern.get("source") == ["kenzen"]:
                seen[dt] = (name, r.get("Condition"))
        texts = {}
        for tg in notice:
            kind = "Slack" if _is_slack(tg) else "e-mail"
            if not tg.get("DeadLetterConfig"):
                problems.append(f"{name}: its {kind} target has no dead-letter queue")
            if _is_slack(tg) and not tg.get("RoleArn"):
                problems.append(f"{name}: its Slack target has no role")
            tr = tg.get("InputTransformer")
            if not tr:
                problems.append(f"{name}: its {kind} target sends the whole event, not a text")
                continue
            paths = tr.get("InputPathsMap", {})
            for var, p in paths.items():
                if p not in NOTICE_FIELDS:
                    why = "buyer data" if BUYER_WORDS.search(p.replace("alarmName", "")) else \
                        "a field not known to be free of buyer data"
                    problems.append(f"{name}: {kind} text takes {p} ({why})")
            tmpl = tr.get("InputTemplate", "")
            for var in re.findall(r"<([^<>]*)>", tmpl):
                if var not in paths:
                    problems.append(f"{name}: {kind} text uses <{var}>, not one of its fields")
            try:
                out = json.loads(_render(tmpl, paths))
            except ValueError as e:
                problems.append(f"{name}: {kind} text is not JSON once filled ({e})")
                continue
            if _is_slack(tg):
                if not (isinstance(out, dict) and list(out) == ["text"]):
                    problems.append(f"{name}: Slack text is not {{\"text\": ...}}")
                    continue
                out = out["text"]
            elif not isinstance(out, str):
                problems.append(f"{name}: e-mail text is not one JSON string")
                continue
            if not out.startswith("kenzen"):
                problems.append(f"{name}: {kind} text does not start with kenzen: {out!r}")
            texts[kind] = (out, paths)
        if len({v[0] for v in texts.values()}) > 1:
            problems.append(f"{name}: the e-mail and Slack texts differ")
        if "Slack" not in texts and pattern.get("source") == ["kenzen"]:
            problems.append(f"{name}: no Slack target (with Condition HasSlack)")
    for dt, per_case in NOTICE_EVENTS.items():
        if dt not in seen:
            problems.append(f"no notice rule for {dt}")
            continue
        name, cond = seen[dt]
        if per_case and cond != "NoticesAll":
            problems.append(f"{name}: a per-case notice must have Condition NoticesAll")
        if not per_case and cond is not None:
            problems.append(f"{name}: {dt} must go out whatever Notices says (no Condition)")
    # The Slack endpoint comes from the secret at deploy time, never a URL in the template.
    for name, r in resources.items():
        if r.get("Type") != "AWS::Events::ApiDestination":
            continue
        ep = r.get("Properties", {}).get("InvocationEndpoint")
        text = ep.get("Fn::Sub") if isinstance(ep, dict) else ep
        if not isinstance(text, str) or not text.startswith("{{resolve:secretsmanager:") or \
                "://" in text:
            problems.append(f"{name}: InvocationEndpoint must be a secretsmanager dynamic "
                            f"reference, not {ep!r}")
    raw = open(path).read()
    if re.search(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+", raw):
        problems.append("the template holds what looks like a real Slack webhook URL")
    return problems


# Each mutation of the real template and a problem it must raise (--self-test).
MUTATIONS = [
    ("    Description: How many days the functions' logs are kept.\n", "",
     "LogRetentionDays has no Description"),
    ("Parameters: [Architecture, LogRetentionDays]", "Parameters: [Architecture]",
     "LogRetentionDays is in 0 ParameterGroups"),
    ('"^A[A-Z0-9]{12,14}$"', '"^(A[A-Z0-9]{12,14})?$"', "takes ''"),
    ('"^A[A-Z0-9]{12,14}$"', '"^A[A-Z0-9]{13}$"', "refuses 'A2EXAMPLESELLER'"),
    ("      - ARBP9OOSHTCHU\n", "", "missing ['ARBP9OOSHTCHU']"),
    ("^(?!https?:)", "^", "SlackWebhookSecret takes a URL"),
    ("        KENZEN_MODE: !Ref Mode\n", "", "KENZEN_MODE is not !Ref Mode"),
    ("    Default: dry-run\n", "    Default: dryrun\n", "Default 'dryrun' is not an AllowedValue"),
    ("what: $.detail.detail }", "what: $.detail.buyerName }", "$.detail.buyerName (buyer data)"),
    ("(<what>). See it", "(<aws.events.event>). See it", "uses <aws.events.event>"),
    ("'\"kenzen daily digest: <text>\"'", "'kenzen daily digest: <text>'",
     "DailyDigestNotice: e-mail text is not JSON"),
    ("case closed for order", "case closed: order", "CaseClosedNotice: the e-mail and Slack texts differ"),
    ("  CaseClosedNotice:\n    Type: AWS::Events::Rule\n    Condition: NoticesAll\n",
     "  CaseClosedNotice:\n    Type: AWS::Events::Rule\n", "must have Condition NoticesAll"),
    ("detail-type: [DailyDigest]", "detail-type: [Digest]", "no notice rule for DailyDigest"),
    ("            DeadLetterConfig: { Arn: !GetAtt EventsDeadLetterQueue.Arn }\n"
     "          - !Ref AWS::NoValue", "          - !Ref AWS::NoValue",
     "Slack target has no dead-letter queue"),
    ('!Sub "{{resolve:secretsmanager:${SlackWebhookSecret}:SecretString:url}}"',
     "https://hooks.slack.com/services/T0001/B0001/abcdef",
     "InvocationEndpoint must be a secretsmanager dynamic reference"),
]


def self_test(path):
    import tempfile
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    text = open(path).read()
    clean = check_parameters(path, root) + check_notices(path)
    if clean:
        print("self-test: the template itself has problems:", *clean, sep="\n  ")
        sys.exit(1)
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "template.yaml")
        for old, new, want in MUTATIONS:
            if old not in text:
                failed.append(f"mutation target not in the template: {old!r}")
                continue
            open(copy, "w").write(text.replace(old, new, 1))
            found = check_parameters(copy, root) + check_notices(copy)
            if not any(want in p for p in found):
                failed.append(f"{old!r} -> {new!r}: no problem with {want!r} (got {found})")
    if failed:
        print("check-template self-test failed:", *failed, sep="\n  ")
        sys.exit(1)
    print(f"check-template self-test: all {len(MUTATIONS)} broken templates caught")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--self-test"]:
        self_test(sys.argv[2])
    else:
        main()
