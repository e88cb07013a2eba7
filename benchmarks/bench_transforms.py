"""Transform pipelines and Mixup: pimm side by side with timm (when importable).

- ``transforms.train`` / ``transforms.train_rand_m9`` / ``transforms.eval``: images per CPU-second
  through ``create_transform(224, ...)`` on a 400×383 RGB PIL image, one torch thread (as in a
  DataLoader worker). CPU time of the calling thread is measured, so other load on the machine
  matters less. Both libraries are seeded identically before each chunk, so they do the same crops.
- ``transforms.mixup_batch`` / ``transforms.mixup_elem``: CPU milliseconds per Mixup/CutMix call on
  a 64×3×224×224 float batch, one torch thread (thread CPU time, robust to other load).

Run with ``PYTHONPATH=/tmp/timmlib python benchmarks/run.py --only transforms`` to get the timm
figures and the pimm/timm ratio (img/s: higher is better; ms: lower is better).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from common import Case

try:  # the reference, measured side by side only
    import timm.data as timm_data
except ImportError:
    timm_data = None

_CHUNK = 20
_CHUNKS = 10


def _image() -> Any:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (383, 400, 3), dtype=np.uint8))


def _img_per_s(**kwargs: Any) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        import torch

        from pimm.core.data import create_transform

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            img = _image()
            pipelines = {"pimm": create_transform(224, **kwargs)}
            if timm_data is not None:
                pipelines["timm"] = timm_data.create_transform(224, **kwargs)
            elapsed = dict.fromkeys(pipelines, 0.0)
            for chunk in range(_CHUNKS):  # interleave the libraries to share machine noise
                for name, transform in pipelines.items():
                    random.seed(chunk)
                    torch.manual_seed(chunk)
                    start = time.thread_time()
                    for _ in range(_CHUNK):
                        transform(img)
                    elapsed[name] += time.thread_time() - start
        finally:
            torch.set_num_threads(threads)
        result = {name: _CHUNK * _CHUNKS / seconds for name, seconds in elapsed.items()}
        if "timm" in result:
            result["ratio"] = result["pimm"] / result["timm"]
        return result

    return run


def _mixup_ms(**kwargs: Any) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        import numpy as np
        import torch

        from pimm.core.data import Mixup

        makers = {"pimm": Mixup}
        if timm_data is not None:
            makers["timm"] = timm_data.Mixup
        x = torch.randn(64, 3, 224, 224)
        target = torch.randint(0, 1000, (64,))
        elapsed = dict.fromkeys(makers, 0.0)
        calls = 4
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for rep in range(3):
                for name, maker in makers.items():
                    mixup = maker(num_classes=1000, **kwargs)
                    np.random.seed(rep)
                    batch = x.clone()
                    start = time.thread_time()
                    for _ in range(calls):
                        mixup(batch, target)
                    elapsed[name] += time.thread_time() - start
        finally:
            torch.set_num_threads(threads)
        result = {name: seconds * 1e3 / (3 * calls) for name, seconds in elapsed.items()}
        if "timm" in result:
            result["ratio"] = result["pimm"] / result["timm"]
        return result

    return run


CASES = [
    Case(name="transforms.train", unit="img/s", run=_img_per_s(is_training=True), repeats=3, higher_is_better=True),
    Case(
        name="transforms.train_rand_m9",
        unit="img/s",
        run=_img_per_s(is_training=True, auto_augment="rand-m9-mstd0.5"),
        repeats=3,
        higher_is_better=True,
    ),
    Case(name="transforms.eval", unit="img/s", run=_img_per_s(), repeats=3, higher_is_better=True),
    Case(
        name="transforms.mixup_batch",
        unit="ms",
        run=_mixup_ms(mixup_alpha=0.8, cutmix_alpha=1.0, mode="batch"),
        repeats=3,
    ),
    Case(
        name="transforms.mixup_elem",
        unit="ms",
        run=_mixup_ms(mixup_alpha=0.8, cutmix_alpha=1.0, mode="elem"),
        repeats=3,
    ),
]
