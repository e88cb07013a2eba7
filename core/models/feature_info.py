"""``FeatureInfo``: what a model says about the feature maps it can hand out.

Each level is a dict with ``num_chs`` (channels), ``reduction`` (total stride relative to the input)
and ``module`` (dotted name of the module whose output is that level). A ``FeatureInfo`` wraps that
list together with the selected ``out_indices`` and answers per-level queries for the selected
levels. Imports no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..errors import ConfigError

__all__ = ["FeatureInfo", "normalize_out_indices"]

_REQUIRED = ("num_chs", "reduction", "module")


def normalize_out_indices(out_indices: int | Iterable[int] | None, num_levels: int) -> tuple[int, ...]:
    """Resolve ``out_indices`` against ``num_levels`` levels.

    None selects every level; an int ``n`` selects the last ``n`` levels; a sequence may use negative
    indices (``-1`` is the last level). Raises :class:`ConfigError` for out-of-range or repeated indices.
    """
    if out_indices is None:
        return tuple(range(num_levels))
    if isinstance(out_indices, bool):
        raise ConfigError(f"out_indices must be an int or a sequence of ints, got {out_indices!r}")
    if isinstance(out_indices, int):
        if not 0 < out_indices <= num_levels:
            raise ConfigError(
                f"out_indices={out_indices} asks for the last {out_indices} levels, but the model has "
                f"{num_levels} feature levels; use 1..{num_levels}"
            )
        return tuple(range(num_levels - out_indices, num_levels))
    resolved = []
    for idx in out_indices:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise ConfigError(f"out_indices entries must be ints, got {idx!r}")
        if not -num_levels <= idx < num_levels:
            raise ConfigError(
                f"out_indices entry {idx} is out of range for {num_levels} feature levels "
                f"(valid: {-num_levels}..{num_levels - 1})"
            )
        resolved.append(idx % num_levels)
    if len(set(resolved)) != len(resolved):
        raise ConfigError(f"out_indices {tuple(out_indices)} selects a level more than once")
    return tuple(resolved)


def _validate(feature_info: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(feature_info, (str, bytes, dict)) or not isinstance(feature_info, Sequence):
        raise ConfigError(
            f"feature_info must be a list of dicts with keys {_REQUIRED}, got {type(feature_info).__name__}"
        )
    if not feature_info:
        raise ConfigError("feature_info is empty: a model must declare at least one feature level")
    levels: list[dict[str, Any]] = []
    prev_reduction = 0
    for i, level in enumerate(feature_info):
        if not isinstance(level, dict):
            raise ConfigError(f"feature_info[{i}] must be a dict, got {type(level).__name__}")
        missing = [k for k in _REQUIRED if k not in level]
        if missing:
            raise ConfigError(f"feature_info[{i}] lacks the key(s) {missing}; each level needs {_REQUIRED}")
        chs, red = level["num_chs"], level["reduction"]
        if not isinstance(chs, int) or chs <= 0:
            raise ConfigError(f"feature_info[{i}]['num_chs'] must be a positive int, got {chs!r}")
        if not isinstance(red, int) or red <= 0:
            raise ConfigError(f"feature_info[{i}]['reduction'] must be a positive int, got {red!r}")
        if red < prev_reduction:
            raise ConfigError(
                f"feature_info[{i}]['reduction'] is {red}, less than the previous level's {prev_reduction}; "
                "levels must be listed from the input towards the output"
            )
        if not isinstance(level["module"], str):
            raise ConfigError(f"feature_info[{i}]['module'] must be a str, got {level['module']!r}")
        prev_reduction = red
        levels.append({**level, "index": i})
    return levels


class FeatureInfo:
    """Feature levels of a model plus the selected ``out_indices``; queries answer for the selection."""

    def __init__(self, feature_info: Sequence[dict[str, Any]], out_indices: int | Iterable[int] | None = None):
        self.info = _validate(feature_info)
        self.out_indices = normalize_out_indices(out_indices, len(self.info))

    def from_other(self, out_indices: int | Iterable[int] | None) -> FeatureInfo:
        """The same levels with another selection."""
        return FeatureInfo([{k: v for k, v in d.items() if k != "index"} for d in self.info], out_indices)

    def _level(self, idx: int) -> dict[str, Any]:
        if not -len(self.info) <= idx < len(self.info):
            raise IndexError(f"feature level {idx} out of range for {len(self.info)} levels")
        return self.info[idx]

    def get(self, key: str, idx: int | Sequence[int] | None = None) -> Any:
        """Value of ``key`` for the selected levels (idx None), one level (int) or several (sequence).

        ``idx`` counts over all levels, as in timm.
        """
        if idx is None:
            return [self.info[i][key] for i in self.out_indices]
        if isinstance(idx, (tuple, list)):
            return [self._level(i)[key] for i in idx]
        return self._level(idx)[key]

    def get_dicts(self, keys: Sequence[str] | None = None, idx: int | Sequence[int] | None = None) -> Any:
        """Level dicts (restricted to ``keys`` if given) for the selected levels, one level, or several."""

        def pick(d: dict[str, Any]) -> dict[str, Any]:
            return dict(d) if keys is None else {k: d[k] for k in keys}

        if idx is None:
            return [pick(self.info[i]) for i in self.out_indices]
        if isinstance(idx, (tuple, list)):
            return [pick(self._level(i)) for i in idx]
        return pick(self._level(idx))

    def channels(self, idx: int | Sequence[int] | None = None) -> Any:
        """Channel counts (``num_chs``)."""
        return self.get("num_chs", idx)

    def reduction(self, idx: int | Sequence[int] | None = None) -> Any:
        """Total strides relative to the input."""
        return self.get("reduction", idx)

    def module_name(self, idx: int | Sequence[int] | None = None) -> Any:
        """Dotted names of the modules producing each level."""
        return self.get("module", idx)

    def __getitem__(self, item: int) -> dict[str, Any]:
        return self.info[item]

    def __len__(self) -> int:
        return len(self.info)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.info)

    def __repr__(self) -> str:
        return f"FeatureInfo(levels={len(self.info)}, out_indices={self.out_indices}, channels={self.channels()})"
