"""Feature-map pictures: what each feature level of a model sees in an image (PIL only).

Every level becomes one band of the picture: a caption (level, channels, stride, size) above a grid
of its first ``max_channels`` channels, each channel min-max scaled to grey levels on its own and
enlarged with nearest-neighbour sampling so that coarse levels stay readable.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

__all__ = ["render_feature_maps", "feature_maps_image"]

CELL = 64  # pixels per channel tile
GAP = 2
CAPTION = 16


def _load_input(image_path: str | Path, size: int, mean: Any, std: Any) -> Any:
    import torch
    from PIL import Image

    with Image.open(image_path) as img:
        img = img.convert("RGB")
        scale = size / min(img.size)
        w, h = max(size, round(img.width * scale)), max(size, round(img.height * scale))
        img = img.resize((w, h), Image.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        img = img.crop((left, top, left + size, top + size))
        data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3)
    x = data.permute(2, 0, 1).float() / 255.0
    x = (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    return x.unsqueeze(0)


def _make_model(model: Any, pretrained: bool | None) -> Any:
    from ..models.factory import create_model
    from ..models.weights import WeightsNotFoundError

    if not isinstance(model, str):
        return model
    if pretrained is False:
        return create_model(model, features_only=True)
    try:
        return create_model(model, pretrained=True, features_only=True)
    except WeightsNotFoundError as exc:
        if pretrained:
            raise
        warnings.warn(f"showing randomly initialised features: {str(exc).splitlines()[0]}", stacklevel=3)
        return create_model(model, features_only=True)


def feature_maps_image(features: list[Any], infos: list[dict[str, Any]], max_channels: int = 16) -> Any:
    """A PIL image of feature maps: one captioned band per level, a grid of channels in each."""
    import torch
    from PIL import Image, ImageDraw

    cols = max(1, math.ceil(math.sqrt(max_channels)))
    bands = []
    for level, (fmap, info) in enumerate(zip(features, infos)):
        fmap = fmap[0].detach().float()
        n = min(max_channels, fmap.shape[0])
        rows = math.ceil(n / cols)
        band = Image.new("L", (cols * (CELL + GAP) + GAP, CAPTION + rows * (CELL + GAP) + GAP), 255)
        draw = ImageDraw.Draw(band)
        caption = (f"level {level}: {fmap.shape[0]} ch, stride {info.get('reduction')}, "
                   f"{fmap.shape[1]}x{fmap.shape[2]} ({info.get('module')})")
        draw.text((GAP, 2), caption, fill=0)
        for c in range(n):
            ch = fmap[c]
            lo, hi = float(ch.min()), float(ch.max())
            scaled = ((ch - lo) / (hi - lo) * 255.0) if hi > lo else ch * 0.0
            data = scaled.clamp(0, 255).to(torch.uint8).contiguous()
            tile = Image.frombytes("L", (data.shape[1], data.shape[0]), bytes(data.flatten().tolist()))
            tile = tile.resize((CELL, CELL), Image.NEAREST)
            r, col = divmod(c, cols)
            band.paste(tile, (GAP + col * (CELL + GAP), CAPTION + GAP + r * (CELL + GAP)))
        bands.append(band)
    width = max(b.width for b in bands)
    out = Image.new("L", (width, sum(b.height for b in bands)), 255)
    y = 0
    for band in bands:
        out.paste(band, (0, y))
        y += band.height
    return out


def render_feature_maps(
    model: Any,
    image_path: str | Path,
    out_path: str | Path,
    max_channels: int = 16,
    input_size: int = 224,
    pretrained: bool | None = None,
) -> Path:
    """Run ``image_path`` through ``model`` (a name or a features_only model) and save its feature maps as a PNG.

    ``pretrained``: None tries pretrained weights and falls back to random ones with a warning;
    True requires them; False never loads them. Returns the written path.
    """
    import torch

    net = _make_model(model, pretrained).eval()
    cfg = getattr(net, "pretrained_cfg", None) or {}
    mean, std = cfg.get("mean", (0.485, 0.456, 0.406)), cfg.get("std", (0.229, 0.224, 0.225))
    x = _load_input(image_path, input_size, mean, std)
    with torch.no_grad():
        outs = net(x)
    if isinstance(outs, dict):
        outs = list(outs.values())
    info = net.feature_info
    infos = info.get_dicts() if hasattr(info, "get_dicts") else list(info)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    feature_maps_image(list(outs), infos, max_channels).save(out, format="PNG")
    return out
