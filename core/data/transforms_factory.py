"""``create_transform``: the ImageNet-style train / eval pipelines, composed of registered components.

Every step is built with ``pimm.core.create("augment", name, ...)``, so a pipeline is a
torchvision ``Compose`` of the same components a user can create one by one (and its repr reads
like timm's). Defaults and pipelines follow timm's ``create_transform``:

- eval: ``Resize(floor(size / crop_pct))`` on the shorter edge + ``CenterCrop(size)`` (224 → 256),
  or the 'squash' / 'border' crop modes, then ``MaybeToTensor`` + ``Normalize``;
- train: ``RandomResizedCropAndInterpolation`` (or the 'rkrc'/'rkrr' keep-ratio crops), flips,
  auto-augment (RandAugment / AugMix / AutoAugment by config string) or ``ColorJitter``,
  grayscale, blur, then ``MaybeToTensor`` + ``Normalize`` + ``RandomErasing``;
- train with ``no_aug``: ``Resize(size)`` + ``CenterCrop(size)`` + tensor conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from ..factory import create_entry, resolve
from .augment_args import check_crop_pct, check_image_size, check_pair, check_probability, check_stats, scale_size
from .constants import DEFAULT_CROP_PCT, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = [
    "create_transform",
    "transforms_imagenet_train",
    "transforms_imagenet_eval",
    "transforms_noaug_train",
    "CROP_MODES",
    "TRAIN_CROP_MODES",
]

#: Eval crop modes: centre crop after a shorter-edge resize, squash (ignore aspect), border (fit + pad).
CROP_MODES: tuple[str, ...] = ("center", "squash", "border")
#: Train crop modes: RandomResizedCrop, keep-ratio resize + centre crop, keep-ratio resize + random crop.
TRAIN_CROP_MODES: tuple[str, ...] = ("rrc", "rkrc", "rkrr")
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "box", "hamming", "lanczos", "random")
_POLICY_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")

ImgSize = int | tuple[int, int]


def _aug(name: str, **options: Any) -> Any:
    # One resolution per step; prefer_builtin: the factory's own building blocks stay the builtin
    # ones when a third party registers the same name (docs/plugin-authors.md, "Name precedence").
    return create_entry(resolve("augment", name, prefer_builtin=True), **options)


def _compose(transforms: list[Any]) -> Any:
    from torchvision.transforms import Compose

    return Compose(transforms)


def _img_size(input_size: int | Sequence[int]) -> ImgSize:
    return check_image_size(input_size)


def _check_interpolation(interpolation: str) -> str:
    if interpolation not in _INTERPOLATIONS:
        raise ConfigError(
            f"unknown interpolation {interpolation!r}: use one of {', '.join(repr(i) for i in _INTERPOLATIONS)}"
        )
    return interpolation


def _check_stats(mean: Sequence[float], std: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return check_stats(mean, std)


def _final_steps(
    mean: tuple[float, ...],
    std: tuple[float, ...],
    normalize: bool,
    use_prefetcher: bool,
    re_prob: float = 0.0,
    re_mode: str = "const",
    re_count: int = 1,
    re_num_splits: int = 0,
) -> list[Any]:
    if use_prefetcher or not normalize:
        return [_aug("pil_to_tensor")]
    steps = [_aug("to_tensor"), _aug("normalize", mean=mean, std=std)]
    if re_prob > 0.0:
        steps.append(
            _aug("random_erasing", probability=re_prob, mode=re_mode, max_count=re_count, num_splits=re_num_splits)
        )
    return steps


def _color_jitter_args(color_jitter: float | Sequence[float]) -> dict[str, Any]:
    if isinstance(color_jitter, (int, float)) and not isinstance(color_jitter, bool):
        value = float(color_jitter)
        return {"brightness": value, "contrast": value, "saturation": value}
    if isinstance(color_jitter, Sequence) and len(color_jitter) in (3, 4):
        names = ("brightness", "contrast", "saturation", "hue")
        return {n: float(v) for n, v in zip(names, color_jitter)}
    raise ConfigError(
        f"color_jitter must be a number or a (brightness, contrast, saturation[, hue]) tuple, got {color_jitter!r}"
    )


def _auto_augment(auto_augment: str, img_size: ImgSize, mean: tuple[float, ...], interpolation: str) -> Any:
    size_min = min(img_size) if isinstance(img_size, tuple) else img_size
    hparams: dict[str, Any] = {
        "translate_const": int(size_min * 0.45),
        "img_mean": tuple(min(255, round(255 * m)) for m in mean),
    }
    if interpolation in _POLICY_INTERPOLATIONS:
        hparams["interpolation"] = interpolation
    if auto_augment.startswith("augmix"):
        hparams["translate_pct"] = 0.3
    from .augment_policy import augment_policy_from_config

    return augment_policy_from_config(auto_augment, hparams)


def transforms_imagenet_train(
    img_size: ImgSize = 224,
    scale: Sequence[float] | None = None,
    ratio: Sequence[float] | None = None,
    train_crop_mode: str | None = None,
    hflip: float = 0.5,
    vflip: float = 0.0,
    color_jitter: float | Sequence[float] | None = 0.4,
    color_jitter_prob: float | None = None,
    force_color_jitter: bool = False,
    grayscale_prob: float = 0.0,
    gaussian_blur_prob: float = 0.0,
    auto_augment: str | None = None,
    interpolation: str = "random",
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
    re_prob: float = 0.0,
    re_mode: str = "const",
    re_count: int = 1,
    re_num_splits: int = 0,
    use_prefetcher: bool = False,
    normalize: bool = True,
    separate: bool = False,
    fast_decode: bool = True,
) -> Any:
    """The training pipeline: primary (crop, flips), secondary (colour / auto-augment), final (tensor).

    ``separate=True`` returns the three stages as a tuple of Composes (for AugMix-style datasets).
    Auto-augment disables ColorJitter unless ``force_color_jitter`` or '3a' is in the config string.
    ``fast_decode`` lets the RandomResizedCrop decode a dataset's JPEGs at reduced size when the crop
    shrinks by 2x or more (see docs/transforms.md); False decodes every image in full, as timm does.
    """
    mean_t, std_t = _check_stats(mean, std)
    _check_interpolation(interpolation)
    img_size = _img_size(img_size)
    scale, ratio = check_pair(scale, "scale"), check_pair(ratio, "ratio")
    hflip, vflip = check_probability(hflip, "hflip"), check_probability(vflip, "vflip")
    grayscale_prob = check_probability(grayscale_prob, "grayscale_prob")
    gaussian_blur_prob = check_probability(gaussian_blur_prob, "gaussian_blur_prob")
    re_prob = check_probability(re_prob, "re_prob")
    if color_jitter_prob is not None:
        color_jitter_prob = check_probability(color_jitter_prob, "color_jitter_prob")
    train_crop_mode = train_crop_mode or "rrc"
    if train_crop_mode not in TRAIN_CROP_MODES:
        raise ConfigError(f"unknown train_crop_mode {train_crop_mode!r}: use one of {', '.join(TRAIN_CROP_MODES)}")
    primary: list[Any] = []
    if train_crop_mode == "rrc":
        primary.append(
            _aug(
                "random_resized_crop", size=img_size, scale=tuple(scale or (0.08, 1.0)),
                ratio=tuple(ratio or (3.0 / 4.0, 4.0 / 3.0)), interpolation=interpolation,
                reduced_decode=bool(fast_decode),
            )
        )
    else:
        primary.append(
            _aug(
                "resize_keep_ratio", size=img_size, interpolation=interpolation, random_scale_prob=0.5,
                random_scale_range=tuple(scale or (0.8, 1.0)), random_scale_area=True, random_aspect_prob=0.5,
                random_aspect_range=tuple(ratio or (0.9, 1 / 0.9)),
            )
        )
        crop = "center_crop_or_pad" if train_crop_mode == "rkrc" else "random_crop_or_pad"
        primary.append(_aug(crop, size=img_size, padding_mode="reflect"))
    if hflip > 0.0:
        primary.append(_aug("random_horizontal_flip", p=hflip))
    if vflip > 0.0:
        primary.append(_aug("random_vertical_flip", p=vflip))

    secondary: list[Any] = []
    disable_color_jitter = False
    if auto_augment:
        if not isinstance(auto_augment, str):
            raise ConfigError(f"auto_augment must be a config string like 'rand-m9-mstd0.5', got {auto_augment!r}")
        disable_color_jitter = not (force_color_jitter or "3a" in auto_augment)
        secondary.append(_auto_augment(auto_augment, img_size, mean_t, interpolation))
    if color_jitter is not None and not disable_color_jitter:
        secondary.append(_aug("color_jitter", **_color_jitter_args(color_jitter), p=color_jitter_prob))
    if grayscale_prob:
        secondary.append(_aug("random_grayscale", p=grayscale_prob))
    if gaussian_blur_prob:
        secondary.append(_aug("random_gaussian_blur", p=gaussian_blur_prob, kernel_size=23))

    final = _final_steps(mean_t, std_t, normalize, use_prefetcher, re_prob, re_mode, re_count, re_num_splits)
    if separate:
        return _compose(primary), _compose(secondary), _compose(final)
    return _compose(primary + secondary + final)


def _fixed_interpolation(interpolation: str) -> str:
    """A validated interpolation name for deterministic pipelines: 'random' means bilinear there."""
    interpolation = _check_interpolation(interpolation)
    return "bilinear" if interpolation == "random" else interpolation


def transforms_imagenet_eval(
    img_size: ImgSize = 224,
    crop_pct: float | None = None,
    crop_mode: str | None = None,
    crop_border_pixels: int | None = None,
    interpolation: str = "bilinear",
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
    use_prefetcher: bool = False,
    normalize: bool = True,
    fast_decode: bool = False,
) -> Any:
    """The eval pipeline: resize to ``floor(size / crop_pct)`` then crop by ``crop_mode``, then tensor.

    Its pixels equal timm's. ``fast_decode=True`` (opt-in) CHANGES PIXELS: a dataset's JPEGs are then
    decoded at 1/2, 1/4 or 1/8 size whenever every edge stays at least the resize target, so the
    resize starts from a smaller image (faster on large photos, slightly different values).
    """
    mean_t, std_t = _check_stats(mean, std)
    interpolation = _fixed_interpolation(interpolation)
    img_size = _img_size(img_size)
    crop_pct = check_crop_pct(crop_pct, DEFAULT_CROP_PCT)
    crop_mode = crop_mode or "center"
    if crop_mode not in CROP_MODES:
        raise ConfigError(f"unknown crop_mode {crop_mode!r}: use one of {', '.join(CROP_MODES)}")
    resize_to = scale_size(img_size, crop_pct)
    steps: list[Any] = []
    if fast_decode:
        if crop_border_pixels:
            raise ConfigError(
                "fast_decode=True cannot be combined with crop_border_pixels (the border is counted in "
                "full-size pixels); drop one of them"
            )
        steps.append(_aug("reduced_decode", size=resize_to))
    if crop_border_pixels:
        steps.append(_aug("trim_border", border_size=crop_border_pixels))
    if crop_mode == "squash":
        steps.append(_aug("resize", size=resize_to, interpolation=interpolation))
        steps.append(_aug("center_crop", size=img_size))
    elif crop_mode == "border":
        fill = tuple(round(255 * m) for m in mean_t)
        steps.append(_aug("resize_keep_ratio", size=resize_to, interpolation=interpolation, longest=1.0))
        steps.append(_aug("center_crop_or_pad", size=img_size, fill=fill))
    else:
        if resize_to[0] == resize_to[1]:
            steps.append(_aug("resize", size=resize_to[0], interpolation=interpolation))
        else:
            steps.append(_aug("resize_keep_ratio", size=resize_to, interpolation=interpolation))
        steps.append(_aug("center_crop", size=img_size))
    steps += _final_steps(mean_t, std_t, normalize, use_prefetcher)
    return _compose(steps)


def transforms_noaug_train(
    img_size: ImgSize = 224,
    interpolation: str = "bilinear",
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
    use_prefetcher: bool = False,
    normalize: bool = True,
    fast_decode: bool = False,
) -> Any:
    """Training without augmentation: resize (shorter edge for an int size) + centre crop + tensor.

    ``fast_decode=True`` (opt-in, changes pixels) decodes JPEGs at reduced size as in the eval pipeline.
    """
    mean_t, std_t = _check_stats(mean, std)
    interpolation = _fixed_interpolation(interpolation)
    img_size = _img_size(img_size)
    steps = [_aug("resize", size=img_size, interpolation=interpolation), _aug("center_crop", size=img_size)]
    if fast_decode:
        steps.insert(0, _aug("reduced_decode", size=img_size))
    return _compose(steps + _final_steps(mean_t, std_t, normalize, use_prefetcher))


def create_transform(
    input_size: int | Sequence[int] = 224,
    is_training: bool = False,
    no_aug: bool = False,
    train_crop_mode: str | None = None,
    scale: Sequence[float] | None = None,
    ratio: Sequence[float] | None = None,
    hflip: float = 0.5,
    vflip: float = 0.0,
    color_jitter: float | Sequence[float] | None = 0.4,
    color_jitter_prob: float | None = None,
    grayscale_prob: float = 0.0,
    gaussian_blur_prob: float = 0.0,
    auto_augment: str | None = None,
    interpolation: str = "bilinear",
    mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] = IMAGENET_DEFAULT_STD,
    re_prob: float = 0.0,
    re_mode: str = "const",
    re_count: int = 1,
    re_num_splits: int = 0,
    crop_pct: float | None = None,
    crop_mode: str | None = None,
    crop_border_pixels: int | None = None,
    tf_preprocessing: bool = False,
    use_prefetcher: bool = False,
    normalize: bool = True,
    separate: bool = False,
    naflex: bool = False,
    patch_size: int | tuple[int, int] = 16,
    max_seq_len: int = 576,
    patchify: bool = False,
    patchify_channels_last: bool = True,
    patchify_flatten: bool = True,
    fast_decode: bool | None = None,
) -> Any:
    """Build the train or eval image transform (timm's arguments and defaults).

    ``input_size`` is an int, ``(H, W)`` or ``(C, H, W)``. Returns a torchvision ``Compose`` (or,
    with ``separate=True`` in training, a tuple of the three stage Composes). The NaFlex / patchify
    arguments are accepted for signature compatibility; enabling them is an error (not supported).

    ``fast_decode`` (pimm's, not timm's): reduced-size JPEG decoding for images from a pimm dataset.
    None means on for the RandomResizedCrop training pipeline and off elsewhere, so evaluation
    pixels equal timm's; True in evaluation is an opt-in that changes pixels; False turns it off.
    """
    if fast_decode is not None and not isinstance(fast_decode, bool):
        raise ConfigError(f"fast_decode must be True, False or None, got {fast_decode!r}")
    img_size = _img_size(input_size)
    if tf_preprocessing:
        raise ConfigError("tf_preprocessing is not supported by pimm; drop it to get the standard pipeline")
    if naflex or patchify:
        raise ConfigError("naflex / patchify pipelines are not supported by pimm; leave naflex and patchify False")
    if is_training and no_aug:
        if separate:
            raise ConfigError("separate=True needs augmentation stages; it cannot be combined with no_aug=True")
        return transforms_noaug_train(
            img_size, interpolation=interpolation, mean=mean, std=std,
            use_prefetcher=use_prefetcher, normalize=normalize, fast_decode=bool(fast_decode),
        )
    if is_training:
        return transforms_imagenet_train(
            img_size, scale=scale, ratio=ratio, train_crop_mode=train_crop_mode, hflip=hflip, vflip=vflip,
            color_jitter=color_jitter, color_jitter_prob=color_jitter_prob, grayscale_prob=grayscale_prob,
            gaussian_blur_prob=gaussian_blur_prob, auto_augment=auto_augment, interpolation=interpolation,
            mean=mean, std=std, re_prob=re_prob, re_mode=re_mode, re_count=re_count,
            re_num_splits=re_num_splits, use_prefetcher=use_prefetcher, normalize=normalize, separate=separate,
            fast_decode=fast_decode is not False,
        )
    if separate:
        raise ConfigError("separate=True only applies to training transforms (is_training=True)")
    return transforms_imagenet_eval(
        img_size, interpolation=interpolation, mean=mean, std=std, crop_pct=crop_pct, crop_mode=crop_mode,
        crop_border_pixels=crop_border_pixels, use_prefetcher=use_prefetcher, normalize=normalize,
        fast_decode=bool(fast_decode),
    )
