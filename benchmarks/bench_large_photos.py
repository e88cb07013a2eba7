"""Large photos: the training pipeline's img/s on 12-megapixel JPEGs, pimm vs timm, single-threaded.

Both sides read the same generated folder of 4000x3000 JPEGs through their own ``ImageDataset``
with their own ``create_transform(224, is_training=True, auto_augment='rand-m9-mstd0.5')``
(decode + RandomResizedCrop + flip + RandAugment + to tensor + normalise). pimm decodes each JPEG
at 1/2-1/8 size when the crop shrinks by 2x or more; timm decodes in full. The two sides alternate
within every repeat. timm runs in a subprocess: in this interpreter when ``import timm`` works,
else with ``$PIMM_TIMM_PYTHON`` or ``/tmp/timmvenv/bin/python`` (make one with
``python3 -m venv /tmp/timmvenv && /tmp/timmvenv/bin/pip install timm==1.0.31``); without any,
the case reports pimm alone and says "timm not available".

The images are generated once into ``$PIMM_BENCH_CACHE`` (default: the temp dir) and reused.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Case, timm_python as _timm_python

N_IMAGES = 16
SIZE = (4000, 3000)
PASSES = 2  # each side loads every image this many times per measurement
POLICY = "rand-m9-mstd0.5"

_TIMM_SIDE = r"""
import json, random, sys, time
import torch
torch.set_num_threads(1)
from timm.data import ImageDataset, create_transform
root, passes = sys.argv[1], int(sys.argv[2])
ds = ImageDataset(root, transform=create_transform(224, is_training=True, auto_augment=sys.argv[3]))
random.seed(0); torch.manual_seed(0)
ds[0]  # warm-up
start, cpu = time.perf_counter(), time.process_time()
for _ in range(passes):
    for i in range(len(ds)):
        ds[i]
n = passes * len(ds)
print(json.dumps([n / (time.perf_counter() - start), n / (time.process_time() - cpu)]))
"""


def photo_folder() -> Path:
    """The cached folder of generated photos (made on first use)."""
    base = Path(os.environ.get("PIMM_BENCH_CACHE", tempfile.gettempdir()))
    root = base / f"pimm-bench-large-photos-{N_IMAGES}x{SIZE[0]}x{SIZE[1]}"
    done = root / ".complete"
    if done.exists():
        return root
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(0)
    (root / "photos").mkdir(parents=True, exist_ok=True)
    for k in range(N_IMAGES):
        coarse = rng.integers(0, 256, (SIZE[1] // 100, SIZE[0] // 100, 3), dtype=np.uint8)
        img = Image.fromarray(coarse).resize(SIZE, Image.BICUBIC).filter(ImageFilter.GaussianBlur(3))
        grain = rng.integers(-12, 13, (SIZE[1], SIZE[0], 1), dtype=np.int16)  # photo-like fine detail
        arr = np.clip(np.asarray(img, np.int16) + grain, 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(root / "photos" / f"{k:03d}.jpg", quality=90)
    done.touch()
    return root


def _timm_img_s(python: str, root: Path) -> tuple[float, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([python, "-c", _TIMM_SIDE, str(root), str(PASSES), POLICY],
                         capture_output=True, text=True, check=True, env=env).stdout
    wall, cpu = json.loads(out.strip().splitlines()[-1])
    return float(wall), float(cpu)


def _pimm_img_s(root: Path) -> tuple[float, float]:
    import torch

    from pimm.core.data import ImageDataset, create_transform

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ds = ImageDataset(str(root), transform=create_transform(224, is_training=True, auto_augment=POLICY))
        random.seed(0)
        torch.manual_seed(0)
        ds[0]  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(PASSES):
            for i in range(len(ds)):
                ds[i]
        n = PASSES * len(ds)
        return n / (time.perf_counter() - start), n / (time.process_time() - cpu)
    finally:
        torch.set_num_threads(threads)


def large_photos() -> dict[str, float]:
    """One interleaved measurement: img/s of pimm and timm, by wall clock and per CPU-second (steadier
    on a busy machine: both sides are single-threaded), and the ratios (pimm / timm)."""
    root = photo_folder()
    python = _timm_python()
    pimm, pimm_cpu = _pimm_img_s(root)
    if python is None:
        print("large_photos: timm not available (see benchmarks/bench_large_photos.py); pimm only",
              file=sys.stderr)
        return {"pimm": pimm, "pimm_cpu": pimm_cpu}
    timm, timm_cpu = _timm_img_s(python, root)
    return {"pimm": pimm, "timm": timm, "ratio": pimm / timm,
            "pimm_cpu": pimm_cpu, "timm_cpu": timm_cpu, "ratio_cpu": pimm_cpu / timm_cpu}


CASES = [Case("large_photos_train_pipeline", "img/s", large_photos, repeats=3, higher_is_better=True)]
