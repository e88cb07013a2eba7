"""Training figures: the pimm train loop's throughput against a minimal hand-written loop, and the demo.

* ``train.resnet18_224_img_s``: img/s of :func:`pimm.core.app.train.loop.train_one_epoch` (the loop
  ``pimm train`` runs, with its schedule, metrics and progress bookkeeping) against the shortest
  correct PyTorch loop (forward, loss, backward, step), on the same in-memory batches, the same
  resnet18 and the same SGD, interleaved so load changes hit both alike. Target: ratio >= 0.95.
* ``train.demo_time_to_90``: ``pimm train`` with no arguments in a fresh process and an empty
  cache (so the demo set is generated): wall seconds until the first epoch with >= 90 % val top-1
  and for the whole run.

Importing this module imports no torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Case

BATCH = 8
BATCHES = 4
SIZE = 224


def _setup():  # noqa: ANN202
    import torch

    from pimm.core import create_model

    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=10)
    data = [(torch.randn(BATCH, 3, SIZE, SIZE), torch.randint(0, 10, (BATCH,))) for _ in range(BATCHES)]
    return model, data


def _plain_loop(model, data) -> float:  # noqa: ANN001
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    model.train()
    start = time.perf_counter()
    for x, y in data:
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return len(data) * BATCH / (time.perf_counter() - start)


def _pimm_loop(model, data) -> float:  # noqa: ANN001
    import torch

    from pimm.core.optim import create_optimizer
    from pimm.core.app.train.loop import TrainState, train_one_epoch
    from pimm.core.app.train.schedule import LRSchedule

    opt = create_optimizer(model, opt="momentum", lr=0.01, weight_decay=0.0, momentum=0.9)
    state = TrainState(model=model, raw_model=model, optimizer=opt,
                       schedule=LRSchedule(opt, "cosine", 1, len(data)), loss_fn=torch.nn.CrossEntropyLoss(
                           label_smoothing=0.1), device=torch.device("cpu"), show=False)
    result = train_one_epoch(state, data, 0, len(data))
    return float(result["img_s"])


def resnet18_train_throughput() -> dict[str, float]:
    """img/s of the pimm loop and the plain loop (resnet18, 224 px, batch 8, fp32, CPU)."""
    model, data = _setup()
    _plain_loop(model, data[:1])  # warm-up (allocator, kernels)
    pimm, plain = [], []
    for _ in range(2):
        plain.append(_plain_loop(model, data))
        pimm.append(_pimm_loop(model, data))
    p, q = max(pimm), max(plain)
    return {"pimm": p, "plain": q, "ratio": p / q}


def demo_time_to_90() -> dict[str, float]:
    """Seconds of ``pimm train`` (no arguments, empty cache) to >= 90 % top-1 and in total."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PIMM_CACHE_DIR=str(Path(tmp) / "cache"))
        start = time.perf_counter()
        code = "import sys; from pimm.core.cli import main; sys.exit(main(sys.argv[1:]))"
        subprocess.run([sys.executable, "-c", code, "train", "--output", str(Path(tmp) / "runs")],
                       env=env, check=True, capture_output=True, text=True)
        total = time.perf_counter() - start
        (summary,) = list((Path(tmp) / "runs").glob("*/summary.json"))
        data = json.loads(summary.read_text())
        rows = (summary.parent / "metrics.csv").read_text().strip().splitlines()
        best = max(float(r.split(",")[4]) for r in rows[1:])
    reached = data.get("time_to_target")
    return {"to_90_s": float(reached) if reached is not None else float("nan"), "total_s": total,
            "best_top1": best}


CASES = [
    Case(name="train.resnet18_224_img_s", unit="img/s", run=resnet18_train_throughput, repeats=3,
         higher_is_better=True),
    Case(name="train.demo_time_to_90", unit="s", run=demo_time_to_90, repeats=1),
]
