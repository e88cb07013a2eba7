"""One prepared script for a machine with an NVIDIA GPU: checks pimm's CUDA paths and takes the GPU figures.

Run (on the GPU machine, from the repository root; ~4 minutes on an H200, capped at ``--budget`` seconds)::

    python benchmarks/gpu_check.py [--device cuda] [--quick] [--out gpu_check.json] [--budget 450] [--parts a,b]

(on the lent device machine: ``--out $OUT/gpu_check.json``; ``--parts`` reruns only the named parts.)

timm is never a dependency: the timm figures use ``import timm`` when it works in this interpreter
(e.g. ``PYTHONPATH=/tmp/timm_opt`` after ``pip install --target /tmp/timm_opt --no-deps timm==1.0.31``),
else ``$PIMM_TIMM_PYTHON`` or ``/tmp/timmvenv/bin/python``; without one they say "timm not available".
On a machine without network, install timm into an ignored folder of the repository first
(``pip install --target build/timm_opt --no-deps timm==1.0.31``), take that folder along and run with
``PYTHONPATH=build/timm_opt`` (timm then uses this interpreter's torch, torchvision and huggingface_hub).

What it does, each part with its own time cap (one part failing never stops the others):

1. ``environment``: device name, capability, torch/CUDA versions, whether timm is at hand.
2. Correctness of the CUDA paths, a PASS/FAIL line per check with its numbers: tensor RandAugment on a
   uint8 device batch; Mixup/CutMix (every mode, against the same draws on the CPU) and RandomErasing on
   a device batch; each optimizer's fused/multi-tensor step against its per-tensor step; short ``pimm
   train`` runs on generated data (the planned AMP, then fp16 + GradScaler) whose banner and config.json
   must record what fast_defaults plans on the device and whose loss must be finite and fall.
3. Figures, side by side in one run: tensor RandAugment per image on the GPU vs the PIL path (target
   >= 10x); optimizer steps on resnet50's parameters, pimm's default path vs timm's best mode (gmean
   over the issue's 7 >= 1.3x; CUDA events, warm-up steps first); AMP training img/s of resnet50 at 224,
   ``pimm train`` defaults vs a stand-in loop with timm's train.py --amp settings (>= 1.0x), with the
   peak GPU memory of each side.
4. Every result goes to ``--out`` as it is taken (a timeout keeps the partial file); a table of
   targets vs figures ends the output.

``--device cpu --quick`` is the dry run: every part on the CPU with tiny sizes (the CPU equivalent
where a path is CUDA-only: perf_counter for CUDA events, the timm loop's fp16 autocast + GradScaler on
the CPU, ``--amp bf16`` for pimm's fp16 run (pimm train takes fp16 on CUDA only), the multi-tensor
optimizer path forced); its lines say "cpu dry run". Without CUDA and without
``--device cpu`` the script prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import fixed_params, jpeg_folder, timm_python  # noqa: E402

import gpu_check_sides as sides  # noqa: E402
from gpu_check_report import Report, print_table  # noqa: E402

_CLASSES = ("class0", "class1", "class2", "class3")


def _counts(per_class: int) -> tuple[int, int]:
    """(train, val) images per class: val a quarter of train, 2 to 16."""
    return per_class, max(2, min(16, per_class // 4))

#: name -> time cap in seconds (full run; --quick runs far inside these)
PARTS_CAPS = {"environment": 30, "randaugment_device": 60, "mixup_erasing_device": 40, "optimizers_paths": 60,
              "amp_train_run": 150, "figure_randaugment": 60, "figure_optimizers": 120, "figure_amp_train": 240}
#: The issue's geometric-mean set, plus the two torch.optim names with fused kernels.
GEOMEAN_SET = ("lamb", "adamp", "sgdp", "rmsproptf", "adabelief", "madgrad", "adan")
OPTIM_NAMES = GEOMEAN_SET + ("sgd", "adamw")


class Ctx:
    """What every part needs: the device, the sizes, the timm interpreter, a scratch folder, the clock."""

    def __init__(self, device: Any, quick: bool, work: Path, report: Report, deadline: float) -> None:
        import torch

        self.torch, self.device, self.quick, self.work, self.report = torch, device, quick, work, report
        self.cuda = device.type == "cuda"
        self.deadline = deadline
        self.timm_python = timm_python()

    def left(self) -> float:
        """Seconds left of the whole budget."""
        return self.deadline - time.perf_counter()

    def sync(self) -> None:
        """Wait for the device (no-op on the CPU)."""
        if self.cuda:
            self.torch.cuda.synchronize()

    def time_ms(self, fn: Callable[[], Any], repeat: int = 1) -> float:
        """ms for ``repeat`` calls of ``fn``: CUDA events on the GPU, perf_counter on the CPU (dry run)."""
        return sides.time_ms(fn, self.cuda, repeat)

    def run_py(self, python: str, code: str, args: dict[str, Any], cap: float) -> dict[str, Any]:
        """Run ``code`` in ``python`` with ``args`` as JSON; returns its last stdout line as JSON."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
        proc = subprocess.run([python, "-c", code, json.dumps(args)], capture_output=True, text=True, env=env,
                              timeout=max(5.0, min(cap, self.left())))
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
            raise RuntimeError(f"subprocess exited {proc.returncode}: " + " | ".join(tail))
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        out["_output"] = proc.stdout + proc.stderr
        return out


