#!/usr/bin/env python3
"""Small test images for the Swift PNG/JPEG/.npy decoding and frame-resize tests.

    /work/torchenv/bin/python Tests/Fixtures/prepare/make_images.py

Needs numpy and Pillow. Writes, next to this script:
  rgb.png      7x5 RGB, pixel (x, y) = ((37x + 11y) % 256, (5x + 53y) % 256, (x * y * 7 + 3) % 256)
  grey.png     6x4 grey (mode L), value (40x + 25y + 1) % 256
  palette.png  the rgb.png pattern quantised to a palette (mode P)
  rgba.png     the rgb.png pattern with alpha (x * 40) % 256 (decoders drop alpha, keeping the colours)
  grey16.png   4x1 16-bit grey [0, 16384, 32768, 65535]; decoders scale to 8 bits: [0, 64, 128, 255]
               (Pillow itself clips I;16 to 255 when converting, so only the pattern is recorded)
  rgb.jpg      16x16 RGB smooth gradient, quality 95, 4:2:0 subsampling
  grey.jpg     16x16 grey gradient, quality 90
  rgb.npy      the rgb.png pattern as a uint8 [5, 7, 3] array
  images.json  for each file: width, height and the RGB pixels Pillow decodes (row-major, interleaved),
               the generating pattern; and Pillow's Image.resize(..., BILINEAR) of a 13x9 RGB
               image to 5x7 (shrink, antialiased) and to 20x15 (enlarge)
"""
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def rgb_pattern(w, h):
    a = np.zeros((h, w, 3), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            a[y, x] = ((37 * x + 11 * y) % 256, (5 * x + 53 * y) % 256, (x * y * 7 + 3) % 256)
    return a


def main():
    out = {"files": {}, "resize": {}}

    def record(name, pattern=None):
        im = Image.open(os.path.join(HERE, name))
        im.load()
        rgb = np.asarray(im.convert("RGB"))
        entry = {"width": im.width, "height": im.height, "mode": im.mode, "rgb": rgb.reshape(-1).tolist()}
        if pattern is not None:
            entry["pattern"] = np.asarray(pattern).reshape(-1).tolist()
        out["files"][name] = entry

    rgb = rgb_pattern(7, 5)
    Image.fromarray(rgb, "RGB").save(os.path.join(HERE, "rgb.png"))
    record("rgb.png", rgb)

    grey = np.array([[(40 * x + 25 * y + 1) % 256 for x in range(6)] for y in range(4)], dtype=np.uint8)
    Image.fromarray(grey, "L").save(os.path.join(HERE, "grey.png"))
    record("grey.png", grey)

    Image.fromarray(rgb, "RGB").quantize(colors=16, method=Image.Quantize.MEDIANCUT).save(os.path.join(HERE, "palette.png"))
    record("palette.png")

    alpha = np.array([[(x * 40) % 256 for x in range(7)] for _ in range(5)], dtype=np.uint8)
    rgba = np.dstack([rgb, alpha])
    Image.fromarray(rgba, "RGBA").save(os.path.join(HERE, "rgba.png"))
    record("rgba.png", rgb)

    g16 = np.array([[0, 16384, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(g16).save(os.path.join(HERE, "grey16.png"))
    out["files"]["grey16.png"] = {"width": 4, "height": 1, "mode": "I;16", "rgb": [], "pattern": [0, 64, 128, 255]}

    g = np.zeros((16, 16, 3), dtype=np.uint8)
    for y in range(16):
        for x in range(16):
            g[y, x] = (16 * x + 4, 16 * y + 2, 128 + 4 * (x - y))
    Image.fromarray(g, "RGB").save(os.path.join(HERE, "rgb.jpg"), quality=95, subsampling=2)
    record("rgb.jpg", g)

    gg = np.array([[(12 * x + 3 * y + 10) for x in range(16)] for y in range(16)], dtype=np.uint8)
    Image.fromarray(gg, "L").save(os.path.join(HERE, "grey.jpg"), quality=90)
    record("grey.jpg", gg)

    np.save(os.path.join(HERE, "rgb.npy"), rgb)

    src = np.zeros((9, 13, 3), dtype=np.uint8)
    for y in range(9):
        for x in range(13):
            src[y, x] = ((29 * x + 17 * y) % 256, (x * x + 3 * y * y) % 256, 255 - (19 * x * y) % 256)
    out["resize"]["source"] = {"width": 13, "height": 9, "rgb": src.reshape(-1).tolist()}
    for (w, h) in [(5, 7), (20, 15), (13, 4)]:
        r = np.asarray(Image.fromarray(src, "RGB").resize((w, h), Image.BILINEAR))
        out["resize"][f"{w}x{h}"] = {"width": w, "height": h, "rgb": r.reshape(-1).tolist()}

    with open(os.path.join(HERE, "images.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    import PIL
    print("Pillow", PIL.__version__, "wrote", sorted(os.listdir(HERE)))


if __name__ == "__main__":
    main()
