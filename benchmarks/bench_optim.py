"""Optimizer step time on the parameters of a resnet50 (fixed random gradients), pimm vs timm.

Each case builds the resnet50 parameter list once (shapes from torchvision's resnet50), gives it
fixed random gradients, runs a warm-up step and times further steps; the figure is ms per step.
pimm is timed as a user gets it: ``create_optimizer`` with no path option. With timm importable
(run with PYTHONPATH pointing at it) the same step of timm's optimizer is timed side by side, in
both modes its factory chooses between (foreach and loop), and the best is reported as "timm".
The peak extra memory of one step (temporaries the update allocates beyond parameters, gradients
and state) is measured for both with a torch dispatch mode that tracks every tensor an op allocates.

Allocator state: glibc returns large freed blocks to the system until a freed block raises its
threshold (up to 32 MiB), so in a fresh process every step that allocates 9 MiB temporaries pays
page faults again, and how much depends on what ran before in the process (rmsproptf measured
1.34x alone and 2.44x as the 4th name of a list). A training process frees activations of every
size each step, which raises the threshold for good; the bench therefore frees one 31 MiB block
before timing (``warm_allocator``), for both sides alike, so each figure is what a step costs in
training and no longer depends on the order of the names. ``--cold-allocator`` skips it (the
figures this bench printed before; they favour whichever side allocates less).

pimm's default for the torch.optim classes with a fused kernel (sgd, momentum, adam, adamw,
adagrad) is that kernel (see ``pimm.core.optim.fused``); timm builds them unfused unless told. For
these names the table adds, honestly, a third figure: timm's factory given ``fused=True`` by hand,
i.e. pimm's default is what a timm user gets only by passing ``fused=True``.

Run: ``PYTHONPATH=<dir with timm 1.0.31> python benchmarks/bench_optim.py [--threads N] [names]``
(e.g. ``pip install --target /tmp/timm_opt --no-deps timm==1.0.31``; timm is never a dependency).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from common import Case, fixed_params

try:
    import timm  # noqa: F401
    import timm.optim as timm_optim
except ImportError:
    timm = None
    timm_optim = None

# factory name -> (pimm kwargs, timm class name, timm kwargs)
OPTIMIZERS: dict[str, tuple[dict[str, Any], str | None, dict[str, Any]]] = {
    "sgd": ({"lr": 0.1}, None, {}),
    "momentum": ({"lr": 0.1}, None, {}),
    "adam": ({"lr": 1e-3}, None, {}),
    "adamw": ({"lr": 1e-3}, None, {}),
    "adagrad": ({"lr": 1e-2}, None, {}),
    "nadam": ({"lr": 1e-3}, None, {}),
    "radam": ({"lr": 1e-3}, None, {}),
    "rmsproptf": ({"lr": 1e-3}, "RMSpropTF", {"lr": 1e-3, "alpha": 0.9, "momentum": 0.9}),
    "lamb": ({"lr": 1e-3, "weight_decay": 0.01}, "Lamb", {"lr": 1e-3, "weight_decay": 0.01}),
    "adamp": ({"lr": 1e-3, "weight_decay": 1e-4}, "AdamP",
              {"lr": 1e-3, "weight_decay": 1e-4, "wd_ratio": 0.01, "nesterov": True}),
    "sgdp": ({"lr": 0.1, "weight_decay": 1e-4}, "SGDP",
             {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    "sgdw": ({"lr": 0.1, "weight_decay": 1e-4}, "SGDW",
             {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    "lion": ({"lr": 1e-4}, "Lion", {"lr": 1e-4}),
    "adabelief": ({"lr": 1e-3}, "AdaBelief", {"lr": 1e-3, "rectify": False}),
    "madgrad": ({"lr": 1e-2}, "MADGRAD", {"lr": 1e-2, "momentum": 0.9}),
    "lars": ({"lr": 0.1, "weight_decay": 1e-4}, "Lars", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}),
    "adan": ({"lr": 1e-3, "weight_decay": 0.02}, "Adan", {"lr": 1e-3, "weight_decay": 0.02}),
    "nadamw": ({"lr": 1e-3}, "NAdamW", {"lr": 1e-3}),
    "adafactor": ({}, "Adafactor", {}),
    "novograd": ({"lr": 1e-3}, "NvNovoGrad", {"lr": 1e-3}),
    "adamwlegacy": ({"lr": 1e-3}, "AdamWLegacy", {"lr": 1e-3}),
    "nadamlegacy": ({"lr": 1e-3}, "NAdamLegacy", {"lr": 1e-3}),
    "radamlegacy": ({"lr": 1e-3}, "RAdamLegacy", {"lr": 1e-3}),
    # timm 1.0.31's newer names: timm is built through its own factory with the same name and kwargs
    "adopt": ({"lr": 1e-3}, None, {}),
    "adoptw": ({"lr": 1e-3, "weight_decay": 1e-2}, None, {}),
    "laprop": ({"lr": 4e-4, "weight_decay": 1e-2}, None, {}),
    "mars": ({"lr": 3e-3}, None, {}),
    "adafactorbv": ({"lr": 1.0}, None, {}),
    "adamc": ({"lr": 1e-3}, None, {}),
    "cadamw": ({"lr": 1e-3}, None, {}),
    "cadopt": ({"lr": 1e-3}, None, {}),
    "clamb": ({"lr": 1e-3, "weight_decay": 0.01}, None, {}),
    "claprop": ({"lr": 4e-4}, None, {}),
    "clion": ({"lr": 1e-4}, None, {}),
    "cmars": ({"lr": 3e-3}, None, {}),
    "cnadamw": ({"lr": 1e-3}, None, {}),
    "crmsproptf": ({"lr": 1e-3}, None, {}),
    "csgdw": ({"lr": 0.1, "weight_decay": 1e-4}, None, {}),
    "cadamp": ({"lr": 1e-3, "weight_decay": 1e-4}, None, {}),
    "csgdp": ({"lr": 0.1, "weight_decay": 1e-4}, None, {}),
    "cadan": ({"lr": 1e-3, "weight_decay": 0.02}, None, {}),
    "muon": ({"lr": 0.02}, None, {}),
    "nmuon": ({"lr": 0.02}, None, {}),
    "adamuon": ({"lr": 0.02}, None, {}),
    "kron": ({"lr": 1e-3}, None, {}),
}
#: The optimizers of the issue's geometric-mean target.
GEOMEAN_SET = ("lamb", "adamp", "sgdp", "rmsproptf", "adabelief", "madgrad", "adan")
#: torch.optim classes with a fused kernel (pimm's default for them): timm is also timed with fused=True.
FUSED_TORCH = ("sgd", "momentum", "adam", "adamw", "adagrad")

_SHAPES: list[tuple[int, ...]] | None = None


def resnet50_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of torchvision's resnet50 (built once, on the meta device)."""
    global _SHAPES
    if _SHAPES is None:
        import torch
        import torchvision

        with torch.device("meta"):
            model = torchvision.models.resnet50()
        _SHAPES = [tuple(p.shape) for p in model.parameters()]
    return _SHAPES


