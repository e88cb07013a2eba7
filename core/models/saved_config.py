"""The shape of a saved model's ``config.json`` (``local-dir:`` folders, ``hf-hub:`` repos), checked
before anything is read from it: the file is input, and a wrong shape is one error naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["check_saved_config"]

#: field -> (accepted types, what to write there)
_TOP_LEVEL: dict[str, tuple[tuple[type, ...], str]] = {
    "architecture": ((str,), "a model name string"),
    "model_args": ((dict,), "an object of model options"),
    "pretrained_cfg": ((dict,), "an object of pretrained-config fields"),
    "num_classes": ((int,), "an integer >= 0"),
    "label_names": ((list,), "a list of class-name strings"),
    "pimm": ((dict,), "an object with 'name' and 'options'"),
}
_PIMM_SECTION: dict[str, tuple[tuple[type, ...], str]] = {
    "name": ((str,), "a model name string"),
    "options": ((dict,), "an object of model options"),
}


def _type_name(value: Any) -> str:
    return "null" if value is None else {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__)


def _check_fields(data: Mapping[str, Any], fields: dict[str, tuple[tuple[type, ...], str]], prefix: str,
                  where: str) -> None:
    for key, (types, wanted) in fields.items():
        if key not in data or (data[key] is None and key != "architecture"):
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{where}: field '{prefix}{key}' must be {wanted}, got {_type_name(value)}")


def check_saved_config(config: Any, where: str) -> None:
    """Raise one :class:`ConfigError` naming the first field of ``config`` with the wrong shape or type.

    ``where`` names the file in the message. Model options are checked later against the model's
    own options; pretrained-config fields are checked here against :class:`PretrainedCfg`.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"{where}: a model config must be a JSON object, got {_type_name(config)}")
    _check_fields(config, _TOP_LEVEL, "", where)
    section = config.get("pimm")
    if isinstance(section, dict):
        _check_fields(section, _PIMM_SECTION, "pimm.", where)
    num_classes = config.get("num_classes")
    if isinstance(num_classes, int) and not isinstance(num_classes, bool) and num_classes < 0:
        raise ConfigError(f"{where}: field 'num_classes' must be an integer >= 0, got {num_classes}")
    names = config.get("label_names")
    if isinstance(names, list):
        bad = next((i for i, n in enumerate(names) if not isinstance(n, str)), None)
        if bad is not None:
            raise ConfigError(f"{where}: field 'label_names[{bad}]' must be a string, got {_type_name(names[bad])}")
    cfg = config.get("pretrained_cfg")
    if isinstance(cfg, dict):
        _check_pretrained_cfg(cfg, where)


def _check_pretrained_cfg(cfg: dict[str, Any], where: str) -> None:
    from pydantic import ValidationError

    from ..specs import PretrainedCfg

    known = {k: v for k, v in cfg.items() if k in PretrainedCfg.model_fields}
    try:
        PretrainedCfg(**known)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(
            f"{where}: field 'pretrained_cfg.{field}' is invalid: {first.get('msg', 'bad value')} "
            f"(got {str(first.get('input'))[:60]!r})"
        ) from None
