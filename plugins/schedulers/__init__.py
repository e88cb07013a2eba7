"""Builtin plugin 'schedulers': timm's learning-rate schedules as scheduler components.

Specs and options only (no torch import here); the schedules live in the sibling modules
:mod:`.cyclic` (cosine, tanh, poly), :mod:`.stepwise` (step, multistep, constant) and
:mod:`.plateau`. Every option keeps the name and default of timm's scheduler classes.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field

from pimm.core import hookimpl
from pimm.core.specs import Options, SchedulerSpec

_NoiseRange = Optional[Union[float, tuple[float], tuple[float, float]]]


class CommonOptions(Options):
    """Options every builtin schedule has: unit of t, warmup and lr noise."""

    t_in_epochs: bool = Field(True, description="t counts epochs (step per epoch); False: optimizer updates.")
    warmup_t: float = Field(0, ge=0, description="Length of the linear warmup, in units of t.")
    warmup_lr_init: float = Field(0.0, ge=0, description="lr at the start of the warmup.")
    warmup_prefix: bool = Field(False, description="The decay starts after the warmup instead of overlapping it.")
    noise_range_t: _NoiseRange = Field(None, description="lr noise on from t=a ([a] or a) or on [a, b) ([a, b]).")
    noise_type: Literal["normal", "uniform"] = Field("normal", description="Distribution of the lr noise.")
    noise_pct: float = Field(0.67, ge=0, description="Noise limit: relative noise is kept inside +-noise_pct.")
    noise_std: float = Field(1.0, ge=0, description="Standard deviation of normal noise.")
    noise_seed: int = Field(42, description="Noise seed; the draw at t uses seed + t.")


class CycleOptions(CommonOptions):
    """Options of the cyclic schedules (cosine, tanh, poly)."""

    t_initial: float = Field(gt=0, description="Length of the first cycle, in units of t.")
    lr_min: float = Field(0.0, ge=0, description="lr at the end of each cycle and after the last one.")
    cycle_mul: float = Field(1.0, gt=0, description="Each cycle is this many times longer than the one before.")
    cycle_decay: float = Field(1.0, gt=0, description="Peak lr factor per cycle (cycle i peaks at base * decay**i).")
    cycle_limit: int = Field(1, ge=1, description="Number of cycles; after them the lr stays at lr_min.")


class CosineOptions(CycleOptions):
    """Cosine annealing with restarts."""

    k_decay: float = Field(1.0, gt=0, description="k-decay: the cosine runs over (t/t_i)**k instead of t/t_i.")


class TanhOptions(CycleOptions):
    """Hyperbolic-tangent decay with restarts."""

    lb: float = Field(-7.0, description="tanh argument at the start of a cycle.")
    ub: float = Field(3.0, description="tanh argument at the end of a cycle (must exceed lb).")


class PolyOptions(CycleOptions):
    """Polynomial decay with restarts."""

    power: float = Field(0.5, gt=0, description="Polynomial power.")
    k_decay: float = Field(1.0, gt=0, description="k-decay: the polynomial runs over (t/t_i)**k.")


class StepOptions(CommonOptions):
    """Step decay: the lr is multiplied by decay_rate every decay_t."""

    warmup_prefix: bool = Field(True, description="The decay starts after the warmup instead of overlapping it.")
    decay_t: float = Field(gt=0, description="Interval between decays, in units of t.")
    decay_rate: float = Field(1.0, gt=0, description="lr factor per decay.")


class MultiStepOptions(CommonOptions):
    """Decay by decay_rate at each milestone."""

    warmup_prefix: bool = Field(True, description="The decay starts after the warmup instead of overlapping it.")
    decay_t: tuple[float, ...] = Field(description="Milestones, in units of t (timm's rule: milestone m acts at t = m - 1).")
    decay_rate: float = Field(1.0, gt=0, description="lr factor per milestone passed.")


class ConstantOptions(CommonOptions):
    """The base lr after the warmup."""


class PlateauOptions(CommonOptions):
    """Decay when the validation metric stops improving."""

    decay_rate: float = Field(0.1, gt=0, lt=1, description="lr factor when the metric plateaus.")
    patience_t: int = Field(10, ge=0, description="Epochs without improvement before a decay.")
    threshold: float = Field(1e-4, ge=0, description="Relative improvement that counts as better.")
    cooldown_t: int = Field(0, ge=0, description="Epochs to wait after a decay before counting again.")
    lr_min: float = Field(0.0, ge=0, description="The lr never decays below this.")
    mode: Literal["max", "min"] = Field("max", description="'max': higher metric is better (accuracy); 'min': loss.")


_HERE = "pimm.plugins.schedulers"


@hookimpl
def pimm_schedulers() -> list[SchedulerSpec]:
    """timm's schedules: cosine, tanh, poly, step, multistep, constant, plateau."""
    return [
        SchedulerSpec(name="cosine", target=f"{_HERE}.cyclic:CosineLRScheduler", options=CosineOptions, cyclic=True,
                      summary="Cosine annealing from the base lr to lr_min, with warmup and restarts (cycles)."),
        SchedulerSpec(name="tanh", target=f"{_HERE}.cyclic:TanhLRScheduler", options=TanhOptions, cyclic=True,
                      summary="Hyperbolic-tangent decay to lr_min, with warmup and restarts."),
        SchedulerSpec(name="poly", target=f"{_HERE}.cyclic:PolyLRScheduler", options=PolyOptions, cyclic=True,
                      summary="Polynomial decay (power) to lr_min, with warmup and restarts."),
        SchedulerSpec(name="step", target=f"{_HERE}.stepwise:StepLRScheduler", options=StepOptions,
                      summary="Multiply the lr by decay_rate every decay_t, after a warmup."),
        SchedulerSpec(name="multistep", target=f"{_HERE}.stepwise:MultiStepLRScheduler", options=MultiStepOptions,
                      summary="Multiply the lr by decay_rate at each milestone, after a warmup."),
        SchedulerSpec(name="constant", target=f"{_HERE}.stepwise:ConstantLRScheduler", options=ConstantOptions,
                      summary="The base lr after a warmup."),
        SchedulerSpec(name="plateau", target=f"{_HERE}.plateau:PlateauLRScheduler", options=PlateauOptions,
                      needs_metric=True,
                      summary="Multiply the lr by decay_rate when the validation metric stops improving."),
    ]
