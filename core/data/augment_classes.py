"""timm's augmentation classes on ``pimm.core`` (``core.Mixup``, ``core.RandomErasing`` ...), found
through the registry.

Each public name stands for a registered ``augment`` component; the class is that component's
target, imported on access. Core never imports a plugin: blocking or removing the plugin that
provides the component makes the name fail with the registry's explanation (e.g. that the plugin
is blocked by ``PIMM_BLOCK_PLUGINS``).
"""

from __future__ import annotations

from typing import Any

from ..errors import LookupFailure, PimmError, PluginError
from ..factory import load_target, resolve

__all__ = ["REGISTERED_CLASSES", "ComponentUnavailableError", "registered_class"]

#: Public class name -> the augment component whose target it is.
REGISTERED_CLASSES: dict[str, str] = {
    "Mixup": "mixup",
    "FastCollateMixup": "fast_collate_mixup",
    "RandomErasing": "random_erasing",
    "RandomResizedCropAndInterpolation": "random_resized_crop",
}


class ComponentUnavailableError(PluginError, AttributeError):
    """A public name that stands for a registered component whose plugin is blocked, failed or absent."""


def registered_class(public_name: str) -> Any:
    """The class behind ``pimm.core.<public_name>``: the target of its registered augment component.

    Core's own default names resolve to the builtin provider when a third party registers the
    same name.
    """
    component = REGISTERED_CLASSES[public_name]
    try:
        entry = resolve("augment", component, prefer_builtin=True)
        return load_target(entry)
    except (LookupFailure, PimmError) as exc:
        raise ComponentUnavailableError(
            f"{public_name} is the class of the augment component {component!r}, which is not available: {exc}"
        ) from None