# -- 1. environment ---------------------------------------------------------------------------------
def part_environment(ctx: Ctx) -> None:
    torch, rep = ctx.torch, ctx.report
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                            "device": str(ctx.device)}
    if ctx.cuda:
        info.update(name=torch.cuda.get_device_name(ctx.device), capability=list(torch.cuda.get_device_capability()),
                    bf16=torch.cuda.is_bf16_supported(), cudnn=torch.backends.cudnn.version(), memory_gib=round(
                        torch.cuda.get_device_properties(ctx.device).total_memory / 2**30, 1))
    else:
        info.update(name=platform.processor() or platform.machine(), note="cpu dry run")
    if ctx.timm_python is None:
        info["timm"] = "timm not available (PYTHONPATH, $PIMM_TIMM_PYTHON or /tmp/timmvenv): timm figures skipped"
    else:
        out = ctx.run_py(ctx.timm_python, "import json, timm; print(json.dumps({'v': timm.__version__}))", {}, 60)
        info["timm"] = f"timm {out['v']} via {ctx.timm_python}"
    rep.data["device"] = info
    for key, value in info.items():
        rep.figure(key, value, "environment")


# -- 2. correctness of the CUDA paths -------------------------------------------------------------------
def _uint8_batch(ctx: Ctx, n: int, size: int) -> Any:
    torch = ctx.torch
    gen = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    base = torch.stack([xx, yy, (xx + yy) // 2]).float() * (255.0 / size)
    noise = torch.randint(0, 40, (n, 3, size, size), generator=gen).float()
    return ((base + noise) % 256).to(torch.uint8)


def _rand_augment(size: int) -> Any:
    from pimm.core.data import rand_augment_transform

    hparams = {"translate_const": int(size * 0.45), "img_mean": (124, 116, 104), "interpolation": "bilinear"}
    return rand_augment_transform("rand-m9-mstd0.5", hparams)


def part_randaugment_device(ctx: Ctx) -> None:
    torch, rep = ctx.torch, ctx.report
    n, size = (8, 32) if ctx.quick else (64, 224)
    transform = _rand_augment(size)
    cpu_batch = _uint8_batch(ctx, n, size)
    batch = cpu_batch.to(ctx.device)
    torch.manual_seed(0)
    out = transform(batch.clone())
    torch.manual_seed(0)
    again = transform(batch.clone())
    torch.manual_seed(0)
    on_cpu = transform(cpu_batch.clone())
    rep.check("output on the device", out.device == batch.device, f"{out.device} (input {batch.device})")
    rep.check("dtype and shape kept", out.dtype == torch.uint8 and out.shape == batch.shape,
              f"{out.dtype} {tuple(out.shape)}")
    changed = int((out != batch).flatten(1).any(1).sum())
    rep.check("not a no-op", changed >= n // 4, f"{changed}/{n} samples changed")
    rep.check("same seed, same result", bool(torch.equal(out, again)), f"max diff {(out.int() - again.int()).abs().max()}")
    diff = (out.cpu().float() - on_cpu.float()).abs()
    rep.check("device result matches the CPU's for the same seed", float(diff.mean()) <= 0.5,
              f"mean |diff| {float(diff.mean()):.4f} levels, {float((diff > 1).float().mean()) * 100:.3f}% pixels > 1"
              + (" (cpu dry run: both on the CPU)" if not ctx.cuda else ""))


def part_mixup_erasing_device(ctx: Ctx) -> None:
    import numpy as np
    from pimm import core
    from pimm.core.data import Mixup

    torch, rep = ctx.torch, ctx.report
    n, size, classes = (8, 32, 5) if ctx.quick else (32, 96, 10)
    base = torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(1)) + 0.5
    labels = torch.arange(n) % classes
    dry = "" if ctx.cuda else " (cpu dry run: both sides on the CPU)"
    for mode in ("batch", "pair", "elem"):
        for alphas in ((0.8, 0.0), (0.0, 1.0), (0.8, 1.0)):
            mix = Mixup(mixup_alpha=alphas[0], cutmix_alpha=alphas[1], mode=mode, label_smoothing=0.1,
                        num_classes=classes)
            np.random.seed(3)
            x, t = mix(base.clone().to(ctx.device), labels.to(ctx.device))  # Mixup works in place
            np.random.seed(3)
            x_ref, t_ref = mix(base.clone(), labels.clone())
            sums = t.sum(1)
            err = float((x.cpu() - x_ref).abs().max())
            ok = (x.device == ctx.device and t.device == ctx.device and float((sums - 1).abs().max()) < 1e-5
                  and err < 1e-5 and float((t.cpu() - t_ref).abs().max()) < 1e-6 and not torch.equal(x.cpu(), base))
            rep.check(f"mixup mode={mode} mixup/cutmix alpha={alphas}", ok,
                      f"on {x.device}/{t.device}, label sums {float(sums.min()):.6f}..{float(sums.max()):.6f}, "
                      f"max |device - cpu| {err:.2e}{dry}")
    erase = core.create("augment", "random_erasing", probability=1.0, mode="const", max_count=3, min_count=1)
    x = erase(base.to(ctx.device).clone())
    bad = []
    for i in range(n):
        zero = (x[i] == 0).all(0).cpu()
        rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
        if len(rows) == 0:
            bad.append(f"{i}: nothing erased")
            continue
        h, w = int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
        if h >= size and w >= size:
            bad.append(f"{i}: the box covers the whole image")
    rep.check("random erasing on the device", x.device == ctx.device and not bad,
              f"{n} images on {x.device}, boxes inside the image; problems: {bad or 'none'}")
    for mode in ("rand", "pixel"):
        y = erase.__class__(probability=1.0, mode=mode)(base.to(ctx.device).clone())
        rep.check(f"random erasing mode={mode} on the device", y.device == ctx.device and bool(torch.isfinite(y).all())
                  and not torch.equal(y.cpu(), base), f"{y.device}, finite, changed")


def _fast_kwargs(ctx: Ctx, name: str) -> dict[str, Any]:
    """pimm's default path on the device; on the CPU the multi-tensor path (the CUDA default) forced."""
    from bench_optim import OPTIMIZERS
    from pimm.core.optim import create_optimizer

    kwargs = dict(OPTIMIZERS[name][0])
    probe = create_optimizer([ctx.torch.nn.Parameter(ctx.torch.zeros(2, device=ctx.device))], name, **kwargs)
    if not ctx.cuda and not getattr(probe, "pimm_fused_default", False):
        kwargs["foreach"] = True
    return kwargs


def _path_of(opt: Any) -> str:
    group = opt.param_groups[0]
    return "fused" if group.get("fused") else ("foreach" if group.get("foreach") else "default (foreach=None)")


def _step_from_fixed_grads(ctx: Ctx, name: str, kwargs: dict[str, Any], shapes: list[Any], steps: int) -> tuple:
    """Parameters after ``steps`` steps of ``name`` (each step from the same fresh gradients, as a training
    loop gives it new ones; torch's foreach SGD writes into .grad), and the path the optimizer took."""
    from pimm.core.optim import create_optimizer

    torch = ctx.torch
    params = fixed_params(shapes, str(ctx.device))
    grads = [p.grad.clone() for p in params]
    opt = create_optimizer(params, name, **kwargs)
    for step in range(steps):
        for p, g in zip(params, grads):
            p.grad = g.clone()
        torch.manual_seed(step)  # same draws for optimizers with random probes
        opt.step()
    return torch.cat([p.detach().flatten() for p in params]).cpu(), _path_of(opt)


def part_optimizers_paths(ctx: Ctx) -> None:
    from bench_optim import OPTIMIZERS
    from pimm.core.errors import OptionsError

    torch, rep = ctx.torch, ctx.report
    shapes = [(16, 3, 3, 3), (16,), (16,), (32, 16, 3, 3), (32,), (10, 32), (10,)]
    if not ctx.quick:
        shapes += [(256, 128, 3, 3), (256,), (1000, 256)]
    steps = 3 if ctx.quick else 5
    start = torch.cat([p.detach().flatten() for p in fixed_params(shapes)])
    single_path = []
    for name, (base, _, _) in OPTIMIZERS.items():
        ref, _ = _step_from_fixed_grads(ctx, name, dict(base, foreach=False), shapes, steps)
        for extra in ({"foreach": True}, {}):
            try:
                got, path = _step_from_fixed_grads(ctx, name, dict(base, **extra), shapes, steps)
            except OptionsError:  # no multi-tensor path
                single_path.append(name)
                continue
            if not extra and path != "fused":
                continue  # the default is one of the paths compared already
            err = float(((got - ref).abs() / (ref.abs() + 1e-3)).max())
            moved = float((got - start).abs().max())
            rep.check(f"{name} {path} vs per-tensor", bool(torch.isfinite(got).all()) and err < 1e-4 and moved > 0,
                      f"{steps} steps on {ctx.device}: max rel diff {err:.2e} (tol 1e-4), params moved {moved:.2e}")
    rep.figure("single_path_only", single_path, "optimizers without a multi-tensor path (nothing to compare)")


def _expected_plan(ctx: Ctx) -> dict[str, Any]:
    """What fast_defaults should plan on this device, from the device's facts (not from pimm's planner); the
    run's optimizer is sgd (the default --opt), which has torch's fused kernel on CPU and CUDA."""
    torch = ctx.torch
    if ctx.cuda:
        return {"amp": "bf16" if torch.cuda.is_bf16_supported() else "fp16", "channels_last": True,
                "tf32": torch.cuda.get_device_capability(ctx.device)[0] >= 8, "cudnn_benchmark": True,
                "fused_optimizer": True}
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
        amp = "bf16" if flags & {"avx512_bf16", "amx_bf16"} else None
    except OSError:
        amp = "unknown"
    return {"amp": amp, "channels_last": True, "tf32": False, "cudnn_benchmark": False, "fused_optimizer": True}


def part_amp_train_run(ctx: Ctx) -> None:
    rep = ctx.report
    size, per_class, batch, epochs = (32, 12, 16, 2) if ctx.quick else (64, 64, 32, 3)
    root = jpeg_folder(ctx.work / f"amp-{size}", size + size // 4, _counts(per_class), _CLASSES)
    expected = _expected_plan(ctx)
    second = "fp16" if ctx.cuda else "bf16"  # fp16 + GradScaler needs CUDA in pimm train
    for label, amp_flags, want in (("planned", [], expected),
                                   (f"--amp {second}", ["--amp", second], dict(expected, amp=second))):
        out = sides.pimm_train(ctx, root, "resnet10t", size, batch, epochs, f"check-{label.strip('-').replace(' ', '')}",
                               amp_flags + ["--lr", "0.05", "--warmup-epochs", "0"], cap=60 if ctx.quick else 70)
        speed, banner = out["speed"], out["banner"]
        for key, value in want.items():
            if value != "unknown":
                rep.check(f"[{label}] config.json speed.{key}", speed.get(key) == value,
                          f"{speed.get(key)!r} (expected {value!r}: {speed.get('reasons', {}).get(key, '')})")
        words = [f"{want['amp']} autocast" if want["amp"] else "fp32", "channels_last"]
        words += ["TF32"] if want["tf32"] else []
        words += ["cudnn.benchmark"] if want["cudnn_benchmark"] else []
        words += ["fused optimizer"] if want["fused_optimizer"] else []
        rep.check(f"[{label}] banner", all(w in banner for w in words), f"{banner.strip()!r} has {words}")
        losses = out["losses"]
        rep.check(f"[{label}] loss finite and falling", all(map(math.isfinite, losses)) and losses[-1] < losses[0],
                  f"train loss per epoch {[round(v, 4) for v in losses]}")
        if want["amp"] == "fp16":
            rep.check(f"[{label}] GradScaler state saved", out["scaler"], f"state.pt has a scaler: {out['scaler']}")


# -- 3. figures ------------------------------------------------------------------------------------
def part_figure_randaugment(ctx: Ctx) -> None:
    import numpy as np
    from PIL import Image

    torch, rep = ctx.torch, ctx.report
    n, size, rounds, pil_images = (8, 32, 2, 8) if ctx.quick else (256, 224, 5, 96)
    transform = _rand_augment(size)
    batch = _uint8_batch(ctx, n, size).to(ctx.device)
    transform(batch)  # warm-up (kernels, caches)
    ctx.sync()
    times = []
    for r in range(rounds):
        torch.manual_seed(r)
        times.append(ctx.time_ms(lambda: transform(batch)) / n)
    device_ms = statistics.median(times)
    images = [Image.fromarray(a.permute(1, 2, 0).numpy()) for a in _uint8_batch(ctx, pil_images, size)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for img in images[:4]:
            transform(img)
        np.random.seed(0)
        start = time.perf_counter()
        for img in images:
            transform(img)
        pil_ms = (time.perf_counter() - start) * 1000.0 / len(images)
    finally:
        torch.set_num_threads(threads)
    clock = "CUDA events" if ctx.cuda else "perf_counter (cpu dry run)"
    rep.figure("tensor_ms_per_image", device_ms, f"rand-m9-mstd0.5 on a uint8 {n}x3x{size}x{size} batch on {ctx.device}, "
               f"one call, median of {rounds} seeded rounds, {clock}")
    rep.figure("pil_ms_per_image", pil_ms, f"the same policy on {len(images)} PIL {size}x{size} images one by one, "
               "one torch thread, perf_counter")
    rep.figure("ratio", pil_ms / device_ms, "PIL ms / tensor ms per image")
    rep.target("RandAugment tensor on the device vs PIL, per image", pil_ms / device_ms, 10.0)


def part_figure_optimizers(ctx: Ctx) -> None:
    from bench_optim import OPTIMIZERS, resnet50_shapes

    rep = ctx.report
    shapes = [(64, 3, 7, 7), (64,), (128, 64, 3, 3), (128,), (10, 128)] if ctx.quick else resnet50_shapes()
    rounds, per_round = (2, 2) if ctx.quick else (5, 10)
    args = {"device": str(ctx.device), "shapes": shapes, "rounds": rounds, "per_round": per_round,
            "optim": {name: OPTIMIZERS[name] for name in OPTIM_NAMES}}
    ours = sides.time_pimm_optimizers(ctx, args, {name: _fast_kwargs(ctx, name) for name in OPTIM_NAMES})
    theirs: dict[str, Any] = {}
    if ctx.timm_python is None:
        rep.figure("timm", "timm not available", "no timm interpreter: pimm figures only")
    else:
        theirs = ctx.run_py(ctx.timm_python, sides.TIMM_OPTIM, args, cap=100)
    ratios = {}
    how = (f"ms per step on {len(shapes)} {'resnet50' if not ctx.quick else 'tiny'} params with fixed grads, "
           f"warm-up 3 steps, best of {rounds} rounds of {per_round} steps, "
           + ("CUDA events" if ctx.cuda else "perf_counter (cpu dry run)"))
    for name in OPTIM_NAMES:
        row = dict(ours[name])
        if name in theirs:
            row.update({f"timm_{k}": v for k, v in theirs[name].items()})
            ratios[name] = theirs[name]["ms"] / ours[name]["ms"]
            row["ratio"] = ratios[name]
        rep.figure(name, row.pop("ms"), how, **row)
    if ratios:
        gm = math.exp(statistics.fmean(math.log(ratios[n]) for n in GEOMEAN_SET))
        rep.figure("gmean_issue_7", gm, f"geometric mean of timm best ms / pimm ms over {', '.join(GEOMEAN_SET)}")
        rep.figure("gmean_all_9", math.exp(statistics.fmean(map(math.log, ratios.values()))), "same, + sgd, adamw")
        rep.target("optimizer steps vs timm, gmean over the issue's 7", gm, 1.3)
        rep.target("optimizer steps vs timm, slowest of the 9", min(ratios.values()), 1.0)
    else:
        rep.target("optimizer steps vs timm, gmean over the issue's 7", None, 1.3)


def part_figure_amp_train(ctx: Ctx) -> None:
    rep = ctx.report
    model, size, batch, per_class, epochs = ("resnet10t", 32, 8, 4, 2) if ctx.quick else ("resnet50", 224, 64, 768, 3)
    root = jpeg_folder(ctx.work / f"fig-{size}", 256 if not ctx.quick else 40, _counts(per_class), _CLASSES)
    ours = sides.pimm_train(ctx, root, model, size, batch, epochs, "figure", [], cap=110)
    rep.figure("pimm_img_s", ours["img_s"][-1], f"pimm train {root.name} --model {model} --input-size {size} -b {batch} "
               f"--epochs {epochs} (defaults: {ours['banner'].strip()}); img/s of the last epoch from metrics.csv "
               f"(speed: {ours['speed']})",
               per_epoch=ours["img_s"], peak_mib=ours["peak_mib"])
    if ctx.timm_python is None:
        rep.figure("timm", "timm not available", "no timm interpreter: pimm figures only")
        rep.target("AMP train img/s vs timm train.py --amp", None, 1.0)
        return
    args = {"root": str(root), "model": model, "size": size, "batch": batch, "epochs": epochs,
            "device": str(ctx.device), "workers": 0 if ctx.quick else 4, "num_classes": 4}
    theirs = ctx.run_py(ctx.timm_python, sides.TIMM_TRAIN, args, cap=max(30.0, ctx.left() - 5))
    rep.figure("timm_img_s", theirs["img_s"][-1], "stand-in loop from timm's factories with train.py --amp settings "
               f"({theirs['settings']}); img/s of the last epoch", per_epoch=theirs["img_s"], peak_mib=theirs["peak_mib"])
    ratio = ours["img_s"][-1] / theirs["img_s"][-1]
    rep.figure("ratio", ratio, "pimm img/s / timm img/s, last epoch, same generated JPEGs")
    rep.figure("peak_memory_mib", {"pimm": ours["peak_mib"], "timm": theirs["peak_mib"]},
               "torch.cuda.max_memory_allocated of each process" if ctx.cuda else "max RSS of each process (cpu dry run)")
    rep.target(f"AMP train img/s {model}@{size} vs timm train.py --amp", ratio, 1.0)


PARTS: dict[str, Callable[[Ctx], None]] = {
    "environment": part_environment, "randaugment_device": part_randaugment_device,
    "mixup_erasing_device": part_mixup_erasing_device, "optimizers_paths": part_optimizers_paths,
    "amp_train_run": part_amp_train_run, "figure_randaugment": part_figure_randaugment,
    "figure_optimizers": part_figure_optimizers, "figure_amp_train": part_figure_amp_train}


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run every part, write the JSON and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu for the dry run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the CPU dry run)")
    parser.add_argument("--out", default="gpu_check.json", help="JSON results file (written as it goes)")
    parser.add_argument("--budget", type=float, default=450.0, help="seconds for the whole script")
    parser.add_argument("--parts", default="", help="comma-separated subset of: " + ", ".join(PARTS))
    parser.add_argument("--work", default="", help="scratch folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    import torch

    if not args.device.startswith("cpu") and not torch.cuda.is_available():
        print("no CUDA device: nothing to measure; run with --device cpu --quick for a dry run")
        return 0
    device = torch.device(args.device)
    wanted = [p.strip() for p in args.parts.split(",") if p.strip()] or list(PARTS)
    unknown = sorted(set(wanted) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    report = Report(Path(args.out).resolve(), dry=device.type != "cuda")
    report.data["args"] = vars(args)
    work = Path(args.work or tempfile.mkdtemp(prefix="pimm-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(device, args.quick, work, report, time.perf_counter() + args.budget)
    for name in wanted:
        if ctx.left() < 5:
            report.data["parts"][name] = {"status": "SKIP", "error": "out of the --budget time"}
            print(f"== {name}: SKIP (out of the --budget time)", flush=True)
            continue
        report.run_part(name, lambda n=name: PARTS[n](ctx), min(PARTS_CAPS[name], ctx.left()))
    report.data["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    report.save()
    print_table(report)
    print(f"results: {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
