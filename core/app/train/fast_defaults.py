"""The fastest numerically safe settings for this device, picked when the user does not choose.

``pimm train`` / ``validate`` / ``predict`` ask :func:`plan_speed` what to use for mixed precision,
memory format, TF32 and the optimizer's multi-tensor path, from what the device really supports
(read off the hardware, never guessed from a name):

* bf16 autocast on CPUs with native bf16 instructions (``avx512_bf16`` or AMX, read from the CPU's
  flags) and on CUDA devices that support bf16; fp16 with a GradScaler on older CUDA devices;
  none anywhere else (bf16 emulated in software is slower than fp32);
* channels_last for models with 2-D convolutions;
* TF32 matmul/convolution on CUDA devices of compute capability 8.0 (Ampere) and newer;
* cuDNN's benchmark mode on CUDA (the fastest convolution algorithm per input shape);
* on the CPU, glibc keeps freed memory for the next step instead of page-faulting it back in
  (:mod:`.host_memory`; train and validate ask for it with ``keep_memory=None``);
* (recorded here, chosen by the optimizer factory) torch's fused optimizer step where the optimizer has one.

Every choice carries a reason, printed in the run banner and saved in the run's config; each has an
opt-out (``--amp none``, ``--no-channels-last``, ``--no-tf32``). :func:`probe_plan` runs the model
once on a tiny batch under the plan and falls back, with a one-line notice, when a model cannot
run that way (a plugin model that breaks under channels_last or bf16).
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["SpeedPlan", "cpu_bf16_support", "plan_speed", "probe_plan", "apply_plan", "AMP_CHOICES"]

#: Accepted values of ``--amp``: 'auto' lets pimm pick; 'none' is full fp32.
AMP_CHOICES = ("auto", "none", "bf16", "fp16")

_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass
class SpeedPlan:
    """What a run uses, and why (``reasons`` maps each setting to a short sentence)."""

    amp: str | None = None  # 'bf16' | 'fp16' | None
    channels_last: bool = False
    tf32: bool = False
    cudnn_benchmark: bool = False
    keep_memory: bool = False  # CPU: glibc keeps freed blocks for reuse (host_memory.py)
    fused_optimizer: bool = False
    fold_bn: int = 0  # eval only: conv + batch-norm pairs folded (bn_folding.py)
    reasons: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def banner(self) -> str:
        """One line for the run banner: ``speed: bf16 autocast, channels_last (...)``."""
        parts = [f"{self.amp} autocast" if self.amp else "fp32"]
        parts.append("channels_last" if self.channels_last else "NCHW")
        if self.tf32:
            parts.append("TF32")
        if self.cudnn_benchmark:
            parts.append("cudnn.benchmark")
        if self.keep_memory:
            parts.append("freed memory reused")
        if self.fused_optimizer:
            parts.append("fused optimizer")
        if self.fold_bn:
            parts.append(f"{self.fold_bn} batch norms folded")
        return "speed: " + ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The settings and reasons, for the run's saved config."""
        return {"amp": self.amp, "channels_last": self.channels_last, "tf32": self.tf32,
                "cudnn_benchmark": self.cudnn_benchmark, "keep_memory": self.keep_memory,
                "fused_optimizer": self.fused_optimizer, "fold_bn": self.fold_bn, "reasons": dict(self.reasons)}


