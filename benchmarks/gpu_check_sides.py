"""The two sides gpu_check.py measures: pimm (``pimm train`` runs, optimizer timing) and timm (scripts run in a
timm interpreter). Imports nothing heavy at module level, so timm's interpreter can import it too.

The timm side only calls timm's public API (``create_model``, ``create_dataset``, ``create_loader``,
``create_optimizer_v2``, ``create_scheduler_v2``, ``LabelSmoothingCrossEntropy``, ``NativeScaler``) with the
settings train.py uses under ``--amp``: fp16 autocast + GradScaler, NCHW, the prefetcher, 4 workers, SGD
lr 0.1 x batch / 256, momentum 0.9, weight decay 2e-5, cosine, label smoothing 0.1, colour jitter 0.4,
random interpolation, and on CUDA TF32 matmuls and cudnn.benchmark (train.py turns both on); one
``loss.item()`` per step, as train.py logs its loss meter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import fixed_params


def time_ms(fn: Callable[[], Any], cuda: bool, repeat: int = 1) -> float:
    """ms for ``repeat`` calls of ``fn``: CUDA events on the GPU, perf_counter on the CPU."""
    import torch

    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(repeat):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)
    begin = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - begin) * 1000.0


def time_steps(opt: Any, cuda: bool, rounds: int, per_round: int) -> dict[str, Any]:
    """Best ms per step over ``rounds`` of ``per_round`` steps after 3 warm-up steps; on CUDA also the
    peak memory one step allocates beyond what is already held (MiB)."""
    import torch

    for _ in range(3):
        opt.step()
    best = min(time_ms(opt.step, cuda, per_round) / per_round for _ in range(rounds))
    extra = None
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        opt.step()
        torch.cuda.synchronize()
        extra = (torch.cuda.max_memory_allocated() - base) / 2**20
    return {"ms": best, "step_extra_mib": extra}


_PIMM_TRAIN = r"""
import json, resource, sys
import torch
from pimm.core.app.cli import main
rc = main(json.loads(sys.argv[1])["argv"])
cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rc": rc, "peak_mib": peak}))
"""


def _scaler_saved(state_file: Path) -> bool | str:
    import torch

    try:
        state = torch.load(state_file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - reported as the check's detail
        return f"unreadable ({type(exc).__name__})"
    return isinstance(state, dict) and state.get("scaler") is not None


def pimm_train(ctx: Any, root: Path, model: str, size: int, batch: int, epochs: int, name: str,
               flags: list[str], cap: float) -> dict[str, Any]:
    """Run ``pimm train`` (its defaults plus ``flags``) in a subprocess; returns the run's speed plan, banner
    line, per-epoch train loss and img/s, peak memory (CUDA allocator, else max RSS) and whether a
    GradScaler state was saved."""
    out_dir = ctx.work / "runs"
    argv = ["train", str(root), "--model", model, "--input-size", str(size), "--batch-size", str(batch), "--epochs",
            str(epochs), "--device", str(ctx.device), "--output", str(out_dir), "--experiment", name]
    if ctx.quick:
        argv += ["--workers", "0"]
    env = dict(os.environ, PIMM_CACHE_DIR=str(ctx.work / "cache"))
    proc = subprocess.run([sys.executable, "-c", _PIMM_TRAIN, json.dumps({"argv": argv + flags})], capture_output=True,
                          text=True, env=env, timeout=max(5.0, min(cap, ctx.left())))
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"pimm train {' '.join(argv + flags)} exited {proc.returncode}: "
                           + " | ".join(text.strip().splitlines()[-8:]))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    run = out_dir / name
    rows = (run / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    values = [dict(zip(header, r.split(","))) for r in rows[1:]]
    config = json.loads((run / "config.json").read_text())
    return {"speed": config.get("speed") or {}, "amp": config.get("amp"),
            "banner": next((line for line in text.splitlines() if "speed:" in line), ""),
            "losses": [float(v["train_loss"]) for v in values], "img_s": [float(v["train_img_s"]) for v in values],
            "peak_mib": result["peak_mib"], "scaler": _scaler_saved(run / "state.pt")}


def time_pimm_optimizers(ctx: Any, args: dict[str, Any], kwargs_by_name: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """pimm's step time per optimizer on the device (the path ``kwargs_by_name`` gives)."""
    import torch

    from pimm.core.optim import create_optimizer

    out = {}
    for name, kwargs in kwargs_by_name.items():
        opt = create_optimizer(fixed_params(args["shapes"], str(ctx.device)), name, **kwargs)
        group = opt.param_groups[0]
        path = "fused" if group.get("fused") else ("foreach" if group.get("foreach") else "foreach=None")
        out[name] = {**time_steps(opt, ctx.cuda, args["rounds"], args["per_round"]), "path": path}
        del opt
        if ctx.cuda:
            torch.cuda.empty_cache()
    return out


