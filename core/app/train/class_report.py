"""Per-class evaluation: precision, recall and F1 from a confusion matrix, as CSV files and a picture.

``confusion[t][p]`` counts the images of true class ``t`` predicted as ``p``. For class ``c``:
recall = confusion[c][c] / row c's sum (the per-class accuracy), precision = confusion[c][c] /
column c's sum, F1 = their harmonic mean; a class with no images (or never predicted) has an
undefined recall (precision), written as an empty cell and counted as 0 in F1.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

__all__ = ["class_metrics", "write_class_report", "confusion_figure"]


def class_metrics(confusion: list[list[int]], names: list[str]) -> list[dict[str, Any]]:
    """One dict per class: name, support, correct, predicted, precision, recall, f1 (fractions or None)."""
    n = len(confusion)
    rows = []
    for c in range(n):
        support = sum(confusion[c])
        predicted = sum(confusion[t][c] for t in range(n))
        correct = confusion[c][c]
        recall = correct / support if support else None
        precision = correct / predicted if predicted else None
        p, r = precision or 0.0, recall or 0.0
        f1 = 2 * p * r / (p + r) if p + r > 0 else (None if support == 0 else 0.0)
        rows.append({"name": names[c], "support": support, "correct": correct, "predicted": predicted,
                     "precision": precision, "recall": recall, "f1": f1})
    return rows


def _cell(value: Any) -> Any:
    return "" if value is None else (f"{value:.6f}" if isinstance(value, float) else value)


def confusion_figure(confusion: list[list[int]], names: list[str], title: str = "") -> Any:
    """A matplotlib ``Figure``: the row-normalised confusion matrix, counts written in the cells."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(confusion)
    side = min(16.0, max(4.5, 0.45 * n + 2.5))
    fig = Figure(figsize=(side + 1.2, side), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    shares = [[v / max(1, sum(row)) for v in row] for row in confusion]
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    ticks = list(range(n))
    ax.set_xticks(ticks, labels=names if n <= 60 else [""] * n, rotation=90 if n > 8 else 0)
    ax.set_yticks(ticks, labels=names if n <= 60 else [""] * n)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 30:
        for t in range(n):
            for p in range(n):
                if confusion[t][p]:
                    ax.text(p, t, str(confusion[t][p]), ha="center", va="center", fontsize=8,
                            color="white" if shares[t][p] > 0.5 else "black")
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(title or "confusion matrix", int(9 * side))), fontsize=10)
    return fig


def write_class_report(confusion: list[list[int]], names: list[str], out_dir: str | Path,
                       title: str = "") -> dict[str, Path]:
    """Write ``per_class.csv``, ``confusion.csv`` and ``confusion.png`` into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"per_class": out / "per_class.csv", "confusion": out / "confusion.csv",
             "picture": out / "confusion.png"}
    with open(paths["per_class"], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "support", "correct", "predicted", "precision", "recall", "f1"])
        for row in class_metrics(confusion, names):
            writer.writerow([row["name"], row["support"], row["correct"], row["predicted"],
                             _cell(row["precision"]), _cell(row["recall"]), _cell(row["f1"])])
    with open(paths["confusion"], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["true \\ predicted", *names])
        for name, row in zip(names, confusion):
            writer.writerow([name, *row])
    confusion_figure(confusion, names, title).savefig(paths["picture"], format="png")
    return paths
