"""Config strings of the policies, parsed into validated objects with every default visible.

Grammar: ``<head>-<section>-<section>...``; sections are order-free, each a key followed by its
value (``m9``, ``mstd0.5``, ``tweights``). A negative number is written with a dash after the key
(``d-1``, ``mstd-inf``). Any malformed string raises one :class:`ConfigError` that names the bad
section and lists the accepted keys.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pimm.core.errors import ConfigError

__all__ = [
    "RandAugmentConfig",
    "AutoAugmentConfig",
    "AugMixConfig",
    "parse_rand_augment_config",
    "parse_auto_augment_config",
    "parse_augmix_config",
    "AUTO_AUGMENT_POLICIES",
    "RAND_OP_SETS",
]

AUTO_AUGMENT_POLICIES = ("v0", "v0r", "original", "originalr", "3a")
RAND_OP_SETS = ("weights", "3a", "3aw")
_INT_RE = re.compile(r"^\d+$")
_FLOAT_RE = re.compile(r"^(\d+(\.\d*)?|\.\d+|inf)$")


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_string(self) -> str:
        """The canonical config string (parsing it gives back an equal object)."""
        raise NotImplementedError


def _num(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    return text


def _check_mstd(value: float) -> float:
    if math.isnan(value) or (value < 0 and not math.isinf(value)):
        raise ValueError("must be >= 0, or inf / -inf for uniform sampling")
    return float("inf") if value > 100 else value


class RandAugmentConfig(_Config):
    """A parsed ``rand-...`` string."""

    magnitude: int | float = Field(
        default=10.0, ge=0, le=100, description="m: strength on the 0..10 scale (a number; >10 needs mmax)."
    )
    num_layers: int = Field(default=2, ge=0, le=100, description="n: ops applied per image.")
    prob: float = Field(default=0.5, ge=0.0, le=1.0, description="p: probability of each chosen op.")
    magnitude_std: float | None = Field(
        default=None, description="mstd: magnitude noise; inf / -inf / >100 means uniform in [0, m]."
    )
    magnitude_max: int | None = Field(default=None, ge=1, le=100, description="mmax: magnitude clip (None: 10).")
    increasing: bool = Field(default=False, description="inc: use the *Increasing op variants.")
    weight_idx: int | None = Field(default=None, description="w: legacy op-weight table (only 0 exists).")
    transforms: Literal["weights", "3a", "3aw"] | None = Field(
        default=None, description="t: op set / weights: 'weights', '3a' or '3aw'."
    )

    @field_validator("magnitude_std")
    @classmethod
    def _mstd(cls, value: float | None) -> float | None:
        return None if value is None else _check_mstd(value)

    @field_validator("weight_idx")
    @classmethod
    def _only_w0(cls, value: int | None) -> int | None:
        if value not in (None, 0):
            raise ValueError("only weight table 0 exists (w0)")
        return value

    def to_string(self) -> str:
        parts = ["rand", f"m{_num(self.magnitude)}", f"n{self.num_layers}", f"p{_num(self.prob)}"]
        if self.magnitude_std is not None:
            parts.append(f"mstd{_num(self.magnitude_std)}")
        if self.magnitude_max is not None:
            parts.append(f"mmax{self.magnitude_max}")
        parts.append(f"inc{int(self.increasing)}")
        if self.weight_idx is not None:
            parts.append(f"w{self.weight_idx}")
        if self.transforms is not None:
            parts.append(f"t{self.transforms}")
        return "-".join(parts)


class AutoAugmentConfig(_Config):
    """A parsed AutoAugment string (``v0``, ``original-mstd0.5`` ...)."""

    policy: Literal["v0", "v0r", "original", "originalr", "3a"] = Field(
        default="v0", description="Policy table name."
    )
    magnitude_std: float | None = Field(default=None, description="mstd: magnitude noise of every op.")

    @field_validator("magnitude_std")
    @classmethod
    def _mstd(cls, value: float | None) -> float | None:
        return None if value is None else _check_mstd(value)

    def to_string(self) -> str:
        parts = [self.policy]
        if self.magnitude_std is not None:
            parts.append(f"mstd{_num(self.magnitude_std)}")
        return "-".join(parts)


class AugMixConfig(_Config):
    """A parsed ``augmix-...`` string."""

    magnitude: int = Field(default=3, ge=0, le=100, description="m: severity of every op.")
    width: int = Field(default=3, ge=1, le=100, description="w: number of augmentation chains.")
    depth: int = Field(default=-1, ge=-1, le=100, description="d: ops per chain (-1: random 1..3).")
    alpha: float = Field(default=1.0, gt=0, le=1000, description="a: Dirichlet / Beta concentration.")
    blended: bool = Field(default=False, description="b: blend chains one by one (faster, approximate).")
    magnitude_std: float | None = Field(
        default=None, description="mstd: magnitude noise (None: inf, i.e. uniform in [0, m])."
    )

    @field_validator("magnitude_std")
    @classmethod
    def _mstd(cls, value: float | None) -> float | None:
        return None if value is None else _check_mstd(value)

    @field_validator("depth")
    @classmethod
    def _depth(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must be -1 (random 1..3) or a positive count")
        return value

    def to_string(self) -> str:
        parts = ["augmix", f"m{self.magnitude}", f"w{self.width}", f"d{self.depth}", f"a{_num(self.alpha)}"]
        parts.append(f"b{int(self.blended)}")
        if self.magnitude_std is not None:
            parts.append(f"mstd{_num(self.magnitude_std)}")
        return "-".join(parts)


def _short(text: str, limit: int = 60) -> str:
    """``repr(text)``, shortened in the middle when long (error messages stay one readable line)."""
    return repr(text) if len(text) <= limit else repr(text[: limit // 2] + "..." + text[-limit // 4:])


def _sections(config_str: Any, kind: str) -> list[str]:
    if not isinstance(config_str, str) or not config_str:
        raise ConfigError(f"{kind} config must be a non-empty string like 'rand-m9-n2', got {config_str!r}")
    raw = config_str.split("-")
    merged: list[str] = [raw[0]]
    for part in raw[1:]:
        prev = merged[-1]
        if len(merged) > 1 and prev.isalpha() and (part[:1].isdigit() or part.startswith("inf")):
            merged[-1] = f"{prev}-{part}"  # 'd-1', 'mstd-inf': a negative value
        else:
            merged.append(part)
    return merged


def _split(section: str, keys: tuple[str, ...], kind: str, config_str: str) -> tuple[str, str]:
    for key in sorted(keys, key=len, reverse=True):
        if section.startswith(key):
            value = section[len(key):]
            if not value:
                raise ConfigError(f"{kind} config {config_str!r}: section {section!r} has no value (e.g. '{key}1')")
            return key, value
    raise ConfigError(
        f"{kind} config {config_str!r}: unknown section {section!r}; accepted keys: {', '.join(keys)}"
    )


#: Longest number a config section may hold; longer ones are absurd (and ints of thousands of digits
#: would hit Python's int-conversion limit).
_MAX_NUMBER_CHARS = 24


def _convert(value: str, kind_of_value: str, section: str, kind: str, config_str: str) -> Any:
    sign, body = (-1, value[1:]) if value.startswith("-") else (1, value)
    if kind_of_value in ("int", "num", "float") and len(body) > _MAX_NUMBER_CHARS:
        raise ConfigError(
            f"{kind} config {_short(config_str)}: section {_short(section)} holds a number of {len(body)} "
            f"characters; numbers have at most {_MAX_NUMBER_CHARS} (e.g. 'm9', 'mstd0.5', 'mstdinf')"
        )
    if kind_of_value in ("int", "num") and _INT_RE.match(body):
        return sign * int(body)
    if kind_of_value in ("float", "num") and _FLOAT_RE.match(body):
        return sign * float(body)
    if kind_of_value == "bool" and body in ("0", "1") and sign > 0:
        return body == "1"
    if kind_of_value == "str" and re.match(r"^[A-Za-z0-9_]+$", value):
        return value
    expected = {"int": "an integer", "num": "a number", "float": "a number", "bool": "0 or 1", "str": "a name"}[kind_of_value]
    raise ConfigError(f"{kind} config {config_str!r}: section {section!r} needs {expected}, got {value!r}")


def _parse(config_str: Any, kind: str, head: str | None, fields: dict[str, tuple[str, str]],
           model: type[_Config], fixed: dict[str, Any] | None = None) -> Any:
    sections = _sections(config_str, kind)
    if head is not None and sections[0] != head:
        raise ConfigError(f"{kind} config {config_str!r} must start with {head!r} (e.g. '{head}-m9')")
    values: dict[str, Any] = dict(fixed or {})
    seen: dict[str, str] = {}
    for section in sections[1:]:
        if not section:
            raise ConfigError(f"{kind} config {config_str!r}: empty section (two dashes in a row?)")
        key, raw = _split(section, tuple(fields), kind, config_str)
        if key in seen:
            raise ConfigError(f"{kind} config {config_str!r}: {key!r} given twice ({seen[key]!r}, {section!r})")
        seen[key] = section
        name, vtype = fields[key]
        values[name] = _convert(raw, vtype, section, kind, config_str)
    try:
        return model(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else "?"
        key = next((k for k, (n, _) in fields.items() if n == field), field)
        where = f"section {seen[key]!r}" if key in seen else f"{field!r}"
        raise ConfigError(f"{kind} config {config_str!r}: {where}: {err['msg']}") from None


_RAND_FIELDS = {
    "m": ("magnitude", "num"), "n": ("num_layers", "int"), "p": ("prob", "float"),
    "mstd": ("magnitude_std", "float"), "mmax": ("magnitude_max", "int"), "inc": ("increasing", "bool"),
    "w": ("weight_idx", "int"), "t": ("transforms", "str"),
}
_AUGMIX_FIELDS = {
    "m": ("magnitude", "int"), "w": ("width", "int"), "d": ("depth", "int"), "a": ("alpha", "float"),
    "b": ("blended", "bool"), "mstd": ("magnitude_std", "float"),
}


def parse_rand_augment_config(config_str: str) -> RandAugmentConfig:
    """Parse ``rand-m9-n3-mstd0.5``-style strings (keys m, n, p, mstd, mmax, inc, w, t)."""
    cfg = _parse(config_str, "RandAugment", "rand", _RAND_FIELDS, RandAugmentConfig)
    if cfg.weight_idx is not None and cfg.transforms is not None:
        raise ConfigError(
            f"RandAugment config {config_str!r}: 'w{cfg.weight_idx}' and 't{cfg.transforms}' both choose the op "
            "weights; keep one"
        )
    return cfg


def parse_auto_augment_config(config_str: str) -> AutoAugmentConfig:
    """Parse ``v0``, ``original-mstd0.5``-style strings (policy name, then optional mstd)."""
    sections = _sections(config_str, "AutoAugment")
    if sections[0] not in AUTO_AUGMENT_POLICIES:
        raise ConfigError(
            f"AutoAugment config {config_str!r}: unknown policy {sections[0]!r}; "
            f"choose one of {', '.join(AUTO_AUGMENT_POLICIES)}"
        )
    return _parse(config_str, "AutoAugment", None, {"mstd": ("magnitude_std", "float")}, AutoAugmentConfig,
                  fixed={"policy": sections[0]})


def parse_augmix_config(config_str: str) -> AugMixConfig:
    """Parse ``augmix-m3-w3-d-1-a1-b0``-style strings (keys m, w, d, a, b, mstd)."""
    return _parse(config_str, "AugMix", "augmix", _AUGMIX_FIELDS, AugMixConfig)
