"""Python `face_recognition` over a folder, as Likeness's benchmarks compare against it: for every
JPEG, the full-size image, HOG detection with one upsample (its default), and the 128-d encodings
of what it found; two worker processes for the two cores. Prints photos/s and faces/s and writes
{file: [[top, right, bottom, left], ...]} for benches/recall.py.

    fr_scan.py DIR OUT.json LABEL
"""

import json
import pathlib
import sys
import time
from multiprocessing import Pool

import face_recognition


def one(path):
    img = face_recognition.load_image_file(path)
    locs = face_recognition.face_locations(img, number_of_times_to_upsample=1, model="hog")
    face_recognition.face_encodings(img, locs)
    return path.name, locs


def main():
    folder, out, label = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    t = time.time()
    with Pool(2) as pool:
        found = dict(pool.map(one, files, chunksize=1))
    s = time.time() - t
    n = sum(len(v) for v in found.values())
    json.dump(found, open(out, "w"))
    print("%-12s %3d photos %4d faces  %6.1f s  %5.2f photos/s  %5.1f faces/s  (face_recognition, HOG, 2 processes)"
          % (label, len(files), n, s, len(files) / s, n / s))


if __name__ == "__main__":
    main()
