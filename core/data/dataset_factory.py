"""``create_dataset``: a dataset wrapper around the registered reader a dataset name routes to
(see :mod:`.reader_factory` for the routing rules).
"""

from __future__ import annotations

import os
from typing import Any

from ..registry import get_registry
from ..factory import create_entry
from .dataset import IterableImageDataset, ImageDataset
from .reader_factory import (SPLIT_SYNONYMS, create_reader, find_split_dir, is_tar_root, reader_options,
                             resolve_reader)

__all__ = ["create_reader", "create_dataset", "resolve_reader", "find_split_dir", "SPLIT_SYNONYMS"]


def create_dataset(
    name: str,
    root: str | None = None,
    split: str = "validation",
    search_split: bool = True,
    class_map: Any = None,
    load_bytes: bool = False,
    is_training: bool = False,
    download: bool = False,
    batch_size: int = 1,
    seed: int = 42,
    repeats: int = 0,
    input_img_mode: str | None = "RGB",
    transform: Any = None,
    **kwargs: Any,
) -> Any:
    """A dataset for ``name`` routed to a registered reader (timm's ``create_dataset`` arguments).

    Returns an :class:`ImageDataset`, or an :class:`IterableImageDataset` for streaming readers.
    For folder and tar datasets with ``search_split``, ``root/<split>`` is used when it exists
    (train|training; val|valid|validation|eval|evaluation are synonyms). Keyword arguments whose
    value is None are dropped; the rest go to the dataset (bad_image_policy, max_bad_images,
    max_image_pixels, target_transform) or to the reader.
    """
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    dataset_keys = ("bad_image_policy", "max_bad_images", "max_image_pixels", "target_transform")
    dataset_kwargs = {k: kwargs.pop(k) for k in dataset_keys if k in kwargs}
    entry, dataset = resolve_reader(name, root)
    if root and search_split and os.path.isdir(root) and entry.name in ("folder", "tar"):
        root = find_split_dir(root, split)
        if entry.name == "folder" and is_tar_root(root):
            entry = get_registry().lookup("reader", "tar", prefer_builtin=True)
    standard = dict(root=root, split=split, class_map=class_map, download=download, is_training=is_training,
                    batch_size=batch_size, seed=seed, repeats=repeats)
    if dataset:
        standard["dataset"] = dataset
    reader = create_entry(entry, **reader_options(entry, standard, kwargs))
    common = dict(input_img_mode=input_img_mode, transform=transform, load_bytes=load_bytes, **dataset_kwargs)
    if getattr(entry.spec, "iterable", False):
        return IterableImageDataset(root, reader=reader, **common)
    return ImageDataset(root, reader=reader, **common)
