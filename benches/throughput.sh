#!/usr/bin/env bash
# Scan throughput (a benchmark, not a test): photos/s and faces/s for 2,000 LFW photos and for the
# dev group photos, with the thread-time split between read, decode, detect, align, embed,
# thumbnails and writes, from the real pipeline's own timers; side by side with Python
# `face_recognition` (benches/fr_scan.py; FR=0 skips it, its first set-up builds dlib).
#
#   benches/throughput.sh [DATA_DIR]      (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 2,000 LFW photos, linked (never copied) into one folder.
mkdir -p "$work/lfw"
n=0
for d in "$data"/lfw/lfw-deepfunneled/*/; do
  for f in "$d"*.jpg; do
    ln -s "$(realpath "$f")" "$work/lfw/$(basename "$f")"
    n=$((n + 1))
    [ $n -ge 2000 ] && break 2
  done
done

report() { python3 benches/scan_report.py "$1"; }

$bin --json --db "$work/lfw.db" scan "$work/lfw" | report "LFW 2000"
for i in 1 2 3; do
  rm -f "$work"/group.db*
  $bin --json --db "$work/group.db" scan "$data/dev/group/dlib_faces" | report "dev group run $i"
done

if [ "${FR:-1}" = 1 ]; then
  fr=$(benches/fr_venv.sh)
  "$fr" benches/fr_scan.py "$work/lfw" "$work/fr_lfw.json" "LFW 2000 f_r"
  "$fr" benches/fr_scan.py "$data/dev/group/dlib_faces" "$work/fr_group.json" "group f_r"
fi
