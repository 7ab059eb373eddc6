"""Recall of the pasted faces of `likeness bench photos` output, from a scanned library.

Reads the composites' faces.tsv and the faces a scan stored (any Likeness version: only the
photos and faces tables are read), matches them with the rule of `eval::composites::matches`
(a face whose centre lies within 15% of the pasted photo's side from its centre and whose box is
20-90% of that side), and prints recall per face size. Also reads a face_recognition JSON
({"file": [[top, right, bottom, left], ...]}) in place of a library.

    python recall.py COMPOSITES_DIR (LIBRARY.db | FACES.json) [LABEL]
"""

import csv
import json
import os
import sqlite3
import sys

BUCKETS = [(0, 30), (30, 40), (40, 60), (60, 100), (100, None)]


def matches(p, box):
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    px, py, side = p["x"] + p["side"] / 2, p["y"] + p["side"] / 2, p["side"]
    w = min(x2 - x1, y2 - y1)
    return abs(cx - px) <= 0.15 * side and abs(cy - py) <= 0.15 * side and 0.2 * side <= w <= 0.9 * side


def boxes_from(source):
    """{stem: [[x1, y1, x2, y2], ...]} from a library or a face_recognition JSON."""
    out = {}
    if source.endswith(".json"):
        for f, locs in json.load(open(source)).items():
            out[os.path.splitext(f)[0]] = [[l, t, r, b] for t, r, b, l in locs]
        return out
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    for path, x1, y1, x2, y2 in db.execute(
            "SELECT p.path, f.x1, f.y1, f.x2, f.y2 FROM faces f JOIN photos p ON p.id = f.photo_id"):
        out.setdefault(os.path.splitext(os.path.basename(path))[0], []).append([x1, y1, x2, y2])
    return out


def main():
    folder, source = sys.argv[1], sys.argv[2]
    label = sys.argv[3] if len(sys.argv) > 3 else source
    pasted = [dict(r, x=float(r["x"]), y=float(r["y"]), side=float(r["side"]), face_px=float(r["face_px"]))
              for r in csv.DictReader(open(os.path.join(folder, "faces.tsv")), delimiter="\t")]
    found = boxes_from(source)
    counts = {b: [0, 0] for b in BUCKETS}
    used = {}
    for p in pasted:
        stem = os.path.splitext(p["file"])[0]
        boxes = found.get(stem, [])
        flags = used.setdefault(stem, [False] * len(boxes))
        hit = next((k for k, b in enumerate(boxes) if not flags[k] and matches(p, b)), None)
        if hit is not None:
            flags[hit] = True
        b = next(b for b in BUCKETS if p["face_px"] >= b[0] and (b[1] is None or p["face_px"] < b[1]))
        counts[b][1] += 1
        counts[b][0] += hit is not None
    f40 = sum(c[0] for b, c in counts.items() if b[0] >= 40)
    n40 = sum(c[1] for b, c in counts.items() if b[0] >= 40)
    parts = ["%d%s %d/%d" % (lo, "-%d" % hi if hi else "+", f, n) for (lo, hi), (f, n) in counts.items() if n]
    print("%-24s recall of pasted faces by size: %s; >=40 px: %d/%d = %.3f"
          % (label, ", ".join(parts), f40, n40, f40 / max(n40, 1)))


if __name__ == "__main__":
    main()
