"""``create_reader``: routing a dataset name to a registered reader.

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
from ..factory import create_entry
from ..registry import Entry, get_registry

__all__ = ["create_reader", "resolve_reader", "find_split_dir", "reader_options", "is_tar_root", "SPLIT_SYNONYMS"]

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


def is_tar_root(root: str | None) -> bool:
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
    # prefer_builtin: core's own fallback names stay the builtin readers (docs/plugin-authors.md)
    return registry.lookup("reader", "tar" if is_tar_root(root) else "folder", prefer_builtin=True), name


def reader_options(entry: Entry, standard: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
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
    return create_entry(entry, **reader_options(entry, standard, kwargs))


def find_split_dir(root: str, split: str) -> str:
    """``root/<split>`` (or a synonym directory / ``.tar``) when one exists, else ``root``."""
    base = split.split("[", 1)[0]
    candidates = [base, *SPLIT_SYNONYMS.get(base.lower(), ())]
    for candidate in candidates:
        for path in (os.path.join(root, candidate), os.path.join(root, candidate + ".tar")):
            if os.path.exists(path):
                return path
    return root
