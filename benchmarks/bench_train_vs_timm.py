"""``pimm train`` / ``pimm validate`` with their defaults against timm's train.py / validate.py with theirs.

Same generated JPEG folder, same model, batch size, epochs and recipe on both sides (SGD, lr =
0.1 x batch / 256, weight decay 2e-5, momentum 0.9, cosine, label smoothing 0.1, no warmup so a
short run learns; train.py's own recipe otherwise), same thread count, DataLoader workers 0 on
both. What differs is what each picks by default: pimm plans bf16 autocast and channels_last where
the device runs them natively (docs/train.md "What pimm picks for you"), timm's scripts run fp32
NCHW unless told otherwise.

timm's train.py and validate.py are scripts in timm's repository, not in its wheel, so the timm side
is a stand-in built from timm's own factories with the scripts' default settings: ``create_model``,
``create_dataset`` + ``create_loader`` (train.py's augmentation defaults: RandomResizedCrop
scale 0.08-1, flip 0.5, colour jitter 0.4, random interpolation; validate.py's eval transform from
``resolve_data_config``), ``create_optimizer_v2('sgd')``, ``create_scheduler_v2('cosine')``,
label-smoothing cross-entropy, fp32, NCHW, no prefetcher (the CPU path). The output says so.
timm runs in a subprocess: in this interpreter when ``import timm`` works, else with
``$PIMM_TIMM_PYTHON`` or ``/tmp/timmvenv/bin/python`` (``python3 -m venv /tmp/timmvenv &&
/tmp/timmvenv/bin/pip install timm==1.0.31``); without one, each case reports pimm alone and
"timm not available".

Validation uses the same checkpoint on both sides: the pimm run's ``best/model.safetensors``
(pimm's ResNet keys are timm's), evaluated on the same val split at the same size and crop.

Figures per case (resnet18 and resnet50d at 224, and the demo profile: resnet10t at 32 px):
train img/s of the training loop and final top-1 of each side, and validate img/s and top-1. The two
sides' top-1 differ by more than precision: each draws its own augmentation stream, and a val split
of 160 images moves 0.6 points per image. The accuracy criterion of the fast defaults is therefore
measured within pimm at full size: the same run again with ``--amp none --no-channels-last`` (fp32
NCHW, same seed and data order), reported as ``pimm_fp32_top1`` and ``top1_vs_fp32`` (target: within
1 point).
Short by default (256 train and 192 val images, 1 epoch: the first batch, where both sides build their
kernels, is 1/8 of the epoch); ``PIMM_BENCH_FULL=1`` for the full size (5 epochs, top-1 worth
comparing). Targets on a CPU with native bf16: train >= 2.5x, top-1 within 1 point; validate >= 2x.

Run: ``python benchmarks/run.py --only train_vs_timm`` or ``python benchmarks/bench_train_vs_timm.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import Case, jpeg_folder as common_jpeg_folder, timm_python as _timm_python

FULL = os.environ.get("PIMM_BENCH_FULL") == "1"
CLASSES = ("red", "green", "blue", "yellow")
PER_CLASS = (160, 40) if FULL else (64, 48)  # train, val images per class (short: 8 batches of 32)
EPOCHS = 5 if FULL else 1
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
STAND_IN = ("a stand-in loop from timm's factories with train.py / validate.py defaults (fp32, NCHW); "
            "the scripts are not in timm's wheel")

#: name -> (model, input size, batch size, source image size)
SETUPS = {
    "resnet18_224": ("resnet18", 224, 32, 256),
    "resnet50d_224": ("resnet50d", 224, 16 if not FULL else 32, 256),
    "demo_profile": ("resnet10t", 32, 32, 40),
}

_TIMM_SIDE = r"""
import json, math, random, sys, time
import torch
import timm
from timm.data import create_dataset, create_loader, resolve_data_config
from timm.optim import create_optimizer_v2
from timm.scheduler import create_scheduler_v2
from safetensors.torch import load_file

