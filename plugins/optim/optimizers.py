"""The optimizer classes, importable and constructible directly, as in timm's tutorial.

``from pimm.plugins.optim.optimizers import RMSpropTF; RMSpropTF(model.parameters(), lr=0.01)``
(the public path is ``pimm.core.optim``, which finds these through the registry).
AdamW, Nadam and RAdam here are pimm's own implementations of the classic rules (what timm's
tutorial list names); the factory names 'adamw', 'nadam' and 'radam' build the torch.optim
classes, and 'adamwlegacy', 'nadamlegacy', 'radamlegacy' build these.
"""

from .adabelief import AdaBelief
from .adafactor import Adafactor
from .adafactor_bv import AdafactorBigVision
from .adahessian import Adahessian
from .adamp import AdamP
from .adamw import AdamW
from .adan import Adan
from .adopt import Adopt
from .kron import Kron
from .lamb import Lamb
from .laprop import LaProp
from .lars import Lars
from .lion import Lion
from pimm.core.optim.lookahead import Lookahead
from .madgrad import MADGRAD
from .mars import Mars
from .muon import Muon
from .nadam import Nadam
from .nadamw import NAdamW
from .nvnovograd import NvNovoGrad
from .radam import RAdam
from .rmsprop_tf import RMSpropTF
from .sgdp import SGDP
from .sgdw import SGDW

__all__ = [
    "AdaBelief", "Adafactor", "AdafactorBigVision", "Adahessian", "AdamP", "AdamW", "Adan", "Adopt", "Kron", "Lamb",
    "LaProp", "Lars", "Lion", "Lookahead", "MADGRAD", "Mars", "Muon", "NAdamW", "Nadam", "NvNovoGrad", "RAdam",
    "RMSpropTF", "SGDP", "SGDW",
]
