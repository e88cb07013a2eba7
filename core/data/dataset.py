"""``ImageDataset`` and ``IterableImageDataset``: a reader plus decoding, transforms and the bad-sample policy.

Bad data never crashes an epoch from deep inside a DataLoader worker. A sample that cannot be
read or decoded (corrupt, truncated, zero bytes, not an image, over the pixel limit) is, by
policy, either skipped — recorded, warned about once by name, replaced by the next sample — or
raised as a :class:`BadImageError` naming the file. ``max_bad_images`` failures in a row stop
with a clear error under either policy. ``bad_samples()`` lists what was skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import torch.utils.data as tud

from .deferred_image import DeferredDecodeError, accepts_deferred
from .image_load import (
    BadImageError,
    BadSamples,
    describe_error,
    load_image,
    read_bytes,
    resolve_max_bad,
    resolve_policy,
    warn_bad,
    write_bad_sample_list,
)
from .reader import IterableReader, Reader

__all__ = ["ImageDataset", "IterableImageDataset", "BadImageError"]

_FATAL = (MemoryError, RecursionError)


class _DecodeMixin:
    """Shared sample decoding and bad-sample bookkeeping."""

    load_bytes: bool
    input_img_mode: str | None
    transform: Callable[[Any], Any] | None
    target_transform: Callable[[Any], Any] | None

    def _setup_policy(self, policy: str | None, max_bad: int | None, max_pixels: int | None) -> None:
        self.bad_image_policy = resolve_policy(policy)
        self.max_bad_images = resolve_max_bad(max_bad)
        if max_pixels is None:
            from PIL import Image

            max_pixels = Image.MAX_IMAGE_PIXELS
        self.max_image_pixels = max_pixels
        self._bad = BadSamples()

    def _decode(self, sample: Any) -> Any:
        if self.load_bytes:
            return read_bytes(sample)
        defer = accepts_deferred(self.transform)  # a JPEG stays undecoded for a transform that can reduce it
        return load_image(sample, self.input_img_mode, self.max_image_pixels, defer=defer)

    def _finish(self, img: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            img = self.transform(img)
        if target is None:
            target = -1
        elif self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _on_bad(self, index: int, name: str, exc: BaseException) -> None:
        reason = describe_error(exc)
        if self.bad_image_policy == "raise":
            raise BadImageError(
                f"cannot load sample {name!r}: {reason}. Fix or remove the file, or set "
                "bad_image_policy='skip' (env PIMM_BAD_IMAGE_POLICY=skip) to skip bad samples"
            ) from exc
        if self._bad.record(index, name, reason):
            warn_bad(name, reason, "set bad_image_policy='raise' to stop instead; see dataset.bad_samples()")

    def _too_many(self, names: list[str], exc: BaseException | None) -> BadImageError:
        shown = ", ".join(repr(n) for n in names[-3:])
        return BadImageError(
            f"{len(names)} consecutive samples failed to load (last: {shown}; cause: "
            f"{describe_error(exc) if exc else 'unknown'}). The data is damaged or the reader is broken; "
            "raise the limit with max_bad_images= or PIMM_MAX_BAD_IMAGES if this is expected"
        )

    def bad_samples(self) -> dict[str, str]:
        """Samples skipped so far (name -> reason), in this process and its DataLoader workers."""
        return self._bad.summary()

    @property
    def skipped(self) -> int:
        """Number of distinct samples skipped so far (see :meth:`bad_samples`)."""
        return len(self._bad.summary())

    def reset_bad_samples(self) -> None:
        """Forget the record of skipped samples: they are tried (and warned about) again."""
        self._bad.clear()

    def bad_samples_report(self, list_path: str | os.PathLike[str] | None = None, label: str = "") -> str | None:
        """One line saying how many samples were skipped and where their list is; None when none were.

        With ``list_path`` the list (``name<TAB>reason`` per line) is written there first (atomically);
        otherwise the line points at the run's shared log. ``label`` names the dataset ('train').
        """
        samples = self.bad_samples()
        if not samples:
            return None
        where = os.fspath(list_path) if list_path is not None else self._bad.log_path
        if list_path is not None:
            write_bad_sample_list(samples, list_path)
        what = f"{label} " if label else ""
        count = len(samples)
        return (f"{count} bad {what}sample{'s' if count != 1 else ''} skipped so far (warned once, not "
                f"decoded again); list: {where}")


class ImageDataset(_DecodeMixin, tud.Dataset):
    """A map-style dataset over a :class:`Reader`: ``dataset[i] -> (image, target)``.

    ``reader`` is a Reader instance or a registered reader name ('' or None: folder or tar,
    chosen by what ``root`` is); extra keyword arguments go to the reader. ``input_img_mode``
    is 'RGB', 'L', 'RGBA', any PIL mode, or None to keep the file's mode. ``load_bytes``
    returns raw bytes instead of images. Targets of None become -1.
    """

    def __init__(
        self,
        root: str | None,
        reader: Reader | str | None = None,
        split: str = "train",
        class_map: Any = None,
        load_bytes: bool = False,
        input_img_mode: str | None = "RGB",
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        bad_image_policy: str | None = None,
        max_bad_images: int | None = None,
        max_image_pixels: int | None = None,
        **reader_kwargs: Any,
    ) -> None:
        if reader is None or isinstance(reader, str):
            from .reader_factory import create_reader

            reader = create_reader(reader or "", root=root, split=split, class_map=class_map, **reader_kwargs)
        self.reader = reader
        self.root = root
        self.load_bytes = load_bytes
        self.input_img_mode = input_img_mode
        self.transform = transform
        self.target_transform = target_transform
        self._setup_policy(bad_image_policy, max_bad_images, max_image_pixels)

    def _name(self, index: int) -> str:
        try:
            return self.reader.filename(index)
        except Exception:
            return f"<sample {index}>"

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        size = len(self.reader)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"index {index} out of range for a dataset of {size} samples")
        failed: list[str] = []
        last: BaseException | None = None
        for attempt in range(self.max_bad_images):
            i = (index + attempt) % size
            if self._bad.is_bad(i):  # found bad earlier in the run (any epoch, any worker): not decoded again
                failed.append(self._name(i))
                continue
            try:
                item = self.reader[i]
                img = self._decode(item[0])
            except _FATAL:
                raise
            except BadImageError:
                raise
            except Exception as exc:
                last = exc
                name = self._name(i)
                failed.append(name)
                self._on_bad(i, name, exc)
                continue
            try:
                return self._finish(img, item[1])
            except DeferredDecodeError as exc:  # a deferred JPEG failed to decode in the transform: a bad sample
                last = exc.original
                name = self._name(i)
                failed.append(name)
                self._on_bad(i, name, exc.original)
        raise self._too_many(failed, last)

    def __len__(self) -> int:
        return len(self.reader)

    @property
    def class_to_idx(self) -> dict[str, int]:
        """The reader's class name -> index map (as on a torchvision dataset)."""
        return getattr(self.reader, "class_to_idx", {})

    @property
    def classes(self) -> list[str]:
        """Class names in index order, as torchvision datasets have them (from the reader)."""
        names = getattr(self.reader, "classes", None)
        if names is not None:
            return list(names)
        return [name for name, _ in sorted(self.class_to_idx.items(), key=lambda item: item[1])]

    @property
    def targets(self) -> list[Any]:
        """Every sample's target in index order, as torchvision datasets have them (from the reader).

        Skipped bad samples are not taken into account: this describes the data, not what loads.
        """
        targets = getattr(self.reader, "targets", None)
        if targets is None:
            raise AttributeError(f"{type(self.reader).__name__} does not list its targets")
        return [-1 if t is None else t for t in targets]

    def filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        """Name of sample ``index`` (see :meth:`Reader.filename`)."""
        return self.reader.filename(index, basename, absolute)

    def filenames(self, basename: bool = False, absolute: bool = False) -> list[str]:
        """Names of every sample (see :meth:`Reader.filenames`)."""
        return self.reader.filenames(basename, absolute)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={self.root!r}, reader={type(self.reader).__name__}, samples={len(self)})"


