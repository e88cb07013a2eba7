"""The optimizer classes, importable and constructible directly, as in timm's tutorial.

``from pimm.plugins.optim.optimizers import RMSpropTF; RMSpropTF(model.parameters(), lr=0.01)``.
AdamW, Nadam and RAdam here are pimm's own implementations of the classic rules (what timm's
tutorial list names); the factory names 'adamw', 'nadam' and 'radam' build the torch.optim
classes, and 'adamwlegacy', 'nadamlegacy', 'radamlegacy' build these.
"""

from .adabelief import AdaBelief
from .adafactor import Adafactor
from .adahessian import Adahessian
from .adamp import AdamP
from .adamw import AdamW
from .adan import Adan
from .lamb import Lamb
from .lars import Lars
from .lion import Lion
from pimm.core.optim.lookahead import Lookahead
from .madgrad import MADGRAD
from .nadam import Nadam
from .nvnovograd import NvNovoGrad
from .radam import RAdam
from .rmsprop_tf import RMSpropTF
from .sgdp import SGDP

__all__ = [
    "AdaBelief", "Adafactor", "Adahessian", "AdamP", "AdamW", "Adan", "Lamb", "Lars", "Lion",
    "Lookahead", "MADGRAD", "Nadam", "NvNovoGrad", "RAdam", "RMSpropTF", "SGDP",
]
