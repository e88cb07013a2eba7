"""A contract-following test model whose ``forward`` annotations are strings (PEP 563).

Kept in its own module because ``from __future__ import annotations`` applies to a whole file: the
FX-then-TorchScript conformance check must fail on it and name the cause.
"""

from __future__ import annotations

import torch
from model_helpers import TinyNet


class StringAnnotatedTinyNet(TinyNet):
    """TinyNet whose ``forward`` carries the string annotation ``'torch.Tensor'``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
