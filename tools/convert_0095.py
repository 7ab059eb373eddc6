#!/usr/bin/env python3
"""Convert Intel's OpenVINO IR of face-reidentification-retail-0095 to ONNX.

Usage: python3 convert_0095.py XML BIN OUT.onnx

Reproduces, byte for byte, the ONNX file described in the section
"Intel face-reidentification-retail-0095" of ../shared/models/MODELS.md
(4,468,140 bytes, SHA-256 30a54a63...848621d6). Install the pinned, hashed
dependencies first (CPython 3.11 or 3.12, Linux x86-64; the install reads PyPI,
the conversion itself needs no network):

    python3 -m venv V
    V/bin/pip install --require-hashes --only-binary=:all: -r convert_0095.requirements.txt
    V/bin/python convert_0095.py IR.xml IR.bin face_reid_0095.onnx

Steps: openvino2onnx 1.1.0 (default passes, opset 19, no shape inference:
exactly what its command line does), then
  1. the leading Constant nodes are put in a fixed order (openvino2onnx emits
     them in the iteration order of a Python set of node names, which changes
     with the interpreter's random string-hash seed; CONSTANT_ORDER is the
     order in the published file, so the output no longer depends on it);
  2. the graph input is renamed "input" and the output "embedding";
  3. the batch dimension of input and output becomes the symbol "N".
Nothing else changes: weights, other nodes, names and producer fields are
openvino2onnx's own. The result is checked against the expected SHA-256 and
nothing is written when it differs.

The inputs are Intel's files exactly (release 2022.1, FP16; their SHA-384 are
Intel's published checksums) and are checked before converting. Neither they
nor the output may be committed to the project.
"""

import contextlib
import hashlib
import io
import os
import sys
import tempfile
import warnings

XML_SHA384 = (
    "cf64003784f3f3d54bc3a37ab3c81f857505f9a764175056"
    "d02a8e2d9e0d8b97e9e7a8b672f73639e951bb9cb056af7f"
)
BIN_SHA384 = (
    "802a00762eb563acb377eeac0e96bc97384a0d2788e0a977"
    "414d0f235e1e1ee90e278579ff5579f32c606d2cb046482a"
)
OUT_SHA256 = "30a54a638e5c9495808ba47cd4db11900ff75fb56dd4d4a0c56e1c99848621d6"
OUT_SIZE = 4468140
REQUIRED_VERSIONS = {"openvino2onnx": "1.1.0", "onnx": "1.17.0"}
INPUT_NAME, OUTPUT_NAME, BATCH = "input", "embedding", "N"
INPUT_SHAPE, OUTPUT_SHAPE = [1, 3, 128, 128], [1, 256, 1, 1]

