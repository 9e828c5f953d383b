#!/usr/bin/env bash
# Builds the deployment offline with `sam build` (cargo-lambda from PyPI) and prints each
# function's bootstrap and zip size (target: every zip at most 5 MB).
#   scripts/sam-build.sh [ARCHITECTURE]    (default x86_64: this machine's only Rust target;
#                                           arm64 needs rustup's aarch64-unknown-linux-gnu)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
arch="${1:-x86_64}"
bin="$("$root/scripts/sam-venv.sh")"
export PATH="$bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_REGION="${AWS_REGION:-ap-northeast-1}" AWS_DEFAULT_REGION="${AWS_REGION:-ap-northeast-1}"
out="$root/target/sam-build"
cd "$root/infra"
sam build --no-cached --parameter-overrides "Architecture=$arch SellerId=A2EXAMPLESELLER Strategy=ask-buyer" \
  --build-dir "$out" >"$root/target/sam-build.log" 2>&1 || { cat "$root/target/sam-build.log"; exit 1; }
echo "sam build ($arch): ok"
"$bin/python" - "$out" <<'PY'
import io, os, sys, zipfile
out = sys.argv[1]
worst = 0
for name in sorted(os.listdir(out)):
    boot = os.path.join(out, name, "bootstrap")
    if not os.path.isfile(boot):
        continue
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(boot, "bootstrap")
    size, zsize = os.path.getsize(boot), len(buf.getvalue())
    worst = max(worst, zsize)
    print(f"{name:<24} bootstrap {size/1e6:6.2f} MB   zip {zsize/1e6:5.2f} MB")
print("largest zip %.2f MB (target 5 MB): %s" % (worst / 1e6, "ok" if worst <= 5e6 else "TOO LARGE"))
sys.exit(0 if 0 < worst <= 5e6 else 1)
PY
