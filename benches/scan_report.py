"""One line from `likeness --json scan` output on stdin: photos, faces, seconds, photos/s,
faces/s, failures, the embed stage's faces per thread-second and the thread-time split. Shared by the benchmark scripts.

    likeness --json scan DIR | python3 benches/scan_report.py LABEL
"""

import json
import sys

o = json.load(sys.stdin)
t, s = o["timing"], o["seconds"]
n, f = o["photos_indexed"], o["faces_found"]
split = ", ".join("%s %.1f" % (k[:-2], v) for k, v in t.items())
embed = f / max(t.get("embed_s", 0.0), 1e-9)
# Alignment includes the landmark refinement of embedders that ask for it (face_reid_0095).
chip = f / max(t.get("embed_s", 0.0) + t.get("align_s", 0.0), 1e-9)
print("%-12s %4d photos %5d faces  %6.1f s  %6.2f photos/s  %6.1f faces/s  failed %d; embed %.1f faces/thread-s (align+embed %.1f); thread-s: %s"
      % (sys.argv[1], n, f, s, n / s, f / s, o["photos_failed"], embed, chip, split))
