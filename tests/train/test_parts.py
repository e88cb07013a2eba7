"""Schedule, EMA, metrics file, plot, progress and the demo dataset (small and fast)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
import torch

from pimm.core.app.train import demo_data
from pimm.core.app.train.ema import ModelEma
from pimm.core.app.train.metrics import MetricsFile, read_metrics, topk_correct
from pimm.core.app.train.plot import plot_curves
from pimm.core.app.train.progress import Progress, format_duration
from pimm.core.app.train.config import TrainConfig
from pimm.core.app.train.schedule import create_schedule


def _opt(lr: float = 1.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_cosine_with_warmup() -> None:
    # the run's schedule is the scheduler kind (timm's semantics: the warmup overlaps the cosine)
    opt = _opt(1.0)
    cfg = TrainConfig(sched="cosine", epochs=10, warmup_epochs=2, warmup_lr=0.0, min_lr=0.0, sched_on_updates=True)
    s = create_schedule(opt, cfg, steps_per_epoch=10)
    assert opt.param_groups[0]["lr"] == 0.0
    s.step_update(0, 10)  # 10 of 20 warmup updates
    assert math.isclose(opt.param_groups[0]["lr"], 0.5)
    s.step_update(1, 10)  # update 20 of 100: 0.5 * (1 + cos(pi / 5))
    assert math.isclose(opt.param_groups[0]["lr"], 0.9045084971874737)
    s.step_update(4, 10)  # update 50: half-way
    assert math.isclose(opt.param_groups[0]["lr"], 0.5)
    s.step_update(9, 10)
    assert opt.param_groups[0]["lr"] < 1e-12
    other = create_schedule(_opt(1.0), cfg, 10)
    other.load_state_dict(s.state_dict())
    assert other.scheduler.optimizer.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_per_epoch_and_step_schedules_keep_group_ratios() -> None:
    p1, p2 = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [p1], "lr": 1.0}, {"params": [p2], "lr": 0.25}], lr=1.0)
    cfg = TrainConfig(sched="step", epochs=10, decay_epochs=2, decay_rate=0.5)
    s = create_schedule(opt, cfg, steps_per_epoch=4)
    s.step_update(2, 3)  # per-epoch schedule (timm's default): updates leave the lr alone
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.25]
    s.set_position(3)  # 3 epochs done: one decay
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.125]


def test_ema_follows_weights() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ema = ModelEma(model, decay=0.5)
    with torch.no_grad():
        model[0].weight.add_(2.0)
    before = ema.module[0].weight.clone()
    ema.update(model)
    assert torch.allclose(ema.module[0].weight, before + 1.0)
    assert int(ema.updates) == 1 and not any(p.requires_grad for p in ema.module.parameters())
    assert ModelEma(model, 0.9999, warmup=True).current_decay() == pytest.approx(0.1)


def test_topk_and_metrics_file(tmp_path: Path) -> None:
    logits = torch.tensor([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])
    assert topk_correct(logits, torch.tensor([1, 2]), (1, 5)) == [1, 2]
    m = MetricsFile(tmp_path / "metrics.csv")
    for e in (1, 2, 3):
        m.append({"epoch": e, "train_loss": 1.0 / e, "val_top1": 50.0 + e, "lr": 0.1})
    m.truncate_after(2)
    rows = read_metrics(tmp_path / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1.0, 2.0] and rows[0]["val_loss"] is None
    out = plot_curves(rows, tmp_path / "curves.png", title="t")
    from PIL import Image

    with Image.open(out) as img:
        assert img.format == "PNG" and img.size[0] > 400


def test_progress_without_terminal_prints_a_line_every_interval() -> None:
    stream = io.StringIO()
    bar = Progress("epoch 1", 10, stream=stream, interval=4)
    for i in range(10):
        if bar.due(i + 1):
            bar.update(i + 1, loss=1.0, acc=50.0, img_s=100.0)
    bar.close("epoch 1 train: loss 1.0")
    lines = stream.getvalue().splitlines()
    assert [line.split()[2] for line in lines[:-1]] == ["4/10", "8/10", "10/10"]  # every 4th batch and the last
    assert "acc 50.0%" in lines[0] and "100 img/s" in lines[0] and "eta" in lines[0] and "\r" not in stream.getvalue()
    assert lines[-1] == "epoch 1 train: loss 1.0"
    assert format_duration(112) == "1m52s" and format_duration(9.5) == "9.5s"


def test_progress_on_terminal_draws_a_bar() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = Progress("epoch 1", 4, stream=stream)
    bar.update(4, loss=0.5, acc=75.0, img_s=123.0)
    bar.close("done")
    text = stream.getvalue()
    assert "\r" in text and "4/4" in text and "acc 75.0%" in text and "123 img/s" in text


def test_demo_images_are_deterministic() -> None:
    a = demo_data.render_demo_image("train", 2, 7)
    b = demo_data.render_demo_image("train", 2, 7)
    assert a.tobytes() == b.tobytes() and a.size == (demo_data.DEMO_IMAGE_SIZE,) * 2
    assert a.tobytes() != demo_data.render_demo_image("val", 2, 7).tobytes()


def test_demo_dataset_is_written_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_data, "DEMO_TRAIN_PER_CLASS", 2)
    monkeypatch.setattr(demo_data, "DEMO_VAL_PER_CLASS", 1)
    root = demo_data.ensure_demo_dataset(tmp_path)
    assert root == tmp_path / demo_data.DEMO_VERSION
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert len(files) == 3 * len(demo_data.DEMO_CLASSES) and "train/circle/circle_0000.png" in files
    stamp = (root / "train/circle/circle_0000.png").stat().st_mtime_ns
    demo_data.ensure_demo_dataset(tmp_path)
    assert (root / "train/circle/circle_0000.png").stat().st_mtime_ns == stamp
