"""Hook specifications: how a plugin tells pimm about its components.

A plugin is a module (or any object) with functions decorated with ``pimm.core.hookimpl`` and
named after the hooks below. Each hook takes no arguments and returns an iterable of specs of
its kind. The kernel calls every implementation itself, one plugin at a time, so it always knows
which plugin (and which installed distribution) provided which component, and so one broken
plugin cannot hide the others.

A misspelled hook name (``pimm_model`` for ``pimm_models``) is reported as an error when the
plugin is loaded, instead of being silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # specs need pydantic; keep `from pimm import core` light
    from .specs import AugmentSpec, ModelSpec, OptimizerSpec, PoolSpec, ReaderSpec

PROJECT_NAME = "pimm"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: Hook name per component kind.
HOOK_FOR_KIND: dict[str, str] = {
    "model": "pimm_models",
    "pool": "pimm_pools",
    "augment": "pimm_augment_ops",
    "reader": "pimm_readers",
    "optimizer": "pimm_optimizers",
}


@hookspec
def pimm_models() -> Iterable[ModelSpec]:
    """Return the model architectures this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.ModelSpec`, one per architecture name.

    Each spec names the callable that builds the ``torch.nn.Module`` (``target``), the
    architecture arguments bound to it (``arch_args``), the user options it accepts (an options
    model, usually :class:`pimm.core.models.ModelOptions` or a subclass) and its pretrained
    configs by tag. The built module must follow the model contract (``forward_features``,
    ``forward_head``, ``reset_classifier``, ...) documented in ``docs/models.md``.

    The hook is called once per registry build, with no arguments. It must not import torch:
    keep specs in the plugin's ``__init__`` and the torch code in the module ``target`` names.
    """


@hookspec
def pimm_pools() -> Iterable[PoolSpec]:
    """Return the global pooling layers this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.PoolSpec`.

    The target is called with the validated options (at least ``flatten: bool``) and returns a
    module mapping ``(N, C, H, W)`` to ``(N, C * feat_mult)`` when flattening, or to
    ``(N, C * feat_mult, 1, 1)`` when not. Any model's ``global_pool`` accepts any registered pool.
    """


@hookspec
def pimm_augment_ops() -> Iterable[AugmentSpec]:
    """Return the augmentation ops, policies and transforms this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.AugmentSpec`.

    An ``op`` spec (``role="op"``) builds a callable applying one image operation with a
    probability and a magnitude; policies such as RandAugment sample registered ops by name, so
    an op from any plugin can be used inside them.
    """


@hookspec
def pimm_readers() -> Iterable[ReaderSpec]:
    """Return the dataset readers this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.ReaderSpec`.

    A reader's ``prefixes`` route dataset names to it: ``create_dataset("torch/cifar10")``
    goes to the reader whose prefixes include ``"torch"``. The target builds a
    :class:`pimm.core.data.Reader` (random access) or, with ``iterable=True``, a streaming reader.
    """


@hookspec
def pimm_optimizers() -> Iterable[OptimizerSpec]:
    """Return the optimizers this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.OptimizerSpec`.

    The target is a ``torch.optim.Optimizer`` subclass (or a callable returning one) taking the
    parameters positionally and the validated options as keywords. ``has_momentum``,
    ``has_betas``, ``has_eps`` and ``defaults`` tell ``create_optimizer`` which arguments to
    inject or drop.
    """
