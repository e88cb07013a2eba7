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

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # specs need pydantic; keep `from pimm import core` light
    from .specs import AugmentSpec, LoggerSpec, LossSpec, ModelSpec, OptimizerSpec, PoolSpec, ReaderSpec, SchedulerSpec

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
    "scheduler": "pimm_schedulers",
    "loss": "pimm_losses",
    "logger": "pimm_loggers",
}

#: The run lifecycle hooks, in the order a run calls them (see docs/hooks.md, "Run events").
RUN_EVENT_HOOKS: tuple[str, ...] = (
    "pimm_run_start",
    "pimm_epoch_start",
    "pimm_validated",
    "pimm_checkpoint_saved",
    "pimm_epoch_end",
    "pimm_run_end",
    "pimm_run_failed",
)


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


@hookspec
def pimm_schedulers() -> Iterable[SchedulerSpec]:
    """Return the learning-rate schedulers this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.SchedulerSpec`.

    The target is called as ``target(optimizer, **options)`` and returns a scheduler following the
    contract of :class:`pimm.core.scheduler.Scheduler`: ``step(epoch, metric=None)`` after every
    epoch, ``step_update(num_updates, metric=None)`` after every optimizer update, and
    ``state_dict()`` / ``load_state_dict()``. Schedulers that need the validation metric set
    ``needs_metric=True``; ``pimm train --sched NAME`` accepts any registered name.
    """


@hookspec
def pimm_losses() -> Iterable[LossSpec]:
    """Return the training losses this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.LossSpec`.

    The target is called with the validated options and returns a callable
    ``loss(logits, target) -> scalar tensor`` (usually an ``nn.Module``). ``targets`` says which
    target forms it accepts, so the app can refuse, with a reason, a loss that cannot take
    Mixup/CutMix's soft targets. ``pimm train --loss NAME`` accepts any registered name.
    """


@hookspec
def pimm_loggers() -> Iterable[LoggerSpec]:
    """Return the run loggers this plugin provides.

    :return: An iterable of :class:`~pimm.core.specs.LoggerSpec`.

    The target is called with the validated options and returns a logger following
    :class:`pimm.core.logger.RunLogger`: ``start(run_dir, config, resume_epoch)``,
    ``log_epoch(row)``, ``close(error=None)``. It runs on the main process only.
    ``pimm train --log csv,NAME`` accepts any registered names; ``requires`` lists the modules it
    needs, so a missing one is reported before the run starts.
    """


# -- run lifecycle -----------------------------------------------------------------------------
# Ordinary pluggy hooks, called with keyword arguments by `pimm train` on every process of a run
# (check ``run.is_main`` before writing files). Implement only the arguments you need: pluggy passes
# an implementation just the names it declares. Their return values are ignored. ``run`` is the
# run's context object with these attributes:
#
#   run.run_dir       pathlib.Path of the run directory
#   run.config        dict: the run's options as saved in config.json
#   run.epochs        int: total epochs of the run
#   run.is_main       bool: True on the process that writes files (rank 0)
#   run.rank          int: this process's rank (0 without distributed training)
#   run.state         dict: per-run scratch space for plugins (key it by your plugin's name)
#   run.request_stop(reason: str)   ask the run to stop after the current epoch (early stopping)
#   run.stop_reason   str | None: the first reason given to request_stop


@hookspec
def pimm_run_start(run: object, start_epoch: int) -> None:
    """Called once when a run (or a resumed run) is ready to train, before the first epoch.

    :param run: The run context (see above).
    :param start_epoch: Epochs already done: 0 for a new run, N when resuming after epoch N.
    """


@hookspec
def pimm_epoch_start(run: object, epoch: int) -> None:
    """Called before an epoch trains.

    :param run: The run context.
    :param epoch: The epoch about to train, 1-based (as shown in the progress bar and metrics.csv).
    """


@hookspec
def pimm_validated(run: object, epoch: int, metrics: dict[str, float]) -> None:
    """Called after an epoch's validation, before its checkpoint is saved.

    :param run: The run context.
    :param epoch: The epoch just validated, 1-based.
    :param metrics: Validation metrics: ``loss``, ``top1``, ``top5`` (percent) of the evaluated model
        (the EMA model when ``--model-ema`` is on), plus ``metric``: the value of ``--eval-metric``.
        Identical on every process. Not called for runs without a validation split.
    """


@hookspec
def pimm_checkpoint_saved(run: object, epoch: int, path: object, metrics: dict[str, float], is_best: bool) -> None:
    """Called on the main process after an epoch's checkpoint is complete on disk.

    :param run: The run context.
    :param epoch: The epoch saved, 1-based.
    :param path: ``pathlib.Path`` of the saved model directory (``model.safetensors`` + config); copy
        what you keep, the run overwrites it next epoch.
    :param metrics: The epoch's row as written to metrics.csv (train and validation values, lr).
    :param is_best: True when this epoch improved the run's best ``--eval-metric``.
    """


@hookspec
def pimm_epoch_end(run: object, epoch: int, metrics: dict[str, float]) -> None:
    """Called after an epoch is trained, validated and saved; ``run.request_stop`` here ends the run.

    :param run: The run context.
    :param epoch: The epoch just finished, 1-based.
    :param metrics: The epoch's row as written to metrics.csv (missing values are None).
    """


@hookspec
def pimm_run_end(run: object, epochs_done: int, best: dict[str, float] | None) -> None:
    """Called once when a run ends normally (all epochs done, or stopped by ``request_stop``).

    :param run: The run context; ``run.stop_reason`` says why when it stopped early.
    :param epochs_done: Epochs completed in total, resumed ones included.
    :param best: ``{"metric": value, "epoch": n}`` for the best ``--eval-metric`` so far, or None.
    """


@hookspec
def pimm_run_failed(run: object, error: BaseException) -> None:
    """Called once when a run stops with an error (including Ctrl-C), before the error propagates.

    :param run: The run context.
    :param error: The exception that ended the run. Errors raised by implementations of this hook
        are reported as warnings and do not replace it.
    """


@hookspec
def pimm_cli_commands() -> Mapping[str, Callable[..., None]]:
    """Return the ``pimm`` sub-commands this plugin adds, as ``{name: add_parser}``.

    :return: A mapping from command name to a function ``add_parser(subparsers)`` that receives
        argparse's sub-parsers object, calls ``subparsers.add_parser(name, ...)`` once and sets
        ``func=`` (a function of the parsed ``argparse.Namespace`` returning the exit status) with
        ``set_defaults``.

    Like the component hooks it takes no arguments; the CLI calls every implementation itself,
    pimm's own commands (``list``, ``train``, ``predict`` ...) included, so a plugin's command is
    built exactly like a builtin one. A name that is already taken, or an ``add_parser`` that
    raises, is reported as a warning and left out; the other commands keep working. Import heavy
    modules (torch) inside ``func``, not here: ``pimm --help`` builds every command.
    """
