#!/usr/bin/env bash
# Embedders and upgrades (a benchmark, not a test). For each shipped embedder (and 0095 when the
# user installed it): faces/s of the embedder itself on 2,000 LFW photos (faces per thread-second
# of the pipeline's embed stage, and per wall-second with all threads), the whole scan's photos/s
# on those photos and on 12 MP composites; then the upgrade of the dlib library to MobileFaceNet
# (photos/s and faces/s re-embedded from stored landmarks).
#
#   benches/embedders.sh [DATA_DIR] [COMPOSITES]     (defaults ../shared/data, 50)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
ncomp=${2:-50}
[ -d "$data/lfw" ] || { echo "SKIPPED: no data at $data"; exit 0; }
cargo build --release --quiet
bin=target/release/likeness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LIKENESS_LOG=error

mkdir -p "$work/lfw"
n=0
for d in "$data"/lfw/lfw-deepfunneled/*/; do
  for f in "$d"*.jpg; do
    ln -s "$(realpath "$f")" "$work/lfw/$(basename "$f")"
    n=$((n + 1))
    [ $n -ge 2000 ] && break 2
  done
done
$bin --json bench photos "$data/lfw/identities_min5.tsv" "$work/12mp" --count "$ncomp" --megapixels 12 >/dev/null

scan_report() { python3 benches/scan_report.py "$1"; }

models=(dlib_resnet_v1 mobilefacenet)
if $bin --json models | python3 -c 'import json,sys; sys.exit(0 if any(m["id"]=="face_reid_0095" and m["installed"] for m in json.load(sys.stdin)["models"]) else 1)'; then
  models+=(face_reid_0095)
fi
for m in "${models[@]}"; do
  $bin --json --db "$work/lfw-$m.db" scan --model "$m" "$work/lfw" | scan_report "LFW 2000, $m"
  $bin --json --db "$work/12mp-$m.db" scan --model "$m" "$work/12mp" | scan_report "12 MP x$ncomp, $m"
done

$bin --json --db "$work/lfw-dlib_resnet_v1.db" upgrade --model mobilefacenet | python3 -c '
import json, sys
o = json.load(sys.stdin)
print("upgrade dlib -> mobilefacenet: %d photos, %d faces re-embedded in %.2f s = %.1f photos/s, %.1f faces/s (%d mapped, %d left out, %d people)"
      % (o["photos_reembedded"], o["reembedded"], o["seconds"], o["photos_reembedded"] / o["seconds"], o["reembedded"] / o["seconds"], o["mapped"], o["left_out"], o["people"]))'
$bin --json --db "$work/lfw-dlib_resnet_v1.db" stats | python3 -c '
import json, sys; o = json.load(sys.stdin); print("  library photos:", o["photos"], "active:", o["active_embedder"])'
