"""pimm.core.data: readers, datasets, transforms and augmentation machinery shared by every plugin.

Names are resolved lazily so that importing this package does not import torch.
"""

from __future__ import annotations

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
    # transforms, Mixup/CutMix, RandomErasing, losses (the classes live in the builtin augment plugin)
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
    "Mixup": "pimm.plugins.augment.mixup",
    "FastCollateMixup": "pimm.plugins.augment.fast_collate_mixup",
    "RandomErasing": "pimm.plugins.augment.random_erasing",
    "RandomResizedCropAndInterpolation": "pimm.plugins.augment.transforms",
    # augmentation policies (RandAugment / AutoAugment / AugMix), built through the registry
    "rand_augment_transform": ".augment_policy",
    "auto_augment_transform": ".augment_policy",
    "augment_and_mix_transform": ".augment_policy",
    "augment_policy_from_config": ".augment_policy",
    "parse_rand_augment_config": ".augment_policy",
    # public name -> submodule defining it
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