def _linux_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def _mac_arm_bf16() -> bool:
    try:
        out = subprocess.run(["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True,
                             timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == "1"


def cpu_bf16_support(cpuinfo: Path | None = None) -> str | None:
    """The CPU feature that gives native bf16 arithmetic ('avx512_bf16', 'amx_bf16', 'arm FEAT_BF16'), or None."""
    system = platform.system()
    if system == "Linux" or cpuinfo is not None:
        flags = _linux_cpu_flags(cpuinfo or Path("/proc/cpuinfo"))
        for flag in _CPU_BF16_FLAGS:
            if flag in flags:
                return flag
        return None
    if system == "Darwin" and platform.machine() == "arm64" and _mac_arm_bf16():
        return "arm FEAT_BF16"
    return None


def _has_conv2d(model: Any) -> bool:
    import torch

    return any(isinstance(m, torch.nn.Conv2d) for m in model.modules())


def plan_speed(device: Any, model: Any, amp: str = "auto", channels_last: bool | None = None,
               tf32: bool | None = None, cudnn_benchmark: bool | None = None, keep_memory: bool | None = False,
               cpu_flag: str | None | bool = False) -> SpeedPlan:
    """The settings for ``model`` on ``device``; explicit choices (``amp`` not 'auto', a bool for the
    others) are kept as given. ``cpu_flag`` overrides CPU detection (tests)."""
    import torch

    plan = SpeedPlan()
    kind = getattr(device, "type", str(device))
    # -- mixed precision
    if amp == "none":
        plan.reasons["amp"] = "off (--amp none)"
    elif amp in ("bf16", "fp16"):
        plan.amp = amp
        plan.reasons["amp"] = f"{amp} (--amp {amp})"
    elif kind == "cuda":
        if torch.cuda.is_bf16_supported():
            plan.amp, plan.reasons["amp"] = "bf16", "bf16: this CUDA device supports it"
        else:
            plan.amp, plan.reasons["amp"] = "fp16", "fp16 with a GradScaler: this CUDA device has no bf16"
    elif kind == "cpu":
        flag = cpu_bf16_support() if cpu_flag is False else cpu_flag
        if flag:
            plan.amp, plan.reasons["amp"] = "bf16", f"bf16: the CPU has native bf16 ({flag})"
        else:
            plan.reasons["amp"] = "off: the CPU has no native bf16 (emulated bf16 is slower than fp32)"
    else:
        plan.reasons["amp"] = f"off: no automatic mixed precision on {kind}"
    # -- memory format
    if channels_last is not None:
        plan.channels_last = channels_last
        plan.reasons["channels_last"] = "on (--channels-last)" if channels_last else "off (--no-channels-last)"
    elif _has_conv2d(model):
        plan.channels_last, plan.reasons["channels_last"] = True, "on: the model is a convolutional network"
    else:
        plan.reasons["channels_last"] = "off: the model has no 2-D convolutions"
    # -- host memory (CPU runs): freed blocks kept for the next step; None = pimm picks, False = not asked
    if kind == "cpu" and keep_memory is None:
        plan.keep_memory = True
        plan.reasons["keep_memory"] = "on: the step runs on the CPU"
    elif keep_memory is False and kind == "cpu":
        plan.reasons["keep_memory"] = "off (--no-keep-memory)"
    elif keep_memory:
        plan.keep_memory = True
        plan.reasons["keep_memory"] = "on (asked)"
    # -- TF32 (CUDA only); the fused optimizer step is the optimizer factory's default (session.py records it)
    if kind == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        wanted = major >= 8 if tf32 is None else tf32
        plan.tf32 = bool(wanted)
        plan.reasons["tf32"] = ("on: Ampere or newer" if tf32 is None else "as asked") if plan.tf32 else "off"
        plan.cudnn_benchmark = cudnn_benchmark is not False
        plan.reasons["cudnn_benchmark"] = ("on: cuDNN times its convolution algorithms once per input shape and "
                                           "keeps the fastest (as timm's train.py); batches have one size"
                                           if plan.cudnn_benchmark else "off (--no-cudnn-benchmark)")
    return plan


def _probe_generator(device: Any) -> Any:
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(0)  # the probe must not consume the run's random stream
    return gen


def _strided_conv_on_1x1(model: Any, device: Any, input_size: tuple[int, int, int]) -> bool:
    """Whether one of the model's strided 2-D convolutions gets a 1x1 input map on a sample of ``input_size``."""
    import torch

    found: list[bool] = []

    def look(module: Any, args: tuple, _out: Any) -> None:
        if max(module.stride) > 1 and args[0].shape[-1] * args[0].shape[-2] == 1:
            found.append(True)

    hooks = [m.register_forward_hook(look) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    except Exception:  # the probe below reports a model that cannot run at all
        return False
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return bool(found)


def probe_plan(model: Any, plan: SpeedPlan, device: Any, input_size: tuple[int, int, int],
               train: bool = True) -> SpeedPlan:
    """Run ``model`` once on a 2-sample batch under ``plan``; drop what it cannot run with (channels_last
    first, then mixed precision), each with a notice. The model's weights, buffers, gradients and random streams are left as they were."""
    import torch

    from .loop import autocast_context

    def attempt(p: SpeedPlan) -> BaseException | None:
        was_training = model.training
        buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
        x = torch.zeros(2, *input_size, device=device).uniform_(-1, 1, generator=_probe_generator(device))
        try:
            if p.channels_last:
                model.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)
            model.train(train)
            cuda = [device] if getattr(device, "type", "") == "cuda" else []
            with torch.random.fork_rng(devices=cuda), torch.set_grad_enabled(train), \
                    autocast_context(device, p.amp):
                out = model(x)
                if train:
                    out.float().sum().backward()
            return None
        except Exception as exc:  # a model that cannot run this way: fall back below
            return exc
        finally:
            model.zero_grad(set_to_none=True)
            model.train(was_training)
            with torch.no_grad():  # batch-norm statistics of the probe batch are not kept
                for name, b in model.named_buffers():
                    if name in buffers:
                        b.copy_(buffers[name])
            if p.channels_last:
                model.to(memory_format=torch.contiguous_format)

    if (getattr(device, "type", str(device)) == "cpu" and plan.amp == "bf16"
            and _strided_conv_on_1x1(model, device, input_size)
            and not plan.reasons.get("amp", "").endswith("(--amp bf16)")):
        # measured with torch 2.14 (oneDNN): the bf16 backward of a 3x3 stride-2 convolution on a 1x1 input map
        # (resnet10t at 16 px) reads garbage now and then (non-reproducible gradients up to 1e23); fp32 is exact
        plan = replace(plan, amp=None, reasons=dict(plan.reasons), notices=list(plan.notices))
        plan.reasons["amp"] = ("off: at this input size a strided convolution sees a 1x1 map, where the CPU bf16 "
                               "kernels are unreliable (use a larger --input-size, or --amp bf16 to force it)")
    error = attempt(plan)
    if error is None:
        return plan
    first = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    active = [name for name in ("channels_last", "amp") if getattr(plan, name)]
    # drop one setting at a time before dropping both, so a model keeps what it can run with
    trials = [[name] for name in active] + ([active] if len(active) > 1 else [])
    for dropped in trials:
        trial = replace(plan, reasons=dict(plan.reasons), notices=list(plan.notices))
        for name in dropped:
            setattr(trial, name, None if name == "amp" else False)
        if attempt(trial) is None:
            for name in dropped:
                trial.reasons[name] = f"off: the model failed with it ({first})"
                trial.notices.append(f"notice: {name.replace('_', ' ')} turned off for this run: the model "
                                     f"failed with it ({first})")
            return trial
    raise error


def apply_plan(model: Any, plan: SpeedPlan, device: Any) -> None:
    """Put ``plan`` into effect: the model's memory format and, on CUDA, the TF32 and cudnn.benchmark switches."""
    import torch

    if plan.channels_last:
        model.to(memory_format=torch.channels_last)
    if plan.keep_memory:
        from .host_memory import keep_freed_memory

        plan.reasons["keep_memory"] = keep_freed_memory()
        plan.keep_memory = plan.reasons["keep_memory"].startswith("on")
    if getattr(device, "type", str(device)) == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = plan.tf32
        torch.backends.cudnn.allow_tf32 = plan.tf32
        torch.backends.cudnn.benchmark = plan.cudnn_benchmark
