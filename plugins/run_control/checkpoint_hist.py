"""Top-k checkpoint keeping: the ``k`` best epochs' model directories under ``RUN/checkpoints``."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

__all__ = ["keep_checkpoint"]

INDEX = "index.json"


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy the files of ``src`` into ``dst`` (real copies: a hard link would follow in-place rewrites)."""
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if item.is_dir():
            _copy_tree(item, dst / item.name)
        else:
            shutil.copy2(item.resolve(), dst / item.name)


def keep_checkpoint(folder: Path, model_dir: Path, epoch: int, value: float | None, keep: int,
                    lower_is_better: bool = False) -> list[dict]:
    """Add epoch ``epoch`` (metric ``value``) and drop all but the ``keep`` best; return the kept entries.

    Without a metric (no validation split) the latest epochs are kept. The list with each kept
    epoch's metric is in ``folder/index.json``, best first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    index_file = folder / INDEX
    entries: list[dict] = json.loads(index_file.read_text()) if index_file.is_file() else []
    entries = [e for e in entries if e["epoch"] != epoch and (folder / e["dir"]).is_dir()]
    name = f"epoch-{epoch:04d}"
    target = folder / name
    if target.exists():
        shutil.rmtree(target)
    tmp = folder / (name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    _copy_tree(model_dir.resolve(), tmp)
    os.replace(tmp, target)
    usable = value is not None and math.isfinite(value)
    entries.append({"epoch": epoch, "metric": value if usable else None, "dir": name})

    def rank(entry: dict) -> tuple[float, int]:
        metric = entry["metric"]
        if metric is None:
            return (0.0, -entry["epoch"])
        return (metric if lower_is_better else -metric, -entry["epoch"])

    entries.sort(key=rank)
    for dropped in entries[keep:]:
        shutil.rmtree(folder / dropped["dir"], ignore_errors=True)
    kept = entries[:keep]
    tmp_index = folder / (INDEX + ".tmp")
    tmp_index.write_text(json.dumps(kept, indent=2) + "\n")
    os.replace(tmp_index, index_file)
    return kept
