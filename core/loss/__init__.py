"""pimm.core.loss: choosing and creating training losses (any registered loss component).

:func:`create_loss` follows timm's train.py rule when no name is given (Mixup/CutMix -> soft-target
cross-entropy, smoothing -> label smoothing, else cross-entropy; ``bce=True`` -> binary
cross-entropy) and checks that a named loss accepts the targets the run produces. Importing this
package does not import torch.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "create_loss": ".factory",
    "default_loss_name": ".factory",
    "list_losses": ".factory",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
