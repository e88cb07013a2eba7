"""Turning what a user points at into a model: a run directory, a model directory, a weights file or a name.

* a run directory (``pimm train`` output): its ``best/`` model (``last_ema/`` with ``ema=True``),
  and the run's config, which says what data the run used;
* a model directory (``config.json`` + ``model.safetensors``, from ``save_pretrained``);
* a weights file (``.safetensors``, ``.pth``, ``.pt``, ``.bin``) plus ``model_name``;
* a registered model name, ``NAME.TAG``, ``hf-hub:...`` or ``local-dir:...``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ConfigError

__all__ = ["ModelSource", "load_model_source"]

_WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


@dataclass
class ModelSource:
    """A loaded model and what is known about where it came from."""

    model: Any
    kind: str                      # run, dir, file or name
    location: str
    run_config: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def _is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "last").is_dir()


def load_model_source(source: str, model_name: str | None = None, pretrained: bool | None = None,
                      num_classes: int | None = None, ema: bool = False) -> ModelSource:
    """Load the model ``source`` names (see the module doc); ``num_classes`` resets a name's classifier."""
    from ...models import create_model

    path = Path(source).expanduser()
    if path.is_dir() and _is_run_dir(path):
        run_config = json.loads((path / "config.json").read_text())
        sub = "last_ema" if ema else ("best" if (path / "best").is_dir() else "last")
        if not (path / sub).is_dir():
            raise ConfigError(f"{path} has no {sub}/ checkpoint" + (" (the run did not use --model-ema)" if ema else ""))
        model = create_model(f"local-dir:{path / sub}")
        _check_classes(model, num_classes, str(path / sub))
        return ModelSource(model, "run", str(path / sub), run_config, path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"{str(path)!r} is neither a run directory of pimm train nor a model directory "
                              "(config.json + model.safetensors); pass one of those, a weights file or a model name")
        model = create_model(f"local-dir:{path}")
        _check_classes(model, num_classes, str(path))
        return ModelSource(model, "dir", str(path))
    if path.is_file() or path.suffix.lower() in _WEIGHT_SUFFIXES:
        if not path.is_file():
            raise ConfigError(f"weights file {str(path)!r} does not exist")
        if not model_name:
            raise ConfigError(f"{path.name} is a plain weights file: say which model it holds with --model NAME")
        return ModelSource(_model_from_file(model_name, path, num_classes), "file", str(path))
    if model_name and model_name != source:
        raise ConfigError(f"got both a model name {source!r} and --model {model_name!r}; pass one")
    model = create_model(source, pretrained=pretrained, num_classes=num_classes)
    return ModelSource(model, "name", source)


def _check_classes(model: Any, num_classes: int | None, where: str) -> None:
    have = getattr(model, "num_classes", None)
    if num_classes is not None and have is not None and have != num_classes:
        raise ConfigError(f"the checkpoint in {where} has {have} classes but --num-classes is {num_classes}; "
                          f"drop --num-classes (or pass {have})")


def _model_from_file(model_name: str, path: Path, num_classes: int | None) -> Any:
    """``model_name`` with the weights of ``path``; the class count comes from the file and must agree."""
    from ...models import create_model
    from ...models.adapt import unwrap_checkpoint
    from ...models.weights import read_checkpoint

    state = unwrap_checkpoint(read_checkpoint(path))
    probe = create_model(model_name, pretrained=False, num_classes=num_classes)
    head = (getattr(probe, "pretrained_cfg", None) or {}).get("classifier")
    heads = [head] if isinstance(head, str) else list(head or [])
    found = next((state[f"{h}.weight"].shape[0] for h in heads if f"{h}.weight" in state), None)
    if found is not None and num_classes is not None and found != num_classes:
        raise ConfigError(f"{path.name} holds a {found}-class classifier but --num-classes is {num_classes}; "
                          f"pass --num-classes {found} (or leave it out)")
    model = probe if found is None or found == probe.num_classes else create_model(
        model_name, pretrained=False, num_classes=found)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:300]
        raise ConfigError(f"{path.name} does not fit {model_name}: {first}; check --model") from None
    return model
