#!/usr/bin/env bash
# People at a million faces (a benchmark, not a test). Synthetic MobileFaceNet vectors shaped like
# real ones (between- and within-person covariance fitted on LFW, `synth_embeddings.py`) and
# isotropic ones of the same variance:
#   1. full clustering of 100k faces, Likeness (`likeness bench cluster`) and scikit-learn's
#      DBSCAN (brute force, same radius and core size, both cores) on the same vectors, one
#      after the other in this run: time, peak memory, and their ratio;
#   2. 1M faces in people + 1,000 new ones: incremental assignment (`likeness bench assign`);
#   3. (FULL1M=1) full clustering of 1M faces: time and peak memory (~15 min, ~3.5 GB).
# The LFW fit needs LFW scanned once with MobileFaceNet (~4 min, kept in target/bench).
#
#   benches/scale.sh [DATA_DIR]      (default ../shared/data; N=100000 for another size)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
N=${N:-100000}
[ -d "$data/lfw" ] || { echo "SKIPPED: no LFW at $data"; exit 0; }
cargo build --release --quiet
bin=target/release/likeness
out=target/bench
mkdir -p $out
py=$out/sci-venv/bin/python
if ! $py -c 'import sklearn' 2>/dev/null; then
  python3 -m venv $out/sci-venv
  $out/sci-venv/bin/pip install --quiet numpy==2.4.6 scipy==1.17.1 scikit-learn==1.9.1 >&2
fi
if [ ! -s $out/fit_mfn.npz ]; then
  [ -s $out/lfw_all.db ] || $bin --json --db $out/lfw_all.db scan "$data/lfw/lfw-deepfunneled" > /dev/null
  $py benches/synth_embeddings.py fit $out/lfw_all.db mobilefacenet $out/fit_mfn.npz
fi

for shape in lfw isotropic; do
  f=$out/$shape-$N.npy
  [ -s "$f" ] || $py benches/synth_embeddings.py make $out/fit_mfn.npz "$N" "$f" --shape $shape
  ours=$($bin --json bench cluster "$f")
  eps=$(echo "$ours" | $py -c 'import json,sys; print(json.load(sys.stdin)["eps"])')
  mp=$(echo "$ours" | $py -c 'import json,sys; print(json.load(sys.stdin)["min_points"])')
  theirs=$($py benches/sk_dbscan.py "$f" "$eps" "$mp" 2)
  $py - "$shape" "$ours" "$theirs" <<'EOF'
import json, sys
shape, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"{shape} {a['n']} x {a['dim']}: Likeness {a['seconds']:.1f} s, peak {a['peak_rss_mb']:.0f} MB "
      f"({a['clusters']} people; DBSCAN step {a['dbscan_clusters']} clusters, {a['dbscan_noise']} noise) | "
      f"scikit-learn DBSCAN {b['seconds']:.1f} s, peak {b['peak_rss_mb']:.0f} MB "
      f"({b['clusters']} clusters, {b['noise']} noise) | ratio {b['seconds'] / a['seconds']:.1f}x")
EOF
done

m=$out/lfw-1001000.npy
[ -s "$m" ] || $py benches/synth_embeddings.py make $out/fit_mfn.npz 1001000 "$m" --labels "${m%.npy}.labels.npy"
$bin bench assign "$m" "${m%.npy}.labels.npy" --new 1000
if [ "${FULL1M:-0}" = 1 ]; then
  $py benches/synth_embeddings.py split "$m" 1000 $out/lfw-1m.npy $out/lfw-1m-new.npy
  $bin bench cluster $out/lfw-1m.npy
fi
