#!/usr/bin/env bash
# XMP face regions at library scale (a benchmark, not a test): what reading regions costs a scan,
# how fast `export xmp` writes sidecars, and that a fresh library made from them gets every name
# back. N LFW photos (default 1,000) are linked into a folder; the library is clustered and every
# person with 2+ faces named; sidecars are written beside the links.
#
#   benches/xmp.sh [DATA_DIR]      (default ../shared/data; N=... for another size)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
N=${N:-1000}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/lfw"
n=0
for d in "$data"/lfw/lfw-deepfunneled/*/; do
  for f in "$d"*.jpg; do
    ln -s "$(realpath "$f")" "$work/lfw/$(basename "$f")"
    n=$((n + 1))
    [ $n -ge "$N" ] && break 2
  done
done
report() { python3 benches/scan_report.py "$1"; }
cat "$work"/lfw/*.jpg > /dev/null   # the first scan must not pay for a cold disk cache alone

$bin --json --db "$work/plain.db" scan --no-xmp "$work/lfw" | report "no XMP"
# A library scanned without regions (or before Likeness read them): the next scan reads only
# the regions of its unchanged photos (a JPEG's first 256 KB), detecting nothing again.
$bin --json --db "$work/plain.db" scan "$work/lfw" | python3 -c '
import json, sys; o = json.load(sys.stdin)
print("regions read %d unchanged photos in %.1f s, %d re-detected" % (o["photos_unchanged"], o["seconds"], o["photos_indexed"]))'
$bin --json --db "$work/lib.db" scan "$work/lfw" | report "XMP, none"
$bin --json --db "$work/lib.db" cluster >/dev/null
$bin --json --db "$work/lib.db" people | python3 -c '
import json, subprocess, sys
people = [p for p in json.load(sys.stdin)["people"] if p["faces"] >= 2]
for p in people:
    subprocess.run([sys.argv[1], "--db", sys.argv[2], "name", str(p["id"]), "Person %d" % p["id"]],
                   check=True, stdout=subprocess.DEVNULL)
print("named %d people" % len(people))' "$bin" "$work/lib.db"
start=$(date +%s.%N)
$bin --json --db "$work/lib.db" export xmp > "$work/export.json"
end=$(date +%s.%N)
python3 - "$work/export.json" "$start" "$end" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
s = float(sys.argv[3]) - float(sys.argv[2])
print("export xmp   %d photos %d faces  %.1f s  %.0f photos/s  failed %d"
      % (o["photos_written"], o["faces_written"], s, o["photos_written"] / s, len(o["failed"])))
PY
$bin --json --db "$work/lib.db" scan "$work/lfw" | python3 -c '
import json, sys; o = json.load(sys.stdin)
print("rescan       %d unchanged, %d re-read, %.1f s" % (o["photos_unchanged"], o["photos_indexed"], o["seconds"]))'
$bin --json --db "$work/fresh.db" scan "$work/lfw" | tee "$work/fresh.json" | report "XMP, sidecars"
python3 - "$work/fresh.json" "$work/export.json" <<'PY'
import json, sys
f, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("fresh library: %d names imported of %d exported, %d conflicts"
      % (f["regions_imported"], e["faces_written"], len(f["region_conflicts"])))
PY
