"""PyTorch CPU side of `npm run bench:features`: JPEG files -> pooled MobileNetV2 features.

Same work as the Node side: decode with PIL, EXIF orientation, alpha flattened on white,
letterbox to 224x224 on white with Lanczos, scale to [0, 1], torchvision's mobilenet_v2
(random weights; speed does not depend on them) features + global average pooling.
Prints one JSON line. Usage: features_torch.py THREADS BATCH FILE...
"""
import json
import sys
import time

import torch
import torchvision
from PIL import Image, ImageOps

SIZE = 224


def decode(path):
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    img = img.convert("RGB")
    scale = min(SIZE / img.width, SIZE / img.height)
    w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    img = img.resize((w, h), Image.LANCZOS)
    canvas = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    canvas.paste(img, ((SIZE - w) // 2, (SIZE - h) // 2))
    t = torch.frombuffer(bytearray(canvas.tobytes()), dtype=torch.uint8).reshape(SIZE, SIZE, 3)
    return t.permute(2, 0, 1).float().div_(255.0)


def main():
    threads = int(sys.argv[1])
    batch = int(sys.argv[2])
    files = sys.argv[3:]
    torch.set_num_threads(threads)
    # Random weights make activations shrink to ~1e-9, deep enough for denormal floats, which
    # slow x86 CPUs several-fold; trained weights do not, so flush them to be fair to PyTorch.
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(weights=None).features.eval()

    with torch.no_grad():
        warm = torch.stack([decode(f) for f in files[:batch]])
        model(warm).mean(dim=(2, 3))

        infer_s = 0.0
        decode_s = 0.0
        feats = []
        start = time.perf_counter()
        cpu_start = time.process_time()
        for i in range(0, len(files), batch):
            t0 = time.perf_counter()
            x = torch.stack([decode(f) for f in files[i : i + batch]])
            t1 = time.perf_counter()
            feats.append(model(x).mean(dim=(2, 3)))
            t2 = time.perf_counter()
            decode_s += t1 - t0
            infer_s += t2 - t1
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu_start

    out = torch.cat(feats)
    print(json.dumps({
        "images": len(files),
        "seconds": total,
        "imagesPerSecond": len(files) / total,
        "cpuSeconds": cpu,
        "imagesPerCpuSecond": len(files) / cpu,
        "decodeSeconds": decode_s,
        "inferSeconds": infer_s,
        "inferImagesPerSecond": len(files) / infer_s,
        "threads": torch.get_num_threads(),
        "flushDenormal": True,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "featureShape": list(out.shape),
    }))


if __name__ == "__main__":
    main()
