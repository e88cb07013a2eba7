"""The ``Reader`` base class: the extension point every dataset reader implements.

A reader maps an index to one raw sample and its target. ``ImageDataset`` does the rest
(decoding, image mode, transforms, the bad-sample policy), so a custom reader only has to say
where the bytes are. Streaming readers (``IterableReader``) yield samples instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

__all__ = ["Reader", "IterableReader", "open_regular_file"]


def open_regular_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for binary reading, refusing anything but a regular file.

    The file is opened non-blocking and checked on the open descriptor, so a FIFO, socket or
    device that took an image's name is rejected with an ``OSError`` at once (never a read that
    waits forever), and a file swapped after a directory scan is caught too.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else (
                "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
            raise OSError(f"{os.fspath(path)!r} is {kind}, not a regular file; it is not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class Reader:
    """Random-access reader: ``reader[i] -> (sample, target)``.

    Subclasses implement:

    * ``__len__()`` — the number of samples;
    * ``__getitem__(index)`` — ``(sample, target)`` where ``sample`` is a binary file-like
      object, ``bytes``, or an already decoded ``PIL.Image``, and ``target`` an ``int`` (or
      ``None`` when the sample has no label; the dataset turns that into ``-1``);
    * ``_filename(index, basename=False, absolute=False)`` — the sample's name (relative to the
      reader's root by default).

    They should set ``class_to_idx`` (class name → index) when labels have names. Readers must
    be picklable (DataLoader workers get a copy): open file handles lazily and drop them in
    ``__getstate__``.
    """

    #: Class name -> index. Empty for readers whose targets have no names.
    class_to_idx: dict[str, int] = {}

    def __init__(self) -> None:
        self.class_to_idx = {}

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        raise NotImplementedError(f"{type(self).__name__} must implement _filename")

    def filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        """Name of sample ``index``: relative to the root, its basename, or an absolute path."""
        return self._filename(index, basename=basename, absolute=absolute)

    def filenames(self, basename: bool = False, absolute: bool = False) -> list[str]:
        """Names of every sample, in index order."""
        return [self._filename(i, basename=basename, absolute=absolute) for i in range(len(self))]

    @property
    def classes(self) -> list[str]:
        """Class names in index order (torchvision's ``classes``); empty when labels have no names."""
        return [name for name, _ in sorted(self.class_to_idx.items(), key=lambda item: item[1])]

    @property
    def targets(self) -> list[Any]:
        """The target of every sample, in index order (torchvision's ``targets``).

        Readers that keep ``samples`` as ``(path, target)`` pairs get this for free; others
        override it (or it reads every sample's target, which may be slow).
        """
        samples = getattr(self, "samples", None)
        if isinstance(samples, list):
            return [target for _, target in samples]
        return [self[i][1] for i in range(len(self))]

    @property
    def idx_to_class(self) -> dict[int, str]:
        """Index -> class name (the inverse of ``class_to_idx``)."""
        return {index: name for name, index in self.class_to_idx.items()}

    @staticmethod
    def _shape_name(path: str, root: str, basename: bool, absolute: bool) -> str:
        """Helper for ``_filename``: ``path`` relative to ``root``, basename, or absolute."""
        if basename:
            return os.path.basename(path)
        if absolute:
            return os.path.abspath(os.path.join(root, path))
        return path


class IterableReader(Reader):
    """Streaming reader: iterating yields ``(sample, target)`` pairs; no random access.

    ``__len__`` is the number of samples this process (rank) will yield per epoch.
    ``set_epoch`` changes the shuffle, ``set_loader_cfg`` tells it the DataLoader's worker count.
    """

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        raise TypeError(f"{type(self).__name__} is a streaming reader: iterate it instead of indexing")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch (the shuffle order of training streams depends on it)."""

    def set_loader_cfg(self, num_workers: int | None = None) -> None:
        """Tell the reader how many DataLoader workers will iterate it."""
