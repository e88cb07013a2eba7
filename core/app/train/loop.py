"""One training epoch and one evaluation pass.

The training step: autocast (bf16 on CPU; fp16 or bf16 on CUDA, fp16 with a GradScaler),
optional channels_last inputs, Mixup/CutMix on the batch, loss divided by the accumulation
count, ``grad_accum`` micro-batches per optimizer step (DDP gradient sync only on the last one),
gradient clipping by norm or value, the lr schedule per step, and the EMA update. Nothing else
happens per batch: no host syncs beyond the ones the progress display asks for at its interval.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .distributed import all_reduce_sums
from .metrics import topk_correct
from .progress import Progress

__all__ = ["TrainState", "train_one_epoch", "evaluate", "autocast_context"]


def autocast_context(device: torch.device, amp: str | None) -> Any:
    """The autocast context for ``amp`` ('bf16', 'fp16'; None or 'none': fp32) on ``device``."""
    if amp is None or amp == "none":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@dataclass
class TrainState:
    """What the training step needs besides the data."""

    model: nn.Module                 # what is called: DDP and/or compiled wrapper
    raw_model: nn.Module             # the plain model (EMA source, checkpoints)
    optimizer: torch.optim.Optimizer
    schedule: Any
    loss_fn: nn.Module
    device: torch.device
    amp: str | None = None
    scaler: Any = None
    ema: Any = None
    mixup: Any = None
    channels_last: bool = False
    grad_accum: int = 1
    clip_grad: float | None = None
    clip_mode: str = "norm"
    log_interval: int = 50
    show: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    recovery: Any = None  # called as recovery(epoch, step) after each optimizer step (--recovery-interval)


def _to_device(x: torch.Tensor, target: torch.Tensor, device: torch.device, channels_last: bool) -> tuple:
    non_blocking = device.type == "cuda"
    x = x.to(device, non_blocking=non_blocking)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, target.to(device, non_blocking=non_blocking)


def _optimizer_step(st: TrainState) -> None:
    params = [p for g in st.optimizer.param_groups for p in g["params"]]
    if st.scaler is not None:
        if st.clip_grad is not None:
            st.scaler.unscale_(st.optimizer)
            _clip(params, st)
        st.scaler.step(st.optimizer)
        st.scaler.update()
    else:
        if st.clip_grad is not None:
            _clip(params, st)
        st.optimizer.step()
    st.optimizer.zero_grad(set_to_none=True)


def _clip(params: list[torch.Tensor], st: TrainState) -> None:
    from .clipping import clip_gradients

    clip_gradients(params, st.clip_grad, st.clip_mode)


def train_one_epoch(st: TrainState, loader: Any, epoch: int, num_batches: int, mix: bool = True,
                    label: str = "") -> dict[str, float]:
    """Train one epoch over ``loader``; returns loss, top1 (on hard or arg-max targets), img/s, time, lr.

    ``num_batches`` is the loader's length on this process; the loss and accuracy are averaged
    over all processes.
    """
    st.model.train()
    accum = st.grad_accum
    steps_per_epoch = (num_batches + accum - 1) // accum
    label = label or f"epoch {epoch + 1}"
    every = max(1, min(st.log_interval, num_batches // 25))  # terminal: about 25 redraws per epoch at most
    bar = Progress(f"{label} train", num_batches, enabled=st.show, interval=st.log_interval, redraw=every)
    loss_sum = torch.zeros((), dtype=torch.float64, device=st.device)
    correct = torch.zeros((), dtype=torch.float64, device=st.device)
    seen = 0
    start = time.perf_counter()
    st.optimizer.zero_grad(set_to_none=True)
    step = 0
    for i, (x, target) in enumerate(loader):
        x, target = _to_device(x, target, st.device, st.channels_last)
        hard = target
        if mix and st.mixup is not None:
            x, target = st.mixup(x, target)
        last_micro = (i + 1) % accum == 0 or i + 1 == num_batches
        sync = contextlib.nullcontext()
        if not last_micro and hasattr(st.model, "no_sync"):
            sync = st.model.no_sync()
        with sync:
            with autocast_context(st.device, st.amp):
                out = st.model(x)
                loss = st.loss_fn(out, target)
            scaled = loss / accum
            if st.scaler is not None:
                st.scaler.scale(scaled).backward()
            else:
                scaled.backward()
        if last_micro:
            _optimizer_step(st)
            step += 1
            if st.schedule is not None and st.schedule.on_updates:
                st.schedule.step_update(epoch, step)
            if st.ema is not None:
                st.ema.update(st.raw_model)
            if st.recovery is not None:
                st.recovery(epoch, step)
        n = x.shape[0]
        seen += n
        with torch.no_grad():
            loss_sum += loss.detach().double() * n
            labels = hard if hard.ndim == 1 else hard.argmax(-1)
            correct += (out.detach().argmax(-1) == labels).sum().double()
        if bar.due(i + 1):
            elapsed = time.perf_counter() - start
            bar.update(i + 1, loss=float(loss_sum) / seen, acc=100.0 * float(correct) / seen,
                       img_s=seen / max(elapsed, 1e-9))
    if st.schedule is not None and not st.schedule.on_updates:
        st.schedule.set_position(epoch + 1)
    elapsed = time.perf_counter() - start
    total_loss, total_correct, total_seen, _ = all_reduce_sums([float(loss_sum), float(correct), float(seen), 0.0],
                                                               st.device)
    world_seen_rate = total_seen / max(elapsed, 1e-9)
    result = {"loss": total_loss / max(total_seen, 1), "top1": 100.0 * total_correct / max(total_seen, 1),
              "img_s": world_seen_rate, "time": elapsed, "steps": float(step or steps_per_epoch)}
    bar.close(f"{label} train: loss {result['loss']:.4f} acc {result['top1']:.1f}% "
              f"{result['img_s']:.0f} img/s {elapsed:.1f}s")
    return result


@torch.no_grad()
def evaluate(model: nn.Module, loader: Any, device: torch.device, num_batches: int, num_classes: int,
             amp: str | None = None, channels_last: bool = False, show: bool = True, label: str = "val",
             per_class: bool = False) -> dict[str, Any]:
    """Loss, top-1 and top-5 (%) of ``model`` on ``loader``, exact over all processes.

    With ``per_class`` the result also holds ``class_correct`` and ``class_total`` lists.
    """
    model.eval()
    bar = Progress(label, num_batches, enabled=show)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    hits = torch.zeros(2, dtype=torch.float64, device=device)
    class_correct = torch.zeros(num_classes, dtype=torch.float64, device=device)
    class_total = torch.zeros(num_classes, dtype=torch.float64, device=device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.float64, device=device)  # [true, predicted]
    seen = 0
    start = time.perf_counter()
    for i, (x, target) in enumerate(loader):
        x, target = _to_device(x, target, device, channels_last)
        with autocast_context(device, amp):
            out = model(x)
        out = out.float()
        if out.shape[-1] != num_classes:
            from ...errors import ConfigError

            raise ConfigError(f"the model outputs {out.shape[-1]} classes but the dataset has {num_classes}; "
                              "pass --num-classes matching the data (or data matching the model)")
        loss_sum += loss_fn(out, target).double()
        top1, top5 = topk_correct(out, target, (1, 5))
        hits += torch.tensor([top1, top5], dtype=torch.float64, device=device)
        if per_class:
            ok = (out.argmax(-1) == target).double()
            class_total.index_add_(0, target, torch.ones_like(ok))
            class_correct.index_add_(0, target, ok)
            confusion.index_add_(0, target * num_classes + out.argmax(-1), torch.ones_like(ok))
        seen += x.shape[0]
        if bar.due(i + 1):
            bar.update(i + 1, img_s=seen / max(time.perf_counter() - start, 1e-9))
    elapsed = time.perf_counter() - start
    sums = all_reduce_sums([float(loss_sum), float(hits[0]), float(hits[1]), float(seen)], device)
    count = max(sums[3], 1.0)
    result: dict[str, Any] = {"loss": sums[0] / count, "top1": 100.0 * sums[1] / count,
                              "top5": 100.0 * sums[2] / count, "count": int(sums[3]),
                              "img_s": sums[3] / max(elapsed, 1e-9), "time": elapsed}
    if per_class:
        result["class_correct"] = [int(v) for v in all_reduce_sums(class_correct.tolist(), device)]
        result["class_total"] = [int(v) for v in all_reduce_sums(class_total.tolist(), device)]
        cells = [int(v) for v in all_reduce_sums(confusion.tolist(), device)]
        result["confusion"] = [cells[r * num_classes:(r + 1) * num_classes] for r in range(num_classes)]
    bar.close(f"{label}: loss {result['loss']:.4f} top-1 {result['top1']:.2f}% top-5 {result['top5']:.2f}% "
              f"({result['count']} images, {result['img_s']:.0f} img/s)")
    return result
