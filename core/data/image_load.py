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

__all__ = [
    "BadImageError",
    "BadSampleWarning",
    "BadSamples",
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
        if os.path.getsize(sample) == 0:
            raise OSError("zero-byte file")
        sample = open(sample, "rb")
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


def load_image(sample: Any, mode: str | None, max_pixels: int | None) -> Any:
    """Decode ``sample`` to a loaded PIL image in ``mode`` (None keeps the file's mode).

    16-bit greyscale is scaled to 8 bits for RGB/L/RGBA; palette images with transparency go
    through RGBA; CMYK converts to RGB. Raises (OSError and friends) for anything unreadable,
    and ``OSError`` for images with more than ``max_pixels`` pixels.
    """
    img, to_close = _open(sample)
    try:
        if max_pixels and img.size[0] * img.size[1] > max_pixels:
            raise OSError(
                f"image of {img.size[0]}x{img.size[1]} pixels exceeds the decompression-bomb limit of "
                f"{max_pixels} pixels (max_image_pixels)"
            )
        img.load()
        if mode:
            if img.mode in _SIXTEEN_BIT:
                img = _scale_to_8bit(img)
            elif img.mode == "P" and "transparency" in img.info:
                img = img.convert("RGBA")
            if img.mode != mode:
                img = img.convert(mode)
        return img
    finally:
        if to_close is not None:
            to_close.close()


def read_bytes(sample: Any) -> bytes:
    """The raw bytes of a sample (``load_bytes=True``); a decoded image is returned unchanged."""
    if isinstance(sample, (bytes, bytearray)):
        data = bytes(sample)
    elif isinstance(sample, (str, os.PathLike)):
        with open(sample, "rb") as f:
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


class BadSamples:
    """Record of skipped samples: name -> reason, in this process and across its workers.

    Each worker appends what it skips to a log file shared through pickling (created on the first
    bad sample, removed when the owning dataset is collected), so :meth:`summary` in the main
    process sees what every worker skipped.
    """

    def __init__(self) -> None:
        self.local: dict[str, str] = {}
        self.indices: set[int] = set()
        self._owner = os.getpid()
        self.log_path = os.path.join(tempfile.gettempdir(), f"pimm-bad-samples-{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl")

    def record(self, index: int, name: str, reason: str) -> bool:
        """Remember a bad sample; True the first time this process sees it."""
        self.indices.add(index)
        if name in self.local:
            return False
        self.local[name] = reason
        try:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (json.dumps([name, reason]) + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass  # the per-process record still holds it
        return True

    def summary(self) -> dict[str, str]:
        """Every skipped sample (name -> reason) seen by this process and its workers."""
        merged = dict(self.local)
        try:
            with open(self.log_path, encoding="utf-8") as f:
                for line in f:
                    try:
                        name, reason = json.loads(line)
                    except ValueError:
                        continue
                    merged.setdefault(name, reason)
        except OSError:
            pass
        return merged

    def clear(self) -> None:
        """Forget every recorded sample (the log file too)."""
        self.local.clear()
        self.indices.clear()
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


def describe_error(exc: BaseException) -> str:
    """One line naming an exception."""
    if type(exc).__name__ == "UnidentifiedImageError":
        return "not an image in a format PIL recognises"
    text = str(exc).strip() or "no message"
    return f"{type(exc).__name__}: {text}"


def warn_bad(name: str, reason: str, policy_hint: str) -> None:
    """The one warning issued per skipped file."""
    warnings.warn(f"skipped bad sample {name!r} ({reason}); {policy_hint}", BadSampleWarning, stacklevel=4)
