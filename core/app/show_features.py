"""Feature-map pictures: what each feature level of a model sees in an image, drawn with matplotlib.

One row per feature level: the input image as the model saw it (after its own eval preprocessing,
at its input size) on the left, then the level's first ``max_channels`` channels colour-mapped
(viridis, each channel scaled to its own range), titled with the channel index; the row is labelled
with the level's channels, stride, spatial size and module. The model can be a registered name
(``NAME[.TAG]``, ``hf-hub:``, ``local-dir:``), a model directory or a run directory of ``pimm train``
(its ``best/`` model, else ``last/``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["render_feature_maps", "features_figure", "model_name_for"]


def model_name_for(model: str) -> str:
    """The ``create_model`` name for a name, a model directory or a run directory."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return model
    if (path / "config.json").is_file() and (path / "last").is_dir():  # a run directory
        sub = path / "best" if (path / "best").is_dir() else path / "last"
        return f"local-dir:{sub}"
    if (path / "config.json").is_file():
        return f"local-dir:{path}"
    raise ConfigError(f"{str(path)!r} is neither a run directory of pimm train nor a model directory "
                      "(config.json + model.safetensors)")


def _make_model(model: Any, pretrained: bool | None) -> Any:
    from ..models.factory import create_model
    from ..models.weights import WeightsNotFoundError

    if not isinstance(model, str):
        return model
    name = model_name_for(model)
    if name.startswith("local-dir:") or pretrained is False:
        return create_model(name, features_only=True)
    try:
        return create_model(name, pretrained=True, features_only=True)
    except WeightsNotFoundError as exc:
        if pretrained:
            raise
        warnings.warn(f"showing randomly initialised features: {str(exc).splitlines()[0]}", stacklevel=3)
        return create_model(name, features_only=True)


def _input_tensor(net: Any, image_path: str | Path, input_size: int | None) -> tuple[Any, dict[str, Any]]:
    from PIL import Image

    from ..data import create_transform, resolve_data_config

    overrides: dict[str, Any] = {}
    if input_size is not None:
        in_chans = (getattr(net, "pretrained_cfg", None) or {}).get("input_size", (3,))[0]
        overrides["input_size"] = (in_chans, input_size, input_size)
    dc = resolve_data_config(overrides, model=net)
    tf = create_transform(dc["input_size"], is_training=False, interpolation=dc["interpolation"], mean=dc["mean"],
                          std=dc["std"], crop_pct=dc["crop_pct"], crop_mode=dc.get("crop_mode"))
    try:
        with Image.open(image_path) as img:
            x = tf(img.convert("RGB"))
    except OSError as exc:
        raise ConfigError(f"cannot read image {str(image_path)!r}: {exc}") from None
    return x.unsqueeze(0), dc


def features_figure(features: list[Any], infos: list[dict[str, Any]], x: Any, dc: dict[str, Any],
                    max_channels: int = 8, title: str = "") -> Any:
    """The matplotlib ``Figure``: per level, the input then ``max_channels`` colour-mapped channels."""
    import torch
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    levels = len(features)
    cols = 1 + max(1, min(max_channels, max(int(f.shape[1]) for f in features)))
    fig = Figure(figsize=(1.9 * cols, 2.0 * levels + 0.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(levels, cols, squeeze=False)
    mean = torch.tensor(dc["mean"]).view(-1, 1, 1)
    std = torch.tensor(dc["std"]).view(-1, 1, 1)
    shown = (x[0].float() * std + mean).clamp(0, 1)
    shown = shown.permute(1, 2, 0).numpy() if shown.shape[0] == 3 else shown[0].numpy()
    for level, (fmap, info) in enumerate(zip(features, infos)):
        fmap = fmap[0].detach().float()
        row = axes[level]
        for ax in row:
            ax.set_axis_off()
        row[0].imshow(shown, cmap=None if shown.ndim == 3 else "gray")
        row[0].set_title(f"input {shown.shape[1]}x{shown.shape[0]}", fontsize=8)
        row[0].text(-0.08, 0.5, f"level {level}\n{fmap.shape[0]} ch, stride {info.get('reduction')}\n"
                    f"{fmap.shape[1]}x{fmap.shape[2]}\n{info.get('module')}", transform=row[0].transAxes,
                    ha="right", va="center", fontsize=8)
        shown_maps = fmap[: min(cols - 1, fmap.shape[0])]
        level_lo, level_hi = float(shown_maps.min()), float(shown_maps.max())
        for c, channel in enumerate(shown_maps):
            lo, hi = float(channel.min()), float(channel.max())
            if hi > lo:  # each channel on its own colour scale, so its pattern shows
                row[c + 1].imshow(channel.numpy(), cmap="viridis", interpolation="nearest")
                row[c + 1].set_title(f"ch {c}", fontsize=8)
            else:  # a flat map (e.g. 1x1): coloured against the level's other channels, value in the title
                row[c + 1].imshow(channel.numpy(), cmap="viridis", interpolation="nearest",
                                  vmin=level_lo, vmax=level_hi if level_hi > level_lo else level_lo + 1)
                row[c + 1].set_title(f"ch {c} = {lo:.3g}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def render_feature_maps(
    model: Any,
    image_path: str | Path,
    out_path: str | Path,
    max_channels: int = 8,
    input_size: int | None = None,
    pretrained: bool | None = None,
) -> Path:
    """Run ``image_path`` through ``model`` and save its feature maps as a PNG; returns the written path.

    ``model``: a name, model directory, run directory or a ``features_only`` module. The input is
    preprocessed with the model's eval data config at its input size (``input_size`` overrides).
    ``pretrained``: None tries pretrained weights and falls back to random ones with a warning;
    True requires them; False never loads them (a directory always loads its own weights).
    """
    import torch

    if max_channels < 1:
        raise ConfigError(f"channels must be >= 1, got {max_channels}")
    image = Path(image_path)
    if not image.is_file():
        raise ConfigError(f"image {str(image)!r} does not exist; pass the path of a PNG or JPEG file")
    net = _make_model(model, pretrained).eval()
    x, dc = _input_tensor(net, image, input_size)
    with torch.no_grad():
        outs = net(x)
    if isinstance(outs, dict):
        outs = list(outs.values())
    info = net.feature_info
    infos = info.get_dicts() if hasattr(info, "get_dicts") else list(info)
    title = f"feature maps of {model if isinstance(model, str) else type(model).__name__}"
    fig = features_figure(list(outs), infos, x, dc, max_channels, title=title)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
