"""Learning curves as a PNG drawn with PIL alone: loss and accuracy per epoch, side by side."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["plot_curves"]

_PANEL_W, _PANEL_H = 420, 300
_MARGIN_L, _MARGIN_R, _MARGIN_T, _MARGIN_B = 52, 14, 28, 36
_COLOURS = {"train_loss": (31, 119, 180), "val_loss": (214, 39, 40), "train_top1": (31, 119, 180),
            "val_top1": (214, 39, 40), "val_top5": (44, 160, 44)}


def _nice_range(values: list[float], floor_zero: bool) -> tuple[float, float]:
    low, high = min(values), max(values)
    if floor_zero:
        low = min(0.0, low)
    if high - low < 1e-9:
        high = low + 1.0
    pad = (high - low) * 0.05
    return (low if floor_zero else low - pad), high + pad


def _panel(draw: Any, font: Any, x0: int, title: str, rows: list[dict[str, Any]], keys: list[str],
           floor_zero: bool) -> None:
    left, top = x0 + _MARGIN_L, _MARGIN_T
    right, bottom = x0 + _PANEL_W - _MARGIN_R, _PANEL_H - _MARGIN_B
    draw.rectangle([left, top, right, bottom], outline=(0, 0, 0))
    draw.text((left, 8), title, fill=(0, 0, 0), font=font)
    series = {k: [(r["epoch"], r[k]) for r in rows if r.get(k) is not None and math.isfinite(r[k])] for k in keys}
    values = [v for pts in series.values() for _, v in pts]
    epochs = [r["epoch"] for r in rows]
    if not values or not epochs:
        draw.text((left + 10, top + 10), "no data yet", fill=(90, 90, 90), font=font)
        return
    ylo, yhi = _nice_range(values, floor_zero)
    xlo, xhi = min(epochs), max(epochs)
    if xhi == xlo:
        xlo, xhi = xlo - 0.5, xhi + 0.5

    def to_xy(e: float, v: float) -> tuple[float, float]:
        return (left + (e - xlo) / (xhi - xlo) * (right - left), bottom - (v - ylo) / (yhi - ylo) * (bottom - top))

    for i in range(5):  # y grid and labels
        v = ylo + (yhi - ylo) * i / 4
        _, y = to_xy(xlo, v)
        draw.line([left, y, right, y], fill=(225, 225, 225))
        draw.text((x0 + 4, y - 6), f"{v:.3g}", fill=(0, 0, 0), font=font)
    step = max(1, int(math.ceil((xhi - xlo) / 8)))
    e = int(math.ceil(xlo))
    while e <= xhi:  # x ticks
        x, _ = to_xy(e, ylo)
        draw.line([x, bottom, x, bottom + 4], fill=(0, 0, 0))
        draw.text((x - 4, bottom + 6), str(e), fill=(0, 0, 0), font=font)
        e += step
    draw.text(((left + right) // 2 - 14, bottom + 20), "epoch", fill=(0, 0, 0), font=font)
    legend_y = top + 6
    for key, pts in series.items():
        colour = _COLOURS.get(key, (0, 0, 0))
        xy = [to_xy(e, v) for e, v in pts]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for x, y in xy:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        if pts:
            draw.line([right - 96, legend_y + 6, right - 80, legend_y + 6], fill=colour, width=2)
            draw.text((right - 76, legend_y), key, fill=(0, 0, 0), font=font)
            legend_y += 14


def plot_curves(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Write ``path`` (PNG): losses on the left, accuracies (%) on the right, epochs on x."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (2 * _PANEL_W, _PANEL_H + (18 if title else 0)), (255, 255, 255))
    canvas = Image.new("RGB", (2 * _PANEL_W, _PANEL_H), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    _panel(draw, font, 0, "loss", rows, ["train_loss", "val_loss"], floor_zero=True)
    _panel(draw, font, _PANEL_W, "accuracy (%)", rows, ["train_top1", "val_top1", "val_top5"], floor_zero=False)
    if title:
        ImageDraw.Draw(img).text((8, 3), title, fill=(0, 0, 0), font=font)
        img.paste(canvas, (0, 18))
    else:
        img = canvas
    out = Path(path)
    img.save(out)
    return out
