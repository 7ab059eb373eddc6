#!/usr/bin/env bash
# HEIC scan speed with the C decoders out of process (a benchmark, not a test). N copies of the
# dev set's real 12 MP iPhone HEIC (tiled HEVC, as phones write them) are scanned, round after
# round in one run, by
#   workers     this build as shipped: HEIC decoded in confined worker processes
#   in-process  this build with LIKENESS_DECODE_IN_PROCESS=1 (decoders inside the scan)
#   before      BASE=/path/to/likeness, an older build (e.g. the commit before the workers:
#               `git worktree add /tmp/old 0bb2b7d && (cd /tmp/old && cargo build --release)`)
# and each line gives photos/s per round and the median. Then, where LFW is there, the cost of
# the decode journal (two small transactions per photo, every format) on a JPEG scan: LFW_N
# (default 2000) LFW photos, linked, scanned by this build and by BASE, rounds alternating
# (LFW_N=0 skips it).
#
#   benches/isolation.sh [DATA_DIR] [N] [ROUNDS]      (defaults ../shared/data, 24, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
n=${2:-24}
rounds=${3:-3}
heic=$data/dev/formats/heic/iphone_7.heic
[ -f "$heic" ] || { echo "SKIPPED: no $heic"; exit 0; }
cargo build --release --quiet
bin=$PWD/target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LIKENESS_LOG=error
mkdir "$work/photos"
for i in $(seq 1 "$n"); do cp "$heic" "$work/photos/phone_$i.heic"; done
cat "$work/photos"/* >/dev/null   # in the page cache, as for every scan

rate() { # DIR binary [env...]: photos/s of a fresh scan of DIR (every photo must index)
  local dir=$1 b=$2; shift 2
  rm -f "$work"/l.db*
  env "$@" "$b" --json --db "$work/l.db" scan "$dir" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["photos_failed"]==0, d["failures"]; print(d["photos_indexed"]/d["seconds"])'
}

# rounds LABEL...: each round runs every label once (run_LABEL, defined below), in turn, so
# that a slow patch of the machine hits them alike; prints the median and each round.
rounds() {
  declare -A runs
  local r l v
  for r in $(seq 1 "$rounds"); do
    for l in "$@"; do
      v=$("run_${l//-/_}")
      runs[$l]="${runs[$l]:-} $v"
    done
  done
  for l in "$@"; do
    python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[2:]]; r=", ".join("%.3f" % x for x in v); print("%10s: %.3f photos/s (rounds: %s)" % (sys.argv[1], s.median(v), r))' "$l" ${runs[$l]}
  done
}

run_workers() { rate "$work/photos" "$bin" LIKENESS_DECODE_IN_PROCESS=0; }
run_in_process() { rate "$work/photos" "$bin" LIKENESS_DECODE_IN_PROCESS=1; }
run_before() { rate "$work/photos" "$BASE" LIKENESS_DECODE_IN_PROCESS=1 LIKENESS_MODELS_DIR="$PWD/models"; }
labels=(workers in-process)
[ -n "${BASE:-}" ] && labels+=(before)
rounds "${labels[@]}"
echo "$n photos of 12 MP HEIC, $(nproc) cores"

lfw_n=${LFW_N:-2000}
[ "$lfw_n" -gt 0 ] && [ -d "$data/lfw/lfw-deepfunneled" ] || exit 0
mkdir "$work/lfw"
k=0
for d in "$data"/lfw/lfw-deepfunneled/*/; do
  for f in "$d"*.jpg; do
    ln -s "$(realpath "$f")" "$work/lfw/$(basename "$f")"
    k=$((k + 1))
    [ "$k" -ge "$lfw_n" ] && break 2
  done
done
cat "$work/lfw"/* >/dev/null
run_journal() { rate "$work/lfw" "$bin"; }
run_before() { rate "$work/lfw" "$BASE" LIKENESS_MODELS_DIR="$PWD/models"; }
labels=(journal)
[ -n "${BASE:-}" ] && labels+=(before)
rounds "${labels[@]}"
echo "$k LFW JPEGs"