class IterableImageDataset(_DecodeMixin, tud.IterableDataset):
    """A streaming dataset over an :class:`IterableReader` (e.g. WebDataset shards).

    Decoding, transforms and the bad-sample policy are those of :class:`ImageDataset`; a skipped
    sample is simply not yielded. ``len()`` is the number of samples this rank yields per epoch.
    """

    def __init__(
        self,
        root: str | None,
        reader: IterableReader | str | None = None,
        split: str = "train",
        class_map: Any = None,
        is_training: bool = False,
        batch_size: int = 1,
        seed: int = 42,
        repeats: int = 0,
        download: bool = False,
        input_img_mode: str | None = "RGB",
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        load_bytes: bool = False,
        bad_image_policy: str | None = None,
        max_bad_images: int | None = None,
        max_image_pixels: int | None = None,
        **reader_kwargs: Any,
    ) -> None:
        if reader is None or isinstance(reader, str):
            from .reader_factory import create_reader

            reader = create_reader(
                reader or "wds", root=root, split=split, class_map=class_map, is_training=is_training,
                batch_size=batch_size, seed=seed, repeats=repeats, download=download, **reader_kwargs,
            )
        self.reader = reader
        self.root = root
        self.load_bytes = load_bytes
        self.input_img_mode = input_img_mode
        self.transform = transform
        self.target_transform = target_transform
        self._setup_policy(bad_image_policy, max_bad_images, max_image_pixels)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        failed: list[str] = []
        last: BaseException | None = None
        for position, item in enumerate(self.reader):
            name = item[2] if len(item) > 2 else f"<sample {position}>"
            if len(item) > 2 and self._bad.is_bad_name(name):
                continue  # found bad earlier in the run: not decoded (or warned about) again
            try:
                img = self._decode(item[0])
            except _FATAL:
                raise
            except Exception as exc:
                last = exc
                failed.append(name)
                self._on_bad(-1 - position, name, exc)  # streams have no stable index: known by name
                if len(failed) >= self.max_bad_images:
                    raise self._too_many(failed, last) from exc
                continue
            try:
                result = self._finish(img, item[1])
            except DeferredDecodeError as exc:  # a deferred JPEG failed to decode in the transform: a bad sample
                last = exc.original
                failed.append(name)
                self._on_bad(-1 - position, name, exc.original)
                if len(failed) >= self.max_bad_images:
                    raise self._too_many(failed, last) from exc
                continue
            failed = []
            yield result

    def __len__(self) -> int:
        return len(self.reader)

    @property
    def class_to_idx(self) -> dict[str, int]:
        """The reader's class name -> index map (may be empty for integer-labelled shards)."""
        return getattr(self.reader, "class_to_idx", {})

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch (changes the training shuffle)."""
        self.reader.set_epoch(epoch)

    def set_loader_cfg(self, num_workers: int | None = None) -> None:
        """Tell the reader how many DataLoader workers will iterate it."""
        self.reader.set_loader_cfg(num_workers=num_workers)

    def filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        """Not available: streaming datasets have no random access."""
        raise TypeError("a streaming dataset has no per-index file names; the reader yields names with samples")