# Order of the Constant nodes (all at the head of the graph) in the published file.
CONSTANT_ORDER = (
    "Multiply_13246/weights Multiply_13414/weights Multiply_13330/weights "
    "Multiply_13183/weights Multiply_13288/weights Multiply_13169/weights "
    "Multiply_13456/weights Multiply_13498/weights Multiply_13393/weights "
    "Multiply_13204/weights Multiply_13267/weights Multiply_13309/weights "
    "Multiply_13351/weights Multiply_13372/weights Multiply_13225/weights "
    "Multiply_13435/weights Multiply_13477/weights Reshape_1877_output1 "
    "Constant_13328_output1 Constant_13265_output1 Constant_13188_output1 "
    "Constant_13391_output1 Reshape_2480_output1 Constant_13433_output1 "
    "Constant_13202_output1 Constant_13405_output1 Reshape_2431_output1 "
    "Multiply_13572_output1 Constant_13286_output1 240_output1 367_output1 "
    "Multiply_13919_output1 Reshape_3283_output1 115_output1 Constant_13279_output1 "
    "290_output1 Multiply_13754_output1 Constant_13223_output1 Reshape_1828_output1 "
    "Reshape_3083_output1 Multiply_13659_output1 Constant_13440_output1 "
    "Reshape_1628_output1 215_output1 92_output1 Multiply_13711_output1 "
    "Reshape_2029_output1 Constant_13258_output1 190_output1 Constant_13398_output1 "
    "Constant_13174_output1 Constant_13293_output1 Reshape_3435_output1 "
    "Constant_13419_output1 Constant_13167_output1 Constant_13251_output1 117_output1 "
    "192_output1 Multiply_13685_output1 Reshape_1427_output1 Constant_13314_output1 "
    "Constant_13272_output1 Reshape_673_output1 Reshape_3034_output1 Reshape_2632_output1 "
    "Reshape_2230_output1 Multiply_13832_output1 Gather_14214_output1 "
    "Multiply_13858_output1 Constant_13412_output1 Constant_13384_output1 "
    "Reshape_1074_output1 Constant_13209_output1 Multiply_13806_output1 "
    "Constant_13342_output1 Reshape_1275_output1 Constant_13335_output1 "
    "Multiply_13893_output1 Reshape_2833_output1 Constant_13370_output1 "
    "Constant_13503_output1 165_output1 Multiply_13607_output1 Multiply_13702_output1 "
    "Multiply_13841_output1 Reshape_1476_output1 408_output1 Multiply_13555_output1 "
    "Reshape_1226_output1 Constant_13230_output1 Multiply_13884_output1 "
    "Multiply_13737_output1 167_output1 Multiply_13633_output1 Constant_13454_output1 "
    "Reshape_2882_output1 Reshape_1025_output1 Gather_14217_output1 "
    "Multiply_13581_output1 Constant_13461_output1 242_output1 Reshape_824_output1 "
    "Constant_13307_output1 Constant_13321_output1 Multiply_13624_output1 265_output1 "
    "Constant_13489_output1 67_output1 Multiply_13789_output1 Multiply_13780_output1 "
    "365_output1 Multiply_13728_output1 340_output1 Constant_13482_output1 "
    "Constant_13426_output1 Multiply_13910_output1 Multiply_13529_output1 "
    "Multiply_13867_output1 267_output1 Reshape_2279_output1 Constant_13244_output1 "
    "42_output1 Multiply_13815_output1 217_output1 342_output1 Multiply_13650_output1 "
    "Constant_13496_output1 Constant_13363_output1 Constant_13447_output1 "
    "Constant_13468_output1 Constant_13237_output1 65_output1 Reshape_3234_output1 "
    "292_output1 Reshape_1677_output1 Reshape_2078_output1 392_output1 "
    "Multiply_13598_output1 317_output1 90_output1 Gather_14220_output1 "
    "Constant_13349_output1 Reshape_2681_output1 Reshape_624_output1 "
    "Constant_13356_output1 140_output1 Constant_13195_output1 Constant_13300_output1 "
    "Reshape_873_output1 315_output1 390_output1 Reshape_3484_output1 "
    "Constant_13377_output1 Multiply_13763_output1 Multiply_13546_output1 "
    "Multiply_13676_output1 142_output1 Constant_13216_output1 Constant_13475_output1 "
    "40_output1 Constant_13181_output1 "
).split()


class ConversionError(Exception):
    """A failure with a one-sentence explanation."""


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_inputs(xml_path, bin_path):
    for path, algorithm, expected in (
        (xml_path, "sha384", XML_SHA384),
        (bin_path, "sha384", BIN_SHA384),
    ):
        if not os.path.isfile(path):
            raise ConversionError(f"input file {path} does not exist")
        if file_digest(path, algorithm) != expected:
            raise ConversionError(
                f"{path} is not Intel's face-reidentification-retail-0095 FP16 IR "
                f"of release 2022.1 (its SHA-384 differs from Intel's checksum)"
            )


