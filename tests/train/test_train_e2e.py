"""End-to-end training runs at tiny sizes: folder and tar data, outputs, resume, plugins, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import tiny_options

from pimm.core.app.cli import main
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import TrainingError, run_training


def _train(**options: object):
    return run_training(make_config(options))


def test_folder_run_writes_everything(tiny_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _train(**tiny_options(tiny_folder, tmp_path, model_ema=True, model_ema_decay=0.5))
    run = tmp_path / "run"
    assert result.run_dir == run and result.epochs_done == 2
    for name in ("config.json", "metrics.csv", "curves.png", "state.pt", "summary.json", "classes.json",
                 "last/model.safetensors", "last/config.json", "best/model.safetensors", "last_ema/config.json"):
        assert (run / name).is_file(), name
    rows = result.history
    assert [r["epoch"] for r in rows] == [1.0, 2.0]
    assert all(r["val_top1"] is not None and r["train_img_s"] > 0 and r["lr"] is not None for r in rows)
    saved = json.loads((run / "config.json").read_text())
    assert saved["model"] == "resnet10t" and saved["input_size"] == 16
    assert json.loads((run / "classes.json").read_text()) == ["blue", "green", "red"]
    from pimm.core.models import create_model

    model = create_model(f"local-dir:{run / 'best'}")
    assert model.num_classes == 3 and tuple(model.pretrained_cfg["input_size"]) == (3, 16, 16)
    out = capsys.readouterr().out
    assert "epoch 1/2 train:" in out and "\r" not in out  # not a terminal: one line per epoch phase


def test_tar_run_with_mixup_and_accumulation(tiny_tar: Path, tmp_path: Path) -> None:
    result = _train(**tiny_options(tiny_tar, tmp_path, epochs=1, mixup=0.4, cutmix=1.0, grad_accum=2,
                                   clip_grad=1.0, sched="step", workers=1))
    assert result.epochs_done == 1 and result.history[0]["val_top1"] is not None


def test_bf16_autocast_and_channels_last(tiny_folder: Path, tmp_path: Path) -> None:
    # 64 px, not the usual 16: torch's CPU bf16 backward of a stride-2 conv on a 1x1 map (layer4 at 16 px)
    # gives non-reproducible, huge gradients, which the run now rightly stops on (see fast_defaults.py)
    result = _train(**tiny_options(tiny_folder, tmp_path, epochs=1, amp="bf16", channels_last=True, lr=0.01,
                                   input_size=64))
    assert result.epochs_done == 1 and result.history[0]["train_loss"] < 5


def test_resume_continues_exactly(tiny_folder: Path, tmp_path: Path) -> None:
    opts = dict(epochs=3, model_ema=True, model_ema_decay=0.9, mixup=0.2, warmup_epochs=1, drop_rate=0.1)
    whole = _train(**tiny_options(tiny_folder, tmp_path / "a", **opts))
    part = run_training(make_config(tiny_options(tiny_folder, tmp_path / "b", **opts)), max_epochs=1)
    assert part.epochs_done == 1
    resumed = _train(resume=str(tmp_path / "b" / "run"))
    assert resumed.epochs_done == 3
    for sub in ("last", "last_ema"):
        a = load_file(str(tmp_path / "a" / "run" / sub / "model.safetensors"))
        b = load_file(str(tmp_path / "b" / "run" / sub / "model.safetensors"))
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), sub
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("train_img_s", "epoch_time_s", "elapsed_s")}
                          for r in rows]
    assert strip(whole.history) == strip(resumed.history)


def test_example_plugin_model_and_optimizer_train(tiny_folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("pimm_example_plugin")
    result = _train(**tiny_options(tiny_folder, tmp_path, model="tinynet_8", opt="signsgd", lr=0.01, epochs=1,
                                   global_pool="avg"))
    assert result.epochs_done == 1
    cfg = json.loads((tmp_path / "run" / "best" / "config.json").read_text())
    assert cfg["architecture"] == "tinynet_8"


def test_out_of_memory_is_one_line_advice(tiny_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pimm.core.app.train import session

    def boom(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(session, "train_one_epoch", boom)
    with pytest.raises(TrainingError, match=r"out of memory .* --batch-size 4 --grad-accum 2") as info:
        _train(**tiny_options(tiny_folder, tmp_path))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("argv, expected", [
    (["--data", "/no/such/folder"], "dataset '/no/such/folder' not found"),
    (["--model", "resnet1O"], "resnet1O"),
    (["--global-pool", "nosuchpool"], "nosuchpool"),
    (["--num-classes", "2"], "--num-classes 2 is less than the 3 classes"),
    (["--opt", "adamw", "--momentum", "0.5", "--config", "CFG"], "foo"),
])
def test_bad_input_is_one_line_error(argv: list[str], expected: str, tiny_folder: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "opt.json"
    cfg.write_text(json.dumps({"opt_kwargs": {"foo": 1}}))
    argv = [str(cfg) if a == "CFG" else a for a in argv]
    base = ["train", "--data", str(tiny_folder), "--output", str(tmp_path), "--img-size", "16", "--epochs", "1",
            "--threads", "1", "--workers", "0"]
    code = main(base + argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("pimm: error:") and "\n" not in err and expected in err, err


def test_no_arguments_trains_on_the_demo_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from pimm.core.app.train import demo_data

    monkeypatch.setattr(demo_data, "DEMO_TRAIN_PER_CLASS", 4)
    monkeypatch.setattr(demo_data, "DEMO_VAL_PER_CLASS", 2)
    monkeypatch.chdir(tmp_path)
    # the demo profile with only the length cut down: `pimm train` alone runs the full demo
    assert main(["train", "--epochs", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "generating the demo dataset" in out and "on demo" in out and "% top-1" in out
    assert (tmp_path / "cache" / demo_data.DEMO_VERSION / "train" / "star").is_dir()
    (run,) = list((tmp_path / "runs").iterdir())
    saved = json.loads((run / "config.json").read_text())
    assert saved["model"] == "resnet10t" and saved["input_size"] == 32 and saved["data"] is None
