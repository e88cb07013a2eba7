"""The spec table (``data/torchvision_models.json``) and the naming scheme; imports no torch.

Naming: torchvision's builder ``resnet50`` is registered as ``tv-resnet50``. The ``tv-`` prefix
contains a hyphen, which neither timm nor pimm's builtin plugins use in any architecture name or
deprecated alias (pimm's ``tv_resnet50`` is an underscore alias of ``resnet50.tv_in1k``), so the two
sets cannot clash. Pretrained tags are torchvision's weight names in lower case
(``tv-resnet50.imagenet1k_v2``), the default tag is torchvision's ``DEFAULT``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["PREFIX", "TABLE_PATH", "pimm_name", "torchvision_name", "load_table", "write_table", "crop_pct_for"]

PREFIX = "tv-"
TABLE_PATH = Path(__file__).with_name("data") / "torchvision_models.json"


def pimm_name(tv_name: str) -> str:
    """pimm's registry name for torchvision builder ``tv_name`` (``resnet50`` → ``tv-resnet50``)."""
    return PREFIX + tv_name


def torchvision_name(name: str) -> str:
    """The torchvision builder behind pimm name ``name`` (the inverse of :func:`pimm_name`)."""
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


@lru_cache(maxsize=1)
def load_table(path: str | None = None) -> dict[str, Any]:
    """The spec table as data (read once per process)."""
    return json.loads(Path(path or TABLE_PATH).read_text())


def write_table(table: dict[str, Any], path: str | Path = TABLE_PATH) -> None:
    """Write ``table`` as stable, diff-friendly JSON."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    load_table.cache_clear()


def crop_pct_for(crop: int, resize: int) -> float:
    """A ``crop_pct`` for which pimm's eval resize ``floor(crop / crop_pct)`` is exactly ``resize``."""
    pct = crop / resize
    while math.floor(crop / pct) < resize:
        pct = math.nextafter(pct, 0.0)
    while math.floor(crop / pct) > resize:
        pct = math.nextafter(pct, 1.0)
    return pct
