"""Interpolation names ('bilinear', 'bicubic', ...) mapped to PIL and torchvision modes.

Every transform that resizes takes the interpolation as a name; this module validates the name
(with a clear error listing the accepted ones) and converts it.
"""

from __future__ import annotations

from PIL import Image
from torchvision.transforms import InterpolationMode

from pimm.core.errors import ConfigError

__all__ = [
    "INTERPOLATION_NAMES",
    "RANDOM_INTERPOLATIONS",
    "check_interpolation",
    "str_to_pil_interp",
    "str_to_interp_mode",
    "interp_mode_to_str",
]

_PIL = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
    "lanczos": Image.Resampling.LANCZOS,
}
_TORCH = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "box": InterpolationMode.BOX,
    "hamming": InterpolationMode.HAMMING,
    "lanczos": InterpolationMode.LANCZOS,
}
_TORCH_TO_STR = {mode: name for name, mode in _TORCH.items()}

#: Accepted interpolation names ('random' is accepted where a transform samples per call).
INTERPOLATION_NAMES: tuple[str, ...] = tuple(_PIL)
#: The modes 'random' chooses between, uniformly, on every call.
RANDOM_INTERPOLATIONS: tuple[InterpolationMode, ...] = (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)


def check_interpolation(name: str, allow_random: bool = True) -> str:
    """Return ``name`` if it is a known interpolation name, else raise a ConfigError."""
    accepted = INTERPOLATION_NAMES + (("random",) if allow_random else ())
    if not isinstance(name, str) or name not in accepted:
        raise ConfigError(
            f"unknown interpolation {name!r}: use one of {', '.join(repr(a) for a in accepted)}"
        )
    return name


def str_to_pil_interp(name: str) -> Image.Resampling:
    """PIL resampling filter for an interpolation name."""
    return _PIL[check_interpolation(name, allow_random=False)]


def str_to_interp_mode(name: str) -> InterpolationMode:
    """torchvision ``InterpolationMode`` for an interpolation name."""
    return _TORCH[check_interpolation(name, allow_random=False)]


def interp_mode_to_str(mode: InterpolationMode) -> str:
    """Interpolation name of a torchvision mode."""
    return _TORCH_TO_STR[mode]
