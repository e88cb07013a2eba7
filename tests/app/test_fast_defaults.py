"""Fast defaults: what plan_speed picks per device, and the probe's fallback for models that cannot run that way."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pimm.core.app.train.fast_defaults import apply_plan, cpu_bf16_support, plan_speed, probe_plan


class _Conv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x))).mean((2, 3))


class _Mlp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(12, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)[:, :12])


class _RefusesChannelsLast(_Conv):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            raise RuntimeError("this model needs NCHW input")
        return super().forward(x)


class _RefusesBf16(_Conv):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if out.dtype == torch.bfloat16:
            raise TypeError("bf16 is not supported by this layer")
        return out


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    assert cpu_bf16_support(info) == "avx512_bf16"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert cpu_bf16_support(info) is None
    assert cpu_bf16_support(tmp_path / "missing") is None


def test_cpu_plan_follows_the_hardware():
    cpu = torch.device("cpu")
    with_bf16 = plan_speed(cpu, _Conv(), cpu_flag="avx512_bf16")
    assert (with_bf16.amp, with_bf16.channels_last, with_bf16.tf32) == ("bf16", True, False)
    assert "avx512_bf16" in with_bf16.reasons["amp"]
    without = plan_speed(cpu, _Conv(), cpu_flag=None)
    assert without.amp is None and "no native bf16" in without.reasons["amp"]
    assert plan_speed(cpu, _Mlp(), cpu_flag="amx_bf16").channels_last is False


@pytest.mark.parametrize("capability, bf16, amp, tf32", [((9, 0), True, "bf16", True), ((7, 0), False, "fp16", False)])
def test_cuda_plan_follows_the_device(monkeypatch, capability, bf16, amp, tf32):
    """What a CUDA device gets, from its answers (faked here: CI has no GPU), and the switches apply_plan sets."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *_: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_: bf16)
    cuda = torch.device("cuda")
    plan = plan_speed(cuda, _Conv())
    assert (plan.amp, plan.channels_last, plan.tf32, plan.cudnn_benchmark) == (amp, True, tf32, True)
    assert "once per input shape" in plan.reasons["cudnn_benchmark"]
    assert "cudnn.benchmark" in plan.banner() and plan.as_dict()["cudnn_benchmark"] is True
    switches = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    try:
        apply_plan(_Mlp(), plan, cuda)
        assert (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
                torch.backends.cuda.matmul.allow_tf32) == (True, tf32, tf32)
    finally:
        (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
         torch.backends.cuda.matmul.allow_tf32) = switches
    assert plan_speed(torch.device("cpu"), _Conv(), cpu_flag=None).cudnn_benchmark is False
    off = plan_speed(cuda, _Conv(), cudnn_benchmark=False)
    assert off.cudnn_benchmark is False and off.reasons["cudnn_benchmark"] == "off (--no-cudnn-benchmark)"


def test_explicit_choices_win():
    cpu = torch.device("cpu")
    plan = plan_speed(cpu, _Conv(), amp="none", channels_last=False, cpu_flag="avx512_bf16")
    assert plan.amp is None and plan.channels_last is False
    assert plan.banner() == "speed: fp32, NCHW"
    assert plan_speed(cpu, _Mlp(), amp="bf16", cpu_flag=None).amp == "bf16"
    assert plan_speed(cpu, _Mlp(), channels_last=True).channels_last is True


@pytest.mark.parametrize("model_cls, dropped", [(_RefusesChannelsLast, "channels_last"), (_RefusesBf16, "amp")])
def test_probe_falls_back_with_a_notice(model_cls, dropped):
    model = model_cls()
    plan = plan_speed(torch.device("cpu"), model, cpu_flag="avx512_bf16")
    plan = probe_plan(model, plan, torch.device("cpu"), (3, 8, 8))
    assert getattr(plan, dropped) in (None, False)
    kept = "amp" if dropped == "channels_last" else "channels_last"
    assert getattr(plan, kept) not in (None, False)
    assert len(plan.notices) == 1 and dropped.replace("_", " ") in plan.notices[0]
    assert "failed with it" in plan.reasons[dropped]


def test_probe_leaves_model_and_random_stream_untouched():
    model = _Conv()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    plan = probe_plan(model, plan_speed(torch.device("cpu"), model, cpu_flag="avx512_bf16"), torch.device("cpu"),
                      (3, 8, 8))
    assert torch.equal(torch.rand(4), expected)
    assert plan.notices == []
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())
    assert model.conv.weight.is_contiguous()
