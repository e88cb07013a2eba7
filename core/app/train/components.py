"""Building the pieces of a run from a config: device, datasets, model, transforms and loaders.

Datasets come from :func:`pimm.core.data.create_dataset` (any registered reader), the model from
:func:`pimm.core.models.create_model` (any registered model), the transforms from
:func:`pimm.core.data.create_transform` with the model's data config
(:func:`pimm.core.data.resolve_data_config`) unless the run overrides it.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ...errors import ConfigError
from .distributed import DistInfo, EvalShardSampler

__all__ = ["pick_device", "seed_everything", "dataset_source", "load_datasets", "build_model", "data_config_for",
           "make_loader", "EpochSampler", "default_workers", "default_threads", "count_classes", "check_class_sets"]


def pick_device(name: str, info: DistInfo) -> torch.device:
    """The torch device for ``--device`` ('auto': this rank's CUDA device if there is one, else CPU)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name!r} is not a device name; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for but no CUDA device is available; use --device cpu")
        index = device.index if device.index is not None else info.local_rank % torch.cuda.device_count()
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    return device


def seed_everything(seed: int, epoch: int = -1, rank: int = 0) -> None:
    """Seed Python, NumPy and torch from (seed, epoch, rank), so each epoch is reproducible on its own."""
    value = (seed * 1_000_003 + (epoch + 1) * 7919 + rank * 104_729) % (2**31 - 1)
    random.seed(value)
    torch.manual_seed(value)
    try:
        import numpy as np

        np.random.seed(value)
    except ImportError:  # pragma: no cover - numpy is optional
        pass


def default_threads(info: DistInfo) -> int:
    """Intra-op threads per process: the CPU cores shared evenly between the local processes.

    On a machine already busier than its core count (load average), one thread: torch's worker
    threads wait for each other at every operation, and with the cores taken by other programs
    that waiting costs far more than the parallelism gains.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, cores // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", info.world_size))))
    try:
        busy = os.getloadavg()[0] > cores + 0.5
    except OSError:  # pragma: no cover - platforms without a load average
        busy = False
    return 1 if busy else threads


def default_workers(info: DistInfo) -> int:
    """DataLoader workers per process: a few per spare core, none on tiny machines (decoding in-process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per_proc = cores // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", info.world_size)))
    return 0 if per_proc <= 2 else min(8, per_proc - 1)


def dataset_source(cfg: Any) -> tuple[str, str | None, bool]:
    """(dataset name for create_dataset, root, is_demo) for ``--data`` / ``--data-dir``."""
    if cfg.data is None:
        from .demo_data import ensure_demo_dataset

        return "", str(ensure_demo_dataset(verbose=True)), True
    path = Path(cfg.data).expanduser()
    if path.exists():
        return "", str(path), False
    if "/" in cfg.data and not cfg.data.startswith(("/", ".", "~")):
        return cfg.data, cfg.data_dir, False
    raise ConfigError(
        f"dataset {cfg.data!r} not found: pass an existing image folder or .tar with --data, or a dataset "
        "name with its reader prefix (e.g. --data torch/cifar10 --data-dir DIR --download); "
        "leave --data out to train on the built-in demo set"
    )


def _class_map(dataset: Any) -> dict[str, int]:
    return dict(getattr(dataset, "class_to_idx", None) or getattr(getattr(dataset, "reader", None), "class_to_idx", {})
                or {})


def count_classes(dataset: Any) -> int:
    """Number of classes a dataset's labels span (at least two: one class cannot be classified)."""
    mapping = _class_map(dataset)
    if not mapping:
        raise ConfigError("the dataset does not say how many classes it has; pass --num-classes")
    if len(mapping) < 2:
        names = ", ".join(repr(k) for k in mapping)
        raise ConfigError(f"the training data has only one class ({names}): a classifier needs at least two; put "
                          "each class's images in its own sub-folder (DATA/train/<class>/...)")
    return max(mapping.values()) + 1


def check_class_sets(train: Any, val: Any, train_split: str, val_split: str | None) -> None:
    """Refuse a validation split whose classes (names or label indices) differ from the training split's."""
    if val is None:
        return
    a, b = _class_map(train), _class_map(val)
    if not a or not b or a == b:
        return
    only_train, only_val = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_train or only_val:
        def show(names: list[str]) -> str:
            return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")

        parts = ([f"only in {train_split!r}: {show(only_train)}"] if only_train else []) + (
            [f"only in {val_split!r}: {show(only_val)}"] if only_val else [])
        detail = "; ".join(parts)
    else:
        detail = "the same names map to other label indices"
    raise ConfigError(f"the validation split's classes differ from the training split's ({detail}), so its labels "
                      "would not mean the same classes; give both splits the same class folders, or pass "
                      "--class-map FILE so both use one mapping")


def class_names(dataset: Any, num_classes: int) -> list[str]:
    """Class names by index (the index itself where the dataset has no names)."""
    mapping = getattr(dataset, "class_to_idx", None) or {}
    names = [str(i) for i in range(num_classes)]
    for name, index in mapping.items():
        if 0 <= index < num_classes:
            names[index] = str(name)
    return names


def load_datasets(cfg: Any, info: DistInfo, need_train: bool = True) -> tuple[Any, Any]:
    """(train dataset or None, val dataset or None), without transforms yet."""
    from ...data import create_dataset

    name, root, _ = dataset_source(cfg)
    common = dict(class_map=cfg.class_map, download=cfg.download, batch_size=cfg.batch_size, seed=cfg.seed)
    train = None
    if need_train:
        train = create_dataset(name, root=root, split=cfg.train_split, is_training=True, **common)
    val = None
    if cfg.val_split:
        val = create_dataset(name, root=root, split=cfg.val_split, is_training=False, **common)
        if train is not None and val is not None and _same_files(train, val):
            raise ConfigError(
                f"--train-split {cfg.train_split!r} and --val-split {cfg.val_split!r} resolve to the same data under "
                f"{root!r}; put the images in {root}/train/<class>/ and {root}/val/<class>/, or pass --val-split ''"
            )
    return train, val


def _same_files(a: Any, b: Any) -> bool:
    if not hasattr(a, "filename") or not hasattr(b, "filename"):
        return False
    if len(a) != len(b) or len(a) == 0:
        return False
    try:
        return a.filename(0, absolute=True) == b.filename(0, absolute=True)
    except Exception:  # noqa: BLE001 - readers without file names
        return False


class _Notes(logging.Handler):
    """Collects what weight loading reports about tensors it left at their initialisation."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.missing: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("missing keys") and isinstance(record.args, tuple) and record.args:
            self.missing.extend(str(k) for k in record.args[0])


def build_model(cfg: Any, num_classes: int) -> tuple[Any, list[str]]:
    """The model the config names, with ``num_classes`` outputs, and initial weights if asked for.

    Also returns notes for the user, e.g. that a checkpoint's classifier did not fit ``num_classes``
    and was re-initialised (the model library logs that at INFO, which the CLI does not show).
    """
    from ...models import create_model

    kwargs: dict[str, Any] = dict(cfg.model_kwargs)
    for key in ("in_chans", "global_pool", "drop_rate", "drop_path_rate"):
        value = getattr(cfg, key)
        if value is not None:
            kwargs[key] = value
    kwargs["num_classes"] = num_classes
    watcher = _Notes()
    log = logging.getLogger("pimm.core.models")
    old_level = log.level
    log.addHandler(watcher)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        model = create_model(cfg.model, pretrained=cfg.pretrained, **kwargs)
        if getattr(cfg, "grad_checkpointing", False):
            if not hasattr(model, "set_grad_checkpointing"):
                raise ConfigError(f"--grad-checkpointing: {cfg.model} has no set_grad_checkpointing(); "
                                  "train it without the flag")
            model.set_grad_checkpointing(True)
        if cfg.initial_checkpoint:
            from ...models import load_checkpoint

            load_checkpoint(model, cfg.initial_checkpoint)
    finally:
        log.removeHandler(watcher)
        log.setLevel(old_level)
    notes = []
    if watcher.missing:
        source = cfg.initial_checkpoint or f"the pretrained weights of {cfg.model}"
        notes.append(f"{source} did not fit {num_classes} classes: {', '.join(watcher.missing[:4])} re-initialised "
                     "(trained from scratch)")
    return model, notes


def data_config_for(cfg: Any, model: Any, use_test_size: bool = False) -> dict[str, Any]:
    """The model's data config (input size, crop, interpolation, mean/std) with the run's overrides."""
    from ...data import resolve_data_config

    overrides: dict[str, Any] = {}
    if cfg.input_size is not None:
        size = cfg.input_size
        in_chans = cfg.in_chans or (model.pretrained_cfg or {}).get("input_size", (3,))[0]
        overrides["input_size"] = (in_chans, size, size) if isinstance(size, int) else tuple(size)
    for key in ("crop_pct", "interpolation", "mean", "std"):
        value = getattr(cfg, key, None)
        if value is not None:
            overrides[key] = value
    return resolve_data_config(overrides, model=model, use_test_size=use_test_size)


def train_transform(cfg: Any, dc: dict[str, Any]) -> Any:
    """The training transform: random-resized crop, flips, jitter, auto-augment, erasing."""
    from ...data import create_transform

    interpolation = getattr(cfg, "train_interpolation", None) or cfg.interpolation or "random"
    if getattr(cfg, "no_aug", False):  # timm's --no-aug: resize + centre crop, nothing random
        return create_transform(dc["input_size"], is_training=True, no_aug=True,
                                interpolation="bicubic" if interpolation == "random" else interpolation,
                                mean=dc["mean"], std=dc["std"])
    return create_transform(dc["input_size"], is_training=True, scale=cfg.scale, ratio=cfg.ratio, hflip=cfg.hflip,
                            vflip=cfg.vflip, color_jitter=cfg.color_jitter or None, auto_augment=cfg.aa,
                            interpolation=interpolation, mean=dc["mean"], std=dc["std"],
                            re_prob=cfg.reprob, re_mode=cfg.remode, re_count=cfg.recount)


def eval_transform(dc: dict[str, Any]) -> Any:
    """The model's eval transform: resize, centre crop, normalise."""
    from ...data import create_transform

    return create_transform(dc["input_size"], is_training=False, interpolation=dc["interpolation"], mean=dc["mean"],
                            std=dc["std"], crop_pct=dc["crop_pct"], crop_mode=dc.get("crop_mode"))


class EpochSampler:
    """A shuffle that depends only on (seed, epoch): restarting at an epoch replays its order exactly."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order ``__iter__`` yields."""
        self.epoch = epoch

    def __iter__(self) -> Any:
        g = torch.Generator().manual_seed(self.seed * 7_919 + self.epoch)
        return iter(torch.randperm(self.size, generator=g).tolist())

    def __len__(self) -> int:
        return self.size


@dataclass
class Loader:
    """A DataLoader factory: a fresh loader per epoch, seeded by (seed, epoch), for exact resumes."""

    dataset: Any
    batch_size: int
    workers: int
    training: bool
    info: DistInfo
    seed: int
    pin_memory: bool = False
    aug_repeats: int = 0  # > 1: repeated augmentation (timm's --aug-repeats)
    persistent: bool = False  # keep the worker processes across epochs (persistent_loader.py)

    def __post_init__(self) -> None:
        import torch.utils.data as tud

        self.iterable = isinstance(self.dataset, tud.IterableDataset)
        self.persistent = self.persistent and self.workers > 0 and not self.iterable
        self._kept: Any = None
        self.sampler: Any = None
        if self.iterable:
            return
        if self.training:
            if self.aug_repeats > 1:
                from .repeat_sampler import RepeatedAugSampler

                self.sampler = RepeatedAugSampler(len(self.dataset), self.aug_repeats, self.info.rank,
                                                  self.info.world_size, self.seed)
            elif self.info.distributed:
                self.sampler = tud.DistributedSampler(self.dataset, self.info.world_size, self.info.rank,
                                                      shuffle=True, seed=self.seed, drop_last=True)
            else:
                self.sampler = EpochSampler(len(self.dataset), self.seed)
        else:
            self.sampler = EvalShardSampler(len(self.dataset), self.info.rank, self.info.world_size)
        self.drop_last = self.training and len(self.sampler) >= self.batch_size

    def __len__(self) -> int:
        count = len(self.dataset) if self.iterable else len(self.sampler)
        if not self.iterable and self.drop_last:
            return count // self.batch_size
        return (count + self.batch_size - 1) // self.batch_size

    def for_epoch(self, epoch: int) -> Any:
        """The DataLoader for ``epoch``."""
        import torch.utils.data as tud

        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)
        if self.iterable and hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        g = torch.Generator().manual_seed(self.seed * 31 + epoch * 1_000_003 + self.info.rank)
        if self.persistent:
            return self._persistent_loader(g)
        return tud.DataLoader(self.dataset, batch_size=self.batch_size, sampler=self.sampler,
                              num_workers=self.workers, drop_last=not self.iterable and self.drop_last,
                              pin_memory=self.pin_memory, generator=g,
                              persistent_workers=False)

    def _persistent_loader(self, g: torch.Generator) -> Any:
        import torch.utils.data as tud

        from .persistent_loader import EpochSeededDataset, SeedTaggedSampler, draw_base_seed

        if self._kept is None:
            tagged = SeedTaggedSampler(self.sampler)
            self._kept = (tud.DataLoader(EpochSeededDataset(self.dataset), batch_size=self.batch_size, sampler=tagged,
                                         num_workers=self.workers, drop_last=self.drop_last,
                                         pin_memory=self.pin_memory, persistent_workers=True), tagged)
        loader, tagged = self._kept
        tagged.base_seed = draw_base_seed(g)  # the seed a fresh per-epoch loader's workers would start from
        return loader

    def describe(self) -> str:
        """``workers 4 (persistent), pinned memory`` for the run banner."""
        text = f"workers {self.workers}" + (" (persistent)" if self.persistent else "")
        return text + (", pinned memory" if self.pin_memory else "")


def make_loader(dataset: Any, batch_size: int, workers: int, training: bool, info: DistInfo, seed: int,
                device: torch.device, pin_memory: bool | None = None, aug_repeats: int = 0,
                persistent: bool = False) -> Loader:
    """A per-epoch DataLoader factory for ``dataset`` (memory pinned with CUDA unless ``pin_memory`` says;
    ``persistent``: worker processes kept across epochs, when there are workers)."""
    pin = device.type == "cuda" if pin_memory is None else pin_memory
    return Loader(dataset, batch_size, workers, training, info, seed, pin_memory=pin, aug_repeats=aug_repeats,
                  persistent=persistent)
