#!/usr/bin/env bash
# Faces at every size (a benchmark, not a test).
#
# 1. The size sweep: photos whose faces (LFW photos, scaled and pasted; the largest cropped by the
#    frame as a close-up is) range from 20 px to the whole width, some in touching pairs, at 12 MP
#    (3024×4032, a phone's portrait) and under 1 MP (756×1008); `likeness bench sizes` reports per
#    size band the faces found exactly once, missed and found more than once, with today's
#    detection (2) and the one of every release before it (1).
# 2. The 12 MP speed and recall before/after: the composites of benches/formats.sh (`bench photos`,
#    50 × 12 MP, seed 1) scanned by BASE_BIN (the release before this change) and by this build,
#    twice each, alternating; photos/s and the recall of the pasted faces (benches/recall.py).
#
#   benches/sizes.sh [DATA_DIR] [PER_BAND]       (defaults ../shared/data, 100)
#   BASE_BIN=path/to/old/likeness benches/sizes.sh   (else built from BASE_REV, default 6ce97e4)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
per_band=${2:-100}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=$PWD/target/release/likeness
export LIKENESS_LOG=error
out=target/bench/sizes
mkdir -p "$out"

for size in 3024x4032 756x1008; do
  w=${size%x*}; h=${size#*x}
  dir=$out/sweep-$size-$per_band
  [ -f "$dir/sizes.tsv" ] || $bin --json bench size-photos "$data/lfw/identities_min5.tsv" "$dir" \
      --width "$w" --height "$h" --per-band "$per_band" --seed 2 >/dev/null
  for d in 1 2; do $bin bench sizes "$dir" --detection "$d"; done
done

base=${BASE_BIN:-}
if [ -z "$base" ]; then
  rev=${BASE_REV:-6ce97e4}
  wt=target/bench/base-$rev
  [ -d "$wt" ] || git worktree add --detach "$wt" "$rev" >/dev/null
  (cd "$wt" && cargo build --release --quiet)
  base=$PWD/$wt/target/release/likeness
fi
comp=$out/composites-12mp
[ -f "$comp/faces.tsv" ] || $bin --json bench photos "$data/lfw/identities_min5.tsv" "$comp" \
    --count 50 --megapixels 12 >/dev/null
cat "$comp"/* >/dev/null
for round in 1 2; do
  for who in base new; do
    b=$([ $who = base ] && echo "$base" || echo "$bin")
    db=$out/$who-$round.db
    rm -f "$db" "$db-wal" "$db-shm"
    $b --json --db "$db" scan "$comp" | python3 benches/scan_report.py "12 MP $who"
    python3 benches/recall.py "$comp" "$db" "  $who"
  done
done