def make_params(device: str = "cpu") -> list[Any]:
    """Fresh resnet50-shaped parameters with fixed random gradients."""
    return fixed_params(resnet50_shapes(), device)


#: The clock: process CPU time (``--clock process``, the default) is what a step costs even when
#: other jobs share the CPUs; wall time (``--clock wall``) is what an idle machine would show.
CLOCK: Callable[[], float] = time.process_time


#: Whether measure() frees one large block first (see the module docstring); --cold-allocator clears it.
WARM_ALLOCATOR = True
_WARMED = False


def warm_allocator() -> None:
    """Allocate, touch and free one 31 MiB block: glibc then keeps freed blocks up to that size
    instead of unmapping them, as it does in any training process (no effect elsewhere)."""
    global _WARMED
    if _WARMED or not WARM_ALLOCATOR:
        return
    import torch

    block = torch.empty(31 * 2**20 // 4)
    block.fill_(0.0)
    del block
    _WARMED = True


def _timed_step(optimizer: Any) -> float:
    start = CLOCK()
    optimizer.step()
    return (CLOCK() - start) * 1000.0


def build_pimm(name: str, foreach: bool | None = None) -> Any:
    """pimm's optimizer ``name`` over fresh resnet50 parameters (default path unless ``foreach``)."""
    from pimm.core.optim import create_optimizer

    kwargs = dict(OPTIMIZERS[name][0])
    if foreach is not None:
        kwargs["foreach"] = foreach
    return create_optimizer(make_params(), name, **kwargs)


def build_timm_fused(name: str) -> Any | None:
    """timm's factory for a torch.optim name given ``fused=True`` by hand (None without timm)."""
    if timm_optim is None or name not in FUSED_TORCH:
        return None
    from timm.optim import create_optimizer_v2

    return create_optimizer_v2(make_params(), name, fused=True, **OPTIMIZERS[name][0])


def build_timm(name: str) -> list[Any]:
    """timm's optimizer for ``name`` in each of its modes (foreach and loop; one if it has no foreach)."""
    if timm_optim is None:
        return []
    cls_name, timm_kwargs = OPTIMIZERS[name][1], OPTIMIZERS[name][2]
    if cls_name is None:  # the same factory name in timm (torch.optim classes and timm's newer names)
        from timm.optim import create_optimizer_v2

        try:
            return [create_optimizer_v2(make_params(), name, foreach=fe, **OPTIMIZERS[name][0])
                    for fe in (False, True)]
        except TypeError:  # the class has no foreach argument
            return [create_optimizer_v2(make_params(), name, **OPTIMIZERS[name][0])]
    cls = getattr(timm_optim, cls_name)
    try:
        return [cls(make_params(), foreach=fe, **timm_kwargs) for fe in (False, True)]
    except TypeError:  # no foreach argument: single-tensor only
        return [cls(make_params(), **timm_kwargs)]


class _PeakAlloc:
    """Peak bytes of the tensors ops allocate while active (in-place results and views not counted)."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
                out = func(*args, **(kwargs or {}))
                tracker._record(out, args, kwargs)
                return out

        self.mode = Mode()
        self.current = 0
        self.peak = 0
        self._live: dict[int, int] = {}

    def _free(self, ptr: int) -> None:
        self.current -= self._live.pop(ptr, 0)

    def _record(self, out: Any, args: Any, kwargs: Any) -> None:
        import torch
        from torch.utils._pytree import tree_leaves

        inputs = {a.untyped_storage().data_ptr() for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)}
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            ptr, size = storage.data_ptr(), storage.nbytes()
            if size == 0 or ptr in inputs or ptr in self._live:
                continue
            self._live[ptr] = size
            self.current += size
            self.peak = max(self.peak, self.current)
            weakref.finalize(t, self._free, ptr)


def step_peak_memory(optimizer: Any) -> float:
    """MiB of temporaries one step of ``optimizer`` holds at its peak (state already allocated)."""
    tracker = _PeakAlloc()
    with tracker.mode:
        optimizer.step()
    return tracker.peak / 2**20


def measure(name: str, rounds: int = 4) -> dict[str, float]:
    """Best ms per step of pimm and of timm's best mode, timed in alternation (fair under load)."""
    warm_allocator()
    ours = build_pimm(name)
    theirs = build_timm(name)
    fused = build_timm_fused(name)
    extra = [] if fused is None else [fused]
    timed = [ours, *theirs, *extra]
    for opt in timed:
        opt.step()  # warm-up: state allocation
    best = [float("inf")] * len(timed)
    for _ in range(rounds):
        for i, opt in enumerate(timed):
            best[i] = min(best[i], _timed_step(opt))
    result = {"pimm": best[0], "pimm_mib": step_peak_memory(ours)}
    if theirs:
        result["timm"] = min(best[1:1 + len(theirs)])
        result["ratio"] = result["timm"] / result["pimm"]
        result["timm_mib"] = step_peak_memory(theirs[0])  # timm's CPU default mode (foreach resolves to False)
    if extra:
        result["timm_fused"] = best[-1]
    return result


def measure_cuda_paths(name: str, rounds: int = 10) -> dict[str, float]:
    """On CUDA: ms per step of the default (multi-tensor) path vs the per-tensor path."""
    import torch

    from pimm.core.optim import create_optimizer

    opts = {}
    for label, foreach in (("default", None), ("per_tensor", False)):
        kwargs = dict(OPTIMIZERS[name][0])
        if foreach is not None:
            kwargs["foreach"] = foreach
        opts[label] = create_optimizer(make_params("cuda"), name, **kwargs)
    best = {label: float("inf") for label in opts}
    for opt in opts.values():
        opt.step()
    for _ in range(rounds):
        for label, opt in opts.items():
            torch.cuda.synchronize()
            start = time.perf_counter()
            opt.step()
            torch.cuda.synchronize()
            best[label] = min(best[label], (time.perf_counter() - start) * 1000.0)
    best["speedup"] = best["per_tensor"] / best["default"]
    return best


def _case(name: str) -> Callable[[], dict[str, float]]:
    def run() -> dict[str, float]:
        return measure(name)

    run.__name__ = f"bench_{name}"
    return run


CASES = [] if Case is None else [
    Case(name=f"optim.{name}_step", unit="ms", run=_case(name), repeats=3, fresh_process=False)
    for name in OPTIMIZERS
]


def main() -> None:
    """Print the side-by-side table and the geometric-mean speed-up over the issue's set."""
    import math

    import argparse

    import torch

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="*", help="optimizers to time (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--clock", choices=("process", "wall"), default="process",
                        help="process CPU time (robust on a shared machine) or wall time")
    parser.add_argument("--rounds", type=int, default=4, help="timed steps per optimizer (best is kept)")
    parser.add_argument("--cold-allocator", action="store_true",
                        help="skip the allocator warm-up: figures then depend on the order of the names")
    args = parser.parse_args()
    global CLOCK, WARM_ALLOCATOR
    WARM_ALLOCATOR = not args.cold_allocator
    CLOCK = time.process_time if args.clock == "process" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.names or OPTIMIZERS:
        res = measure(name, rounds=args.rounds)
        ours, ref = res["pimm"], res.get("timm")
        rows.append((name, ours, ref))
        ratio = f"{ref / ours:5.2f}x" if ref else "  n/a"
        fused = f"   (timm fused=True by hand {res['timm_fused']:6.1f} ms)" if "timm_fused" in res else ""
        print(f"{name:11s} pimm {ours:7.1f} ms   timm {ref if ref else float('nan'):7.1f} ms   {ratio}   "
              f"step peak extra memory: pimm {res['pimm_mib']:6.1f} MiB, "
              f"timm {res.get('timm_mib', float('nan')):6.1f} MiB{fused}", flush=True)
    if torch.cuda.is_available():
        for name in args.names or OPTIMIZERS:
            if OPTIMIZERS[name][1] is None:
                continue  # torch.optim classes: torch's own choice
            res = measure_cuda_paths(name)
            print(f"cuda {name:10s} default {res['default']:6.2f} ms   per-tensor {res['per_tensor']:6.2f} ms"
                  f"   {res['speedup']:5.2f}x", flush=True)
    ratios = [ref / ours for name, ours, ref in rows if ref and name in GEOMEAN_SET]
    if ratios:
        print(f"geometric-mean speed-up over {', '.join(GEOMEAN_SET)}: "
              f"{math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}x")


if __name__ == "__main__":
    main()
