"""Specs of the pipeline transforms, RandomErasing and Mixup/CutMix (data only; no torch or PIL).

Role ``"transform"``: per-image transforms composed by ``create_transform`` (crops, resizes,
flips, colour jitter, tensor conversion, normalisation, RandomErasing). Role ``"batch"``:
transforms over ``(images, targets)`` batches (Mixup/CutMix, FastCollateMixup). Defaults are timm's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pimm.core.specs import AugmentSpec, NoOptions, Options

__all__ = ["TRANSFORM_SPECS"]

_MOD = "pimm.plugins.augment"
Size = int | tuple[int, int]
Interp = Literal["nearest", "bilinear", "bicubic", "box", "hamming", "lanczos", "random"]
_INTERP_DOC = (
    "Resampling filter name; 'random' picks bilinear or bicubic on every call "
    "(mapped to 'bilinear' where no randomness applies)."
)
_FILL_DOC = "Padding value: one int, or one per channel (e.g. round(255 * mean))."
_PAD_DOC = "How to pad: 'constant' (fill), 'edge', 'reflect' or 'symmetric'."


class RandomResizedCropOptions(Options):
    size: Size = Field(..., description="Output size: an int (square) or (height, width).")
    scale: tuple[float, float] = Field(
        default=(0.08, 1.0), description="Range of the crop's area as a fraction of the image area."
    )
    ratio: tuple[float, float] = Field(
        default=(3.0 / 4.0, 4.0 / 3.0),
        description="Range of the crop's aspect ratio (width/height), sampled log-uniformly.",
    )
    interpolation: Interp = Field(default="bilinear", description=_INTERP_DOC)
    reduced_decode: bool = Field(
        default=True,
        description="Accept an undecoded JPEG from the dataset and decode it at 1/2, 1/4 or 1/8 size when the "
        "crop shrinks by 2x or more (much faster on large photos; pixels differ slightly from a full decode). "
        "Decoded images are unaffected.",
    )


class ReducedDecodeOptions(Options):
    size: Size = Field(
        ..., description="Size the image is resized to next (an int or (height, width)): every edge of the "
        "reduced image stays at least its largest value.",
    )


class ResizeKeepRatioOptions(Options):
    size: Size = Field(..., description="Target size: an int (square) or (height, width).")
    longest: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="0: both edges at least the target (cover); 1: both at most the target (fit inside); "
        "values in between mix the two.",
    )
    interpolation: Interp = Field(default="bilinear", description=_INTERP_DOC)
    random_scale_prob: float = Field(default=0.0, ge=0.0, le=1.0, description="Probability of a random scale factor.")
    random_scale_range: tuple[float, float] = Field(
        default=(0.85, 1.05), description="Range of the random scale factor."
    )
    random_scale_area: bool = Field(
        default=False, description="Treat the scale factor as an area factor (1/sqrt), as RandomResizedCrop does."
    )
    random_aspect_prob: float = Field(default=0.0, ge=0.0, le=1.0, description="Probability of a random aspect jitter.")
    random_aspect_range: tuple[float, float] = Field(
        default=(0.9, 1.11),
        description="Range of the aspect factor (log-uniform; its sqrt divides H and multiplies W).",
    )


class CropOrPadOptions(Options):
    size: Size = Field(..., description="Output size: an int (square) or (height, width).")
    fill: int | tuple[int, ...] = Field(default=0, description=_FILL_DOC)
    padding_mode: Literal["constant", "edge", "reflect", "symmetric"] = Field(default="constant", description=_PAD_DOC)


class TrimBorderOptions(Options):
    border_size: int = Field(..., ge=0, description="Pixels cut from every edge.")


class ResizeOptions(Options):
    size: Size = Field(..., description="An int resizes the shorter edge to it; (height, width) resizes exactly.")
    interpolation: Interp = Field(default="bilinear", description=_INTERP_DOC)
    max_size: int | None = Field(default=None, description="Upper bound of the longer edge after an int resize.")
    antialias: bool = Field(default=True, description="Antialias when downsampling tensors (PIL always does).")


class SizeOptions(Options):
    size: Size = Field(..., description="Output size: an int (square) or (height, width).")


class FlipOptions(Options):
    p: float = Field(default=0.5, ge=0.0, le=1.0, description="Probability of flipping.")


class ColorJitterOptions(Options):
    brightness: float | tuple[float, float] = Field(
        default=0.0, description="x → factor in [max(0, 1-x), 1+x], or an explicit (min, max) factor range."
    )
    contrast: float | tuple[float, float] = Field(default=0.0, description="Like brightness, for contrast.")
    saturation: float | tuple[float, float] = Field(default=0.0, description="Like brightness, for saturation.")
    hue: float | tuple[float, float] = Field(
        default=0.0, description="x → hue shift in [-x, x] (x <= 0.5), or an explicit (min, max) range."
    )
    p: float | None = Field(
        default=None, ge=0.0, le=1.0, description="If set, apply the jitter with this probability (RandomApply)."
    )


class GrayscaleOptions(Options):
    p: float = Field(default=0.1, ge=0.0, le=1.0, description="Probability of converting to grayscale (channels kept).")


class GaussianBlurOptions(Options):
    p: float = Field(default=0.5, ge=0.0, le=1.0, description="Probability of blurring.")
    kernel_size: int = Field(default=23, gt=0, description="Odd kernel size in pixels.")
    sigma: tuple[float, float] = Field(default=(0.1, 2.0), description="Range of the blur's standard deviation.")


class NormalizeOptions(Options):
    mean: tuple[float, ...] = Field(default=(0.485, 0.456, 0.406), description="Per-channel mean subtracted.")
    std: tuple[float, ...] = Field(default=(0.229, 0.224, 0.225), description="Per-channel std divided by.")
    inplace: bool = Field(default=False, description="Normalise the input tensor in place.")


class RandomErasingOptions(Options):
    probability: float = Field(default=0.5, ge=0.0, le=1.0, description="Probability that an image gets erased boxes.")
    min_area: float = Field(
        default=0.02, gt=0.0, le=1.0, description="Minimum erased area, as a fraction of the image."
    )
    max_area: float = Field(
        default=1 / 3, gt=0.0, le=1.0, description="Maximum erased area, as a fraction of the image."
    )
    min_aspect: float = Field(default=0.3, gt=0.0, description="Minimum aspect ratio of a box (log-uniform).")
    max_aspect: float | None = Field(default=None, description="Maximum aspect ratio; None means 1 / min_aspect.")
    mode: Literal["const", "rand", "pixel"] = Field(
        default="const",
        description="Fill: 'const' zeros (the mean after normalisation), 'rand' one normal value per channel, "
        "'pixel' normal noise per pixel.",
    )
    min_count: int = Field(default=1, ge=1, description="Minimum number of boxes per erased image.")
    max_count: int | None = Field(default=None, description="Maximum number of boxes; None means min_count.")
    num_splits: int = Field(
        default=0, ge=0, description="For batches: leave the first B // num_splits images (the clean split) untouched."
    )
    device: str | None = Field(
        default=None, description="Ignored (accepted for timm compatibility): fills are made on the input's device."
    )


class MixupOptions(Options):
    mixup_alpha: float = Field(default=1.0, ge=0.0, description="Mixup Beta(α, α) parameter; mixup is active if > 0.")
    cutmix_alpha: float = Field(
        default=0.0, ge=0.0, description="CutMix Beta(α, α) parameter; CutMix is active if > 0."
    )
    cutmix_minmax: tuple[float, float] | None = Field(
        default=None, description="CutMix box size range as fractions of the image; forces cutmix_alpha=1."
    )
    prob: float = Field(default=1.0, ge=0.0, le=1.0, description="Probability of mixing a batch / pair / element.")
    switch_prob: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Probability of CutMix instead of Mixup when both are active."
    )
    mode: Literal["batch", "pair", "elem", "half"] = Field(
        default="batch",
        description="One λ per batch, per pair (i, B-1-i), or per element; 'half' (FastCollateMixup) mixes and "
        "returns only the first half.",
    )
    correct_lam: bool = Field(default=True, description="Correct λ to the exact area of a border-clipped CutMix box.")
    label_smoothing: float = Field(default=0.1, ge=0.0, lt=1.0, description="Label smoothing of the soft targets.")
    num_classes: int = Field(..., ge=1, description="Number of classes of the targets (required; no default).")
    multi_label: bool = Field(
        default=False, description="Targets are dense (B, num_classes) multi-label vectors, smoothed towards 0.5."
    )


def _spec(name: str, target: str, options: type[Options], summary: str, role: str = "transform",
          aliases: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> AugmentSpec:
    return AugmentSpec(
        name=name, target=f"{_MOD}.{target}", options=options, summary=summary, role=role,
        aliases=aliases, tags=frozenset(tags),
    )


TRANSFORM_SPECS: list[AugmentSpec] = [
    _spec("random_resized_crop", "transforms:RandomResizedCropAndInterpolation", RandomResizedCropOptions,
          "Crop a random area/aspect of the image and resize it (the training crop).",
          aliases=("RandomResizedCropAndInterpolation",), tags=("pil", "chw-tensor", "sized")),
    _spec("reduced_decode", "transforms:ReducedDecode", ReducedDecodeOptions,
          "Decode a dataset's undecoded JPEG at reduced size (eval opt-in fast_decode; changes pixels).",
          aliases=("ReducedDecode",), tags=("pil", "chw-tensor")),
    _spec("resize_keep_ratio", "transforms:ResizeKeepRatio", ResizeKeepRatioOptions,
          "Resize keeping the aspect ratio, optionally with random scale and aspect jitter.",
          aliases=("ResizeKeepRatio",), tags=("pil", "chw-tensor")),
    _spec("center_crop_or_pad", "transforms:CenterCropOrPad", CropOrPadOptions,
          "Centre crop, padding images smaller than the target.",
          aliases=("CenterCropOrPad",), tags=("pil", "chw-tensor", "sized")),
    _spec("random_crop_or_pad", "transforms:RandomCropOrPad", CropOrPadOptions,
          "Random crop, padding images smaller than the target.",
          aliases=("RandomCropOrPad",), tags=("pil", "chw-tensor", "sized")),
    _spec("trim_border", "transforms:TrimBorder", TrimBorderOptions,
          "Cut a fixed number of pixels from every edge.", aliases=("TrimBorder",), tags=("pil", "chw-tensor")),
    _spec("resize", "tv_builders:resize", ResizeOptions,
          "torchvision Resize (shorter edge for an int size).", tags=("pil", "chw-tensor")),
    _spec("center_crop", "tv_builders:center_crop", SizeOptions,
          "torchvision CenterCrop.", tags=("pil", "chw-tensor", "sized")),
    _spec("random_horizontal_flip", "tv_builders:random_horizontal_flip", FlipOptions,
          "Flip left-right with probability p.", aliases=("hflip",), tags=("pil", "chw-tensor")),
    _spec("random_vertical_flip", "tv_builders:random_vertical_flip", FlipOptions,
          "Flip top-bottom with probability p.", aliases=("vflip",), tags=("pil", "chw-tensor")),
    _spec("color_jitter", "tv_builders:color_jitter", ColorJitterOptions,
          "Random brightness/contrast/saturation/hue in random order (torchvision ColorJitter).",
          tags=("pil", "chw-tensor", "rgb")),
    _spec("random_grayscale", "tv_builders:random_grayscale", GrayscaleOptions,
          "Convert to grayscale with probability p, keeping the channel count.", tags=("pil", "chw-tensor", "rgb")),
    _spec("random_gaussian_blur", "tv_builders:random_gaussian_blur", GaussianBlurOptions,
          "Gaussian blur with a random sigma, applied with probability p.", tags=("pil", "chw-tensor")),
    _spec("to_tensor", "tensor_convert:MaybeToTensor", NoOptions,
          "PIL image → float CHW tensor in [0, 1]; tensors pass through.", aliases=("MaybeToTensor",),
          tags=("pil", "to-tensor")),
    _spec("pil_to_tensor", "tensor_convert:MaybePILToTensor", NoOptions,
          "PIL image → uint8 CHW tensor (unscaled); tensors pass through.", aliases=("MaybePILToTensor",),
          tags=("pil", "to-tensor")),
    _spec("normalize", "tv_builders:normalize", NormalizeOptions,
          "Per-channel (x - mean) / std on float tensors.", tags=("float-tensor",)),
    _spec("random_erasing", "random_erasing:RandomErasing", RandomErasingOptions,
          "Erase random boxes of normalised CHW/NCHW tensors in place (const, rand or pixel fill).",
          aliases=("RandomErasing",), tags=("float-tensor", "erasing")),
    _spec("mixup", "mixup:Mixup", MixupOptions,
          "Mixup/CutMix over a float (B, C, H, W) batch with smoothed soft targets.",
          role="batch", aliases=("Mixup",), tags=("mixup",)),
    _spec("fast_collate_mixup", "fast_collate_mixup:FastCollateMixup", MixupOptions,
          "collate_fn applying Mixup/CutMix to uint8 images while batching.",
          role="batch", aliases=("FastCollateMixup",), tags=("mixup", "collate")),
]
