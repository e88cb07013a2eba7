"""Divergence, degenerate class sets and re-initialised classifiers are said out loud."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from train_helpers import tiny_options

from pimm.core.app.cli import main
from pimm.core.app.train import session as session_module
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import TrainingError, run_training
from pimm.core.errors import ConfigError


def _base(data: Path, out: Path) -> list[str]:
    return ["train", "--data", str(data), "--output", str(out), "--experiment", "r", "--model", "resnet10t",
            "--img-size", "16", "--batch-size", "16", "--threads", "1", "--workers", "0", "--epochs", "2"]


def test_huge_lr_fails_with_exit_status_and_no_checkpoint(tiny_folder: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_base(tiny_folder, tmp_path) + ["--lr", "1e9"])
    err = capsys.readouterr().err
    assert code != 0 and "diverged" in err and "lower --lr" in err
    assert not (tmp_path / "r" / "best").exists()


def test_non_finite_validation_loss_stops_the_run(tiny_folder: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = session_module.evaluate

    def nan_eval(*args: object, **kwargs: object) -> dict:
        result = real(*args, **kwargs)
        return {**result, "loss": math.nan}

    monkeypatch.setattr(session_module, "evaluate", nan_eval)
    with pytest.raises(TrainingError, match="validation loss became nan in epoch 1"):
        run_training(make_config(tiny_options(tiny_folder, tmp_path, epochs=1)))
    assert not (tmp_path / "run").exists()


def test_non_finite_weights_never_reach_best(tiny_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = session_module.train_one_epoch

    def poison(st, *args: object, **kwargs: object) -> dict:
        result = real(st, *args, **kwargs)
        if kwargs.get("label", "").startswith("epoch 2"):
            with torch.no_grad():
                next(st.raw_model.parameters()).fill_(math.inf)
        return result

    monkeypatch.setattr(session_module, "train_one_epoch", poison)
    with pytest.raises(TrainingError, match="weights became non-finite in epoch 2"):
        run_training(make_config(tiny_options(tiny_folder, tmp_path, epochs=2)))
    from safetensors.torch import load_file

    best = load_file(str(tmp_path / "run" / "best" / "model.safetensors"))
    assert all(bool(torch.isfinite(t).all()) for t in best.values() if t.is_floating_point())


def test_one_class_is_an_error(tiny_folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "one"
    shutil.copytree(tiny_folder / "train" / "red", data / "train" / "red")
    with pytest.raises(ConfigError, match="only one class .*'red'"):
        run_training(make_config(tiny_options(data, tmp_path / "out", val_split=None)))


def test_validation_classes_differ_is_an_error(tiny_folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    shutil.copytree(tiny_folder / "train", data / "train")
    for name in ("blue", "red"):
        shutil.copytree(tiny_folder / "val" / name, data / "val" / name)
    with pytest.raises(ConfigError, match=r"classes differ .*only in 'train': green"):
        run_training(make_config(tiny_options(data, tmp_path / "out")))


def test_reinitialised_classifier_is_said_on_the_cli(tiny_folder: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from pimm.core.models import create_model

    source = create_model("resnet10t", num_classes=5)
    weights = tmp_path / "five.pth"
    torch.save(source.state_dict(), weights)
    code = main(_base(tiny_folder, tmp_path) + ["--epochs", "1", "--initial-checkpoint", str(weights)])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: " in out and "did not fit 3 classes: fc.weight, fc.bias re-initialised" in out, out
