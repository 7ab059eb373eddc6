#!/usr/bin/env bash
# Speed of the default embedder and of whole scans, side by side with Python `face_recognition`
# in the same run (a benchmark, not a test): the embed stage's faces per thread-second on 2,000
# LFW photos; indexing LFW (N photos) and the 12 dev group photos with both; 48 group photos
# scaled up to 12 MP (benches/group_12mp.py) with Likeness (FR12=1 adds face_recognition there:
# ~5 min). FR=0 skips face_recognition (its first set-up builds dlib, benches/fr_venv.sh).
#
#   benches/speed.sh [DATA_DIR] [N]      (defaults ../shared/data, 343)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
nlfw=${2:-343}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LIKENESS_LOG=error
fr=""
[ "${FR:-1}" = 1 ] && fr=$(benches/fr_venv.sh)

link_lfw() { # N DIR: the first N LFW photos, linked (never copied)
  mkdir -p "$2"
  local n=0
  for d in "$data"/lfw/lfw-deepfunneled/*/; do
    for f in "$d"*.jpg; do
      ln -s "$(realpath "$f")" "$2/$(basename "$f")"
      n=$((n + 1))
      [ "$n" -ge "$1" ] && return 0
    done
  done
}
link_lfw 2000 "$work/lfw2000"
link_lfw "$nlfw" "$work/lfw"
mkdir -p "$work/group"
ln -s "$(realpath "$data/dev/group/dlib_faces")"/*.jpg "$work/group/"
"${fr:-python3}" benches/group_12mp.py "$data/dev/group/dlib_faces" "$work/group12" >/dev/null

report() { python3 benches/scan_report.py "$1"; }
ratio() { # LABEL LIKENESS_JSON FR_PHOTOS_PER_S
  python3 -c 'import json,sys; o=json.load(open(sys.argv[2])); r=o["photos_indexed"]/o["seconds"]; print("%s: Likeness %.2f photos/s, face_recognition %.2f photos/s: %.1fx" % (sys.argv[1], r, float(sys.argv[3]), r/float(sys.argv[3])))' "$@"
}
scan() { # LABEL DIR -> prints the report, leaves the JSON in $work/LABEL.json
  rm -f "$work/$1.db"*
  $bin --json --db "$work/$1.db" scan "$2" >"$work/$1.json"
  report "$1" <"$work/$1.json"
}

scan lfw2000 "$work/lfw2000"
scan lfw "$work/lfw"
scan group "$work/group"
scan group12 "$work/group12"
if [ -n "$fr" ]; then
  for s in lfw group; do
    rate=$("$fr" benches/fr_scan.py "$work/$s" "$work/fr_$s.json" "$s f_r" | tee /dev/stderr | python3 -c 'import re,sys; print(re.search(r"([0-9.]+) photos/s", sys.stdin.read()).group(1))')
    ratio "$s" "$work/$s.json" "$rate"
  done
  if [ "${FR12:-0}" = 1 ]; then
    rate=$("$fr" benches/fr_scan.py "$work/group12" "$work/fr_group12.json" "group12 f_r" | tee /dev/stderr | python3 -c 'import re,sys; print(re.search(r"([0-9.]+) photos/s", sys.stdin.read()).group(1))')
    ratio group12 "$work/group12.json" "$rate"
  fi
fi
