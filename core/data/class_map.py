"""Loading class maps: class name -> index, from a dict, a ``.txt`` or a ``.json`` file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["load_class_map"]


#: Class indices at or above this are refused: a classifier with that many outputs cannot be built
#: (ten million classes is far beyond any real label set, and still a sane head size).
MAX_CLASS_INDEX = 10_000_000


def _check_map(mapping: Mapping[Any, Any], where: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for name, index in mapping.items():
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ConfigError(f"class map {where}: class {name!r} maps to {index!r}; indices must be ints >= 0")
        if index >= MAX_CLASS_INDEX:
            shown = f"{index}" if index < 10**30 else f"a {len(str(index))}-digit number" if index < 10**4000 else "a huge number"
            raise ConfigError(
                f"class map {where}: class {name!r} maps to {shown}; class indices must be below "
                f"{MAX_CLASS_INDEX:,} (the model gets one output per index up to the largest)"
            )
        result[str(name)] = index
    if not result:
        raise ConfigError(f"class map {where} is empty; give at least one class")
    return result


def load_class_map(map_or_file: Mapping[str, int] | str | os.PathLike[str], root: str | os.PathLike[str] = "") -> dict[str, int]:
    """A class map (class name -> index) from a dict, or a ``.txt`` / ``.json`` file.

    A ``.txt`` file has one class name per line (line ``i`` is class ``i``; blank lines are
    ignored); a ``.json`` file holds either that list or a ``{name: index}`` object. A relative
    file name is looked up as given, then under ``root``.
    """
    if isinstance(map_or_file, Mapping):
        return _check_map(map_or_file, "dict")
    if not isinstance(map_or_file, (str, os.PathLike)):
        raise ConfigError(f"class_map must be a dict or a path to a .txt/.json file, got {type(map_or_file).__name__}")
    path = os.fspath(map_or_file)
    if not os.path.isfile(path) and root and os.path.isfile(os.path.join(root, path)):
        path = os.path.join(root, path)
    if not os.path.isfile(path):
        raise ConfigError(f"class map file {os.fspath(map_or_file)!r} not found (looked as given and under root {os.fspath(root)!r})")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".txt":
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        return _check_map({n: i for i, n in enumerate(names)}, repr(path))
    if ext == ".json":
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except (ValueError, RecursionError) as exc:  # bad JSON, integers of thousands of digits, deep nesting
                raise ConfigError(f"class map {path!r} is not valid JSON: {str(exc)[:200]}") from None
        if isinstance(data, list) and all(isinstance(n, str) for n in data):
            return _check_map({n: i for i, n in enumerate(data)}, repr(path))
        if isinstance(data, dict):
            return _check_map(data, repr(path))
        raise ConfigError(f"class map {path!r} must hold a list of names or a {{name: index}} object")
    raise ConfigError(
        f"class map {path!r}: unsupported extension {ext!r}; use .txt (one name per line) or .json "
        "(pickle files are not loaded, they can run code)"
    )
