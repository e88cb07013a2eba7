"""pimm.core: the kernel. Specs, hooks, plugin loading, the registry and ``create``.

Importing this package is cheap: it imports no torch, torchvision or PIL, and it loads no
plugin. Plugins load on first use (``create``, ``list_names`` ...); torch is imported only
when something is built. The per-kind helpers (``create_model``, ``create_optimizer`` ...)
are resolved lazily on first attribute access.
"""

from __future__ import annotations

from ._lazy import lazy_exports
from ._version import __version__
from .errors import (
    AmbiguousComponentError,
    ConfigError,
    LookupFailure,
    OptionsError,
    PimmError,
    PluginError,
    PluginLoadError,
    SpecError,
    UnknownComponentError,
    UnknownPluginError,
)
from .hookspecs import hookimpl, hookspec

# Public names resolved on first access: the registry and specs need pydantic, and the per-kind
# packages may need torch, so none of them is imported by ``from pimm import core``.
_LAZY: dict[str, str] = {}


def _lazy(module: str, *names: str) -> None:
    for name in names:
        _LAZY[name] = module


_lazy(".factory", "create", "create_entry", "resolve", "list_names", "get_spec", "Origin")  # kernel
_lazy(".models", "create_model", "list_models", "list_pretrained", "save_pretrained", "load_checkpoint",
      "is_model", "get_pretrained_cfg", "get_pretrained_cfg_value", "list_modules")
_lazy(".data", "create_transform", "rand_augment_transform", "resolve_data_config", "Mixup")
_lazy(".data", "create_dataset", "ImageDataset", "IterableImageDataset", "Reader")
_lazy(".optim", "create_optimizer", "create_optimizer_v2", "list_optimizers")
_lazy(".manager", "register_plugin", "unregister_plugin", "reset_plugins")
_lazy(
    ".specs",
    "KINDS",
    "ComponentSpec",
    "ModelSpec",
    "PoolSpec",
    "AugmentSpec",
    "ReaderSpec",
    "OptimizerSpec",
    "PretrainedCfg",
    "Options",
    "NoOptions",
)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

#: Kernel modules: their names are in ``__all__``; the per-kind packages' names are not (torch).
_KERNEL_MODULES = (".factory", ".manager", ".specs")


__all__ = list(dict.fromkeys([
    "__version__",
    "KINDS",
    "create",
    "list_names",
    "get_spec",
    "Origin",
    "hookimpl",
    "hookspec",
    "register_plugin",
    "unregister_plugin",
    "reset_plugins",
    "ComponentSpec",
    "ModelSpec",
    "PoolSpec",
    "AugmentSpec",
    "ReaderSpec",
    "OptimizerSpec",
    "PretrainedCfg",
    "Options",
    "NoOptions",
    "PimmError",
    "PluginError",
    "PluginLoadError",
    "UnknownPluginError",
    "SpecError",
    "LookupFailure",
    "UnknownComponentError",
    "AmbiguousComponentError",
    "OptionsError",
    "ConfigError",
    # The kernel's lazy names; the per-kind helpers (create_model, create_transform, ...) are left
    # out on purpose: `from pimm.core import *` must not import torch. Import them by name.
    *(name for name, module in _LAZY.items() if module in _KERNEL_MODULES),
]))
