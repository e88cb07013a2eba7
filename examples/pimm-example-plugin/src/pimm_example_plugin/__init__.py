"""pimm-example-plugin: one component of each kind, registered through the ``pimm`` entry point.

This module holds only specs and hookimpls: it imports no torch, so ``pimm list`` stays fast.
The code lives in the sibling modules the ``target`` strings name.
"""

from __future__ import annotations

from pydantic import Field

from pimm.core import hookimpl
from pimm.core.models.options import ModelOptions
from pimm.core.data.augment import OpOptions
from pimm.core.specs import (
    AugmentSpec,
    LoggerSpec,
    LossSpec,
    ModelSpec,
    OptimizerSpec,
    Options,
    PoolSpec,
    PretrainedCfg,
    ReaderSpec,
    SchedulerSpec,
)


class GeMOptions(Options):
    """Options of the GeM pool."""

    flatten: bool = Field(False, description="Return (N, C) vectors instead of (N, C, 1, 1) maps.")
    p: float = Field(3.0, gt=0, description="Generalised-mean exponent (1 = average, large = max).")
    learn_p: bool = Field(False, description="Make p a trainable parameter.")


class CsvReaderOptions(Options):
    """Options of the CSV manifest reader."""

    root: str = Field(description="A .csv manifest, or a folder holding <split>.csv.")
    split: str = Field("train", description="Manifest to read when root is a folder.")
    class_map: dict[str, int] | None = Field(None, description="Label name -> index; default sorted labels.")
    path_column: str = Field("path", description="Column holding image paths, relative to the manifest.")
    label_column: str = Field("label", description="Column holding the label name.")


class SignSGDOptions(Options):
    """Options of SignSGD."""

    lr: float = Field(1e-3, gt=0, description="Step size.")
    momentum: float = Field(0.9, ge=0, lt=1, description="EMA factor of the gradient whose sign is used.")
    weight_decay: float = Field(0.0, ge=0, description="Decoupled weight decay (p *= 1 - lr * wd).")


@hookimpl
def pimm_models():
    """TinyNet in two widths."""
    cfg = PretrainedCfg(input_size=(3, 32, 32), pool_size=(4, 4), crop_pct=1.0, interpolation="bilinear",
                        first_conv="stem.0", classifier="fc", license="apache-2.0")
    return [
        ModelSpec(name=f"tinynet_{width}", target="pimm_example_plugin.tinynet:TinyNet", options=ModelOptions,
                  arch_args={"width": width}, pretrained_cfgs={"untrained": cfg},
                  tags=frozenset({"features"}), summary=f"Three-stage CNN of width {width} (example plugin)")
        for width in (8, 16)
    ]


@hookimpl
def pimm_pools():
    """Generalised-mean pooling."""
    return [PoolSpec(name="gem", target="pimm_example_plugin.gem:GeMPool", options=GeMOptions,
                     summary="Generalised-mean pooling (example plugin)")]


@hookimpl
def pimm_augment_ops():
    """An op RandAugment can use by name (e.g. ``rand-m9-n2`` with ops=["ChannelShuffle", ...])."""
    return [AugmentSpec(name="ChannelShuffle", target="pimm_example_plugin.augment:ChannelShuffle",
                        options=OpOptions, role="op", tags=frozenset({"tensor", "stochastic"}),
                        summary="Random permutation of the colour channels (example plugin)")]


@hookimpl
def pimm_readers():
    """Images listed in a CSV manifest."""
    return [ReaderSpec(name="csv", target="pimm_example_plugin.csv_reader:CsvManifestReader",
                       options=CsvReaderOptions, prefixes=("csv",),
                       summary="Images and labels listed in a CSV manifest (example plugin)")]


@hookimpl
def pimm_optimizers():
    """SignSGD with momentum."""
    return [OptimizerSpec(name="signsgd", target="pimm_example_plugin.optim:SignSGD", options=SignSGDOptions,
                          has_momentum=True, has_betas=False, has_eps=False,
                          summary="Sign of the gradient EMA as the update (example plugin)")]


@hookimpl
def pimm_cli_commands():
    """`pimm example-hello`: a plugin's own sub-command."""
    from .hello_cli import add_hello

    return {"example-hello": add_hello}


class LinearSchedOptions(Options):
    """Options of the linear schedule (the standard names, so every ``pimm train`` flag applies)."""

    t_initial: float = Field(gt=0, description="Length of the decay, in units of t.")
    lr_min: float = Field(0.0, ge=0, description="lr at the end.")
    t_in_epochs: bool = Field(True, description="t counts epochs; False: optimizer updates.")
    warmup_t: float = Field(0, ge=0, description="Linear warmup length.")
    warmup_lr_init: float = Field(0.0, ge=0, description="lr at the start of the warmup.")
    warmup_prefix: bool = Field(False, description="The decay starts after the warmup.")


class FocalOptions(Options):
    """Options of the focal loss."""

    gamma: float = Field(2.0, ge=0, description="Focusing exponent (0 = cross-entropy).")


class MarkdownOptions(Options):
    """Options of the Markdown results logger."""

    filename: str = Field("results.md", min_length=1, description="File name inside the run directory.")


@hookimpl
def pimm_schedulers():
    """A linear decay to lr_min."""
    return [SchedulerSpec(name="linear", target="pimm_example_plugin.run_parts:LinearLRScheduler",
                          options=LinearSchedOptions, summary="Linear lr decay to lr_min (example plugin)")]


@hookimpl
def pimm_losses():
    """Focal loss for class-index targets."""
    return [LossSpec(name="focal", target="pimm_example_plugin.run_parts:FocalLoss", options=FocalOptions,
                     targets=frozenset({"index"}), summary="Focal loss (example plugin)")]


@hookimpl
def pimm_loggers():
    """A Markdown table of the epochs."""
    return [LoggerSpec(name="markdown", target="pimm_example_plugin.run_parts:MarkdownLogger",
                       options=MarkdownOptions, files=("results.md",),
                       summary="results.md: a Markdown table of the epochs (example plugin)")]
