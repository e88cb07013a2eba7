"""Builtin plugin 'optim': the optimizer specs (specs only; no torch import here).

torch.optim classes are used where torch has the algorithm; the rest are pimm's own classes in
the sibling modules (importable together from ``pimm.plugins.optim.optimizers``).
"""

from pimm.core import hookimpl
from pimm.core.specs import OptimizerSpec

from . import options as _o
from .variants import VARIANTS, variant_options

_P = "pimm.plugins.optim"

# name: (target, has_momentum, has_betas, num_betas, has_eps, second_order, defaults, summary)
_TABLE: dict[str, tuple] = {
    "sgd": ("torch.optim:SGD", True, False, 2, False, False, {"nesterov": True},
            "torch.optim.SGD with Nesterov momentum"),
    "momentum": ("torch.optim:SGD", True, False, 2, False, False, {"nesterov": False},
                 "torch.optim.SGD with classical momentum"),
    "adam": ("torch.optim:Adam", False, True, 2, True, False, {}, "torch.optim.Adam"),
    "adamw": ("torch.optim:AdamW", False, True, 2, True, False, {}, "torch.optim.AdamW, Adam with decoupled weight decay"),
    "nadam": (f"{_P}.nadam_torch:LeanNAdam", False, True, 2, True, False, {},
              "torch.optim.NAdam (a leaner CPU step), Adam with Nesterov momentum"),
    "radam": (f"{_P}.radam_torch:LeanRAdam", False, True, 2, True, False, {},
              "torch.optim.RAdam (a leaner CPU step), rectified Adam"),
    "adamax": ("torch.optim:Adamax", False, True, 2, True, False, {}, "torch.optim.Adamax, Adam with the infinity norm"),
    "adadelta": ("torch.optim:Adadelta", False, False, 2, True, False, {}, "torch.optim.Adadelta"),
    "adagrad": ("torch.optim:Adagrad", False, False, 2, True, False, {"eps": 1e-8}, "torch.optim.Adagrad"),
    "rmsprop": ("torch.optim:RMSprop", True, False, 2, True, False, {"alpha": 0.9}, "torch.optim.RMSprop"),
    "rmsproptf": (f"{_P}.rmsprop_tf:RMSpropTF", True, False, 2, True, False, {"alpha": 0.9},
                  "TensorFlow-style RMSprop (eps inside the sqrt, square average starts at one)"),
    "adamp": (f"{_P}.adamp:AdamP", False, True, 2, True, False, {"wd_ratio": 0.01, "nesterov": True},
              "Adam with projection of the update off scale-invariant weights"),
    "sgdp": (f"{_P}.sgdp:SGDP", True, False, 2, True, False, {"nesterov": True},
             "SGD with projection of the update off scale-invariant weights"),
    "sgdw": (f"{_P}.sgdw:SGDW", True, False, 2, False, False, {"nesterov": True},
             "SGD with decoupled weight decay and Nesterov momentum"),
    "lamb": (f"{_P}.lamb:Lamb", False, True, 2, True, False, {}, "Layer-wise adaptive moments (LAMB)"),
    "lambc": (f"{_P}.lamb:Lamb", False, True, 2, True, False, {"trust_clip": True}, "LAMB with trust-ratio clipping"),
    "lambw": (f"{_P}.lamb:Lamb", False, True, 2, True, False, {"decoupled_decay": True},
              "LAMB with decoupled weight decay"),
    "lars": (f"{_P}.lars:Lars", True, False, 2, True, False, {}, "Layer-wise adaptive rate scaling (LARS)"),
    "larc": (f"{_P}.lars:Lars", True, False, 2, True, False, {"trust_clip": True}, "LARS with trust-ratio clipping"),
    "nlars": (f"{_P}.lars:Lars", True, False, 2, True, False, {"nesterov": True}, "LARS with Nesterov momentum"),
    "nlarc": (f"{_P}.lars:Lars", True, False, 2, True, False, {"nesterov": True, "trust_clip": True},
              "LARS with Nesterov momentum and trust-ratio clipping"),
    "adabelief": (f"{_P}.adabelief:AdaBelief", False, True, 2, True, False, {"rectify": False},
                  "Adam adapting to the belief in the gradient (its deviation from the EMA)"),
    "radabelief": (f"{_P}.adabelief:AdaBelief", False, True, 2, True, False, {"rectify": True},
                   "Rectified AdaBelief"),
    "adan": (f"{_P}.adan:Adan", False, True, 3, True, False, {"no_prox": False}, "Adaptive Nesterov momentum (Adan)"),
    "adanw": (f"{_P}.adan:Adan", False, True, 3, True, False, {"no_prox": True},
              "Adan with decoupled weight decay"),
    "adafactor": (f"{_P}.adafactor:Adafactor", False, True, 2, True, False, {},
                  "Memory-efficient Adam with a factored second moment"),
    "adahessian": (f"{_P}.adahessian:Adahessian", False, True, 2, True, True, {},
                   "Adam with a Hutchinson Hessian-diagonal estimate (second order)"),
    "lion": (f"{_P}.lion:Lion", False, True, 2, False, False, {}, "Evolved sign momentum (Lion)"),
    "madgrad": (f"{_P}.madgrad:MADGRAD", True, False, 2, True, False, {}, "Momentumized adaptive dual averaging"),
    "madgradw": (f"{_P}.madgrad:MADGRAD", True, False, 2, True, False, {"decoupled_decay": True},
                 "MADGRAD with decoupled weight decay"),
    "novograd": (f"{_P}.nvnovograd:NvNovoGrad", False, True, 2, True, False, {},
                 "NovoGrad: per-tensor normalized Adam"),
    "nadamw": (f"{_P}.nadamw:NAdamW", False, True, 2, True, False, {},
               "Adam with Nesterov momentum and decoupled weight decay"),
    "adamwlegacy": (f"{_P}.adamw:AdamW", False, True, 2, True, False, {}, "pimm's own AdamW (the classic rule)"),
    "nadamlegacy": (f"{_P}.nadam:Nadam", False, True, 2, True, False, {}, "pimm's own Nadam (the classic rule)"),
    "radamlegacy": (f"{_P}.radam:RAdam", False, True, 2, True, False, {}, "pimm's own RAdam (the classic rule)"),
    "adopt": (f"{_P}.adopt:Adopt", False, True, 2, True, False, {},
              "ADOPT: Adam normalizing by the previous second moment (converges with any beta2)"),
    "laprop": (f"{_P}.laprop:LaProp", False, True, 2, True, False, {},
               "LaProp: momentum over the RMSprop-normalized gradient"),
    "mars": (f"{_P}.mars:Mars", False, True, 2, True, False, {},
             "MARS: variance-reduced gradient correction inside an AdamW (or Lion) step"),
    "adafactorbv": (f"{_P}.adafactor_bv:AdafactorBigVision", True, False, 2, True, False, {},
                    "Adafactor as big_vision trains ViTs (factored, clipped, low-precision momentum)"),
    "muon": (f"{_P}.muon:Muon", True, True, 2, True, False, {},
             "Muon: momentum orthogonalized by Newton-Schulz, AdamW fallback for non-matrix params"),
    "nmuon": (f"{_P}.muon:Muon", True, True, 2, True, False, {"nesterov": True},
              "Muon with Nesterov momentum and a NAdamW fallback"),
    "adamuon": (f"{_P}.muon:Muon", True, True, 2, True, False, {"algo": "adamuon"},
                "AdaMuon: Muon with a second moment on the orthogonalized step"),
    "nadamuon": (f"{_P}.muon:Muon", True, True, 2, True, False, {"algo": "adamuon", "nesterov": True},
                 "AdaMuon with Nesterov momentum and a NAdamW fallback"),
    "kron": (f"{_P}.kron:Kron", True, False, 2, False, False, {},
             "PSGD Kron: momentum preconditioned by a learned Kronecker-factored matrix"),
    "kronw": (f"{_P}.kron:Kron", True, False, 2, False, False, {"decoupled_decay": True},
              "PSGD Kron with decoupled weight decay"),
    "kronc": (f"{_P}.kron:Kron", True, False, 2, False, False,
              {"decoupled_decay": True, "corrected_weight_decay": True},
              "PSGD Kron with corrected decoupled weight decay"),
}

