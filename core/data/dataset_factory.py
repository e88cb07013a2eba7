"""``create_reader`` and ``create_dataset``: routing dataset names to registered readers.

A dataset name is ``[prefix/]name``. The prefix (case-insensitive) selects the registered reader
that declares it in its spec's ``prefixes`` (``torch/cifar10``, ``wds/...``, a third-party
``myprefix/...``); the rest is the dataset name, passed as the reader's ``dataset`` option when
its options model has one. A name without a prefix that is a registered reader's name selects
that reader; any other name (or '') reads ``root`` as an image folder, or as tars when ``root``
is a .tar file or a directory holding only .tar files.

Standard arguments (root, split, class_map, download, is_training, batch_size, seed, repeats)
go to a reader only when its options model declares them; every other keyword goes through and
is validated (a misspelt option is an error, never silently dropped).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError, UnknownComponentError
from ..factory import create
from ..registry import Entry, get_registry

__all__ = ["create_reader", "create_dataset", "resolve_reader", "find_split_dir", "SPLIT_SYNONYMS"]

#: Split names and the directory names searched for them, in order.
SPLIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "training": ("train", "training"),
    **{s: ("val", "valid", "validation", "eval", "evaluation") for s in ("val", "valid", "validation", "eval", "evaluation")},
}

_STANDARD = ("root", "split", "class_map", "download", "is_training", "batch_size", "seed", "repeats", "dataset")


def _by_prefix(prefix: str) -> Entry | None:
    matches = [e for e in get_registry().entries("reader") if prefix in {p.lower() for p in getattr(e.spec, "prefixes", ())}]
    if len(matches) > 1:
        providers = ", ".join(f"{e.qualified_name} ({e.plugin.provider})" for e in matches)
        raise ConfigError(
            f"dataset prefix {prefix!r} is claimed by several readers: {providers}; block one plugin "
            "(PIMM_BLOCK_PLUGINS) or pass reader='plugin::name'"
        )
    return matches[0] if matches else None


def _is_tar_root(root: str | None) -> bool:
    if not root:
        return False
    if os.path.isfile(root):
        return root.lower().endswith(".tar")
    if os.path.isdir(root):
        names = [n for n in os.listdir(root) if not n.startswith(".") and not n.endswith(".json")]
        return bool(names) and all(n.lower().endswith(".tar") for n in names)
    return False


def resolve_reader(name: str, root: str | None = None) -> tuple[Entry, str]:
    """The reader entry for dataset ``name`` and the dataset name after its prefix."""
    name = name or ""
    registry = get_registry()
    if "/" in name:
        prefix, _, rest = name.partition("/")
        entry = _by_prefix(prefix.lower())
        if entry is None:
            known = sorted({p for e in registry.entries("reader") for p in getattr(e.spec, "prefixes", ())})
            raise UnknownComponentError(
                f"no registered reader handles the dataset prefix {prefix!r} (in {name!r}); known prefixes: "
                f"{', '.join(known)}. Install the plugin that provides it, or drop the prefix to read a folder/tar"
            )
        return entry, rest
    if name:
        try:
            return registry.lookup("reader", name), ""
        except UnknownComponentError:
            pass  # a plain dataset name: read root as a folder or tars
    return registry.lookup("reader", "tar" if _is_tar_root(root) else "folder"), name


def _reader_options(entry: Entry, standard: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    fields = entry.spec.options.model_fields
    options = {k: v for k, v in standard.items() if k in fields and v is not None}
    clash = set(extra) & set(_STANDARD)
    if clash:
        raise ConfigError(f"pass {sorted(clash)} as named arguments, not as reader options")
    options.update(extra)
    return options


def create_reader(name: str, root: str | None = None, split: str = "train", **kwargs: Any) -> Any:
    """Build the registered reader for dataset ``name`` (see the module doc for routing)."""
    entry, dataset = resolve_reader(name, root)
    standard = {k: kwargs.pop(k) for k in list(kwargs) if k in _STANDARD}
    standard.update(root=root, split=split)
    if dataset:
        standard["dataset"] = dataset
    return create("reader", entry.qualified_name, **_reader_options(entry, standard, kwargs))


def find_split_dir(root: str, split: str) -> str:
    """``root/<split>`` (or a synonym directory / ``.tar``) when one exists, else ``root``."""
    base = split.split("[", 1)[0]
    candidates = [base, *SPLIT_SYNONYMS.get(base.lower(), ())]
    for candidate in candidates:
        for path in (os.path.join(root, candidate), os.path.join(root, candidate + ".tar")):
            if os.path.exists(path):
                return path
    return root


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
    from .dataset import IterableImageDataset, ImageDataset

    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    dataset_keys = ("bad_image_policy", "max_bad_images", "max_image_pixels", "target_transform")
    dataset_kwargs = {k: kwargs.pop(k) for k in dataset_keys if k in kwargs}
    entry, dataset = resolve_reader(name, root)
    if root and search_split and os.path.isdir(root) and entry.name in ("folder", "tar"):
        root = find_split_dir(root, split)
        if entry.name == "folder" and _is_tar_root(root):
            entry = get_registry().lookup("reader", "tar")
    standard = dict(root=root, split=split, class_map=class_map, download=download, is_training=is_training,
                    batch_size=batch_size, seed=seed, repeats=repeats)
    if dataset:
        standard["dataset"] = dataset
    reader = create("reader", entry.qualified_name, **_reader_options(entry, standard, kwargs))
    common = dict(input_img_mode=input_img_mode, transform=transform, load_bytes=load_bytes, **dataset_kwargs)
    if getattr(entry.spec, "iterable", False):
        return IterableImageDataset(root, reader=reader, **common)
    return ImageDataset(root, reader=reader, **common)
