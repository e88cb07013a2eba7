"""The image-folder reader: images in class sub-directories, class = leaf directory name."""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from pimm.core.data.reader import Reader
from pimm.core.registry import natural_key

from .labels import DatasetError, index_labels, normalize_extensions


def find_images(root: str, extensions: tuple[str, ...], follow_links: bool = True) -> list[tuple[str, str]]:
    """``(path relative to root, label)`` of every image under ``root``, in natural path order.

    The label is the name of the directory holding the file ('' for files directly in root).
    """
    found: list[tuple[str, str]] = []
    root = os.path.normpath(root)
    start = len(root) + 1
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=follow_links):
        rel_dir = dirpath[start:] if len(dirpath) > len(root) else ""
        label = os.path.basename(rel_dir)
        for name in filenames:
            if os.path.splitext(name)[1].lower() in extensions:
                found.append((os.path.join(rel_dir, name) if rel_dir else name, label))
    found.sort(key=lambda item: natural_key(item[0]))
    return found


class ReaderImageFolder(Reader):
    """Images under ``root``; each image's class is the name of its directory.

    Attributes besides the Reader contract: ``samples`` (relative path, target), ``missing_classes``
    (named by the class map, absent from the data), ``unmapped_classes`` (class -> number of
    samples left out because the class map lacks them).
    """

    def __init__(
        self,
        root: str,
        class_map: Any = None,
        extensions: tuple[str, ...] | None = None,
        strict_class_map: bool = False,
        follow_links: bool = True,
    ) -> None:
        super().__init__()
        if not os.path.isdir(root):
            raise DatasetError(f"image folder {root!r} does not exist or is not a directory")
        self.root = root
        self.extensions = normalize_extensions(extensions)
        found = find_images(root, self.extensions, follow_links)
        if not found:
            raise DatasetError(
                f"no images found under {root!r} (extensions {' '.join(self.extensions)}); expected "
                "root/<class>/<image> files"
            )
        labels = [label for _, label in found]
        index = index_labels(labels, class_map, root, strict_class_map, f"image folder {root!r}")
        self.class_to_idx = index.class_to_idx
        self.missing_classes = index.missing_classes
        self.unmapped_classes = index.unmapped_classes
        self.samples = [(path, self.class_to_idx[label]) for (path, label), k in zip(found, index.keep) if k]
        if not self.samples:
            raise DatasetError(f"image folder {root!r}: no image belongs to a class of the class map")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[BinaryIO, int]:
        path, target = self.samples[index]
        return open(os.path.join(self.root, path), "rb"), target

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        return self._shape_name(self.samples[index][0], self.root, basename, absolute)


def write_sample_images(root: str, classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 3, ext: str = ".png") -> None:
    """Write a tiny dataset of solid-colour images in ``root/<class>/`` (tests, conformance checks)."""
    from PIL import Image

    for ci, cls in enumerate(classes):
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for i in range(per_class):
            Image.new("RGB", (8, 8), (40 * ci + 10, 20 * i, 99)).save(os.path.join(root, cls, f"{cls}_{i}{ext}"))


def make_sample_dataset(tmpdir: str) -> dict[str, Any]:
    """Conformance-kit sample data: create options for a tiny image folder written into ``tmpdir``."""
    root = os.path.join(tmpdir, "folder")
    write_sample_images(root)
    return {"root": root}
