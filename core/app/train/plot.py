"""Learning curves as a PNG drawn with matplotlib: loss, accuracy and learning rate per epoch.

Three panels side by side. Legends sit under their panel, never over the data; the accuracy axis
spans 0-100 %; the lr panel turns logarithmic when the lr spans more than a factor of 20. Rows are
taken in epoch order with one row per epoch (the last one written wins), so a resumed run, whose
metrics file continues the first part's, is drawn as one continuous history. Rendering uses the Agg
canvas directly: no pyplot state, no display needed, safe in worker threads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["plot_curves", "curves_figure", "history_rows"]

_PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("loss", (("train_loss", "train", "tab:blue"), ("val_loss", "val", "tab:red"))),
    ("accuracy (%)", (("train_top1", "train top-1", "tab:blue"), ("val_top1", "val top-1", "tab:red"),
                      ("val_top5", "val top-5", "tab:green"))),
    ("learning rate", (("lr", "lr", "tab:purple"),)),
)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def history_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per epoch, in epoch order; a later row for the same epoch replaces an earlier one."""
    by_epoch: dict[float, dict[str, Any]] = {}
    for row in rows:
        if _finite(row.get("epoch")):
            by_epoch[float(row["epoch"])] = row
    return [by_epoch[e] for e in sorted(by_epoch)]


def curves_figure(rows: list[dict[str, Any]], title: str = "") -> Any:
    """The matplotlib ``Figure`` of the learning curves (see the module doc)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = history_rows(rows)
    fig = Figure(figsize=(13.5, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(_PANELS))
    for ax, (name, series) in zip(axes, _PANELS):
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, color="0.9")
        drawn = 0
        for key, label, colour in series:
            pts = [(r["epoch"], r[key]) for r in rows if _finite(r.get(key))]
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.6, color=colour, label=label)
            drawn += 1
        if not drawn:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")
        if name.startswith("accuracy"):
            ax.set_ylim(0, 100)
        elif name == "loss":
            ax.set_ylim(bottom=0)
        else:
            lrs = [r["lr"] for r in rows if _finite(r.get("lr")) and r["lr"] > 0]
            if lrs and max(lrs) / min(lrs) > 20:
                ax.set_yscale("log")
            if ax.get_yscale() == "linear":
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        if drawn:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(series), frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_curves(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Write ``path`` (PNG): loss, accuracy (%) and lr against the epoch; returns the path."""
    fig = curves_figure(rows, title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