_ALIASES: dict[str, tuple[str, ...]] = {"sgd": ("nesterov",), "sgdw": ("nesterovw",)}


#: The torch.optim classes with a fused kernel on CPU and CUDA: their specs carry the "fused" tag, so
#: the factory builds them with ``fused=True`` where the parameters allow it (pimm.core.optim.fused).
_FUSED_TARGETS = frozenset({"torch.optim:SGD", "torch.optim:Adam", "torch.optim:AdamW", "torch.optim:Adagrad"})


@hookimpl
def pimm_optimizers() -> list[OptimizerSpec]:
    """The builtin optimizers, one spec per factory name."""
    specs = []
    rows = {name: (*row, getattr(_o, f"{name[0].upper()}{name[1:]}Options")) for name, row in _TABLE.items()}
    for name, (base, overrides, summary) in VARIANTS.items():
        target, momentum, betas, num_betas, eps, second, defaults, _, options = rows[base]
        rows[name] = (target, momentum, betas, num_betas, eps, second, {**defaults, **overrides}, summary,
                      variant_options(name))
    for name, (target, momentum, betas, num_betas, eps, second, defaults, summary, options) in rows.items():
        tags = {"torch_optim"} if target.startswith("torch.optim:") else set()
        if second:
            tags.add("second_order")
        if "caution" in defaults:
            tags.add("cautious")
        if target.endswith(":SGDP"):  # lr has no default (as in timm): a group lr or lr=... is needed
            tags.add("no-default-construct")
        if target in _FUSED_TARGETS:
            tags.add("fused")
        specs.append(OptimizerSpec(
            name=name, target=target, options=options, aliases=_ALIASES.get(name, ()),
            tags=frozenset(tags), summary=summary, has_momentum=momentum, has_betas=betas,
            num_betas=num_betas, has_eps=eps, second_order=second, defaults=defaults))
    return specs
