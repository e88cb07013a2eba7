"""The tar reader: images inside .tar files, read in place through a cached member index."""

from __future__ import annotations

import io
import os
import warnings
from typing import Any

from pimm.core.data.reader import Reader
from pimm.core.registry import natural_key

from .labels import DatasetError, index_labels, normalize_extensions
from .index_cache import cached_index
from .index_checks import validate_tar_index
from .tar_index import _pread, scan_tar

INDEX_SUFFIX = "pimm-index"


class UnsafeMemberWarning(UserWarning):
    """A tar holds members that were left out (links, devices, unsafe paths, damage)."""


def find_tars(root: str) -> tuple[list[str], bool]:
    """The tar files of ``root`` (a .tar file or a directory of them) and whether root is one tar."""
    if os.path.isfile(root):
        if not root.lower().endswith(".tar"):
            raise DatasetError(f"{root!r} is not a .tar file; give a .tar file or a directory of .tar files")
        return [root], True
    if not os.path.isdir(root):
        raise DatasetError(f"tar dataset {root!r} does not exist")
    tars = sorted(
        (os.path.join(root, n) for n in os.listdir(root) if n.lower().endswith(".tar")),
        key=natural_key,
    )
    tars = [t for t in tars if os.path.isfile(t)]
    if not tars:
        raise DatasetError(f"no .tar files in directory {root!r}")
    return tars, False


class ReaderImageInTar(Reader):
    """Images in one tar, a directory of tars, or tars nested one level in a tar; never extracted.

    Class = leaf of (tar name for directory roots, nested tar name, member directory). Attributes
    besides the Reader contract: ``tars``, ``skipped_members`` (tar, member, reason) for members
    left out for safety or damage, ``missing_classes`` and ``unmapped_classes`` (class-map checks).
    """

    def __init__(
        self,
        root: str,
        class_map: Any = None,
        extensions: tuple[str, ...] | None = None,
        strict_class_map: bool = False,
        cache_index: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.root = root
        self.tars, self.root_is_tar = find_tars(root)
        self.extensions = normalize_extensions(extensions)
        # Columns over every tar: tar number, member name, data offset, size, nested-tar name.
        self._tar_of: list[int] = []
        self._names: list[str] = []
        self._offsets: list[int] = []
        self._sizes: list[int] = []
        self._parents: list[str] = []
        labels: list[str] = []
        self.skipped_members: list[tuple[str, str, str]] = []
        exts = self.extensions
        for tar_i, tar in enumerate(self.tars):
            index = cached_index(tar, INDEX_SUFFIX, scan_tar, cache_index, cache_dir, validate_tar_index)
            tar_label = "" if self.root_is_tar else os.path.splitext(os.path.basename(tar))[0]
            self.skipped_members.extend((tar, n, r) for n, r in index["skipped"])
            names = index["names"]
            keep = [i for i, n in enumerate(names) if n[n.rfind("."):].lower() in exts]
            if len(keep) == len(names):  # the usual case: every member is an image
                self._names += names
                self._offsets += index["offsets"]
                self._sizes += index["sizes"]
                self._parents += index["parents"]
                labels += [lbl or tar_label for lbl in index["labels"]]
            else:
                self._names += [names[i] for i in keep]
                self._offsets += [index["offsets"][i] for i in keep]
                self._sizes += [index["sizes"][i] for i in keep]
                self._parents += [index["parents"][i] for i in keep]
                labels += [index["labels"][i] or tar_label for i in keep]
            self._tar_of += [tar_i] * len(keep)
        if self.skipped_members:
            shown = "; ".join(f"{os.path.basename(t)}:{n} ({r})" for t, n, r in self.skipped_members[:5])
            more = f" and {len(self.skipped_members) - 5} more" if len(self.skipped_members) > 5 else ""
            warnings.warn(
                f"tar dataset {root!r}: {len(self.skipped_members)} members left out, never followed or "
                f"extracted: {shown}{more} (see reader.skipped_members)",
                UnsafeMemberWarning,
                stacklevel=2,
            )
        if not self._names:
            raise DatasetError(f"no images ({' '.join(self.extensions)}) in the tar files of {root!r}")
        label_root = root if os.path.isdir(root) else os.path.dirname(root)
        index = index_labels(labels, class_map, label_root, strict_class_map, f"tar dataset {root!r}")
        self.class_to_idx = index.class_to_idx
        self.missing_classes = index.missing_classes
        self.unmapped_classes = index.unmapped_classes
        order = None
        if len(self.tars) > 1:  # each index is already in natural member order; merge across tars
            order = sorted(range(len(self._names)), key=lambda i: natural_key(self._names[i]))
        if not all(index.keep):
            order = [i for i in (order if order is not None else range(len(self._names))) if index.keep[i]]
        if order is not None:
            for column in ("_tar_of", "_names", "_offsets", "_sizes", "_parents"):
                values = getattr(self, column)
                setattr(self, column, [values[i] for i in order])
            labels = [labels[i] for i in order]
        mapping = self.class_to_idx
        self._targets = [mapping[lbl] for lbl in labels]
        self._fds: dict[int, int] = {}
        self._pid = os.getpid()

    @property
    def samples(self) -> list[tuple[str, int]]:
        """(member name, target) of every sample."""
        return list(zip(self._names, self._targets))

    def __len__(self) -> int:
        return len(self._names)

    def _fd(self, tar_i: int) -> int:
        if self._pid != os.getpid():  # forked worker: use handles of our own
            self._fds = {}
            self._pid = os.getpid()
        fd = self._fds.get(tar_i)
        if fd is None:
            fd = os.open(self.tars[tar_i], os.O_RDONLY | getattr(os, "O_BINARY", 0))
            self._fds[tar_i] = fd
        return fd

    def __getitem__(self, index: int) -> tuple[io.BytesIO, int]:
        tar_i, size = self._tar_of[index], self._sizes[index]
        data = _pread(self._fd(tar_i), size, self._offsets[index])
        if len(data) != size:
            raise OSError(f"{self.tars[tar_i]}: member {self._names[index]!r} is truncated (the tar changed?)")
        return io.BytesIO(data), self._targets[index]

    @property
    def targets(self) -> list[int]:
        """Every member's class index, in sample order."""
        return list(self._targets)

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        tar_i, name, parent = self._tar_of[index], self._names[index], self._parents[index]
        if basename:
            return os.path.basename(name)
        if absolute:
            return os.path.join(os.path.abspath(self.tars[tar_i]), parent, name)
        return name

    def close(self) -> None:
        """Close the open tar handles of this process."""
        fds, self._fds = self._fds, {}
        if self._pid == os.getpid():
            for fd in fds.values():
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fds"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pid = os.getpid()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def make_sample_dataset(tmpdir: str) -> dict[str, Any]:
    """Conformance-kit sample data: a tiny image folder packed into one tar."""
    import tarfile

    from .folder import write_sample_images

    src = os.path.join(tmpdir, "tar-src")
    write_sample_images(src)
    path = os.path.join(tmpdir, "data.tar")
    with tarfile.open(path, "w") as tf:
        for cls in sorted(os.listdir(src)):
            tf.add(os.path.join(src, cls), arcname=cls)
    return {"root": path, "cache_dir": os.path.join(tmpdir, "index-cache")}