a = json.loads(sys.argv[1])
torch.set_num_threads(a["threads"])
torch.manual_seed(0)
random.seed(0)  # timm's crop and jitter parameters come from Python's random
out = {}
model = timm.create_model(a["model"], num_classes=a["num_classes"])
dc = resolve_data_config({"input_size": (3, a["size"], a["size"]), **a["data_overrides"]}, model=model)
if a["mode"] == "train":
    ds = create_dataset("", root=a["root"], split="train", is_training=True)
    loader = create_loader(ds, input_size=dc["input_size"], batch_size=a["batch"], is_training=True,
                           use_prefetcher=False, interpolation="random", mean=dc["mean"], std=dc["std"],
                           num_workers=0, crop_pct=dc["crop_pct"], color_jitter=0.4, scale=a["scale"])
    lr = 0.1 * a["batch"] / 256
    opt = create_optimizer_v2(model, opt="sgd", lr=lr, weight_decay=2e-5, momentum=0.9)
    sched, _ = create_scheduler_v2(opt, sched="cosine", num_epochs=a["epochs"], warmup_epochs=0, min_lr=0.0)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    rates = []
    for epoch in range(a["epochs"]):
        model.train()
        seen, start = 0, time.perf_counter()
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += x.shape[0]
        rates.append(seen / (time.perf_counter() - start))
        sched.step(epoch + 1)
    out["train_img_s"] = sum(rates) / len(rates)
    vds = create_dataset("", root=a["root"], split="val", is_training=False)
else:
    model.load_state_dict(load_file(a["checkpoint"]))
    vds = create_dataset("", root=a["root"], split="val", is_training=False)
vloader = create_loader(vds, input_size=dc["input_size"], batch_size=a["val_batch"], is_training=False,
                        use_prefetcher=False, interpolation=dc["interpolation"], mean=dc["mean"], std=dc["std"],
                        num_workers=0, crop_pct=dc["crop_pct"])
model.eval()
with torch.no_grad():  # validate.py warms up with one random batch before timing
    model(torch.randn(a["val_batch"], *dc["input_size"]))
correct = seen = 0
start = time.perf_counter()
with torch.no_grad():
    for x, y in vloader:
        correct += (model(x).argmax(-1) == y).sum().item()
        seen += x.shape[0]
