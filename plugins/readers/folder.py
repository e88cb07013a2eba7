"""The image-folder reader: images in class sub-directories, class = leaf directory name."""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from pimm.core.data.reader import Reader, open_regular_file
from pimm.core.registry import natural_key

from .labels import DatasetError, index_labels, normalize_extensions


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def walk_files(root: str, follow_links: bool = True, recursive: bool = True) -> list[str]:
    """Paths (relative to ``root``) of the regular files under ``root``, each real directory once.

    Only regular files are listed (symlinks to them included): a FIFO, socket or device is never
    listed, so never opened. With ``follow_links``, symlinked directories are entered too, but a
    directory reached a second time (a symlink loop, or two links to one place) is not scanned
    again; directories reached without links are scanned before any reached through one, so a
    class directory keeps its own name even when a link points at it. Unreadable directories are
    left out, as ``os.walk`` does.
    """
    root = os.path.normpath(root)
    try:
        seen = {_identity(os.stat(root))}
    except OSError:
        return []
    files: list[str] = []
    real: list[tuple[str, str]] = [("", root)]  # (relative, absolute) directories still to scan
    linked: list[tuple[str, str]] = []  # directories behind a symlink, scanned after the real ones
    while real or linked:
        if real:
            rel_dir, abs_dir = real.pop()
        else:  # a link's target is claimed only now, after every directory reachable without links,
            linked.sort(key=lambda item: natural_key(item[0]), reverse=True)  # in name order (deterministic)
            rel_dir, abs_dir = linked.pop()
            try:
                key = _identity(os.stat(abs_dir))
            except OSError:
                continue  # dangling or unreadable link
            if key in seen:
                continue  # a loop, or a place already scanned under another name
            seen.add(key)
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
            try:
                if entry.is_file():  # regular files only (following a link to one)
                    files.append(rel)
                elif recursive and entry.is_dir(follow_symlinks=False):
                    key = _identity(entry.stat(follow_symlinks=False))
                    if key not in seen:
                        seen.add(key)
                        real.append((rel, entry.path))
                elif recursive and follow_links and entry.is_symlink() and entry.is_dir():
                    linked.append((rel, entry.path))
            except OSError:
                continue  # vanished or unreadable entry
    return files


def find_images(root: str, extensions: tuple[str, ...], follow_links: bool = True) -> list[tuple[str, str]]:
    """``(path relative to root, label)`` of every image under ``root``, in natural path order.

    The label is the name of the directory holding the file ('' for files directly in root).
    Special files (FIFOs, sockets, devices) are skipped and each real directory is read once
    (see :func:`walk_files`).
    """
    found = [
        (path, os.path.basename(os.path.dirname(path)))
        for path in walk_files(root, follow_links)
        if os.path.splitext(path)[1].lower() in extensions
    ]
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
        return open_regular_file(os.path.join(self.root, path)), target

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
