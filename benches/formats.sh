#!/usr/bin/env bash
# Full-size photos per format (a benchmark, not a test): the same composites of LFW faces at 12 MP
# (50 photos) and 48 MP (10 photos), as JPEG and as HEIC, scanned by the real pipeline; photos/s,
# faces/s, faces found (the same pictures, so the HEIC count should equal the JPEG count) and the
# thread-time split. HEIC files are encoded with pillow-heif in a private venv under $work.
#
#   benches/formats.sh [DATA_DIR] [N12] [N48]      (defaults ../shared/data, 50, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
n12=${2:-50}
n48=${3:-10}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=$PWD/target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LIKENESS_LOG=error

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pillow==13.0.0 pillow-heif==1.8.1

for mp in 12 48; do
  n=$([ $mp = 12 ] && echo "$n12" || echo "$n48")
  $bin --json bench photos "$data/lfw/identities_min5.tsv" "$work/jpeg$mp" --count "$n" --megapixels $mp >/dev/null
  mkdir -p "$work/heic$mp"
  "$work/venv/bin/python" - "$work/jpeg$mp" "$work/heic$mp" <<'PY'
import sys, pathlib
from PIL import Image
import pillow_heif
pillow_heif.register_heif_opener()
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted(src.glob("*.jpg")):
    Image.open(f).save(dst / (f.stem + ".heic"), quality=80)
PY
done

report() {
  python3 -c '
import json, sys
o = json.load(sys.stdin)
t, s = o["timing"], o["seconds"]
n, f = o["photos_indexed"], o["faces_found"]
split = ", ".join("%s %.1f" % (k[:-2], v) for k, v in t.items())
print("%-12s %3d photos %4d faces  %6.1f s  %5.2f photos/s  %5.1f faces/s  failed %d; thread-s: %s"
      % (sys.argv[1], n, f, s, n / s, f / s, o["photos_failed"], split))
' "$1"
}

for mp in 12 48; do
  for fmt in jpeg heic; do
    $bin --json --db "$work/$fmt$mp.db" scan "$work/$fmt$mp" | report "$mp MP $fmt"
  done
done
