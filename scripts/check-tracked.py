#!/usr/bin/env python3
"""Fails when git tracks a build output: a file over 1 MB, a binary (NUL bytes or an
executable/archive header), or anything under a build folder (target/, .aws-sam/, .venv*/, .peer/).

Run by scripts/test.sh; `scripts/check-tracked.py --self-test` shows that it catches each kind."""
import os
import subprocess
import sys
import tempfile

LIMIT = 1_000_000
BUILD_DIRS = (
    "target/", ".aws-sam/", ".venv/", ".venv-sam/", ".venv-checkov/", ".venv-peer/", ".peer/",
    "node_modules/", "out/",
)
MAGIC = (b"\x7fELF", b"MZ", b"PK\x03\x04", b"\x1f\x8b", b"\xcf\xfa\xed\xfe", b"!<arch>")


def problems(root):
    names = subprocess.run(
        ["git", "-C", root, "ls-files", "-z"], check=True, capture_output=True
    ).stdout.split(b"\0")
    found = []
    for raw in names:
        if not raw:
            continue
        name = raw.decode("utf-8", "replace")
        path = os.path.join(root, name)
        if any(("/" + name).find("/" + d) >= 0 for d in BUILD_DIRS):
            found.append(f"{name}: inside a build folder")
            continue
        if not os.path.isfile(path):
            continue
        size = os.path.getsize(path)
        if size > LIMIT:
            found.append(f"{name}: {size} bytes (limit {LIMIT})")
            continue
        with open(path, "rb") as f:
            head = f.read(8192)
        if head.startswith(MAGIC) or b"\0" in head:
            found.append(f"{name}: binary content")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["git", "init", "-q", d], check=True)
        cases = {
            "ok.txt": b"hello\n",
            "big.txt": b"x" * (LIMIT + 1),
            "tool": b"\x7fELF\x02\x01\x01",
            "blob.dat": b"ab\0cd",
            "target/debug/out.txt": b"text\n",
            "infra/.aws-sam/cache/x/notes.txt": b"text\n",
            ".venv-checkov/lib/notes.txt": b"text\n",
        }
        for name, data in cases.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)) or d, exist_ok=True)
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        subprocess.run(["git", "-C", d, "add", "-f", "."], check=True)
        flagged = {p.split(":")[0] for p in problems(d)}
        want = set(cases) - {"ok.txt"}
        if flagged != want:
            print(f"self-test failed: flagged {sorted(flagged)}, want {sorted(want)}")
            return 1
    print("check-tracked self-test: every kind of build output is caught")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = problems(root)
    for p in found:
        print(f"tracked build output: {p}")
    if found:
        print("remove them with `git rm --cached` and cover them in .gitignore")
        return 1
    print("tracked files: no build output, none over 1 MB")
    return 0


sys.exit(main())
