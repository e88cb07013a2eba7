"""Fast defaults wired into the commands: what the banner and config.json record, each opt-out, resume, fallback,
the 1x1-map rule for CPU bf16, and persistent loader workers that keep each epoch's random streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from app_helpers import app_options

from pimm.core.app.cli import main
from pimm.core.app.cli_train import build_train_config
from pimm.core.app.train import components, fast_defaults
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training


def _saved(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


def _run(folder: Path, out: Path, **extra: object):
    return run_training(make_config(app_options(folder, out, input_size=32, epochs=1, **extra)))


@pytest.fixture
def bf16_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan as on a CPU with native bf16, whatever this machine has."""
    monkeypatch.setattr(fast_defaults, "cpu_bf16_support", lambda: "avx512_bf16")


def test_defaults_are_planned_printed_and_saved(app_folder, tmp_path, bf16_cpu, capsys):
    result = _run(app_folder, tmp_path)
    out = capsys.readouterr().out
    assert "speed: bf16 autocast, channels_last, freed memory reused, fused optimizer; workers 0" in out
    saved = _saved(result.run_dir)
    assert saved["speed"]["fused_optimizer"] is True  # sgd: torch's fused kernel, on the CPU too
    assert saved["speed"]["keep_memory"] is True and "no trimming" in saved["speed"]["reasons"]["keep_memory"]
    assert (saved["amp"], saved["channels_last"]) == ("bf16", True)
    assert "avx512_bf16" in saved["speed"]["reasons"]["amp"]
    assert "convolutional" in saved["speed"]["reasons"]["channels_last"]
    assert saved["speed"]["workers"] == 0 and saved["speed"]["persistent_workers"] is False


def test_each_opt_out_is_kept(app_folder, tmp_path, bf16_cpu, capsys):
    flags = ["train", "--no-amp", "--no-channels-last", "--no-tf32", "--no-cudnn-benchmark", "--no-keep-memory"]
    cfg = build_train_config(_parse(flags))
    assert (cfg.amp, cfg.channels_last, cfg.tf32, cfg.cudnn_benchmark, cfg.keep_memory) == ("none", False, False,
                                                                                           False, False)
    assert build_train_config(_parse(["train", "--amp", "none"])).amp == "none"
    assert build_train_config(_parse(["train"])).amp == "auto"
    result = _run(app_folder, tmp_path / "a", amp="none")
    saved = _saved(result.run_dir)
    assert (saved["amp"], saved["channels_last"]) == ("none", True)
    assert saved["speed"]["reasons"]["amp"] == "off (--amp none)"
    result = _run(app_folder, tmp_path / "b", channels_last=False)
    saved = _saved(result.run_dir)
    assert (saved["amp"], saved["channels_last"]) == ("bf16", False)
    assert "speed: bf16 autocast, NCHW" in capsys.readouterr().out


def _parse(argv: list[str]):
    import argparse

    from pimm.core.app import cli_train

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli_train._add_train(sub)
    return parser.parse_args(argv)


def test_resume_keeps_the_runs_settings(app_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fast_defaults, "cpu_bf16_support", lambda: "avx512_bf16")
    run = _run(app_folder, tmp_path).run_dir
    monkeypatch.setattr(fast_defaults, "cpu_bf16_support", lambda: None)  # the resume runs on another CPU
    capsys.readouterr()
    run_training(make_config({"resume": str(run), "epochs": 2}))
    assert "speed: bf16 autocast, channels_last" in capsys.readouterr().out
    assert _saved(run)["amp"] == "bf16"


def test_a_model_that_breaks_under_channels_last_falls_back_with_a_notice(app_folder, tmp_path, bf16_cpu,
                                                                         monkeypatch, capsys):
    real = components.build_model

    def build(cfg, num_classes):
        model, notes = real(cfg, num_classes)
        forward = model.forward

        def refuse(x):
            if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
                raise RuntimeError("this model needs NCHW input")
            return forward(x)

        model.forward = refuse
        return model, notes

    monkeypatch.setattr(components, "build_model", build)
    result = _run(app_folder, tmp_path)
    out = capsys.readouterr().out
    assert "notice: channels last turned off for this run" in out and "needs NCHW" in out
    saved = _saved(result.run_dir)
    assert (saved["amp"], saved["channels_last"]) == ("bf16", False)
    assert result.epochs_done == 1


