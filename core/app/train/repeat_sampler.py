"""Repeated augmentation (timm's ``--aug-repeats``): each chosen image appears ``repeats`` times in an epoch.

Hoffer et al. (2020) and DeiT train with several augmented copies of an image in the same step.
Per epoch: a seeded permutation of the dataset, each index written ``repeats`` times in a row,
padded to a multiple of the world size; process ``rank`` takes every ``world``-th entry, so the
copies of an image are spread over the processes (in one process they are consecutive, hence in
the same batch). Each process then keeps its first ``ceil(size / world)`` entries: an epoch has
as many samples as without repeats, and so covers about ``1 / repeats`` of the distinct images.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

__all__ = ["RepeatedAugSampler"]


class RepeatedAugSampler:
    """Indices of one process's share of an epoch with repeated augmentation (see the module doc)."""

    def __init__(self, size: int, repeats: int, rank: int = 0, world: int = 1, seed: int = 0) -> None:
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.size = size
        self.repeats = repeats
        self.rank = rank
        self.world = world
        self.seed = seed
        self.epoch = 0
        self.per_rank = math.ceil(size / world)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order :meth:`__iter__` yields."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=g).repeat_interleave(self.repeats).tolist()
        total = math.ceil(len(order) / self.world) * self.world
        order += order[: total - len(order)]
        return iter(order[self.rank::self.world][: self.per_rank])

    def __len__(self) -> int:
        return self.per_rank
