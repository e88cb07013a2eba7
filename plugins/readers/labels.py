"""Turning sample labels into class indices, with a class map checked against the data."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pimm.core.data.class_map import load_class_map
from pimm.core.errors import ConfigError, PimmError
from pimm.core.registry import natural_key

#: Image file extensions read by default.
from .options import DEFAULT_EXTENSIONS


class DatasetError(PimmError, RuntimeError):
    """A dataset could not be read (nothing found, inconsistent class map ...)."""


class ClassMapWarning(UserWarning):
    """A class map and the data disagree (classes missing from the data, or data outside the map)."""


@dataclass
class LabelIndex:
    """Result of indexing labels: the map, which samples keep, and what disagreed."""

    class_to_idx: dict[str, int]
    keep: list[bool]
    missing_classes: list[str] = field(default_factory=list)
    unmapped_classes: dict[str, int] = field(default_factory=dict)


def normalize_extensions(extensions: Sequence[str] | None) -> tuple[str, ...]:
    """Lower-cased extensions with a leading dot (``None`` -> the defaults)."""
    if not extensions:
        return DEFAULT_EXTENSIONS
    return tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)


def index_labels(
    labels: Sequence[str], class_map: Any, root: str, strict: bool, where: str
) -> LabelIndex:
    """Class indices for ``labels``: from ``class_map`` when given, else natural order of the names.

    With a class map, classes the map names but the data lacks, and labels in the data that the
    map lacks, are reported with one warning each (and raise when ``strict``).
    """
    if class_map is None or class_map == "" or class_map == {}:
        names = sorted(set(labels), key=natural_key)
        return LabelIndex({n: i for i, n in enumerate(names)}, [True] * len(labels))
    class_to_idx = load_class_map(class_map, root)
    present = set(labels)
    missing = sorted((c for c in class_to_idx if c not in present), key=natural_key)
    unmapped: dict[str, int] = {}
    keep = []
    for label in labels:
        ok = label in class_to_idx
        keep.append(ok)
        if not ok:
            unmapped[label] = unmapped.get(label, 0) + 1
    if unmapped:
        shown = ", ".join(repr(c) for c in sorted(unmapped, key=natural_key)[:10])
        message = (
            f"{where}: {sum(unmapped.values())} samples in {len(unmapped)} classes are not in the class map "
            f"({shown}{' ...' if len(unmapped) > 10 else ''})"
        )
        if strict:
            raise ConfigError(message + "; add them to the class map or pass strict_class_map=False to leave them out")
        warnings.warn(message + "; they are left out (see reader.unmapped_classes)", ClassMapWarning, stacklevel=3)
    if missing:
        shown = ", ".join(repr(c) for c in missing[:10])
        warnings.warn(
            f"{where}: the class map names {len(missing)} classes with no samples ({shown}"
            f"{' ...' if len(missing) > 10 else ''}); see reader.missing_classes",
            ClassMapWarning,
            stacklevel=3,
        )
    return LabelIndex(dict(class_to_idx), keep, missing, unmapped)
