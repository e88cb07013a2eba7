"""Dataset reading: tar index build / cached re-open, and read throughput, pimm beside timm.

Data: 2000 JPEGs (400x300, 10 classes) generated once into ``$PIMM_BENCH_DATA`` (default
/tmp/pimm-bench-data) as a folder and as one uncompressed tar.

- ``data.tar_index_build`` (ms): open the tar dataset with no index cache (pimm's
  ``cache_index=False``, timm's ``cache_tarinfo=False``).
- ``data.tar_reopen`` (ms): pimm opening the same tar with its JSON index cached (best of 5
  opens, as the builds it is compared with are best of 3: a ~1 ms figure is otherwise mostly
  scheduler noise on a busy machine); includes the speed-up over pimm's and timm's builds.
- ``data.read_{folder,tar}_w{0,2}`` (img/s): decode + eval transform (Resize(256, bicubic),
  CenterCrop(224), ToTensor, Normalize — the same torchvision transform for both) through a
  DataLoader (batch 64) with 0 or 2 workers, over all 2000 images.

Run with ``PYTHONPATH=/tmp/timmlib python benchmarks/run.py --only data`` for the timm figures.
"""

from __future__ import annotations

import os
import tarfile
import time
from collections.abc import Callable
from typing import Any

from common import Case

try:  # the reference, measured side by side only
    import timm.data as timm_data
    from timm.data.readers.reader_image_in_tar import ReaderImageInTar as TimmTarReader
except ImportError:
    timm_data = None
    TimmTarReader = None

DATA = os.environ.get("PIMM_BENCH_DATA", "/tmp/pimm-bench-data")
N_IMAGES = 2000


def ensure_data() -> tuple[str, str]:
    """(folder, tar) of the benchmark images, generated on first use."""
    folder, tar = os.path.join(DATA, "folder"), os.path.join(DATA, "data.tar")
    done = os.path.join(DATA, ".complete")
    if not os.path.exists(done):
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(0)
        for c in range(10):
            os.makedirs(os.path.join(folder, f"class_{c}"), exist_ok=True)
            for i in range(N_IMAGES // 10):
                small = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
                small.resize((400, 300), Image.BILINEAR).save(
                    os.path.join(folder, f"class_{c}", f"img_{i}.jpg"), quality=90)
        with tarfile.open(tar, "w") as tf:
            tf.add(folder, arcname=".")
        open(done, "w").close()
    return folder, tar


def _drop_index(tar: str) -> None:
    for name in os.listdir(os.path.dirname(tar)):
        if name.endswith(".pimm-index.json") or name.endswith("_tarinfos.pickle"):
            os.remove(os.path.join(os.path.dirname(tar), name))


def _ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _pimm_tar(tar: str, cache: bool) -> Any:
    from pimm.core import create

    return create("reader", "tar", root=tar, cache_index=cache)


def _warm(tar: str) -> None:
    """Outside the timed region: import the reader, build the registry, bring the tar into the
    page cache (so neither library pays for a cold disk that the other then gets warm)."""
    import importlib

    from pimm.core import get_spec

    importlib.import_module(get_spec("reader", "tar").target.partition(":")[0])
    with open(tar, "rb") as f:
        while f.read(1 << 22):
            pass


def _index_build() -> dict[str, float]:
    _, tar = ensure_data()
    _warm(tar)
    _drop_index(tar)
    figures = {"pimm": _ms(lambda: _pimm_tar(tar, False))}
    if TimmTarReader is not None:
        figures["timm"] = _ms(lambda: TimmTarReader(tar, cache_tarinfo=False))
        figures["timm/pimm"] = figures["timm"] / figures["pimm"]
    return figures


def _reopen() -> dict[str, float]:
    _, tar = ensure_data()
    _warm(tar)
    _pimm_tar(tar, True)  # make sure the index file exists, and warm the JSON path
    _pimm_tar(tar, True)
    build = min(_ms(lambda: _pimm_tar(tar, False)) for _ in range(3))
    figures = {"pimm": min(_ms(lambda: _pimm_tar(tar, True)) for _ in range(5)), "pimm_build": build}
    figures["build/reopen"] = build / figures["pimm"]
    if TimmTarReader is not None:
        timm_build = min(_ms(lambda: TimmTarReader(tar, cache_tarinfo=False)) for _ in range(3))
        figures["timm_build/reopen"] = timm_build / figures["pimm"]
    return figures


def _eval_transform() -> Any:
    from torchvision import transforms as T

    return T.Compose([
        T.Resize(256, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(224),
        T.ToTensor(),
        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])


def _img_per_s(dataset: Any, workers: int) -> float:
    import torch
    from torch.utils.data import DataLoader

    torch.set_num_threads(1)
    loader = DataLoader(dataset, batch_size=64, num_workers=workers)
    start = time.perf_counter()
    count = sum(len(targets) for _, targets in loader)
    return count / (time.perf_counter() - start)


def _throughput(source: str, workers: int) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        from pimm.core.data import ImageDataset

        folder, tar = ensure_data()
        root = folder if source == "folder" else tar
        figures = {"pimm": _img_per_s(ImageDataset(root, transform=_eval_transform()), workers)}
        if timm_data is not None:
            figures["timm"] = _img_per_s(timm_data.ImageDataset(root, transform=_eval_transform()), workers)
            figures["pimm/timm"] = figures["pimm"] / figures["timm"]
        return figures

    return run


CASES = [
    Case(name="data.tar_index_build", unit="ms", run=_index_build, repeats=5),
    Case(name="data.tar_reopen", unit="ms", run=_reopen, repeats=5),
    *[
        Case(name=f"data.read_{source}_w{w}", unit="img/s", run=_throughput(source, w), repeats=2, higher_is_better=True)
        for source in ("folder", "tar")
        for w in (0, 2)
    ],
]
