"""Factory names that are another optimizer with different defaults (timm 1.0.31's variant names).

A variant's options model is its base's with the variant's defaults, so ``pimm info optimizer
cadamw`` shows ``caution=True`` and ``core.create("optimizer", "cadamw", ...)`` and
``create_optimizer(..., "cadamw")`` agree. Prefix ``c``: cautious (``caution=True``); suffix
``c``: corrected weight decay (``lr²/peak_lr``); suffix ``w``: decoupled weight decay.
No torch import here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, create_model

from pimm.core.specs import Options

from . import options as _o

__all__ = ["VARIANTS", "derive_options", "variant_options"]

_C = {"caution": True}
_CWD = {"corrected_weight_decay": True}

#: name: (base factory name, default overrides, summary)
VARIANTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "adamc": ("adamwlegacy", dict(_CWD), "AdamW with corrected weight decay (lr²/peak_lr)"),
    "cadamw": ("adamwlegacy", dict(_C), "Cautious AdamW"),
    "cadamc": ("adamwlegacy", {**_C, **_CWD}, "Cautious AdamW with corrected weight decay"),
    "nadamc": ("nadamw", dict(_CWD), "NAdamW with corrected weight decay"),
    "cnadamw": ("nadamw", dict(_C), "Cautious NAdamW"),
    "cnadamc": ("nadamw", {**_C, **_CWD}, "Cautious NAdamW with corrected weight decay"),
    "adoptw": ("adopt", {"decoupled": True}, "ADOPT with decoupled weight decay"),
    "adoptc": ("adopt", {"decoupled": True, **_CWD}, "ADOPT with corrected decoupled weight decay"),
    "cadopt": ("adopt", dict(_C), "Cautious ADOPT"),
    "cadoptw": ("adopt", {"decoupled": True, **_C}, "Cautious ADOPT with decoupled weight decay"),
    "cadoptc": ("adopt", {"decoupled": True, **_C, **_CWD},
                "Cautious ADOPT with corrected decoupled weight decay"),
    "lapropc": ("laprop", dict(_CWD), "LaProp with corrected weight decay"),
    "claprop": ("laprop", dict(_C), "Cautious LaProp"),
    "cmars": ("mars", dict(_C), "Cautious MARS"),
    "clamb": ("lamb", dict(_C), "Cautious LAMB"),
    "clambw": ("lamb", {**_C, "decoupled_decay": True}, "Cautious LAMB with decoupled weight decay"),
    "lambcw": ("lamb", {"trust_clip": True, "decoupled_decay": True},
               "LAMB with trust-ratio clipping and decoupled weight decay"),
    "lambcd": ("lamb", {"decoupled_decay": True, **_CWD}, "LAMB with corrected decoupled weight decay"),
    "lionc": ("lion", dict(_CWD), "Lion with corrected weight decay"),
    "clion": ("lion", dict(_C), "Cautious Lion"),
    "clionc": ("lion", {**_C, **_CWD}, "Cautious Lion with corrected weight decay"),
    "crmsproptf": ("rmsproptf", dict(_C), "Cautious TensorFlow-style RMSprop"),
    "rmsproptfw": ("rmsproptf", {"decoupled_decay": True}, "TensorFlow-style RMSprop, decoupled weight decay"),
    "rmsproptfc": ("rmsproptf", {"decoupled_decay": True, **_CWD},
                   "TensorFlow-style RMSprop, corrected decoupled weight decay"),
    "sgdc": ("sgdw", dict(_CWD), "SGDW with corrected weight decay"),
    "csgdw": ("sgdw", dict(_C), "Cautious SGDW"),
    "csgdc": ("sgdw", {**_C, **_CWD}, "Cautious SGDW with corrected weight decay"),
    "csgdp": ("sgdp", dict(_C), "Cautious SGDP (spherical caution on projected weights)"),
    "cadamp": ("adamp", dict(_C), "Cautious AdamP (spherical caution on projected weights)"),
    "cadan": ("adan", dict(_C), "Cautious Adan"),
    "cadanw": ("adanw", dict(_C), "Cautious Adan with decoupled weight decay"),
    "cadafactor": ("adafactor", {**_C, "betas": [0.9, 0.999]}, "Cautious Adafactor (with a first moment)"),
    "adafactorbvc": ("adafactorbv", dict(_CWD), "big_vision Adafactor with corrected weight decay"),
    "cadafactorbv": ("adafactorbv", dict(_C), "Cautious big_vision Adafactor"),
    "cadafactorbvc": ("adafactorbv", {**_C, **_CWD}, "Cautious big_vision Adafactor, corrected weight decay"),
    "novogradw": ("novograd", {"decoupled_decay": True}, "NovoGrad with decoupled weight decay"),
    "novogradc": ("novograd", {"decoupled_decay": True, **_CWD},
                  "NovoGrad with corrected decoupled weight decay"),
    "radamw": ("radam", {"decoupled_weight_decay": True}, "torch.optim.RAdam with decoupled weight decay"),
}


def derive_options(base: type[Options], name: str, overrides: dict[str, Any]) -> type[Options]:
    """``base``'s options model with the defaults in ``overrides`` (same fields, types and bounds)."""
    unknown = set(overrides) - set(base.model_fields)
    if unknown:
        raise KeyError(f"variant {name!r} overrides unknown options {sorted(unknown)} of {base.__name__}")
    fields = {}
    for key, info in base.model_fields.items():
        field = Field(overrides.get(key, info.default), description=info.description)
        field.metadata = list(info.metadata)  # keep the bounds (ge/gt/...)
        fields[key] = (info.annotation, field)
    model_name = _model_name(name)
    # subclassing the base keeps its validators (the betas range)
    model = create_model(model_name, __base__=base, __module__=__name__, **fields)  # type: ignore[call-overload]
    model.__qualname__ = model_name
    model.__doc__ = f"Keyword options of the optimizer built by {name!r} ({base.__name__} with other defaults)."
    return model


def _model_name(name: str) -> str:
    return f"{name[0].upper()}{name[1:]}Options"


def variant_options(name: str) -> type[Options]:
    """The options model of variant ``name`` (a module attribute, so specs can name it by path)."""
    return globals()[_model_name(name)]


for _name, (_base, _overrides, _) in VARIANTS.items():
    _base_model = getattr(_o, _model_name(_base), None) or globals()[_model_name(_base)]
    globals()[_model_name(_name)] = derive_options(_base_model, _name, _overrides)
