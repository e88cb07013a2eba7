"""A JPEG opened but not yet decoded, handed to transforms that can decode it at reduced size.

JPEG stores 8x8 blocks of frequency coefficients, so libjpeg can decode an image at 1/2, 1/4 or
1/8 of its size for a fraction of the work (Pillow's ``draft``). A transform that knows it will
shrink the image anyway (the training crop resizing a 2000-pixel crop to 224) gains several
times over a full decode. The dataset hands such a transform a :class:`DeferredImage` instead of
a decoded image only when the transform says it accepts one (see :func:`accepts_deferred`);
everything else gets the fully decoded image, exactly as before.

A decode failure inside the transform is raised as :class:`DeferredDecodeError`, which the
datasets treat as a bad sample (skip or raise by policy), like a failure in ``load_image``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, PimmError

__all__ = ["DeferredImage", "DeferredDecodeError", "accepts_deferred", "dct_reduction", "DCT_REDUCTIONS"]

#: The reduction factors JPEG decoders offer, largest first.
DCT_REDUCTIONS = (8, 4, 2)


class DeferredDecodeError(PimmError, OSError):
    """A deferred JPEG failed to decode inside a transform; ``original`` is the decoder's exception."""

    def __init__(self, message: str, original: BaseException) -> None:
        super().__init__(message)
        self.original = original


def dct_reduction(src_w: float, src_h: float, out_w: int, out_h: int) -> int:
    """The largest JPEG reduction (8, 4, 2, else 1) that keeps a ``src_w`` x ``src_h`` region at
    least ``out_w`` x ``out_h`` pixels, so the final resize still only shrinks (never 1 when the
    region is downscaled by 2x or more on both axes)."""
    for factor in DCT_REDUCTIONS:
        if src_w / factor >= out_w and src_h / factor >= out_h:
            return factor
    return 1


class DeferredImage:
    """An opened, size-known, not yet decoded JPEG plus the mode it must end in.

    ``size`` / ``width`` / ``height`` are those of the full image (PIL's ``(width, height)``
    order for ``size``). :meth:`decode` decodes it once, optionally at a reduced size, and applies
    the same mode conversion as :func:`pimm.core.data.image_load.load_image`.
    """

    def __init__(self, img: Any, mode: str | None, convert: Callable[[Any, str | None], Any]) -> None:
        self._img = img
        self._target_mode = mode
        self._convert = convert
        self.size: tuple[int, int] = tuple(img.size)  # type: ignore[assignment]
        self.format: str | None = img.format

    @property
    def width(self) -> int:
        """Full-size width in pixels."""
        return self.size[0]

    @property
    def height(self) -> int:
        """Full-size height in pixels."""
        return self.size[1]

    def decode(self, reduction: int = 1) -> tuple[Any, int]:
        """Decode at ``1/reduction`` of the full size (1, 2, 4 or 8; see :func:`dct_reduction`).

        Returns ``(image, factor)``: the loaded PIL image in the target mode and the factor actually
        applied (1 when the decoder could not reduce this file). Full-size pixel coordinate ``x``
        maps to ``x / factor`` on the result. Raises :class:`DeferredDecodeError` when the data is
        damaged. Call it once.
        """
        if reduction not in (1, *DCT_REDUCTIONS):
            raise ConfigError(f"reduction must be 1, 2, 4 or 8, got {reduction!r}")
        img, factor = self._img, 1
        self._img = None
        if img is None:
            raise RuntimeError("DeferredImage.decode() was already called; it decodes once")
        try:
            if reduction > 1:
                width, height = self.size
                drafted = img.draft(None, (max(1, width // reduction), max(1, height // reduction)))
                if drafted is not None:
                    factor = round(width / drafted[1][2])
            img.load()
            return self._convert(img, self._target_mode), factor
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:
            raise DeferredDecodeError(f"cannot decode the JPEG: {exc}", exc) from exc
        finally:
            fp = getattr(img, "fp", None)
            if fp is not None:
                fp.close()

    def __repr__(self) -> str:
        return f"DeferredImage(format={self.format}, size={self.size}, mode={self._target_mode})"


def _first_step(transform: Any) -> Any:
    steps = getattr(transform, "transforms", None)
    if isinstance(steps, (list, tuple)) and steps:
        return _first_step(steps[0])
    return transform


def accepts_deferred(transform: Any) -> bool:
    """True when ``transform`` (or the first step of a ``Compose``) declares
    ``accepts_deferred_image = True``: it then gets a :class:`DeferredImage` for JPEG samples."""
    if transform is None:
        return False
    if getattr(transform, "accepts_deferred_image", False) is True:
        return True
    return getattr(_first_step(transform), "accepts_deferred_image", False) is True
