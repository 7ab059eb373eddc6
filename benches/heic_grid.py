"""Encode JPEGs as HEIC the way phones store large photos: a grid of HEVC tiles.

A single HEVC picture may hold at most 35.6 M luma samples (level 6.2), so 48 MP phones write a
grid of small tiles (Apple: 512x512) that the reader stitches. pillow-heif only writes single
pictures, which libde265 (and pillow-heif itself) then refuse to decode at 48 MP; this script
calls the libheif that pillow-heif ships (>= 1.18 has `heif_context_encode_grid`) through ctypes.

    python heic_grid.py SRC_DIR DST_DIR [TILE]      (TILE must divide both sides; default 500)
"""

import ctypes
import glob
import os
import pathlib
import sys

import pillow_heif
from PIL import Image


class HeifError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


def load_libheif():
    libs = pathlib.Path(pillow_heif.__file__).parent.parent / "pillow_heif.libs"
    path = sorted(glob.glob(str(libs / "libheif-*.so*")))[0]
    lib = ctypes.CDLL(path)
    for name in ("heif_image_create", "heif_image_add_plane", "heif_context_get_encoder_for_format",
                 "heif_encoder_set_lossy_quality", "heif_context_encode_grid",
                 "heif_context_write_to_file", "heif_encoder_set_parameter_string"):
        getattr(lib, name).restype = HeifError
    lib.heif_context_alloc.restype = ctypes.c_void_p
    lib.heif_image_get_plane.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.heif_image_get_plane.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.heif_context_encode_grid.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_uint16, ctypes.c_uint16,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.heif_context_write_to_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return lib


def check(err, what):
    if err.code != 0:
        raise RuntimeError(f"{what}: {err.message.decode()}")


HEIF_COLORSPACE_RGB, HEIF_CHROMA_INTERLEAVED_RGB, HEIF_CHANNEL_INTERLEAVED = 1, 10, 10
HEIF_COMPRESSION_HEVC = 1


def encode_grid(lib, img, tile, dst, quality=80):
    w, h = img.size
    if w % tile or h % tile:
        raise ValueError(f"tile {tile} does not divide {w}x{h}")
    cols, rows = w // tile, h // tile
    ctx = lib.heif_context_alloc()
    tiles = (ctypes.c_void_p * (rows * cols))()
    for r in range(rows):
        for c in range(cols):
            part = img.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile)).tobytes()
            him = ctypes.c_void_p()
            check(lib.heif_image_create(tile, tile, HEIF_COLORSPACE_RGB, HEIF_CHROMA_INTERLEAVED_RGB,
                                        ctypes.byref(him)), "image_create")
            check(lib.heif_image_add_plane(him, HEIF_CHANNEL_INTERLEAVED, tile, tile, 8), "add_plane")
            stride = ctypes.c_int()
            plane = lib.heif_image_get_plane(him, HEIF_CHANNEL_INTERLEAVED, ctypes.byref(stride))
            for y in range(tile):
                ctypes.memmove(ctypes.addressof(plane.contents) + y * stride.value,
                               part[y * tile * 3:(y + 1) * tile * 3], tile * 3)
            tiles[r * cols + c] = him
    enc = ctypes.c_void_p()
    check(lib.heif_context_get_encoder_for_format(ctypes.c_void_p(ctx), HEIF_COMPRESSION_HEVC,
                                                  ctypes.byref(enc)), "encoder")
    check(lib.heif_encoder_set_lossy_quality(enc, quality), "quality")
    # x265's "fast" preset: 3-4x quicker to write than the default, and decoding (what the
    # benchmark measures) costs the same; phones' hardware encoders are no slower either.
    check(lib.heif_encoder_set_parameter_string(enc, b"preset", b"fast"), "preset")
    handle = ctypes.c_void_p()
    # libheif's implementation takes (columns, rows), whatever its header calls them (checked:
    # the other order gives a transposed 6000x8000 image).
    check(lib.heif_context_encode_grid(ctx, tiles, cols, rows, enc, None, ctypes.byref(handle)),
          "encode_grid")
    check(lib.heif_context_write_to_file(ctx, str(dst).encode()), "write")


def main():
    src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    tile = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    dst.mkdir(parents=True, exist_ok=True)
    lib = load_libheif()
    for f in sorted(src.glob("*.jpg")):
        encode_grid(lib, Image.open(f).convert("RGB"), tile, dst / (f.stem + ".heic"))
        print(f"{f.name} -> {f.stem}.heic", file=sys.stderr)


if __name__ == "__main__":
    main()
