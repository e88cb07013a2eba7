"""DataLoader worker processes kept alive across epochs, with each epoch's random streams still fixed.

A fresh DataLoader per epoch seeds every worker from (run seed, epoch), which is what makes a
resumed run replay its epochs exactly; but it also starts the worker processes again every epoch.
Here one DataLoader with ``persistent_workers=True`` serves every epoch, and each sample index
travels with that epoch's base seed: the first time a worker sees a new base seed it reseeds
``random`` and torch from it and its worker id exactly as a freshly started worker is seeded
(NumPy, when installed, from the same number). Resumes stay exact and the workers start once.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

import torch
import torch.utils.data as tud

__all__ = ["EpochSeededDataset", "SeedTaggedSampler", "draw_base_seed"]


def draw_base_seed(generator: torch.Generator) -> int:
    """The 64-bit base seed an epoch's workers start from (one draw from the epoch's generator)."""
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())


class SeedTaggedSampler(tud.Sampler):
    """Yields ``(base_seed, index)`` pairs: the wrapped sampler's indices tagged with the epoch's seed."""

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler
        self.base_seed = 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        seed = self.base_seed
        return ((seed, index) for index in self.sampler)

    def __len__(self) -> int:
        return len(self.sampler)


class EpochSeededDataset(tud.Dataset):
    """Wraps a map-style dataset; reseeds the worker's random streams when a new epoch's seed arrives."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self._seeded: int | None = None

    def _reseed(self, base_seed: int) -> None:
        info = tud.get_worker_info()
        seed = base_seed + (info.id if info is not None else 0)
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy is optional
            pass
        else:
            np.random.seed(seed % 2**32)
        self._seeded = base_seed

    def __getitem__(self, item: tuple[int, int]) -> Any:
        base_seed, index = item
        if base_seed != self._seeded:
            self._reseed(base_seed)
        return self.dataset[index]

    def __len__(self) -> int:
        return len(self.dataset)
