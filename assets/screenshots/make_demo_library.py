# Builds a small photo library from public-domain / CC0 pictures shipped in scikit-image
# (astronaut: NASA, public domain; camera: CC0 by Lav Varshney): crops, flips, colour and
# scale changes, and composites with both people, so screenshots show only redistributable faces.
import sys, random
from PIL import Image, ImageEnhance, ImageOps, ImageFilter
src, out = sys.argv[1], sys.argv[2]
import os
os.makedirs(out, exist_ok=True)
random.seed(7)
astro = Image.open(f"{src}/astronaut.png").convert("RGB")   # 512x512
cam = Image.open(f"{src}/camera.png").convert("RGB")        # 512x512 gray
def variants(img, name, n, box):
    for i in range(n):
        im = img
        if i % 2 == 1:
            im = ImageOps.mirror(im)
        x0, y0, x1, y1 = box
        pad = random.randint(0, 60)
        w, h = im.size
        if i % 3 == 2:
            im = im.crop((max(0, x0 - 80 - pad), max(0, y0 - 60 - pad), min(w, x1 + 80 + pad), min(h, y1 + 120 + pad)))
        im = ImageEnhance.Brightness(im).enhance(random.uniform(0.75, 1.25))
        im = ImageEnhance.Color(im).enhance(random.uniform(0.6, 1.3))
        s = random.uniform(0.8, 1.6)
        im = im.resize((int(im.width * s), int(im.height * s)), Image.LANCZOS)
        if i % 4 == 3:
            im = im.rotate(random.uniform(-12, 12), resample=Image.BICUBIC, expand=True, fillcolor=(40, 40, 48))
        im.save(f"{out}/{name}_{i:02d}.jpg", quality=90)
variants(astro, "astronaut", 10, (150, 40, 330, 250))
variants(cam, "camera", 8, (220, 50, 330, 170))
for i in range(4):
    bg = Image.new("RGB", (1100, 620), (30 + 20 * i, 40, 60))
    a = astro.resize((500, 500)) if i % 2 == 0 else ImageOps.mirror(astro).resize((480, 480))
    c = cam.resize((520, 520))
    bg.paste(a, (20 + 10 * i, 60))
    bg.paste(c, (560, 40 + 10 * i))
    bg.save(f"{out}/together_{i:02d}.jpg", quality=90)
print("ok")
