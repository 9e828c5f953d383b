#!/usr/bin/env python3
"""Checks infra/template.yaml against infra/table.json, the one table definition the tests and
the demo use: attribute definitions, key schema, indexes and the TTL attribute must agree. Also
that alerts can arrive (the alert topic's key grants CloudWatch and EventBridge), that every
function keeps its failed runs (an on-failure destination), and that the Pipe's input template
quotes its placeholders. And that every function may make each DynamoDB call the adapter
(shared/app/src/adapters/dynamo/) makes.

usage: check-template.py TEMPLATE TABLE_JSON   (exit 1 with the differences)
"""
import json
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
    for path in glob.glob(os.path.join(root, "shared/app/src/adapters/dynamo/*.rs")):
        for call in re.findall(r"\.(get_item|put_item|update_item|delete_item|query|scan|"
                               r"batch_get_item|batch_write_item|transact_write_items)\(\)",
                               open(path).read()):
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
    if problems:
        print("infra/template.yaml has problems:")
        print("\n".join(problems))
        sys.exit(1)
    print("template table matches infra/table.json; alerts, failed runs, the Pipe template and "
          "DynamoDB grants checked")


if __name__ == "__main__":
    main()
