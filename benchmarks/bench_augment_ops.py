"""RandAugment figures: PIL img/s side by side with timm, and the batched tensor path per image.

- ``augment.randaugment_pil``: img/s (CPU process time, same seeds for both, interleaved) of ``rand_augment_transform('rand-m9-mstd0.5', hparams)`` on a
  400x383 RGB PIL image, hparams as ``create_transform(224, is_training=True)`` builds them
  (translate_const 100, img_mean (124, 116, 104), bilinear), pimm and timm, ratio = pimm / timm.
- ``augment.randaugment_pil_random_interp``: the same without an interpolation (random
  bilinear/bicubic per op call, timm's default when hparams carry none).
- ``augment.randaugment_tensor_b64``: CPU ms per image (process time, so a busy shared machine
  does not distort it) of the tensor RandAugment on a uint8 64x3x224x224 batch (one call, one
  torch thread like a DataLoader worker) against the PIL path on the same 64 images, both
  bilinear, interleaved round by round with the same seeds; ratio = PIL ms / tensor ms (>1: the
  batch is faster).
"""

from __future__ import annotations

import random
import time

from common import Case

try:
    import timm  # noqa: F401  (reference side only)
    from timm.data.auto_augment import rand_augment_transform as timm_rand_augment_transform
except ImportError:
    timm = None
    timm_rand_augment_transform = None

_CONFIG = "rand-m9-mstd0.5"
_HPARAMS = {"translate_const": 100, "img_mean": (124, 116, 104)}


def _image(width: int = 400, height: int = 383):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    arr = (np.stack([xx, yy, (xx + yy) // 2], -1) + rng.integers(0, 40, (height, width, 3))) % 256
    return Image.fromarray(arr.astype(np.uint8))


def _seeded_rounds(transforms: dict, img, rounds: int = 6, calls: int = 150, passes: int = 3) -> dict[str, float]:
    """img/s of each transform, measured in interleaved rounds: round ``r`` seeds Python's and
    NumPy's generators with ``r`` before each transform, so all of them draw the same ops and
    magnitudes; each round keeps its fastest of ``passes`` passes (CPU process time: a shared
    machine only ever adds time)."""
    import numpy as np

    best = {name: [float("inf")] * rounds for name in transforms}
    for transform in transforms.values():
        for _ in range(10):
            transform(img)
    for _ in range(passes):
        for r in range(rounds):
            for name, transform in transforms.items():
                random.seed(r)
                np.random.seed(r)
                start = time.process_time()
                for _ in range(calls):
                    transform(img)
                best[name][r] = min(best[name][r], time.process_time() - start)
    return {name: rounds * calls / sum(times) for name, times in best.items()}


def _pil_side_by_side(interpolation: str | None) -> dict[str, float]:
    from pimm.core.data import rand_augment_transform

    img = _image()
    pimm_hp = dict(_HPARAMS, interpolation=interpolation) if interpolation else dict(_HPARAMS)
    transforms = {"pimm": rand_augment_transform(_CONFIG, pimm_hp)}
    if timm_rand_augment_transform is not None:
        timm_hp = dict(_HPARAMS)
        if interpolation:
            from PIL import Image

            timm_hp["interpolation"] = Image.Resampling.BILINEAR
        transforms["timm"] = timm_rand_augment_transform(_CONFIG, timm_hp)
    figures = _seeded_rounds(transforms, img)
    if "timm" in figures:
        figures["ratio"] = figures["pimm"] / figures["timm"]
    return figures


def randaugment_pil() -> dict[str, float]:
    """img/s, bilinear (create_transform's hparams)."""
    return _pil_side_by_side("bilinear")


def randaugment_pil_random_interp() -> dict[str, float]:
    """img/s, random bilinear/bicubic per geometric op."""
    return _pil_side_by_side(None)


def randaugment_tensor_b64(rounds: int = 8, passes: int = 3) -> dict[str, float]:
    """CPU ms per image (process time, one torch thread): a uint8 64x3x224x224 batch in one tensor
    call vs the same 64 images one by one through the PIL path, bilinear.

    Round ``r`` seeds both paths with ``r`` (so every pass draws the same ops and magnitudes) and
    times them back to back; each round keeps its fastest of ``passes`` passes (noise from a shared
    machine only ever adds time), and the figure is the sum over rounds / images.
    """
    import numpy as np
    import torch

    from pimm.core.data import rand_augment_transform

    transform = rand_augment_transform(_CONFIG, dict(_HPARAMS, interpolation="bilinear"))
    img = _image(224, 224)
    batch = torch.from_numpy(np.array(img)).permute(2, 0, 1).unsqueeze(0).repeat(64, 1, 1, 1).contiguous()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    best_pil = [float("inf")] * rounds
    best_tensor = [float("inf")] * rounds
    try:
        transform(batch)
        for _ in range(passes):
            for r in range(rounds):
                random.seed(r)
                np.random.seed(r)
                start = time.process_time()
                for _ in range(64):
                    transform(img)
                best_pil[r] = min(best_pil[r], time.process_time() - start)
                torch.manual_seed(r)
                start = time.process_time()
                transform(batch)
                best_tensor[r] = min(best_tensor[r], time.process_time() - start)
    finally:
        torch.set_num_threads(threads)
    pil_ms = sum(best_pil) * 1000.0 / (64 * rounds)
    tensor_ms = sum(best_tensor) * 1000.0 / (64 * rounds)
    return {"tensor_ms": tensor_ms, "pil_ms": pil_ms, "ratio": pil_ms / tensor_ms}


CASES = [
    Case(name="augment.randaugment_pil", unit="img/s", run=randaugment_pil, repeats=3, higher_is_better=True),
    Case(name="augment.randaugment_pil_random_interp", unit="img/s", run=randaugment_pil_random_interp,
         repeats=3, higher_is_better=True),
    Case(name="augment.randaugment_tensor_b64", unit="ms/img", run=randaugment_tensor_b64, repeats=3),
]
