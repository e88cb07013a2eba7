"""Decoding one sample into a PIL image, and the bad-sample policy shared by the datasets.

A sample from a reader is a binary file-like object, ``bytes``, a path, or an already decoded
``PIL.Image``. :func:`load_image` decodes it fully (so damaged data fails here, not later in a
transform), applies the image mode, scales 16-bit images to 8 bits and rejects images over
the pixel limit. :class:`BadSamples` records the samples that failed, per process and — through
an append-only log file — across DataLoader workers.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
import warnings
from typing import Any

from ..errors import ConfigError, PimmError
from .reader import open_regular_file

__all__ = [
    "BadImageError",
    "BadSampleWarning",
    "BadSamples",
    "write_bad_sample_list",
    "load_image",
    "resolve_policy",
    "resolve_max_bad",
    "ENV_POLICY",
    "ENV_MAX_BAD",
]

ENV_POLICY = "PIMM_BAD_IMAGE_POLICY"
ENV_MAX_BAD = "PIMM_MAX_BAD_IMAGES"
POLICIES = ("skip", "raise")
_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


class BadImageError(PimmError, RuntimeError):
    """A sample could not be read or decoded (policy 'raise'), or too many failed in a row."""


class BadSampleWarning(UserWarning):
    """A sample was skipped because it could not be read or decoded (policy 'skip')."""


def resolve_policy(policy: str | None) -> str:
    """The bad-sample policy: the argument, else ``$PIMM_BAD_IMAGE_POLICY``, else 'skip'."""
    value = policy if policy is not None else os.environ.get(ENV_POLICY, "skip")
    value = value.strip().lower()
    if value not in POLICIES:
        source = "bad_image_policy" if policy is not None else f"${ENV_POLICY}"
        raise ConfigError(f"{source}={value!r} is not a bad-image policy; use 'skip' or 'raise'")
    return value


def resolve_max_bad(max_bad: int | None) -> int:
    """Consecutive failures allowed: the argument, else ``$PIMM_MAX_BAD_IMAGES``, else 10."""
    if max_bad is None:
        raw = os.environ.get(ENV_MAX_BAD, "10")
        try:
            max_bad = int(raw)
        except ValueError:
            raise ConfigError(f"${ENV_MAX_BAD}={raw!r} is not an integer") from None
    if max_bad < 1:
        raise ConfigError(f"the number of consecutive bad images allowed must be >= 1, got {max_bad}")
    return max_bad


def _scale_to_8bit(img: Any) -> Any:
    import numpy as np
    from PIL import Image

    array = np.asarray(img, dtype=np.float32)
    top = 65535.0 if array.max(initial=0) > 255 or img.mode != "I" else 255.0
    scaled = np.clip(array * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _open(sample: Any) -> tuple[Any, Any]:
    """(PIL image, file to close or None) for a reader sample."""
    from PIL import Image

    if isinstance(sample, Image.Image):
        return sample, None
    if isinstance(sample, (bytes, bytearray, memoryview)):
        if len(sample) == 0:
            raise OSError("zero-byte file")
        sample = io.BytesIO(sample)
    elif isinstance(sample, (str, os.PathLike)):
        sample = open_regular_file(sample)  # a FIFO or device named like an image is refused, not read
        if os.fstat(sample.fileno()).st_size == 0:
            sample.close()
            raise OSError("zero-byte file")
    elif isinstance(sample, io.BytesIO):
        if sample.getbuffer().nbytes == 0:
            raise OSError("zero-byte file")
    elif hasattr(sample, "fileno"):
        try:
            empty = os.fstat(sample.fileno()).st_size == 0
        except (OSError, ValueError, io.UnsupportedOperation):
            empty = False
        if empty:
            sample.close()
            raise OSError("zero-byte file")
    try:
        return Image.open(sample), sample
    except BaseException:
        sample.close()
        raise


def convert_mode(img: Any, mode: str | None) -> Any:
    """A loaded PIL image in ``mode`` (None keeps its mode): 16-bit greyscale scaled to 8 bits,
    palette images with transparency through RGBA, anything else by ``Image.convert``."""
    if mode:
        if img.mode in _SIXTEEN_BIT:
            img = _scale_to_8bit(img)
        elif img.mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        if img.mode != mode:
            img = img.convert(mode)
    return img


def load_image(sample: Any, mode: str | None, max_pixels: int | None, defer: bool = False) -> Any:
    """Decode ``sample`` to a loaded PIL image in ``mode`` (None keeps the file's mode).

    16-bit greyscale is scaled to 8 bits for RGB/L/RGBA; palette images with transparency go
    through RGBA; CMYK converts to RGB. Raises (OSError and friends) for anything unreadable,
    and ``OSError`` for images with more than ``max_pixels`` pixels.

    With ``defer=True`` a JPEG (of a single frame) is checked as above but not decoded: the result is
    a :class:`~pimm.core.data.deferred_image.DeferredImage` holding the file's bytes, for a transform
    that decodes it at reduced size. Other formats are decoded as usual.
    """
    if defer and not _is_pil_image(sample):
        sample = read_bytes(sample)  # the deferred image owns its data: no file handle left open
    img, to_close = _open(sample)
    try:
        if max_pixels and img.size[0] * img.size[1] > max_pixels:
            raise OSError(
                f"image of {img.size[0]}x{img.size[1]} pixels exceeds the decompression-bomb limit of "
                f"{max_pixels} pixels (max_image_pixels)"
            )
        if defer and to_close is not None and img.format == "JPEG" and len(getattr(img, "tile", ())) == 1:
            from .deferred_image import DeferredImage

            deferred, to_close = DeferredImage(img, mode, convert_mode), None  # it closes the data once decoded
            return deferred
        img.load()
        return convert_mode(img, mode)
    finally:
        if to_close is not None:
            to_close.close()


def _is_pil_image(sample: Any) -> bool:
    from PIL import Image

    return isinstance(sample, Image.Image)


def read_bytes(sample: Any) -> bytes:
    """The raw bytes of a sample (``load_bytes=True``); a decoded image is returned unchanged."""
    if isinstance(sample, (bytes, bytearray)):
        data = bytes(sample)
    elif isinstance(sample, (str, os.PathLike)):
        with open_regular_file(sample) as f:
            data = f.read()
    elif hasattr(sample, "read"):
        try:
            data = sample.read()
        finally:
            sample.close()
    else:
        return sample
    if not data:
        raise OSError("zero-byte file")
    return data


try:  # POSIX advisory locks make "first to report a bad sample" exact across worker processes
    from fcntl import LOCK_EX as _LOCK_EX
    from fcntl import flock as _flock
except ImportError:  # pragma: no cover - Windows: appends stay atomic, a rare double warning is possible
    _flock, _LOCK_EX = None, 0


class BadSamples:
    """Record of skipped samples (index, name, reason), shared by a dataset's processes for a run.

    Every process appends what it skips to one log file (JSON lines, created on the first bad
    sample, removed when the owning dataset is collected) and reads what the others appended
    before deciding anything. So a bad sample is warned about once per run — not once per epoch
    or per DataLoader worker (workers are fresh copies each epoch unless persistent) — and is
    never decoded again once any process has found it bad.
    """

    def __init__(self) -> None:
        self.local: dict[str, str] = {}
        self.indices: set[int] = set()
        self._owner = os.getpid()
        self._read_upto = 0
        self.log_path = os.path.join(tempfile.gettempdir(), f"pimm-bad-samples-{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl")

    def refresh(self) -> None:
        """Take in what other processes have logged since the last look (one ``stat`` when nothing is new)."""
        try:
            size = os.stat(self.log_path).st_size
        except OSError:
            return
        if size <= self._read_upto:
            return
        with open(self.log_path, "rb") as f:
            f.seek(self._read_upto)
            chunk = f.read(size - self._read_upto)
        complete = chunk.rfind(b"\n") + 1  # a line still being written is read next time
        self._read_upto += complete
        for line in chunk[:complete].splitlines():
            try:
                index, name, reason = json.loads(line)
            except (ValueError, TypeError):
                continue
            if isinstance(index, int):
                self.indices.add(index)
            self.local.setdefault(str(name), str(reason))

    def is_bad(self, index: int) -> bool:
        """True when any process of this run has found sample ``index`` bad."""
        if index in self.indices:
            return True
        self.refresh()
        return index in self.indices

    def is_bad_name(self, name: str) -> bool:
        """True when any process of this run has found the sample called ``name`` bad."""
        if name in self.local:
            return True
        self.refresh()
        return name in self.local

    def record(self, index: int, name: str, reason: str) -> bool:
        """Remember a bad sample; True only the first time any process of the run reports it.

        Deciding "first" and appending happen under an exclusive lock on the log (POSIX), so two
        workers that meet the same bad file at once still produce one record and one warning.
        """
        try:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            fd = -1  # no shared log: the per-process record still holds it
        try:
            if fd >= 0 and _flock is not None:
                try:
                    _flock(fd, _LOCK_EX)
                except OSError:
                    pass  # a file system without locks: appends stay atomic
            self.refresh()
            first = index not in self.indices and name not in self.local
            self.indices.add(index)
            if not first:
                return False
            self.local[name] = reason
            if fd >= 0:
                try:  # one short O_APPEND write per line: lines from different workers never interleave
                    os.write(fd, (json.dumps([index, name, reason]) + "\n").encode("utf-8"))
                except OSError:
                    pass
            return True
        finally:
            if fd >= 0:
                os.close(fd)  # releases the lock

    def summary(self) -> dict[str, str]:
        """Every skipped sample (name -> reason) seen by this process and its workers."""
        self.refresh()
        return dict(self.local)

    def clear(self) -> None:
        """Forget every recorded sample (the log file too)."""
        self.local.clear()
        self.indices.clear()
        self._read_upto = 0
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._owner = None  # copies (workers, pickles) share the log but never delete it

    def __del__(self) -> None:
        try:
            if getattr(self, "_owner", None) == os.getpid():
                os.unlink(self.log_path)
        except Exception:  # no log written, or interpreter shutdown
            pass


def write_bad_sample_list(samples: dict[str, str], path: str | os.PathLike[str]) -> None:
    """Write ``name<TAB>reason`` lines to ``path`` atomically (a reader never sees half a list)."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".bad-samples-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for name, reason in sorted(samples.items()):
                f.write(f"{name}\t{reason}\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def describe_error(exc: BaseException) -> str:
    """One line naming an exception."""
    if type(exc).__name__ == "UnidentifiedImageError":
        return "not an image in a format PIL recognises"
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"


def warn_bad(name: str, reason: str, policy_hint: str) -> None:
    """The one warning issued per skipped file."""
    warnings.warn(f"skipped bad sample {name!r} ({reason}); {policy_hint}", BadSampleWarning, stacklevel=4)
