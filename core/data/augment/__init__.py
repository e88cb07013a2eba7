"""pimm.core.data.augment: the augment-op contract every op plugin builds on, builtin or third-party.

- :class:`AugmentOp`, the base class of an op (probability, magnitude sampling, repr, the PIL and
  tensor dispatch); an op defines ``name``, :meth:`AugmentOp.level_args` and
  :meth:`AugmentOp.apply_pil`, and optionally a native tensor path.
- :class:`OpOptions` / :class:`OpHParams`, the options every op component accepts, so policies
  can build any registered op the same way.
- Magnitude sampling (:func:`sample_magnitude`, :func:`sample_magnitudes`, ``LEVEL_DENOM``).
- The tensor working format (:class:`TensorCtx`, :class:`WorkInfo` and the conversion helpers)
  and PIL fill/resampling helpers.

Names resolve lazily: importing this package (and the options models) imports no torch or PIL.
"""

from __future__ import annotations

from ..._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "AugmentOp": ".op",
    "OpOptions": ".options",
    "OpHParams": ".options",
    "LEVEL_DENOM": ".magnitude",
    "sample_magnitude": ".magnitude",
    "sample_magnitudes": ".magnitude",
    "TensorCtx": ".tensor_io",
    "WorkInfo": ".tensor_io",
    "as_batch": ".tensor_io",
    "unbatch": ".tensor_io",
    "encode": ".tensor_io",
    "decode": ".tensor_io",
    "to_uint8": ".tensor_io",
    "settle": ".tensor_io",
    "take": ".tensor_io",
    "put": ".tensor_io",
    "fill_values": ".tensor_io",
    "to_work": ".tensor_io",
    "from_work": ".tensor_io",
    "SUPPORTED_MODES": ".pil",
    "pil_fill": ".pil",
    "pil_resample": ".pil",
    "pil_colour_only": ".pil",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