def import_converter():
    if sys.version_info < (3, 11):
        raise ConversionError("openvino2onnx 1.1.0 needs Python 3.11 or newer")
    from importlib import metadata

    for name, wanted in REQUIRED_VERSIONS.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = None
        if found != wanted:
            raise ConversionError(
                f"{name}=={wanted} is required but {found or 'nothing'} is installed; "
                f"install convert_0095.requirements.txt into a virtual environment"
            )
    # Quiet openvino2onnx's logger (read at import time).
    os.environ["OPENVINO2ONNX_LOG_LEVEL"] = "LOG_ERROR"
    import onnx
    import openvino2onnx
    from openvino2onnx.domain.intel.openvino.xml_frontend import (
        openvino_xml_to_onnx_graph,
    )

    return onnx, openvino2onnx, openvino_xml_to_onnx_graph


def rename_value(graph, old, new):
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new


def make_batch_dynamic(value_info, expected_shape):
    dims = value_info.type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    if shape != expected_shape:
        raise ConversionError(
            f"{value_info.name} has shape {shape}, expected {expected_shape}"
        )
    dims[0].dim_param = BATCH  # dim_value/dim_param are a oneof: clears dim_value


def convert(xml_path, bin_path):
    onnx, openvino2onnx, openvino_xml_to_onnx_graph = import_converter()
    captured = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(
            captured
        ), contextlib.redirect_stderr(captured):
            warnings.simplefilter("ignore")
            ir_model = openvino_xml_to_onnx_graph(xml_path, bin_path)
            graph = openvino2onnx.convert_graph(ir_model, print_passes=False, strict=True)
            model = graph.model
    except Exception as ex:  # pylint: disable=broad-exception-caught
        raise ConversionError(
            f"openvino2onnx failed: {type(ex).__name__}: {ex}".replace("\n", " ")
        ) from ex

    g = model.graph
    if len(g.input) != 1 or len(g.output) != 1 or g.initializer or g.value_info:
        raise ConversionError("openvino2onnx produced an unexpected graph layout")

    # 1. Fixed order for the leading Constant nodes.
    nodes = list(g.node)
    count = sum(1 for n in nodes if n.op_type == "Constant")
    head = nodes[:count]
    if any(n.op_type != "Constant" for n in head) or sorted(
        n.name for n in head
    ) != sorted(CONSTANT_ORDER):
        raise ConversionError(
            "openvino2onnx produced Constant nodes other than the expected ones"
        )
    rank = {name: i for i, name in enumerate(CONSTANT_ORDER)}
    head.sort(key=lambda n: rank[n.name])
    del g.node[:]
    g.node.extend(head + nodes[count:])

    # 2. Names; 3. dynamic batch.
    rename_value(g, g.input[0].name, INPUT_NAME)
    rename_value(g, g.output[0].name, OUTPUT_NAME)
    g.input[0].name = INPUT_NAME
    g.output[0].name = OUTPUT_NAME
    make_batch_dynamic(g.input[0], INPUT_SHAPE)
    make_batch_dynamic(g.output[0], OUTPUT_SHAPE)

    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as ex:  # pylint: disable=broad-exception-caught
        raise ConversionError(f"the ONNX checker rejected the result: {ex}") from ex
    return model.SerializeToString()


def write_atomically(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".convert_0095.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def main(argv):
    if len(argv) != 4:
        print("usage: convert_0095.py XML BIN OUT.onnx", file=sys.stderr)
        return 2
    xml_path, bin_path, out_path = argv[1:]
    try:
        check_inputs(xml_path, bin_path)
        data = convert(xml_path, bin_path)
        digest = hashlib.sha256(data).hexdigest()
        if digest != OUT_SHA256:
            raise ConversionError(
                f"the conversion gave {len(data)} bytes with SHA-256 {digest}, not the "
                f"expected {OUT_SIZE} bytes with {OUT_SHA256}, so nothing was written "
                f"(are the pinned package versions installed?)"
            )
        try:
            write_atomically(out_path, data)
        except OSError as ex:
            raise ConversionError(f"cannot write {out_path}: {ex.strerror or ex}") from ex
    except ConversionError as ex:
        print(f"convert_0095: error: {ex}.", file=sys.stderr)
        return 1
    except OSError as ex:
        print(f"convert_0095: error: {ex}.", file=sys.stderr)
        return 1
    print(f"wrote {out_path} ({len(data)} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
