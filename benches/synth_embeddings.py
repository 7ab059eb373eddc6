"""Synthetic face embeddings for the scale benchmarks (`benches/scale.sh`), shaped like real ones.

Real descriptors are not isotropic: people's centres spread along a few directions
(between-person covariance) and one person's photos scatter along others (within-person
covariance). `fit` measures both on a library where every photo's identity is known (LFW scanned
with `likeness scan`: the identity is the photo's folder, the face nearest the photo's centre is
the labelled one); `make` draws people from the fitted Gaussians, or from isotropic ones of the
same total variance (`--shape isotropic`), and normalises rows for cosine models (stored at unit
length, as Likeness stores them).

A personal library is a few people with many photos and many with few: person sizes follow a
power law P(k) ~ k^-alpha on 1..max (alpha 2: ~60% of people are one-photo strangers, ~5.5 faces
per person on average).

    python synth_embeddings.py fit LIBRARY.db MODEL_ID FIT.npz
    python synth_embeddings.py make FIT.npz N OUT.npy [--shape lfw|isotropic] [--seed S]
                                   [--alpha A] [--max-size M] [--labels LABELS.npy]
    python synth_embeddings.py split IN.npy K HEAD.npy TAIL.npy   # last K rows apart, shuffled
"""

import argparse
import os
import sqlite3

import numpy as np


def fit(db_path, model, out):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = db.execute(
        """SELECT p.path, p.width, p.height, f.x1, f.y1, f.x2, f.y2, e.vector, e.scale
           FROM embeddings e JOIN faces f ON f.id = e.face_id JOIN photos p ON p.id = f.photo_id
           WHERE e.model_id = ? AND e.origin = 'model'""", (model,)).fetchall()
    if not rows:
        raise SystemExit(f"{db_path}: no vectors of {model}")
    best = {}  # photo -> (distance of the face centre from the photo centre, vector)
    for path, w, h, x1, y1, x2, y2, blob, scale in rows:
        d = ((x1 + x2) / 2 - w / 2) ** 2 + ((y1 + y2) / 2 - h / 2) ** 2
        v = np.frombuffer(blob, dtype=np.int8).astype(np.float64) * scale
        if path not in best or d < best[path][0]:
            best[path] = (d, v)
    people = {}
    for path, (_, v) in best.items():
        people.setdefault(os.path.basename(os.path.dirname(path)), []).append(v)
    dim = len(next(iter(best.values()))[1])
    mean = np.mean([v for _, v in best.values()], axis=0)
    # Within: deviations from each person's mean, unbiased per person.
    sw, dof = np.zeros((dim, dim)), 0
    for vs in people.values():
        if len(vs) >= 2:
            x = np.array(vs) - np.mean(vs, axis=0)
            sw += x.T @ x
            dof += len(vs) - 1
    sw /= dof
    # Between: the covariance of person means, less the within noise each mean still carries.
    multi = [vs for vs in people.values() if len(vs) >= 2]
    means = np.array([np.mean(vs, axis=0) for vs in multi])
    sb = np.cov(means.T) - sw * np.mean([1.0 / len(vs) for vs in multi])
    vals, vecs = np.linalg.eigh(sb)
    sb = (vecs * np.clip(vals, 0, None)) @ vecs.T
    cosine = bool(abs(np.mean([np.linalg.norm(v) for _, v in best.values()]) - 1) < 0.05)
    np.savez(out, mean=mean, sw=sw, sb=sb, cosine=cosine, model=model,
             people=len(people), photos=len(best))
    print(f"{model}: {len(best)} photos, {len(people)} people ({len(multi)} with 2+), dim {dim}, "
          f"trace between {np.trace(sb):.3f}, within {np.trace(sw):.3f}, cosine {cosine}")


def sizes(rng, n, alpha, max_size):
    k = np.arange(1, max_size + 1)
    p = k ** -alpha
    p /= p.sum()
    out, total = [], 0
    while total < n:
        s = int(rng.choice(k, p=p))
        s = min(s, n - total)
        out.append(s)
        total += s
    return out


def make(fit_path, n, out, shape, seed, alpha, max_size, labels_out):
    f = np.load(fit_path)
    mean, sw, sb = f["mean"], f["sw"], f["sb"]
    dim = len(mean)
    rng = np.random.default_rng(seed)
    if shape == "isotropic":
        sb = np.eye(dim) * np.trace(sb) / dim
        sw = np.eye(dim) * np.trace(sw) / dim
        mean = np.zeros(dim) if bool(f["cosine"]) else mean
    lb = np.linalg.cholesky(sb + 1e-9 * np.eye(dim))
    lw = np.linalg.cholesky(sw + 1e-9 * np.eye(dim))
    people = sizes(rng, n, alpha, max_size)
    label = np.repeat(np.arange(len(people)), people)
    centres = mean + rng.standard_normal((len(people), dim)) @ lb.T
    x = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):  # in slices: 1M x 192 float64 temporaries would be 1.5 GB
        e = min(n, s + 100_000)
        x[s:e] = centres[label[s:e]] + rng.standard_normal((e - s, dim)) @ lw.T
    if bool(f["cosine"]):
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(n)  # photos arrive in no particular order
    np.save(out, x[order])
    if labels_out:
        np.save(labels_out, label[order])
    print(f"{out}: {n} x {dim} ({shape}), {len(people)} people, "
          f"{int(np.sum(np.array(people) == 1))} of one face")


def split(src, k, head, tail):
    x = np.load(src)
    np.save(head, x[:-k])
    np.save(tail, x[-k:])


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("fit")
    a.add_argument("db")
    a.add_argument("model")
    a.add_argument("out")
    b = sub.add_parser("make")
    b.add_argument("fit")
    b.add_argument("n", type=int)
    b.add_argument("out")
    b.add_argument("--shape", choices=["lfw", "isotropic"], default="lfw")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--alpha", type=float, default=2.0)
    b.add_argument("--max-size", type=int, default=5000)
    b.add_argument("--labels")
    c = sub.add_parser("split")
    c.add_argument("src")
    c.add_argument("k", type=int)
    c.add_argument("head")
    c.add_argument("tail")
    o = ap.parse_args()
    if o.cmd == "fit":
        fit(o.db, o.model, o.out)
    elif o.cmd == "make":
        make(o.fit, o.n, o.out, o.shape, o.seed, o.alpha, o.max_size, o.labels)
    else:
        split(o.src, o.k, o.head, o.tail)


if __name__ == "__main__":
    main()
