"""pimm.core.data: readers, datasets, transforms and augmentation machinery shared by every plugin.

Names are resolved lazily so that importing this package does not import torch.
"""

from __future__ import annotations

from typing import Any

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "Reader": ".reader",
    "IterableReader": ".reader",
    "ImageDataset": ".dataset",
    "IterableImageDataset": ".dataset",
    "BadImageError": ".image_load",
    "create_dataset": ".dataset_factory",
    "create_reader": ".reader_factory",
    "load_class_map": ".class_map",
    # transforms and losses
    "create_transform": ".transforms_factory",
    "resolve_data_config": ".data_config",
    "resolve_model_data_config": ".data_config",
    "SoftTargetCrossEntropy": ".losses",
    "LabelSmoothingCrossEntropy": ".losses",
    "IMAGENET_DEFAULT_MEAN": ".constants",
    "IMAGENET_DEFAULT_STD": ".constants",
    "IMAGENET_INCEPTION_MEAN": ".constants",
    "IMAGENET_INCEPTION_STD": ".constants",
    "DEFAULT_CROP_PCT": ".constants",
    # augmentation policies (RandAugment / AutoAugment / AugMix), built through the registry
    "rand_augment_transform": ".augment_policy",
    "auto_augment_transform": ".augment_policy",
    "augment_and_mix_transform": ".augment_policy",
    "augment_policy_from_config": ".augment_policy",
    "parse_rand_augment_config": ".augment_policy",
}

# Mixup, FastCollateMixup, RandomErasing, RandomResizedCropAndInterpolation: the classes of the
# registered augment components of those names, looked up on every access (see augment_classes)
_REGISTERED = ("Mixup", "FastCollateMixup", "RandomErasing", "RandomResizedCropAndInterpolation")

_lazy_getattr, _lazy_dir = lazy_exports(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    if name in _REGISTERED:
        from .augment_classes import registered_class

        return registered_class(name)
    return _lazy_getattr(name)


def __dir__() -> list[str]:
    return sorted(set(_lazy_dir()) | set(_REGISTERED))
