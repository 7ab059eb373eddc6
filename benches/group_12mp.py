"""48 group photos at 12 MP from the 12 dev group photos (benches/speed.sh): each photo four ways
(as it is, mirrored, rotated 4°, its centre 85%), scaled up to 4032×3024 (3024×4032 for portrait
photos) with Lanczos and written as JPEG quality 90, so a scan sees phone-sized files with the
faces of real group shots (2–7 people, plus a crowd and a photo of dogs).

    python3 benches/group_12mp.py ../shared/data/dev/group/dlib_faces OUT
"""

import pathlib
import sys

from PIL import Image

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
n = 0
for f in sorted(src.glob("*.jpg")):
    base = Image.open(f).convert("RGB")
    w, h = base.size
    variants = {
        "a": base,
        "m": base.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "r": base.rotate(4, resample=Image.Resampling.BICUBIC, expand=False),
        "c": base.crop((int(w * 0.075), int(h * 0.075), int(w * 0.925), int(h * 0.925))),
    }
    for tag, im in variants.items():
        size = (4032, 3024) if im.width >= im.height else (3024, 4032)
        im.resize(size, Image.Resampling.LANCZOS).save(out / f"{f.stem}_{tag}.jpg", quality=90)
        n += 1
print(f"{n} photos of 12 MP in {out}")
