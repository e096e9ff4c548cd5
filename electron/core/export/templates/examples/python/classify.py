#!/usr/bin/env python3
"""Classify images with the exported ONNX model (../../model.onnx).

Preprocessing follows the model's input contract (../../signature.json, "preprocessing"):
EXIF orientation applied, transparency flattened on white, RGB, the whole image letterboxed
into the model's square input on white (size rounded, offset rounded down) with Lanczos
resampling, uint8 pixels in NHWC order. Scaling to the network's range is inside the model.

Pillow's Lanczos filter is not libvips' (which the app uses), so probabilities can differ from
the app's in the third decimal; the top label almost always agrees. For bit-for-bit agreement
use the Node example.

    pip install -r requirements.txt
    python3 classify.py photo.jpg [more.jpg ...] [--json]
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

BUNDLE_DIR = Path(__file__).resolve().parent.parent.parent


def preprocess(path, size):
    """Image file -> (size, size, 3) uint8 RGB, the model's input contract."""
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    img = img.convert("RGB")
    w, h = img.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    img = img.resize((nw, nh), Image.LANCZOS)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(img, ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def load_model(bundle_dir=BUNDLE_DIR):
    bundle_dir = Path(bundle_dir)
    signature = json.loads((bundle_dir / "signature.json").read_text(encoding="utf-8"))
    labels = json.loads((bundle_dir / "labels.json").read_text(encoding="utf-8"))
    session = ort.InferenceSession(str(bundle_dir / signature["onnx"]["file"]), providers=["CPUExecutionProvider"])
    return signature, labels, session


def classify(model, paths):
    signature, labels, session = model
    height, _ = signature["input"]["size"]
    batch = np.stack([preprocess(p, height) for p in paths])
    (probs,) = session.run([signature["onnx"]["output"]], {signature["onnx"]["input"]: batch})
    out = []
    for path, p in zip(paths, probs):
        best = int(np.argmax(p))
        out.append({"file": str(path), "label": labels[best], "probability": float(p[best]),
                    "probabilities": {label: float(v) for label, v in zip(labels, p)}})
    return out


def main(argv):
    as_json = "--json" in argv
    files = [a for a in argv if a != "--json"]
    if not files:
        print("Usage: python3 classify.py IMAGE... [--json]", file=sys.stderr)
        return 2
    results = classify(load_model(), files)
    for r in results:
        print(f"{r['file']}: {r['label']} ({r['probability'] * 100:.1f}%)")
    if as_json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
