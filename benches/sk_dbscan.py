"""scikit-learn's DBSCAN on a float32 .npy, as the peer of `likeness bench cluster` (same vectors,
same radius and core size, Euclidean). Prints one JSON line: seconds (the file read excluded),
peak_rss_mb (this process), clusters, noise.

    python sk_dbscan.py EMB.npy EPS MIN_POINTS [THREADS]
"""

import json
import resource
import sys
import time

import numpy as np
from sklearn.cluster import DBSCAN


def main():
    x = np.load(sys.argv[1])
    eps, min_points = float(sys.argv[2]), int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    t0 = time.perf_counter()
    # 'auto' picks brute force above 15 dimensions; said explicitly so the peer is clear.
    labels = DBSCAN(eps=eps, min_samples=min_points, algorithm="brute", n_jobs=threads).fit(x).labels_
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "n": len(x), "dim": x.shape[1], "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "clusters": int(labels.max() + 1), "noise": int(np.sum(labels < 0)),
    }))


if __name__ == "__main__":
    main()
