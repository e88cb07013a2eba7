"""Augmentation policies from config strings, timm's function names, built through the registry.

The policy contract (docs/augment-ops.md): a policy is an ``augment`` component with role
``"policy"`` and a ``config_prefix``, created with ``config=<string>`` and ``hparams=...``; the
object it returns augments a PIL image (and, optionally, a tensor image or batch) and exposes the
parsed config as ``.config`` (with ``to_string()``).

``rand_augment_transform('rand-m9-mstd0.5', hparams)`` is
``core.create('augment', 'randaugment', config=..., hparams=...)``; the dispatcher picks the
registered policy whose ``config_prefix`` is the string's first section, so a third-party policy
with its own prefix is reachable from every config string the framework accepts.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..factory import create_entry, resolve
from ..registry import get_registry

__all__ = [
    "rand_augment_transform",
    "auto_augment_transform",
    "augment_and_mix_transform",
    "augment_policy_from_config",
    "parse_rand_augment_config",
]


def _builtin_first(name: str, **options: Any) -> Any:
    # core's own policy names resolve to the builtin provider first (docs/plugin-authors.md)
    return create_entry(resolve("augment", name, prefer_builtin=True), **options)


def rand_augment_transform(config_str: str, hparams: dict[str, Any] | None = None,
                           transforms: list[str] | dict[str, float] | None = None) -> Any:
    """RandAugment from a ``rand-...`` string; ``transforms`` optionally names the ops (or op → weight)."""
    return _builtin_first("randaugment", config=config_str, hparams=hparams, transforms=transforms)


def auto_augment_transform(config_str: str, hparams: dict[str, Any] | None = None) -> Any:
    """AutoAugment from a policy string: ``v0``, ``v0r``, ``original``, ``originalr``, ``3a`` (+ ``-mstd<x>``)."""
    return _builtin_first("autoaugment", config=config_str, hparams=hparams)


def augment_and_mix_transform(config_str: str, hparams: dict[str, Any] | None = None) -> Any:
    """AugMix from an ``augmix-m3-w3-d-1-a1-b0``-style string."""
    return _builtin_first("augmix", config=config_str, hparams=hparams)


def augment_policy_from_config(config_str: str, hparams: dict[str, Any] | None = None) -> Any:
    """The policy named by the string's first section (its ``config_prefix``), else AutoAugment."""
    if not isinstance(config_str, str) or not config_str:
        raise ConfigError(f"augment policy config must be a non-empty string like 'rand-m9', got {config_str!r}")
    head = config_str.split("-", 1)[0]
    for entry in get_registry().entries("augment"):
        spec = entry.spec
        if getattr(spec, "role", None) == "policy" and spec.config_prefix == head:
            return create_entry(entry, config=config_str, hparams=hparams)
    return _builtin_first("autoaugment", config=config_str, hparams=hparams)


def parse_rand_augment_config(config_str: str) -> Any:
    """Parse a ``rand-...`` string into the registered RandAugment policy's validated config object
    (every default visible, ``.to_string()`` turns it back into a string).

    Goes through the policy contract: the policy built from the string exposes its parsed config
    as ``.config``.
    """
    config = getattr(rand_augment_transform(config_str), "config", None)
    if config is None:
        raise ConfigError("the registered 'randaugment' policy exposes no parsed config (.config)")
    return config
