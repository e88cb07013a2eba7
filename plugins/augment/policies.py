"""The policies: RandAugment, AutoAugment and AugMix, built from registered ops by name.

Each policy is called on a PIL image (NumPy / Python ``random`` draws, timm's sequence) or on a
tensor, single (C, H, W) or batched (N, C, H, W): a batch is ONE call in which every sample draws
its own ops, probabilities and magnitudes, and each op runs once on the group of samples that
chose it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from pimm import core
from pimm.core.data.augment.options import OpHParams
from pimm.core.data.augment.tensor_io import WorkInfo, as_batch, decode, encode, unbatch
from pimm.core.errors import ConfigError

from .config_parse import (
    RandAugmentConfig,
    parse_augmix_config,
    parse_auto_augment_config,
    parse_rand_augment_config,
)
from .policy_tables import (
    AUGMIX_OPS,
    AUTO_AUGMENT_TABLES,
    LEGACY_WEIGHT_TABLES,
    RAND_3A_OPS,
    RAND_INCREASING_OPS,
    RAND_OPS,
    RAND_WEIGHTS,
    RAND_WEIGHTS_3A,
)

__all__ = ["RandAugment", "AutoAugment", "AugMixAugment", "make_op", "build_rand_augment",
           "build_auto_augment", "build_augmix", "apply_choices"]


def _hparams(hparams: Any) -> OpHParams:
    if isinstance(hparams, OpHParams):
        return hparams
    try:
        return OpHParams.model_validate(dict(hparams or {}))
    except ValueError as exc:
        raise ConfigError(f"invalid augment hparams: {exc}") from None


def make_op(name: str, p: float, magnitude: float, mstd: float, mmax: float | None, hparams: OpHParams) -> Any:
    """Build the registered op ``name`` (builtin or third-party) through the registry."""
    entry = core.resolve("augment", name)  # resolved once: role check and build
    spec = entry.spec
    if getattr(spec, "role", None) != "op":
        raise ConfigError(f"augment component {name!r} is a {spec.role!r}, not an op; policies can only use ops")
    return core.create_entry(entry, p=p, magnitude=magnitude, mstd=mstd, mmax=mmax, hparams=hparams)


def apply_choices(x: torch.Tensor, ops: Sequence[Any], choice: torch.Tensor, info: WorkInfo) -> torch.Tensor:
    """One step on a user-dtype batch the caller owns: sample i runs ``ops[choice[i]]`` (-1: nothing);
    returns the batch.

    Each op runs once on the group of samples that chose it (see ``AugmentOp.apply_members``).
    """
    for k in torch.unique(choice).tolist():
        if k >= 0:
            x = ops[k].apply_members(x, (choice == k).nonzero().flatten(), info)
    return x


class RandAugment:
    """Apply ``num_layers`` ops drawn from ``ops`` (uniformly, or by ``choice_weights`` without replacement).

    ``config`` holds the parsed config string when the policy was built from one.
    """

    config: Any = None

    def __init__(self, ops: Sequence[Any], num_layers: int = 2, choice_weights: Sequence[float] | None = None) -> None:
        self.ops = list(ops)
        self.num_layers = num_layers
        self.choice_weights = None if choice_weights is None else np.asarray(choice_weights, dtype=np.float64)

    def __call__(self, img: Any) -> Any:
        """Augment a PIL image or a tensor image/batch."""
        if isinstance(img, torch.Tensor):
            return self._tensor(img)
        picks = np.random.choice(len(self.ops), self.num_layers, replace=self.choice_weights is None,
                                 p=self.choice_weights)
        for k in picks:
            img = self.ops[k](img)
        return img

    def _tensor(self, img: torch.Tensor) -> torch.Tensor:
        x, info = as_batch(img)
        n = x.shape[0]
        if self.num_layers == 0 or not self.ops:
            return img
        if self.choice_weights is None:
            picks = torch.randint(len(self.ops), (n, self.num_layers))
        else:
            w = torch.as_tensor(self.choice_weights, dtype=torch.float64).expand(n, -1)
            picks = torch.multinomial(w, self.num_layers, replacement=False)
        for layer in range(self.num_layers):
            x = apply_choices(x, self.ops, picks[:, layer], info)
        return unbatch(x, info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.num_layers}, ops=" + "".join(f"\n\t{op}" for op in self.ops) + ")"


class AutoAugment:
    """Apply one uniformly chosen sub-policy (a list of ops, each with its own p and magnitude)."""

    config: Any = None

    def __init__(self, policy: Sequence[Sequence[Any]]) -> None:
        self.policy = [list(sub) for sub in policy]

    def __call__(self, img: Any) -> Any:
        """Augment a PIL image or a tensor image/batch."""
        if isinstance(img, torch.Tensor):
            return self._tensor(img)
        import random

        for op in random.choice(self.policy):
            img = op(img)
        return img

    def _tensor(self, img: torch.Tensor) -> torch.Tensor:
        x, info = as_batch(img)
        sub = torch.randint(len(self.policy), (x.shape[0],))
        for step in range(max(len(s) for s in self.policy)):
            ops = [s[step] if step < len(s) else None for s in self.policy]
            choice = torch.tensor([k if ops[k] is not None else -1 for k in sub.tolist()], dtype=torch.long)
            x = apply_choices(x, ops, choice, info)
        return unbatch(x, info)

    def __repr__(self) -> str:
        body = "".join("\n\t[" + ", ".join(str(op) for op in sub) + "]" for sub in self.policy)
        return f"{type(self).__name__}(policy={body})"


class AugMixAugment:
    """AugMix: ``width`` chains of 1..3 (or ``depth``) random ops, mixed by Dirichlet weights, then
    blended with the original by a Beta(alpha, alpha) factor."""

    config: Any = None

    def __init__(self, ops: Sequence[Any], alpha: float = 1.0, width: int = 3, depth: int = -1,
                 blended: bool = False) -> None:
        self.ops = list(ops)
        self.alpha = alpha
        self.width = width
        self.depth = depth
        self.blended = blended

    def _chain(self, img: Image.Image) -> Image.Image:
        depth = self.depth if self.depth > 0 else np.random.randint(1, 4)
        for k in np.random.choice(len(self.ops), depth, replace=True):
            img = self.ops[k](img)
        return img

    def _blend_weights(self, ws: np.ndarray, m: float) -> np.ndarray:
        out, remaining = [], 1.0
        for w in (ws * m)[::-1]:
            share = w / remaining
            remaining *= 1 - share
            out.append(share)
        return np.array(out[::-1], dtype=np.float32)

    def __call__(self, img: Any) -> Any:
        """Augment a PIL image or a tensor image/batch."""
        if isinstance(img, torch.Tensor):
            return self._tensor(img)
        ws = np.float32(np.random.dirichlet([self.alpha] * self.width))
        m = np.float32(np.random.beta(self.alpha, self.alpha))
        if self.blended:
            orig = img.copy()
            for w in self._blend_weights(ws, m):
                img = Image.blend(img, self._chain(orig), float(w))
            return img
        mixed = np.zeros_like(np.asarray(img), dtype=np.float32)
        for w in ws:
            mixed += w * np.asarray(self._chain(img), dtype=np.float32)
        mixed = Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), img.mode)
        return Image.blend(img, mixed, float(m))

    def _tensor(self, img: torch.Tensor) -> torch.Tensor:
        x, info = as_batch(img)
        n = x.shape[0]
        ws = torch.distributions.Dirichlet(torch.full((self.width,), float(self.alpha))).sample((n,))
        m = torch.distributions.Beta(float(self.alpha), float(self.alpha)).sample((n,))
        base = encode(x, info)
        mixed = torch.zeros_like(base)
        for i in range(self.width):
            depth = torch.full((n,), self.depth) if self.depth > 0 else torch.randint(1, 4, (n,))
            chain = x.clone()
            for step in range(int(depth.max())):
                choice = torch.randint(len(self.ops), (n,))
                choice[depth <= step] = -1
                chain = apply_choices(chain, self.ops, choice, info)
            mixed += ws[:, i].to(x.device).view(n, 1, 1, 1) * encode(chain, info)
        mixed = mixed.clamp(0, 255)
        if info.exact:
            mixed = mixed.floor()
        out = (base + m.to(x.device).view(n, 1, 1, 1) * (mixed - base)).clamp(0, 255)
        return unbatch(decode(out.floor() if info.exact else out, info), info)

    def __repr__(self) -> str:
        head = f"{type(self).__name__}(alpha={self.alpha}, width={self.width}, depth={self.depth}, ops="
        return head + "".join(f"\n\t{op}" for op in self.ops) + ")"


def _rand_choices(cfg: RandAugmentConfig, transforms: Any) -> tuple[list[str], list[float] | None]:
    if transforms is not None:
        if len(transforms) == 0:
            raise ConfigError(
                "RandAugment got an empty op list (transforms=[]); name at least one op, e.g. "
                "transforms=['Rotate', 'Equalize'], or leave transforms unset for the config's op set"
            )
        if isinstance(transforms, Mapping):
            return list(transforms), [float(v) for v in transforms.values()]
        return list(transforms), None
    names = list(RAND_INCREASING_OPS if cfg.increasing else RAND_OPS)
    if cfg.weight_idx is not None:
        return names, list(LEGACY_WEIGHT_TABLES[cfg.weight_idx])
    if cfg.transforms == "weights":
        return list(RAND_WEIGHTS), list(RAND_WEIGHTS.values())
    if cfg.transforms == "3aw":
        return list(RAND_WEIGHTS_3A), list(RAND_WEIGHTS_3A.values())
    if cfg.transforms == "3a":
        return list(RAND_3A_OPS), None
    return names, None


def build_rand_augment(config: str, hparams: Any = None, transforms: Any = None) -> RandAugment:
    """RandAugment from a ``rand-...`` string; ``transforms`` (op names, or name → weight) overrides the op set."""
    cfg = parse_rand_augment_config(config)
    hp = _hparams(hparams)
    mstd = cfg.magnitude_std if cfg.magnitude_std is not None else (hp.magnitude_std or 0)
    mmax = cfg.magnitude_max if cfg.magnitude_max is not None else hp.magnitude_max
    names, weights = _rand_choices(cfg, transforms)
    if weights is not None:
        total = sum(weights)
        if total <= 0 or any(w < 0 for w in weights):
            raise ConfigError(f"RandAugment op weights must be >= 0 with a positive sum, got {weights}")
        weights = [w / total for w in weights]
        if cfg.num_layers > sum(w > 0 for w in weights):
            raise ConfigError(
                f"RandAugment config {config!r}: n{cfg.num_layers} is more than the {sum(w > 0 for w in weights)} "
                "ops with non-zero weight (weighted choice draws without replacement)"
            )
    ops = [make_op(name, cfg.prob, cfg.magnitude, mstd, mmax, hp) for name in names]
    policy = RandAugment(ops, cfg.num_layers, choice_weights=weights)
    policy.config = cfg
    return policy


def build_auto_augment(config: str, hparams: Any = None) -> AutoAugment:
    """AutoAugment from a policy string (``v0``, ``v0r``, ``original``, ``originalr``, ``3a`` + ``-mstd<x>``)."""
    cfg = parse_auto_augment_config(config)
    hp = _hparams(hparams)
    mstd = cfg.magnitude_std if cfg.magnitude_std is not None else (hp.magnitude_std or 0)
    table = AUTO_AUGMENT_TABLES[cfg.policy]
    policy = AutoAugment([[make_op(n, p, m, mstd, hp.magnitude_max, hp) for n, p, m in sub] for sub in table])
    policy.config = cfg
    return policy


def build_augmix(config: str, hparams: Any = None) -> AugMixAugment:
    """AugMix from an ``augmix-...`` string."""
    cfg = parse_augmix_config(config)
    hp = _hparams(hparams)
    mstd = cfg.magnitude_std if cfg.magnitude_std is not None else (
        hp.magnitude_std if hp.magnitude_std is not None else float("inf"))
    ops = [make_op(n, 1.0, cfg.magnitude, mstd, hp.magnitude_max, hp) for n in AUGMIX_OPS]
    policy = AugMixAugment(ops, alpha=cfg.alpha, width=cfg.width, depth=cfg.depth, blended=cfg.blended)
    policy.config = cfg
    return policy