out["val_img_s"] = seen / (time.perf_counter() - start)
out["top1"] = 100.0 * correct / seen
print(json.dumps(out))
"""


def jpeg_folder(image_size: int) -> Path:
    """The cached JPEG folder of this benchmark (train/ and val/, one class per colour of a shape on clutter)."""
    base = Path(os.environ.get("PIMM_BENCH_CACHE", tempfile.gettempdir()))
    root = base / f"pimm-bench-train-vs-timm-{image_size}px-{PER_CLASS[0]}-{PER_CLASS[1]}"
    return common_jpeg_folder(root, image_size, PER_CLASS, CLASSES)


def _pimm(argv: list[str]) -> None:
    code = "import sys; from pimm.core.app.cli import main; raise SystemExit(main(sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True)


def _final(run: Path) -> tuple[float, float]:
    rows = (run / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    values = [dict(zip(header, r.split(","))) for r in rows[1:]]
    img_s = sum(float(v["train_img_s"]) for v in values) / len(values)
    return img_s, float(values[-1]["val_top1"])


def compare(setup: str) -> dict[str, float]:
    """One side-by-side measurement of ``setup``: pimm's and timm's train and validate figures."""
    model, size, batch, image_size = SETUPS[setup]
    root = jpeg_folder(image_size)
    demo = setup == "demo_profile"
    overrides = {"crop_pct": 1.0, "interpolation": "bilinear"} if demo else {}
    scale = (0.75, 1.0) if demo else (0.08, 1.0)
    out_dir = Path(tempfile.mkdtemp(prefix="pimm-bench-train-"))
    flags = ["train", "--data", str(root), "--model", model, "--input-size", str(size), "--epochs", str(EPOCHS),
             "--batch-size", str(batch), "--workers", "0", "--threads", str(THREADS), "--opt", "sgd",
             "--lr-base", "0.1", "--weight-decay", "2e-5", "--momentum", "0.9", "--sched", "cosine",
             "--warmup-epochs", "0", "--smoothing", "0.1", "--scale", *map(str, scale),
             "--output", str(out_dir), "--experiment", "run", "--val-batch-size", str(2 * batch)]
    for key, value in overrides.items():
        flags += [f"--{key.replace('_', '-')}", str(value)]
    _pimm(flags)
    run = out_dir / "run"
    speed = json.loads((run / "config.json").read_text()).get("speed") or {}
    train_img_s, top1 = _final(run)
    fp32: dict[str, float] = {}
    if FULL:  # the accuracy criterion: the default (fast) run against pimm's own fp32 NCHW run, same seed
        plain = list(flags)
        plain[plain.index("--experiment") + 1] = "fp32"
        _pimm([*plain, "--amp", "none", "--no-channels-last"])
        fp32_img_s, fp32_top1 = _final(out_dir / "fp32")
        fp32 = {"pimm_fp32_train_img_s": fp32_img_s, "pimm_fp32_top1": fp32_top1, "top1_vs_fp32": top1 - fp32_top1}
    results_file = out_dir / "validate.json"
    _pimm(["validate", str(run), "--batch-size", str(2 * batch), "--workers", "0", "--threads", str(THREADS),
           "--results", str(results_file)])
    val = json.loads(results_file.read_text())
    figures = {"pimm_train_img_s": train_img_s, "pimm_top1": top1, "pimm_val_img_s": val["img_s"],
               "pimm_val_top1": val["top1"], **fp32}
    print(f"{setup}: pimm plan amp={speed.get('amp')} channels_last={speed.get('channels_last')}", file=sys.stderr)
    python = _timm_python()
    if python is None:
        print(f"{setup}: timm not available (see benchmarks/bench_train_vs_timm.py); pimm only", file=sys.stderr)
        return figures
    print(f"{setup}: timm side = {STAND_IN}", file=sys.stderr)
    common = {"model": model, "size": size, "num_classes": len(CLASSES), "root": str(root), "threads": THREADS,
              "val_batch": 2 * batch, "data_overrides": overrides}
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    train = json.loads(subprocess.run(
        [python, "-c", _TIMM_SIDE, json.dumps({**common, "mode": "train", "batch": batch, "epochs": EPOCHS,
                                              "scale": list(scale)})],
        capture_output=True, text=True, check=True, env=env).stdout.strip().splitlines()[-1])
    same_ckpt = json.loads(subprocess.run(
        [python, "-c", _TIMM_SIDE, json.dumps({**common, "mode": "validate",
                                              "checkpoint": str(run / "best" / "model.safetensors")})],
        capture_output=True, text=True, check=True, env=env).stdout.strip().splitlines()[-1])
    figures.update({"timm_train_img_s": train["train_img_s"], "timm_top1": train["top1"],
                    "timm_val_img_s": same_ckpt["val_img_s"], "timm_val_top1": same_ckpt["top1"],
                    "train_ratio": train_img_s / train["train_img_s"],
                    "val_ratio": val["img_s"] / same_ckpt["val_img_s"],
                    "top1_diff": top1 - train["top1"], "val_top1_diff": val["top1"] - same_ckpt["top1"]})
    return figures


CASES = [Case(f"train_vs_timm.{name}", "img/s", (lambda n=name: compare(n)), repeats=1, higher_is_better=True)
         for name in SETUPS]


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(SETUPS)
    for name in wanted:
        result = compare(name)
        print(json.dumps({"case": name, "full": FULL, "epochs": EPOCHS, "threads": THREADS,
                          **{k: round(v, 3) for k, v in result.items()}}), flush=True)
