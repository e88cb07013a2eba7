"""``resolve_data_config``: the input size, interpolation, normalisation and crop a model expects.

Values come, in priority order, from explicit ``args``, then the pretrained config (given, or the
model's ``pretrained_cfg``), then the defaults (224, bicubic, ImageNet mean/std, 0.875, 'center').
The result feeds ``create_transform(**config)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .constants import DEFAULT_CROP_MODE, DEFAULT_CROP_PCT, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = ["resolve_data_config", "resolve_model_data_config"]

_logger = logging.getLogger(__name__)


def _as_dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "model_dump"):  # pimm PretrainedCfg (pydantic)
        return value.model_dump()
    if hasattr(value, "to_dict"):
        return dict(value.to_dict())
    if hasattr(value, "__dict__"):  # argparse.Namespace and similar
        return dict(vars(value))
    raise ConfigError(f"{what} must be a dict (or argparse Namespace / PretrainedCfg), got {type(value).__name__}")


def _per_channel(values: Any, in_chans: int, what: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if len(values) == 1:
        return values * in_chans
    if len(values) != in_chans:
        raise ConfigError(f"{what} has {len(values)} values but the input has {in_chans} channels: {values}")
    return values


def _input_size(args: dict[str, Any], cfg: dict[str, Any], use_test_size: bool) -> tuple[int, int, int]:
    in_chans = 3
    if args.get("in_chans") is not None:
        in_chans = int(args["in_chans"])
    elif args.get("chans") is not None:
        in_chans = int(args["chans"])
    if args.get("input_size") is not None:
        size = args["input_size"]
        if not isinstance(size, (tuple, list)) or len(size) != 3:
            raise ConfigError(f"args['input_size'] must be (channels, height, width), got {size!r}")
        return tuple(int(s) for s in size)  # type: ignore[return-value]
    if args.get("img_size") is not None:
        img = args["img_size"]
        if isinstance(img, int) and not isinstance(img, bool):
            return (in_chans, img, img)
        if isinstance(img, (tuple, list)) and len(img) == 2:
            return (in_chans, int(img[0]), int(img[1]))
        raise ConfigError(f"args['img_size'] must be an int or (height, width), got {img!r}")
    if use_test_size and cfg.get("test_input_size") is not None:
        return tuple(cfg["test_input_size"])  # type: ignore[return-value]
    if cfg.get("input_size") is not None:
        return tuple(cfg["input_size"])  # type: ignore[return-value]
    return (in_chans, 224, 224)


def resolve_data_config(
    args: Mapping[str, Any] | Any | None = None,
    pretrained_cfg: Mapping[str, Any] | Any | None = None,
    model: Any = None,
    use_test_size: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """Data config dict: ``input_size``, ``interpolation``, ``mean``, ``std``, ``crop_pct``, ``crop_mode``.

    ``args`` (dict or Namespace) overrides; ``pretrained_cfg`` defaults to ``model.pretrained_cfg``;
    ``use_test_size`` prefers the config's ``test_input_size`` / ``test_crop_pct``.
    """
    if model is None and args is None and pretrained_cfg is None:
        raise ConfigError("resolve_data_config needs at least one of args, pretrained_cfg or model")
    args_d = _as_dict(args, "args")
    cfg = _as_dict(pretrained_cfg, "pretrained_cfg")
    if not cfg and model is not None:
        cfg = _as_dict(getattr(model, "pretrained_cfg", None), "model.pretrained_cfg")

    config: dict[str, Any] = {}
    config["input_size"] = _input_size(args_d, cfg, use_test_size)
    in_chans = config["input_size"][0]
    config["interpolation"] = args_d.get("interpolation") or cfg.get("interpolation") or "bicubic"
    if args_d.get("mean") is not None:
        config["mean"] = _per_channel(args_d["mean"], in_chans, "mean")
    else:
        config["mean"] = tuple(cfg.get("mean") or IMAGENET_DEFAULT_MEAN)
    if args_d.get("std") is not None:
        config["std"] = _per_channel(args_d["std"], in_chans, "std")
    else:
        config["std"] = tuple(cfg.get("std") or IMAGENET_DEFAULT_STD)
    if args_d.get("crop_pct"):
        config["crop_pct"] = args_d["crop_pct"]
    elif use_test_size and cfg.get("test_crop_pct"):
        config["crop_pct"] = cfg["test_crop_pct"]
    else:
        config["crop_pct"] = cfg.get("crop_pct") or DEFAULT_CROP_PCT
    config["crop_mode"] = args_d.get("crop_mode") or cfg.get("crop_mode") or DEFAULT_CROP_MODE
    if verbose:
        _logger.info("Data processing configuration:")
        for key, value in config.items():
            _logger.info("\t%s: %s", key, value)
    return config


def resolve_model_data_config(
    model: Any,
    args: Mapping[str, Any] | Any | None = None,
    pretrained_cfg: Mapping[str, Any] | Any | None = None,
    use_test_size: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """``resolve_data_config`` with the model first."""
    return resolve_data_config(args, pretrained_cfg, model, use_test_size, verbose)
