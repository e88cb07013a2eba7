"""The filename-label reader: images in one folder, the class parsed from each file name."""

from __future__ import annotations

import os
import re
import warnings
from typing import Any, BinaryIO

from pimm.core.data.reader import Reader, open_regular_file
from pimm.core.errors import ConfigError
from pimm.core.registry import natural_key

from .folder import walk_files
from .labels import ClassMapWarning, DatasetError, index_labels, normalize_extensions


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a label pattern, with a clear error for invalid expressions."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"filename-label pattern {pattern!r} is not a valid regular expression: {exc}") from None


def label_from_name(stem: str, pattern: re.Pattern[str]) -> str | None:
    """The label in a file name without extension, or None when the pattern does not match."""
    match = pattern.search(stem)
    if match is None:
        return None
    if "label" in pattern.groupindex:
        return match.group("label")
    return match.group(1) if pattern.groups else match.group(0)


class ReaderFilenameLabel(Reader):
    """Images in ``root`` whose class is part of the file name (``Abyssinian_12.jpg`` -> 'Abyssinian').

    Attributes besides the Reader contract: ``samples``, ``unmatched`` (files whose name the
    pattern does not match; left out), ``missing_classes`` / ``unmapped_classes``.
    """

    def __init__(
        self,
        root: str,
        pattern: str = r"^(?P<label>.+)_\d+$",
        class_map: Any = None,
        extensions: tuple[str, ...] | None = None,
        strict_class_map: bool = False,
        recursive: bool = False,
        strict_pattern: bool = False,
    ) -> None:
        super().__init__()
        if not os.path.isdir(root):
            raise DatasetError(f"filename-label dataset {root!r} does not exist or is not a directory")
        self.root = root
        self.pattern = compile_pattern(pattern)
        self.extensions = normalize_extensions(extensions)
        paths = [p for p in walk_files(root, follow_links=True, recursive=recursive)
                 if os.path.splitext(p)[1].lower() in self.extensions]
        paths.sort(key=natural_key)
        found: list[tuple[str, str]] = []
        self.unmatched: list[str] = []
        for path in paths:
            label = label_from_name(os.path.splitext(os.path.basename(path))[0], self.pattern)
            if label is None or label == "":
                self.unmatched.append(path)
            else:
                found.append((path, label))
        if self.unmatched:
            message = (f"{len(self.unmatched)} images in {root!r} do not match the label pattern {pattern!r} "
                       f"(e.g. {self.unmatched[0]!r})")
            if strict_pattern:
                raise DatasetError(message)
            warnings.warn(message + "; they are left out (see reader.unmatched)", ClassMapWarning, stacklevel=2)
        if not found:
            raise DatasetError(f"no labelled images in {root!r} (extensions {' '.join(self.extensions)}, pattern {pattern!r})")
        index = index_labels([lbl for _, lbl in found], class_map, root, strict_class_map, f"filename-label dataset {root!r}")
        self.class_to_idx = index.class_to_idx
        self.missing_classes = index.missing_classes
        self.unmapped_classes = index.unmapped_classes
        self.samples = [(p, self.class_to_idx[lbl]) for (p, lbl), k in zip(found, index.keep) if k]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[BinaryIO, int]:
        path, target = self.samples[index]
        return open_regular_file(os.path.join(self.root, path)), target

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        return self._shape_name(self.samples[index][0], self.root, basename, absolute)


def make_sample_dataset(tmpdir: str) -> dict[str, Any]:
    """Conformance-kit sample data: Oxford-pet style names (``Abyssinian_1.png``) in one folder."""
    from PIL import Image

    root = os.path.join(tmpdir, "pets")
    os.makedirs(root, exist_ok=True)
    for ci, cls in enumerate(("Abyssinian", "american_bulldog")):
        for i in range(1, 4):
            Image.new("RGB", (8, 8), (60 * ci, 30 * i, 7)).save(os.path.join(root, f"{cls}_{i}.png"))
    return {"root": root}
