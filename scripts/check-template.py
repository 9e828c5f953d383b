#!/usr/bin/env python3
"""Checks infra/template.yaml against infra/table.json, the one table definition the tests and
the demo use: attribute definitions, key schema, indexes and the TTL attribute must agree.

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
    if problems:
        print("infra/template.yaml and infra/table.json disagree:")
        print("\n".join(problems))
        sys.exit(1)
    print("template table matches infra/table.json")


if __name__ == "__main__":
    main()
