#!/usr/bin/env bash
# Full-size photos per format (a benchmark, not a test): the same composites of LFW faces at 12 MP
# (50 photos) and 48 MP (10 photos), as JPEG and as HEIC, scanned by the real pipeline; photos/s,
# faces/s, the thread-time split, and the recall of the pasted faces by size (benches/recall.py);
# side by side with Python `face_recognition` (HOG, upsample 1, full-size image, plus its
# encodings, two worker processes for the two cores) on the same JPEGs in the same run.
#
# HEIC files are written as phones write them, a grid of HEVC tiles (benches/heic_grid.py, with
# the libheif + x265 that pillow-heif ships); encoding takes ~20 s per 12 MP photo and ~75 s per
# 48 MP photo on 2 cores. face_recognition (benches/fr_scan.py) needs dlib, built from source
# once into target/bench/fr-venv by benches/fr_venv.sh (~15 min). FR=0 skips it.
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
fr=""
if [ "${FR:-1}" = 1 ]; then fr=$(benches/fr_venv.sh); fi

for mp in 12 48; do
  n=$([ $mp = 12 ] && echo "$n12" || echo "$n48")
  $bin --json bench photos "$data/lfw/identities_min5.tsv" "$work/jpeg$mp" --count "$n" --megapixels $mp >/dev/null
  "$work/venv/bin/python" benches/heic_grid.py "$work/jpeg$mp" "$work/heic$mp" 500 2>/dev/null
  cp "$work/jpeg$mp/faces.tsv" "$work/heic$mp/"
done
sync

report() { python3 benches/scan_report.py "$1"; }

for mp in 12 48; do
  for fmt in jpeg heic; do
    cat "$work/$fmt$mp"/* >/dev/null   # the files in the page cache, as for every scan
    $bin --json --db "$work/$fmt$mp.db" scan "$work/$fmt$mp" | report "$mp MP $fmt"
    python3 benches/recall.py "$work/$fmt$mp" "$work/$fmt$mp.db" "  $mp MP $fmt"
  done
  if [ -n "$fr" ]; then
    "$fr" benches/fr_scan.py "$work/jpeg$mp" "$work/fr$mp.json" "$mp MP f_r"
    python3 benches/recall.py "$work/jpeg$mp" "$work/fr$mp.json" "  $mp MP face_recognition"
  fi
done
