"""timm train.py spellings accepted by `pimm train`, each checked by its effect on the run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from app_helpers import app_options

from pimm.core.app.cli import build_parser, main
from pimm.core.app.cli_train import build_train_config
from pimm.core.app.train import components as setup
from pimm.core.app.train.clipping import adaptive_clip_grad_
from pimm.core.app.train.config import make_config
from pimm.core.app.train.timm_flags import scaled_lr
from pimm.core.errors import ConfigError


def _cfg(*argv: str):
    return build_train_config(build_parser().parse_args(["train", *argv]))


def test_timm_run_flags_reach_the_model_optimizer_and_data(app_folder: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["train", str(app_folder), "--model", "resnet10t", "--input-size", "16", "--epochs", "1", "-b", "8",
            "--workers", "0", "--threads", "1", "--output", str(tmp_path), "--experiment", "timm",
            "--gp", "max", "--drop", "0.1", "--drop-path", "0.05", "--drop-block", "0.1",
            "--model-kwargs", "zero_init_last=False", "--opt", "adamw", "--opt-eps", "1e-3",
            "--opt-betas", "0.8", "0.95", "--opt-kwargs", "amsgrad=True", "--lr-base", "0.004",
            "--lr-base-size", "32", "--clip-grad", "0.05", "--clip-mode", "agc", "--grad-checkpointing",
            "--warmup-epochs", "0"]
    assert main(argv) == 0
    run = tmp_path / "timm"
    assert json.loads((run / "config.json").read_text())["data"] == str(app_folder)  # positional DATA_DIR
    model_cfg = json.loads((run / "last" / "config.json").read_text())
    options = model_cfg.get("pimm", {}).get("options") or model_cfg.get("model_args")
    assert options["global_pool"] == "max" and options["drop_rate"] == 0.1 and options["drop_path_rate"] == 0.05
    assert options["drop_block_rate"] == 0.1 and options["zero_init_last"] is False
    state = torch.load(run / "state.pt", map_location="cpu", weights_only=False)
    optim = state["optimizer"] if "optimizer" in state else state["optim"]
    group = optim["param_groups"][0]
    assert group["eps"] == 1e-3 and tuple(group["betas"]) == (0.8, 0.95) and group["amsgrad"] is True
    # adamw scales lr-base by the square root of the batch ratio, as timm does: 0.004 * sqrt(8 / 32)
    assert group.get("initial_lr", group["lr"]) == pytest.approx(0.004 * math.sqrt(8 / 32))


def test_lr_base_scale_rules():
    base = dict(lr_base=0.1, lr_base_size=256)
    sgd = make_config({"opt": "sgd", **base})
    assert scaled_lr(sgd, 512) == pytest.approx(0.2)
    lamb = make_config({"opt": "lamb", **base})
    assert scaled_lr(lamb, 512) == pytest.approx(0.1 * math.sqrt(2))
    forced = make_config({"opt": "lamb", "lr_base_scale": "linear", **base})
    assert scaled_lr(forced, 512) == pytest.approx(0.2)
    assert scaled_lr(make_config({"opt": "lamb", "lr": 0.03}), 512) == 0.03


def test_aliases_and_amp_dtype_and_pin_mem():
    cfg = _cfg("--gp", "avgmax", "--drop", "0.2", "--drop-path", "0.1", "--amp-dtype", "bfloat16", "--pin-mem",
               "--train-interpolation", "bilinear", "--no-aug")
    assert (cfg.global_pool, cfg.drop_rate, cfg.drop_path_rate, cfg.amp) == ("avgmax", 0.2, 0.1, "bf16")
    assert cfg.pin_mem is True and cfg.train_interpolation == "bilinear" and cfg.no_aug
    assert _cfg("--no-pin-mem").pin_mem is False
    with pytest.raises(ConfigError, match="disagree"):
        _cfg("--amp", "fp16", "--amp-dtype", "bfloat16")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        _cfg("--model-kwargs", "zero_init_last")
    with pytest.raises(ConfigError, match="twice"):
        _cfg("some/folder", "--data", "other/folder")
    loader = setup.make_loader(list(range(8)), 4, 0, True, setup.DistInfo(), 0, torch.device("cpu"), pin_memory=True)
    assert loader.pin_memory is True


def test_no_aug_and_train_interpolation_change_the_train_transform(app_folder: Path):
    from PIL import Image

    cfg = make_config(app_options(app_folder, Path("unused"), no_aug=True, input_size=16))
    dc = {"input_size": (3, 16, 16), "mean": (0.5,) * 3, "std": (0.5,) * 3, "interpolation": "bicubic",
          "crop_pct": 1.0}
    image = Image.open(next((app_folder / "train" / "red").iterdir())).convert("RGB")
    tf = setup.train_transform(cfg, dc)
    assert all(torch.equal(tf(image), tf(image)) for _ in range(3))  # nothing random any more
    cfg2 = make_config(app_options(app_folder, Path("unused"), train_interpolation="nearest"))
    assert "interpolation=nearest" in repr(setup.train_transform(cfg2, dc))
    default = make_config(app_options(app_folder, Path("unused"), interpolation=None))
    assert "interpolation=nearest" not in repr(setup.train_transform(default, dc))


def test_grad_checkpointing_is_switched_on(app_folder: Path):
    cfg = make_config(app_options(app_folder, Path("unused"), grad_checkpointing=True))
    model, _ = setup.build_model(cfg, 3)
    assert model.grad_checkpointing is True


def test_agc_clips_each_unit_to_its_weight_norm():
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))  # unit norms 5 and 0 (floored to eps)
    w.grad = torch.tensor([[30.0, 40.0], [1.0, 0.0]])              # grad norms 50 and 1
    adaptive_clip_grad_([w], clip=0.1, eps=1e-3)
    assert torch.allclose(w.grad[0], torch.tensor([0.3, 0.4]))  # 0.1 * 5 = 0.5 allowed: scaled from 50 to 0.5
    assert torch.allclose(w.grad[1], torch.tensor([1e-4, 0.0]))  # 0.1 * 1e-3 allowed
    b = torch.nn.Parameter(torch.tensor([1.0, 0.0]))
    b.grad = torch.tensor([0.01, 0.0])  # below the limit: unchanged
    adaptive_clip_grad_([b], clip=0.1)
    assert torch.equal(b.grad, torch.tensor([0.01, 0.0]))


def test_help_shows_every_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices["train"].format_help()
    for needed in ("--epochs EPOCHS", "(default: 10)", "--lr-base-size", "(default: 256)", "--gp", "DATA_DIR",
                   "--weight-decay", "(default: 2e-05)"):
        assert needed in " ".join(text.split()) or needed in text, needed


def test_repeated_augmentation_sampler():
    from pimm.core.app.train.repeat_sampler import RepeatedAugSampler

    one = RepeatedAugSampler(10, 3, seed=5)
    order = list(one)
    assert len(order) == len(one) == 10
    assert order[0] == order[1] == order[2] and order[3] == order[4] == order[5] and order[0] != order[3]
    assert list(one) == order  # deterministic for an epoch
    one.set_epoch(1)
    assert list(one) != order
    shards = [list(RepeatedAugSampler(12, 3, rank=r, world=3, seed=0)) for r in range(3)]
    assert shards[0] == shards[1] == shards[2]  # the 3 copies of each image go to the 3 processes
    assert len(set(shards[0])) == 4


def test_aug_repeats_and_sync_bn_in_a_run(app_folder: Path, tmp_path: Path, capsys, monkeypatch):
    from pimm.core.app.train import repeat_sampler
    from pimm.core.app.train.launch import run_training

    used = []
    original = repeat_sampler.RepeatedAugSampler.__iter__
    monkeypatch.setattr(repeat_sampler.RepeatedAugSampler, "__iter__", lambda self: used.append(self.repeats)
                        or original(self))
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    run_training(make_config(app_options(app_folder, tmp_path, epochs=1, aug_repeats=3, sync_bn=True)))
    assert used == [3]
    assert "--sync-bn has no effect with one process" in capsys.readouterr().out


def test_sync_bn_conversion_rules():
    from pimm.core.app.train.timm_flags import sync_batchnorm

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    same, note = sync_batchnorm(model, False, torch.device("cpu"))
    assert same is model and "no effect" in note
    with pytest.raises(ConfigError, match="needs CUDA"):
        sync_batchnorm(model, True, torch.device("cpu"))
    converted, note = sync_batchnorm(model, True, torch.device("cuda", 0))  # conversion itself needs no GPU
    assert isinstance(converted[1], torch.nn.SyncBatchNorm) and "1 BatchNorm" in note
    assert converted[1].weight is model[1].weight


def test_start_epoch_starts_the_run_and_its_schedule_there(app_folder: Path, tmp_path: Path, monkeypatch):
    from pimm.core.app.train.launch import run_training

    from pimm.core.app.train import session

    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    used: list[tuple[int, float]] = []  # (epoch, lr while it trains)
    original = session.train_one_epoch

    def spy(st, loader, epoch, *args, **kwargs):
        used.append((epoch, st.optimizer.param_groups[0]["lr"]))
        return original(st, loader, epoch, *args, **kwargs)

    monkeypatch.setattr(session, "train_one_epoch", spy)
    common = dict(epochs=3, lr=0.1, sched="cosine", warmup_epochs=0, val_split=None)
    run_training(make_config(app_options(app_folder, tmp_path, experiment="full", **common)))
    full, used[:] = list(used), []
    late = run_training(make_config(app_options(app_folder, tmp_path, experiment="late", start_epoch=2, **common)))
    assert [r["epoch"] for r in late.history] == [3.0]
    assert used == [(2, pytest.approx(full[2][1]))] and full[2][1] < full[0][1]  # epoch 3's lr, not epoch 1's


def test_no_resume_opt_restores_weights_with_a_new_optimizer(app_folder: Path, tmp_path: Path, monkeypatch):
    from pimm.core.app.train.launch import run_training

    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    first = run_training(make_config(app_options(app_folder, tmp_path, epochs=1, opt="adamw", lr=1e-3,
                                                 val_split=None)))
    run = str(first.run_dir)
    with pytest.raises(ConfigError, match="written for optimizer"):
        run_training(make_config({"resume": run, "epochs": 2, "opt": "sgd"}))
    second = run_training(make_config({"resume": run, "epochs": 2, "opt": "sgd", "no_resume_opt": True}))
    assert [r["epoch"] for r in second.history] == [1.0, 2.0]
    state = torch.load(first.run_dir / "state.pt", map_location="cpu", weights_only=False)
    group = state["optimizer"]["param_groups"][0]
    assert "betas" not in group and group["momentum"] == 0.9  # sgd's state now
    with pytest.raises(ConfigError, match="--start-epoch 0 is before epoch 2"):
        run_training(make_config({"resume": run, "epochs": 3, "start_epoch": 0}))


def test_recovery_interval_writes_loadable_weights_mid_epoch(app_folder: Path, tmp_path: Path, monkeypatch):
    from pimm.core.app.train import recovery
    from pimm.core.models import create_model

    written = []
    original = recovery.RecoveryWriter.write
    monkeypatch.setattr(recovery.RecoveryWriter, "write", lambda self, e, s: written.append((e, s)) or original(self, e, s))
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    cfg = _cfg(str(app_folder), "--recovery-interval", "4", "--model", "resnet10t", "--input-size", "16",
               "--epochs", "1", "-b", "8", "--workers", "0", "--threads", "1", "--output", str(tmp_path),
               "--experiment", "rec", "--val-split", "")
    from pimm.core.app.train.launch import run_training

    result = run_training(cfg)
    assert written == [(0, 4)]  # 6 steps in the epoch: one write at step 4
    folder = result.run_dir / "recovery"
    assert json.loads((folder / "recovery.json").read_text()) == {"epoch": 1, "step_in_epoch": 4, "steps_total": 4}
    model = create_model(f"local-dir:{folder}")
    assert model.num_classes == 3 and list(model.pretrained_cfg["label_names"]) == ["blue", "green", "red"]
    assert not [p for p in result.run_dir.iterdir() if p.name.startswith(".recovery")]