#: timm's optimizers, each mode it has (loop, foreach, and torch's fused kernel where the class has one)
TIMM_OPTIM = r"""
import json, sys
import torch
import timm.optim as topt
from common import fixed_params as make_params
from gpu_check_sides import time_steps
a = json.loads(sys.argv[1])
dev = a["device"]
cuda = dev.startswith("cuda")
out = {}
for name, (pimm_kwargs, cls_name, timm_kwargs) in a["optim"].items():
    modes = {}
    for label, extra in (("loop", {"foreach": False}), ("foreach", {"foreach": True}), ("fused", {"fused": True}),
                         ("single", {})):
        if label == "single" and any("ms" in v for v in modes.values()):
            continue  # only for classes without a foreach argument
        try:
            if cls_name is None:
                opt = topt.create_optimizer_v2(make_params(a["shapes"], dev), name, **extra, **pimm_kwargs)
            elif label == "fused":
                continue
            else:
                opt = getattr(topt, cls_name)(make_params(a["shapes"], dev), **extra, **timm_kwargs)
            modes[label] = time_steps(opt, cuda, a["rounds"], a["per_round"])
        except (TypeError, RuntimeError, ValueError) as exc:
            modes[label] = {"error": f"{type(exc).__name__}: {str(exc)[:80]}"}
        if cuda:
            torch.cuda.empty_cache()
    timed = {k: v for k, v in modes.items() if "ms" in v}
    best = min(timed, key=lambda k: timed[k]["ms"])
    out[name] = {"ms": timed[best]["ms"], "mode": best, "step_extra_mib": timed[best]["step_extra_mib"],
                 "modes_ms": {k: round(v["ms"], 4) if "ms" in v else v["error"] for k, v in modes.items()}}
print(json.dumps(out))
"""

#: timm's training loop with train.py's --amp settings (see the module docstring)
TIMM_TRAIN = r"""
import json, resource, sys, time
import torch
import timm
from timm.data import create_dataset, create_loader, resolve_data_config
from timm.loss import LabelSmoothingCrossEntropy
from timm.optim import create_optimizer_v2
from timm.scheduler import create_scheduler_v2
from timm.utils import NativeScaler
a = json.loads(sys.argv[1])
dev = torch.device(a["device"])
cuda = dev.type == "cuda"
if cuda:
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
torch.manual_seed(42)
model = timm.create_model(a["model"], num_classes=a["num_classes"]).to(dev)
dc = resolve_data_config({"input_size": (3, a["size"], a["size"])}, model=model)
ds = create_dataset("", root=a["root"], split="train", is_training=True)
loader = create_loader(ds, input_size=dc["input_size"], batch_size=a["batch"], is_training=True, use_prefetcher=True,
                       device=dev, interpolation="random", mean=dc["mean"], std=dc["std"], num_workers=a["workers"],
                       color_jitter=0.4, pin_memory=False)
opt = create_optimizer_v2(model, opt="sgd", lr=0.1 * a["batch"] / 256, weight_decay=2e-5, momentum=0.9)
sched, _ = create_scheduler_v2(opt, sched="cosine", num_epochs=a["epochs"], warmup_epochs=0)
loss_fn = LabelSmoothingCrossEntropy(smoothing=0.1).to(dev)
scaler = NativeScaler(device=dev.type)
rates, losses, updates = [], [], 0
for epoch in range(a["epochs"]):
    model.train()
    seen, total = 0, 0.0
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for x, y in loader:
        with torch.autocast(device_type=dev.type, dtype=torch.float16):
            loss = loss_fn(model(x), y)
        scaler(loss, opt)
        total += loss.item() * x.shape[0]
        opt.zero_grad()
        seen += x.shape[0]
        updates += 1
        sched.step_update(num_updates=updates)
    if cuda:
        torch.cuda.synchronize()
    rates.append(seen / (time.perf_counter() - start))
    losses.append(total / seen)
    sched.step(epoch + 1)
peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
settings = (f"timm {timm.__version__}, fp16 autocast + NativeScaler({dev.type}), NCHW, prefetcher, {a['workers']} workers, "
            "sgd, cosine, smoothing 0.1" + (", TF32 matmul, cudnn.benchmark" if cuda else ", cpu dry run"))
print(json.dumps({"img_s": rates, "losses": losses, "peak_mib": peak, "settings": settings}))
"""

__all__ = ["time_ms", "time_steps", "pimm_train", "time_pimm_optimizers",
           "TIMM_OPTIM", "TIMM_TRAIN"]
