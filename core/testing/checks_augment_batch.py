"""Conformance checks for augment components with role ``"transform"`` and ``"batch"``.

Transforms (tag ``"pil"``) take a PIL image and return a PIL image or a tensor, reproducibly under
a fixed seed; tag ``"sized"`` means the output has exactly the requested ``size``; tag
``"chw-tensor"`` means a float CHW tensor is accepted too; tag ``"float-tensor"`` means the
transform works on float CHW and NCHW tensors and keeps shape and dtype. Batch components tagged
``"mixup"`` take ``num_classes`` and return soft targets that sum to 1 per sample, for even, odd
and single-sample batches (tag ``"collate"``: they are ``collate_fn``s over ``(uint8 CHW, label)``).
"""

from __future__ import annotations

import random
from typing import Any

from .kit import ComponentRef, check, skip

_SIZE = 24
_REQUIRED_DEFAULTS: dict[str, Any] = {"size": _SIZE, "border_size": 2, "num_classes": 5}


def _require_role(component: ComponentRef, *roles: str) -> None:
    if getattr(component.spec, "role", None) not in roles:
        skip(f"not an augment {' or '.join(roles)}")


def _build(component: ComponentRef, **options: Any) -> Any:
    for name, field in component.spec.options.model_fields.items():
        if field.is_required() and name not in options:
            if name not in _REQUIRED_DEFAULTS:
                skip(f"no example value for required option {name!r}")
            options[name] = _REQUIRED_DEFAULTS[name]
    return component.create(**options)


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _pil_image() -> Any:
    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:40, 0:48]
    arr = np.stack([xx * 5, yy * 6, (xx + yy) * 3], -1) % 256
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def _same(a: Any, b: Any) -> bool:
    import numpy as np
    import torch

    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    return np.array_equal(np.asarray(a), np.asarray(b))


def _hw(out: Any) -> tuple[int, int]:
    import torch

    if isinstance(out, torch.Tensor):
        return int(out.shape[-2]), int(out.shape[-1])
    return out.size[1], out.size[0]


@check("augment", requires=("pil",))
def check_transform_on_pil(component: ComponentRef) -> None:
    """A PIL image goes in; a PIL image or tensor comes out, the same for the same seed."""
    import torch
    from PIL import Image

    _require_role(component, "transform")
    transform = _build(component)
    img = _pil_image()
    _seed(3)
    out = transform(img)
    if not (isinstance(out, (Image.Image, torch.Tensor))):
        raise AssertionError(f"returned {type(out).__name__}")
    _seed(3)
    if not (_same(out, transform(img))):
        raise AssertionError("output differs under the same seed")
    if "sized" in component.spec.tags:
        if not (_hw(out) == (_SIZE, _SIZE)):
            raise AssertionError(f"output size {_hw(out)} != requested {(_SIZE, _SIZE)}")


@check("augment", requires=("chw-tensor",))
def check_transform_on_tensor(component: ComponentRef) -> None:
    """A float CHW tensor is accepted and a float tensor with the same channel count returned."""
    import torch

    _require_role(component, "transform")
    transform = _build(component)
    x = torch.rand(3, 40, 48)
    out = transform(x)
    if not (isinstance(out, torch.Tensor) and out.dtype == x.dtype):
        raise AssertionError(f"returned {type(out).__name__}")
    if not (out.shape[0] == 3):
        raise AssertionError(f"channels changed: {tuple(out.shape)}")
    if "sized" in component.spec.tags:
        if not (_hw(out) == (_SIZE, _SIZE)):
            raise AssertionError(f"output size {_hw(out)} != requested {(_SIZE, _SIZE)}")


@check("augment", requires=("float-tensor",))
def check_float_tensor_transform(component: ComponentRef) -> None:
    """Float CHW and NCHW tensors keep their shape and dtype."""
    import torch

    _require_role(component, "transform", "batch")
    transform = _build(component)
    for shape in ((3, 16, 20), (2, 3, 16, 20)):
        x = torch.randn(shape)
        out = transform(x.clone())
        if not (isinstance(out, torch.Tensor)):
            raise AssertionError(f"returned {type(out).__name__}")
        if not (out.shape == x.shape and out.dtype == x.dtype):
            raise AssertionError(f"{tuple(x.shape)} → {tuple(out.shape)} {out.dtype}")


@check("augment", requires=("mixup",))
def check_mixup_targets(component: ComponentRef) -> None:
    """Soft targets (B, num_classes) summing to 1; even, odd and single-sample batches work."""
    import torch

    _require_role(component, "batch")
    mix = _build(component, num_classes=5)
    collate = "collate" in component.spec.tags
    for batch in (4, 3, 1):
        _seed(batch)
        labels = torch.arange(batch) % 5
        if collate:
            images, target = mix([(torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8), int(t)) for t in labels])
            if not (images.dtype == torch.uint8):
                raise AssertionError(f"collated images are {images.dtype}, expected uint8")
        else:
            images, target = mix(torch.rand(batch, 3, 8, 8), labels)
            if not (images.shape == (batch, 3, 8, 8)):
                raise AssertionError(f"images changed shape: {tuple(images.shape)}")
        if not (target.ndim == 2 and target.shape[1] == 5 and target.shape[0] == images.shape[0]):
            raise AssertionError(f"targets {tuple(target.shape)} for images {tuple(images.shape)}")
        sums = target.sum(dim=1)
        if not (torch.allclose(sums, torch.ones_like(sums), atol=1e-5)):
            raise AssertionError(f"target rows sum to {sums.tolist()}")
