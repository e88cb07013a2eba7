"""``save_pretrained``: a model directory that ``create_model("local-dir:DIR")`` turns back into the model.

The directory holds ``model.safetensors`` (the state dict) and ``config.json``::

    {
      "architecture": "resnet18",          # timm-readable part
      "num_classes": 10, "num_features": 512,
      "pretrained_cfg": {...},             # data config: input_size, mean, std, classifier, ...
      "model_args": {...},                 # the validated options the model was created with
      "pimm": {"kind": "model", "name": "resnet18", "plugin": "resnet", "options": {...}, "version": "..."}
    }

The options come from ``model.pimm_origin`` (set by ``pimm.core.create``), updated with the
model's current ``num_classes`` so that a ``reset_classifier`` before saving is respected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["save_pretrained"]

_LOCATION_KEYS = ("url", "file", "hf_hub_id", "hf_hub_filename", "source", "sha256", "hash_prefix")


def _jsonable(value: Any, what: str) -> Any:
    from pydantic_core import to_jsonable_python

    try:
        data = to_jsonable_python(value)
        json.dumps(data)
    except Exception as exc:
        raise ConfigError(
            f"cannot save {what}: {exc}. save_pretrained stores options as JSON, so every option value "
            "must be JSON data (numbers, strings, lists, dicts)"
        ) from None
    return data


def save_pretrained(model: Any, directory: str | Path, filename: str = "model.safetensors") -> Path:
    """Write ``model``'s weights and the config needed to recreate it into ``directory``; return it."""
    from safetensors.torch import save_file

    from .._version import __version__

    origin = getattr(model, "pimm_origin", None)
    if origin is None or getattr(origin, "kind", None) != "model":
        raise ConfigError(
            f"{type(model).__name__} was not made by pimm.core.create/create_model, so pimm does not know "
            "which spec and options recreate it; build it with create_model(...) before saving. "
            "(Feature wrappers save as their full model: save that one.)"
        )
    if getattr(model, "_source", None) is not None or "_source" in getattr(model, "__dict__", {}):
        raise ConfigError("save the full model, not its features_only wrapper (create it without features_only)")
    options = dict(origin.options)
    num_classes = getattr(model, "num_classes", None)
    if "num_classes" in options and isinstance(num_classes, int):
        options["num_classes"] = num_classes
    options = _jsonable(options, f"the options of {origin.name!r}")
    cfg = dict(getattr(model, "pretrained_cfg", None) or {})
    cfg = {k: v for k, v in cfg.items() if k not in _LOCATION_KEYS}
    if isinstance(num_classes, int):
        cfg["num_classes"] = num_classes
    cfg["architecture"] = origin.name
    config: dict[str, Any] = {
        "architecture": origin.name,
        "num_classes": num_classes,
        "num_features": getattr(model, "num_features", None),
        "pretrained_cfg": _jsonable(cfg, "pretrained_cfg"),
        "model_args": options,
        "pimm": {"kind": "model", "name": origin.name, "plugin": origin.plugin, "options": options,
                 "version": __version__},
    }
    out = Path(directory).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / filename), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
    return out
