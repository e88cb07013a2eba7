"""Learning curves: three panels (loss, accuracy 0-100 %, lr), legends off the data, one history per run."""

from __future__ import annotations

import math

import torch
from PIL import Image

from pimm.core.app.train.plot import curves_figure, plot_curves


def _rows(n: int = 8) -> list[dict]:
    return [dict(epoch=float(e), train_loss=2 * math.exp(-e / 3), val_loss=2.2 * math.exp(-e / 4),
                 train_top1=10.0 * e, val_top1=9.0 * e, val_top5=30 + 5.0 * e,
                 lr=0.1 * 0.5 * (1 + math.cos(math.pi * e / n)) + 1e-6) for e in range(1, n + 1)]


def test_png_has_three_drawn_panels(tmp_path):
    out = plot_curves(_rows(), tmp_path / "curves.png", title="run")
    img = Image.open(out).convert("RGB")
    assert img.size == (1350, 420)
    width = img.width // 3
    for panel in range(3):  # every panel holds coloured (non-grey) line pixels
        crop = img.crop((panel * width, 40, (panel + 1) * width, 330))
        pixels = torch.frombuffer(bytearray(crop.tobytes()), dtype=torch.uint8).view(-1, 3).int()
        coloured = int(((pixels.max(1).values - pixels.min(1).values) > 60).sum())
        assert coloured > 300, panel


def test_axes_ranges_and_legends_below_the_data():
    fig = curves_figure(_rows())
    loss, acc, lr = fig.axes
    assert acc.get_ylim() == (0.0, 100.0)
    assert loss.get_ylim()[0] == 0.0
    assert lr.get_yscale() == "log"  # the cosine goes from 0.1 to ~1e-6
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.y1 <= ax.get_window_extent(renderer).y0, "legend overlaps the plot area"
    labels = [t.get_text() for t in acc.get_legend().get_texts()]
    assert labels == ["train top-1", "val top-1", "val top-5"]


def test_resumed_history_is_one_line_in_epoch_order():
    rows = _rows(6)
    resumed = rows[:4] + [dict(rows[2], val_top1=77.0)] + rows[4:]  # epoch 3 written again after a resume
    fig = curves_figure(resumed)
    acc = fig.axes[1]
    val_line = next(line for line in acc.get_lines() if line.get_label() == "val top-1")
    xs = list(val_line.get_xdata())
    assert xs == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert list(val_line.get_ydata())[2] == 77.0  # the later row wins


def test_no_validation_and_single_epoch(tmp_path):
    rows = [dict(epoch=1.0, train_loss=1.0, train_top1=40.0, lr=0.01)]
    fig = curves_figure(rows)
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["train top-1"] and fig.axes[2].get_yscale() == "linear"
    assert plot_curves([], tmp_path / "empty.png").is_file()
