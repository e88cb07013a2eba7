"""Pictures of augmentations: a grid of augmented samples of one image, drawn with matplotlib.

``render_augment_grid(config, image, out_path)`` understands these configs:

- ``'rrc'``: RandomResizedCrop at increasing crop scales (0.08 → 1.0 across the grid);
- ``'train'``: the default training pipeline of ``create_transform`` (before tensor conversion);
- an auto-augment string: ``'rand-m9-mstd0.5'``, ``'augmix-m3-w3'``, ``'original'``, ...;
- ``'mixup'`` / ``'cutmix'`` (optionally ``'mixup-a0.4'``: the Beta α): Mixup or CutMix in 'elem'
  mode on a batch made from the image (crops; every other one colour-inverted so partners differ),
  each cell captioned with its λ;
- the name of any registered augment op (``'Rotate'``, ``'Solarize'`` ...), applied with p=1 at
  magnitude 9.

The first cell is always the (resized) input; the others are samples, each titled with what was
applied to it: the ops a policy drew that changed the image (``Rotate, Solarize``), the crop scale
or Mixup's λ.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["render_augment_grid", "augment_samples"]

_CELL = 224


def _load(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    path = Path(image)
    if not path.is_file():
        raise ConfigError(f"image {str(path)!r} does not exist")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise ConfigError(
            f"cannot read {str(path)!r} as an image ({type(exc).__name__}: {exc}); give a JPEG, PNG or "
            "other file Pillow can open"
        ) from None


def _base(img: Any) -> Any:
    from PIL import Image

    return _resize_crop(img, Image.Resampling.BICUBIC)


def _resize_crop(img: Any, resample: Any) -> Any:
    width, height = img.size
    scale = _CELL / min(width, height)
    img = img.resize((max(_CELL, round(width * scale)), max(_CELL, round(height * scale))), resample)
    left, top = (img.width - _CELL) // 2, (img.height - _CELL) // 2
    return img.crop((left, top, left + _CELL, top + _CELL))


def _rrc_samples(img: Any, count: int) -> list[tuple[Any, str]]:
    from .. import factory

    out = []
    for k in range(count):
        scale = 0.08 + (1.0 - 0.08) * k / max(1, count - 1)
        rrc = factory.create("augment", "random_resized_crop", size=_CELL, scale=(scale, scale))
        out.append((rrc(img), f"scale {scale:.2f}"))
    return out


class _Recorder:
    """Stands in for one op of a policy: calls it and notes its name when it changed the image."""

    def __init__(self, op: Callable[[Any], Any], log: list[str]) -> None:
        self.op = op
        self.log = log
        name = getattr(op, "name", None)
        self.name = str(name) if isinstance(name, str) else type(op).__name__.replace("AndInterpolation", "")

    def __call__(self, img: Any) -> Any:
        out = self.op(img)
        if out is not img:
            self.log.append(self.name)
        return out

    def __getattr__(self, item: str) -> Any:
        return getattr(self.op, item)


def _wrap_ops(transform: Any, log: list[str], depth: int = 0) -> Any:
    """Wrap the ops a policy draws from (``ops`` lists, ``policy`` sub-policy lists, ``transforms`` of a
    Compose, searched recursively) so that each sample records which ops it went through."""
    if depth > 4 or transform is None:
        return transform
    if getattr(transform, "name", None) is not None and hasattr(transform, "magnitude"):
        return _Recorder(transform, log)  # a single op
    found = False
    for attr in ("transforms", "ops", "policy"):
        items = getattr(transform, attr, None)
        if isinstance(items, list):
            found = True
            setattr(transform, attr, [
                [_wrap_ops(op, log, depth + 1) for op in item] if isinstance(item, (list, tuple))
                else _wrap_ops(item, log, depth + 1) for item in items])
    if not found and depth > 0 and callable(transform):
        return _Recorder(transform, log)  # a pipeline step (crop, flip, jitter): named when it acted
    return transform


def _per_image(transform: Callable[[Any], Any], img: Any, count: int) -> list[tuple[Any, str]]:
    from PIL import Image

    log: list[str] = []
    transform = _wrap_ops(transform, log)
    out = []
    for _ in range(count):
        log.clear()
        result = transform(img)
        if not isinstance(result, Image.Image):
            raise ConfigError(f"augmentation returned {type(result).__name__}, expected a PIL image")
        caption = ", ".join(log) if log else "no op applied"
        out.append((_resize_crop(result, Image.Resampling.BICUBIC) if result.size != (_CELL, _CELL) else result,
                    caption))
    return out


def _mix_samples(kind: str, alpha: float, img: Any, count: int) -> list[tuple[Any, str]]:
    import torch
    from PIL import ImageOps

    from .. import factory

    rrc = factory.create("augment", "random_resized_crop", size=_CELL, scale=(0.35, 1.0))
    to_tensor = factory.create("augment", "to_tensor")
    crops = [rrc(img) for _ in range(count)]
    crops = [ImageOps.invert(c) if i % 2 else c for i, c in enumerate(crops)]
    batch = torch.stack([to_tensor(c) for c in crops])
    if kind == "mixup":
        options = {"mixup_alpha": alpha, "cutmix_alpha": 0.0}
    else:
        options = {"mixup_alpha": 0.0, "cutmix_alpha": alpha}
    mixup = factory.create("augment", "mixup", mode="elem", label_smoothing=0.0, num_classes=count, **options)
    mixed, target = mixup(batch, torch.arange(count))
    pictures = []
    for i in range(count):
        array = (mixed[i].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        from PIL import Image

        pictures.append((Image.fromarray(array), f"lam={float(target[i, i]):.2f}"))
    return pictures


def _parse_mix(config: str) -> tuple[str, float]:
    kind, _, rest = config.partition("-")
    alpha = 1.0
    if rest:
        if not rest.startswith("a"):
            raise ConfigError(
                f"bad {kind} config {config!r}: expected '{kind}' or '{kind}-a<alpha>', e.g. '{kind}-a0.4'"
            )
        try:
            alpha = float(rest[1:])
        except ValueError:
            raise ConfigError(f"bad {kind} alpha in {config!r}: {rest[1:]!r} is not a number") from None
        if alpha <= 0:
            raise ConfigError(f"{kind} alpha must be > 0, got {alpha}")
    return kind, alpha


class _Chain:
    """Apply ``transforms`` in order (what a Compose does; kept here so the ops inside can be recorded)."""

    def __init__(self, transforms: list[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img


def _transform_for(config: str) -> Callable[[Any], Any] | None:
    from .. import factory
    from ..registry import get_registry

    if config == "train":
        from ..data.transforms_factory import create_transform

        primary, secondary, _ = create_transform(_CELL, is_training=True, separate=True)
        return _Chain([primary, secondary])
    for entry in get_registry().entries("augment"):
        if entry.name == config and getattr(entry.spec, "role", None) == "op":
            return factory.create("augment", entry.qualified_name, p=1.0, magnitude=9)
    if config[:1].isalpha():
        from ..data.augment_policy import augment_policy_from_config

        return augment_policy_from_config(config, {"translate_const": int(_CELL * 0.45)})
    return None


def augment_samples(config: str, image: Any, count: int, seed: int | None = 0) -> list[tuple[Any, str]]:
    """``count`` augmented 224×224 PIL samples of ``image`` (a path or PIL image) with captions."""
    if not isinstance(config, str) or not config:
        raise ConfigError(f"augment config must be a non-empty string such as 'rrc' or 'rand-m9', got {config!r}")
    if seed is not None:
        import numpy as np
        import torch

        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
    img = _load(image)
    if config == "rrc":
        return _rrc_samples(img, count)
    if config.split("-", 1)[0] in ("mixup", "cutmix"):
        return _mix_samples(*_parse_mix(config), img, count)
    transform = _transform_for(config)
    if transform is None:
        raise ConfigError(
            f"unknown augment config {config!r}: use 'rrc', 'train', 'mixup', 'cutmix', an auto-augment string "
            "('rand-m9-mstd0.5', 'augmix-m3', 'original') or an op name ('Rotate')"
        )
    base = _base(img)
    return _per_image(transform, base, count)


def render_augment_grid(
    config: str,
    image_path: str | Path | Any,
    out_path: str | Path,
    rows: int = 2,
    cols: int = 4,
    seed: int | None = 0,
) -> Path:
    """Render a ``rows`` × ``cols`` PNG grid with matplotlib: the input first, then augmented samples,
    each titled with what was applied (the ops of a policy, the crop scale, Mixup's λ). Returns the path."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if rows < 1 or cols < 1:
        raise ConfigError(f"rows and cols must be >= 1, got rows={rows}, cols={cols}")
    count = rows * cols
    samples = augment_samples(config, image_path, max(1, count - 1), seed=seed)
    cells = [(_base(_load(image_path)), "input"), *samples][:count]
    fig = Figure(figsize=(2.6 * cols, 2.9 * rows + 0.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(cells):
            cell, caption = cells[k]
            ax.imshow(cell.convert("RGB"))
            ax.set_title("\n".join(textwrap.wrap(caption or "sample", 30)[:2]), fontsize=9)
    fig.suptitle(f"pimm show augment {config!r} (seed {seed})", fontsize=11)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="PNG")
    return out