def test_cpu_bf16_stays_off_where_a_convolution_output_is_1x1():
    from pimm import core

    model = core.create_model("resnet10t", num_classes=3)
    cpu = torch.device("cpu")
    auto = fast_defaults.plan_speed(cpu, model, cpu_flag="avx512_bf16")
    tiny = fast_defaults.probe_plan(model, auto, cpu, (3, 16, 16))
    assert tiny.amp is None and "1x1 map" in tiny.reasons["amp"]
    assert fast_defaults.probe_plan(model, auto, cpu, (3, 32, 32)).amp == "bf16"
    forced = fast_defaults.plan_speed(cpu, model, amp="bf16")
    assert fast_defaults.probe_plan(model, forced, cpu, (3, 16, 16)).amp == "bf16"  # asked for: kept


def test_validate_and_predict_plan_too(app_folder, tmp_path, bf16_cpu, capsys):
    from pimm.core.app.train.validate import ValidateConfig, run_validation

    run = _run(app_folder, tmp_path, amp="none", channels_last=False).run_dir
    fast = run_validation(ValidateConfig(source=str(run)))
    assert (fast["speed"]["amp"], fast["speed"]["channels_last"]) == ("bf16", True)
    assert "speed: bf16 autocast, channels_last" in capsys.readouterr().out
    plain = run_validation(ValidateConfig(source=str(run), amp="none", channels_last=False))
    assert (plain["speed"]["amp"], plain["speed"]["channels_last"]) == (None, False)
    assert abs(fast["top1"] - plain["top1"]) <= 100 / 18 + 1e-9  # at most one of the 18 images differs
    images = sorted((app_folder / "val").rglob("*.png"))[:4]
    seen: dict[str, object] = {}
    import pimm.core.app.predict as predict_module

    real = predict_module.predict

    def spy(*args, **kwargs):
        seen.update(amp=kwargs.get("amp"), channels_last=kwargs.get("channels_last"))
        return real(*args, **kwargs)

    predict_module.predict = spy
    try:
        assert main(["predict", str(run), *map(str, images)]) == 0
        assert seen == {"amp": "auto", "channels_last": None}
        assert main(["predict", str(run), *map(str, images), "--no-amp", "--no-channels-last"]) == 0
        assert seen == {"amp": "none", "channels_last": False}
    finally:
        predict_module.predict = real


class _RandomItems(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int):
        return torch.tensor([float(index)]), torch.rand(1)  # a worker-side random draw, like an augmentation


def test_persistent_workers_keep_each_epochs_random_streams():
    from pimm.core.app.train.distributed import dist_info

    def batches(persistent: bool) -> list[list[torch.Tensor]]:
        loader = components.make_loader(_RandomItems(), 4, 2, True, dist_info(), 7, torch.device("cpu"),
                                        persistent=persistent)
        assert loader.persistent is persistent
        epochs = [[torch.cat(b, 1) for b in loader.for_epoch(e)] for e in range(2)]
        if persistent:
            assert loader.for_epoch(2) is loader.for_epoch(3)  # one DataLoader, its workers kept
        return epochs

    fresh, kept = batches(False), batches(True)
    assert all(torch.equal(a, b) for ea, eb in zip(fresh, kept) for a, b in zip(ea, eb))
    assert not torch.equal(torch.cat(kept[0])[:, 1].sort().values, torch.cat(kept[1])[:, 1].sort().values)


def test_the_plan_records_the_optimizer_step_the_factory_chose():
    """The factory picks torch's fused kernel where the optimizer has one (CPU too); the plan, banner and
    config.json say what the optimizer really got."""
    from types import SimpleNamespace

    from pimm import core
    from pimm.core.app.train.session import Session
    from pimm.core.optim import create_optimizer

    model = core.create_model("resnet10t", num_classes=3)

    def make(opt: str, **opt_kwargs):
        plan = fast_defaults.SpeedPlan()
        cfg = SimpleNamespace(opt=opt, weight_decay=2e-5, momentum=0.9, layer_decay=None, opt_kwargs=opt_kwargs)
        fake = SimpleNamespace(cfg=cfg, plan=plan, lr=0.1, device=torch.device("cpu"))
        return Session._create_optimizer(fake, model, create_optimizer), plan

    sgd, plan = make("sgd")
    assert sgd.defaults["fused"] is True and plan.fused_optimizer
    assert plan.reasons["fused_optimizer"].startswith("on: torch's fused kernel")
    assert "fused optimizer" in plan.banner()
    wrapped, plan = make("lookahead_adamw")
    assert plan.fused_optimizer and wrapped.base_optimizer.defaults["fused"] is True
    lamb, plan = make("lamb")
    assert "fused" not in lamb.defaults and not plan.fused_optimizer
    assert plan.reasons["fused_optimizer"] == "off: lamb has no fused kernel"
    assert "fused" not in plan.banner()
    asked, plan = make("sgd", foreach=False)
    assert not asked.defaults.get("fused") and not plan.fused_optimizer
    assert plan.reasons["fused_optimizer"] == "as --opt-kwargs say"
