#!/usr/bin/env python3
"""The import check (run by scripts/test.sh).

For every crate of the workspace it reads each module's `crate::` and `super::` paths (in `use`
trees and inline), and fails when
  - two modules import each other, directly or round a longer circle (checked among the
    top-level modules of a crate, and among the children of every module), or
  - the service layer (`kenzen-app`'s `service` and its children) imports an adapter or the
    wiring: it must work over the ports alone.

`scripts/check-imports.py --self-test` shows that it catches both on a small made-up crate."""
import os
import re
import sys
import tempfile

# Crate source folders, relative to the workspace root.
CRATES = ["shared/src", "shared/app/src", "shared/clock/src", "shared/spapi-rates/src", "cli/src", "tests/src", "tests/sim/src"]
FORBIDDEN = {  # crate folder -> (module, modules it must not import, why)
    "shared/app/src": [("service", ("adapters", "wiring"), "the service works over the ports only")],
}

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    # String literals may hold `crate::` in messages; drop simple ones.
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (`self` and globs handled)."""
    tree = tree.strip()
    depth, brace = 0, -1
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                brace = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if brace < 0:
        return [re.sub(r"\s+as\s+\w+$", "", tree).strip()]
    prefix = tree[:brace].rstrip(":").strip()
    inner = tree[brace + 1 : tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if not p.strip():
            continue
        for sub in expand_use(p):
            out.append(prefix if sub == "self" else f"{prefix}::{sub}" if prefix else sub)
    return out


def module_files(src):
    """module path (tuple) -> file, for every .rs file under src."""
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[0] == "bin":
                continue
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            mods[tuple(rel)] = os.path.join(dirpath, f)
    return mods


def references(text, here, modules):
    """Module paths referred to from module `here` (longest known module prefix)."""
    text = strip_comments(text)
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths += expand_use(m.group(1))
    paths += re.findall(rf"\b(?:crate|super)(?:::{IDENT})+", text)
    found = set()
    for p in paths:
        segs = [s.strip() for s in p.split("::") if s.strip()]
        if not segs:
            continue
        if segs[0] == "crate":
            base, rest = (), segs[1:]
        elif segs[0] == "super":
            base, rest = here, segs
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        else:
            continue
        target = base
        for s in rest:
            if base + (s,) in modules or tuple(list(target) + [s]) in modules:
                target = tuple(list(target) + [s])
                base = target
            else:
                break
        found.add(target)
    return found


def cycles(edges):
    """Every elementary circle's members, found with Tarjan's strongly connected components."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def check_crate(src, forbidden=()):
    modules = module_files(src)
    problems = []
    sibling_edges = {}  # parent -> {child: {child}}
    for here, path in modules.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for target in references(text, here, modules):
            # Attribute the edge to the two distinct children of the lowest common ancestor.
            n = 0
            while n < min(len(here), len(target)) and here[n] == target[n]:
                n += 1
            if n == len(here) or n == len(target):
                continue  # parent and child: containment, not an import between siblings
            parent = here[:n]
            a, b = here[n], target[n]
            sibling_edges.setdefault(parent, {}).setdefault(a, set()).add(b)
            for module, banned, why in forbidden:
                if here[:1] == (module,) and target[:1] and target[0] in banned:
                    problems.append(
                        f"{src}: {'::'.join(here)} imports {'::'.join(target)} ({why})"
                    )
    for parent, edges in sibling_edges.items():
        for circle in cycles(edges):
            where = "::".join(parent) or "crate root"
            problems.append(f"{src}: import circle under {where}: {' <-> '.join(circle)}")
    return sorted(set(problems)), len(modules)


def self_test():
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src")
        os.makedirs(os.path.join(src, "service"))
        os.makedirs(os.path.join(src, "adapters"))
        files = {
            "lib.rs": "pub mod ports; pub mod service; pub mod adapters;",
            "ports.rs": "use crate::adapters::spapi::SpApiError; // circle\n",
            "adapters/mod.rs": "pub mod spapi;",
            "adapters/spapi.rs": "use crate::ports::{Marketplace, store::X};",
            "service/mod.rs": "mod intake; use crate::ports::Marketplace;",
            "service/intake.rs": "use super::Service;\nfn f() { crate::adapters::spapi::go(); }",
        }
        for name, text in files.items():
            with open(os.path.join(src, name), "w") as f:
                f.write(text)
        found, _ = check_crate(src, [("service", ("adapters",), "ports only")])
        circle = any("import circle" in p and "adapters <-> ports" in p for p in found)
        banned = any("service::intake imports adapters::spapi" in p for p in found)
        if not (circle and banned and len(found) == 2):
            print("self-test failed:", found)
            return 1
        # The same crate without the two faults passes.
        with open(os.path.join(src, "ports.rs"), "w") as f:
            f.write("pub trait Marketplace {}\n")
        with open(os.path.join(src, "service/intake.rs"), "w") as f:
            f.write("use super::Service;\n")
        found, _ = check_crate(src, [("service", ("adapters",), "ports only")])
        if found:
            print("self-test failed on a clean crate:", found)
            return 1
    print("check-imports self-test: a circle and a service-to-adapter import are both caught")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    crates = [c for c in CRATES if os.path.isdir(os.path.join(root, c))]
    crates += sorted(
        f"functions/{n}/src" for n in os.listdir(os.path.join(root, "functions"))
        if os.path.isdir(os.path.join(root, "functions", n, "src"))
    )
    problems, total = [], 0
    for c in crates:
        found, n = check_crate(os.path.join(root, c), FORBIDDEN.get(c, ()))
        problems += [p.replace(root + os.sep, "") for p in found]
        total += n
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"imports: {total} modules in {len(crates)} crates, no import circle, "
          "the service imports no adapter")
    return 0


sys.exit(main())
