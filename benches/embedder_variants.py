"""Graph variants of the default embedder, each measured for speed and LFW (a benchmark, not a
test; benches/embedder_variants.sh runs it). For each variant: ms a face on one ONNX Runtime
thread (batch 16, the pipeline's EMBED_BATCH), and LFW 10-fold accuracy on the stored (int8)
vectors with and without mirror averaging, on the pipeline's own aligned chips
(`likeness bench chips`). Variants:

  release-0.8   the graph tflite2onnx wrote (PReLU as relu(x) + c(x - |x|), five passes)
  prelu         the same with native PRelu nodes (same numbers)
  rewritten     tools/convert_mobilefacenet.py: x + (1-a)relu(-x) as 1x1 depthwise convs (shipped)
  int8          the rewritten graph, static QDQ int8 (per-channel weights, u8 activations;
                optionally reduce_range), calibrated on 1,024 LFW chips that are in no LFW pair
  relu-only     every PReLU replaced by Relu: wrong outputs, the floor of the convolutions

Then mirror averaging for only part of the faces, chosen by an oracle (the faces whose mirror
vector differs most), to see whether mirroring "only where it pays" could keep the accuracy.

    embedder_variants.py ORIGINAL.onnx PAIRS_CHIPS.npy PAIRS_LIST PAIRS_TSV CALIB_CHIPS.npy WORKDIR
"""

import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper, version_converter

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/tools")
import convert_mobilefacenet as conv  # noqa: E402

orig, pairs_npy, pairs_list, pairs_tsv, calib_npy, work = sys.argv[1:7]
X = np.load(pairs_npy, mmap_mode="r")
ims = [l.strip() for l in open(pairs_list) if l.strip()]
idx = {p.split("/lfw-deepfunneled/")[1]: i for i, p in enumerate(ims)}
P = [l.split("\t") for l in open(pairs_tsv).read().splitlines()]
fold = np.array([int(p[0]) for p in P])
A = np.array([idx[p[1].split("lfw-deepfunneled/")[1]] for p in P])
B = np.array([idx[p[2].split("lfw-deepfunneled/")[1]] for p in P])
same = np.array([p[3] == "1" for p in P])


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.enable_mem_pattern = False
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ms_per_face(path, batch=16, reps=10):
    s = session(path, 1)
    x = ((np.asarray(X[:batch], np.float32) - 127.5) / 128.0).astype(np.float32)
    for _ in range(2):
        s.run(None, {"input": x})
    t = time.perf_counter()
    for _ in range(reps):
        s.run(None, {"input": x})
    return (time.perf_counter() - t) / reps / batch * 1000


def embed(path):
    s = session(path, 2)
    plain, flipped = [], []
    for i in range(0, len(X), 32):
        x = ((np.asarray(X[i : i + 32], np.float32) - 127.5) / 128.0).astype(np.float32)
        plain.append(s.run(None, {"input": x})[0])
        flipped.append(s.run(None, {"input": x[..., ::-1].copy()})[0])
    return np.concatenate(plain), np.concatenate(flipped)


def lfw(E):
    """10-fold accuracy on the stored form: unit length, one byte a dimension."""
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    sc = np.abs(E).max(1, keepdims=True) / 127
    S = np.clip(np.round(E / sc), -127, 127) * sc
    d = np.linalg.norm(S[A] - S[B], axis=1)
    acc = []
    for k in range(10):
        dd, ss = d[fold != k], same[fold != k]
        o = np.argsort(dd)
        dd, ss = dd[o], ss[o]
        correct = np.cumsum(ss) + (np.cumsum(~ss)[-1] - np.cumsum(~ss))
        j = int(np.argmax(correct))
        t = (dd[j] + dd[min(j + 1, len(dd) - 1)]) / 2
        acc.append(np.mean((d[fold == k] < t) == same[fold == k]))
    return np.mean(acc), np.std(acc)


def variants():
    out = {"release-0.8": orig}
    m = onnx.load(orig)
    conv.rewrite_prelu(m)
    onnx.save(m, f"{work}/rewritten.onnx")
    out["rewritten"] = f"{work}/rewritten.onnx"
    m = onnx.load(f"{work}/rewritten.onnx")
    g = m.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    # Native PRelu: undo the rewrite into one PRelu node per activation.
    nodes, skip = [], set()
    for n in g.node:
        if n.name.endswith("/prelu_neg"):
            x = n.input[0]
            a = 1.0 - init[x + "/prelu_slope_w"].reshape(-1, 1, 1)
            g.initializer.append(numpy_helper.from_array(a.astype(np.float32), x + "/slope"))
            nodes.append(onnx.helper.make_node("PRelu", [x, x + "/slope"], [x + "/prelu_out"]))
            skip.add(x)
        elif any(n.name.startswith(x + "/prelu_") for x in skip) and n.op_type != "Add":
            continue
        elif n.op_type == "Add" and n.name.endswith("/prelu"):
            nodes[-1].output[0] = n.output[0]
        else:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, f"{work}/prelu.onnx")
    out["prelu"] = f"{work}/prelu.onnx"
    m = onnx.load(f"{work}/prelu.onnx")
    for n in m.graph.node:
        if n.op_type == "PRelu":
            n.op_type = "Relu"
            del n.input[1:]
    onnx.save(m, f"{work}/relu_only.onnx")
    out["relu-only (wrong outputs)"] = f"{work}/relu_only.onnx"
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    onnx.save(version_converter.convert_version(onnx.load(out["rewritten"]), 13),
              f"{work}/rewritten13.onnx")
    cal = (np.load(calib_npy).astype(np.float32) - 127.5) / 128.0

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(cal):
                return None
            self.i += 16
            return {"input": cal[self.i - 16 : self.i]}

    for rr in (False, True):
        name = f"int8{' reduce_range' if rr else ''}"
        path = f"{work}/{name.replace(' ', '_')}.onnx"
        quantize_static(f"{work}/rewritten13.onnx", path, Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, reduce_range=rr, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
        out[name] = path
    return out


base = None
for name, path in variants().items():
    ms = ms_per_face(path)
    if name.startswith("relu-only"):
        print(f"{name:28s} {ms:5.2f} ms/face (1 thread)", flush=True)
        continue
    e, f = embed(path)
    a0, a1 = lfw(e), lfw((e + f) / 2)
    print(f"{name:28s} {ms:5.2f} ms/face (1 thread)  LFW stored {a0[0]:.4f} ± {a0[1]:.4f}, "
          f"mirror-averaged {a1[0]:.4f} ± {a1[1]:.4f}", flush=True)
    if name == "rewritten":
        base = (e, f)

e, f = base
n = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)
order = np.argsort((n(e) * n(f)).sum(1))  # least alike first
for frac in (0.1, 0.2, 0.3, 0.5):
    m = np.zeros(len(e), bool)
    m[order[: int(frac * len(e))]] = True
    acc = lfw(np.where(m[:, None], (e + f) / 2, e))
    print(f"mirror only for the {frac:.0%} of faces whose mirror differs most (oracle): "
          f"LFW {acc[0]:.4f} ± {acc[1]:.4f}")
