"""The options of ``pimm train`` as one validated pydantic model, and config files.

Every command-line flag is a field of :class:`TrainConfig` (``--drop-path-rate`` is
``drop_path_rate``), so a JSON or YAML file holds the same options (``--config run.yaml``;
flags given on the command line override the file). Unknown keys and bad values are errors that
name the field. Fields left at ``None`` mean "decide for me": from the model's pretrained config
(input size, crop, interpolation, mean/std), the dataset (number of classes), or the demo profile
(when no ``--data`` is given, see :data:`DEMO_PROFILE`). The run directory keeps the resolved
config as ``config.json`` (see :func:`TrainConfig.resolved`).

Config files: JSON or YAML (PyYAML is one of pimm's dependencies).
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ...errors import ConfigError

__all__ = ["TrainConfig", "DEMO_PROFILE", "load_config_file", "make_config", "format_validation_error"]

#: Values the demo run uses for options the user did not set (no ``--data``): a small model at
#: 32 px that reaches >= 90 % on the demo set in a couple of minutes on two CPU cores.
DEMO_PROFILE: dict[str, Any] = {
    "model": "resnet10t",
    "input_size": 32,
    "crop_pct": 1.0,
    "interpolation": "bilinear",
    "scale": (0.75, 1.0),
    "color_jitter": 0.0,
    "epochs": 8,
    "batch_size": 32,
    "opt": "adamw",
    "lr": 3e-3,
    "weight_decay": 0.05,
    "warmup_epochs": 1,
    "sched_on_updates": True,  # 8 short epochs: a per-epoch warmup would spend a whole epoch at warmup_lr
    "smoothing": 0.1,
}

#: The model used when neither ``--model`` nor the demo profile sets one.
DEFAULT_MODEL = "resnet18"


def _wants_number(annotation: Any) -> bool:
    """True for int/float fields (optional ones too), not for bool fields or unions that allow a bool."""
    args = typing.get_args(annotation) or (annotation,)
    kinds = {a for a in args if a is not type(None)}
    return bool(kinds) and bool(kinds & {int, float}) and bool not in kinds


class TrainConfig(BaseModel):
    """Every option of a training run (the flags of ``pimm train``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())

    # -- model ---------------------------------------------------------------------------------
    model: Optional[str] = Field(None, description="Model name, NAME or NAME.TAG or local-dir:DIR (default "
                                 f"{DEFAULT_MODEL}; the demo uses {DEMO_PROFILE['model']}).")
    pretrained: bool = Field(False, description="Start from the model's pretrained weights.")
    initial_checkpoint: Optional[str] = Field(None, description="Load these weights into the model before training.")
    num_classes: Optional[int] = Field(None, ge=1, description="Classifier outputs (default: the dataset's classes).")
    in_chans: Optional[int] = Field(None, ge=1, description="Input channels (default: the model's).")
    global_pool: Optional[str] = Field(None, description="Global pool name (any registered pool).")
    drop_rate: Optional[float] = Field(None, ge=0, lt=1, description="Dropout before the classifier.")
    drop_path_rate: Optional[float] = Field(None, ge=0, lt=1, description="Stochastic depth rate.")
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="Further model options.")

    # -- data ----------------------------------------------------------------------------------
    data: Optional[str] = Field(None, description="Dataset: a folder or tar path, or PREFIX/NAME such as "
                                "torch/cifar10 (then --data-dir is its root). None: the built-in demo set.")
    data_dir: Optional[str] = Field(None, description="Root folder of a PREFIX/NAME dataset.")
    download: bool = Field(False, description="Download a PREFIX/NAME dataset that supports it.")
    train_split: str = Field("train", description="Training split (folder synonyms are searched).")
    val_split: Optional[str] = Field("val", description="Validation split; None: no validation.")
    class_map: Optional[str] = Field(None, description="Class map file (.txt or .json).")
    input_size: Optional[Union[int, tuple[int, int, int]]] = Field(
        None, description="Training input size, N or (C, H, W) (default: the model's pretrained config).")
    crop_pct: Optional[float] = Field(None, gt=0, le=1, description="Eval centre-crop fraction (default: model's).")
    interpolation: Optional[str] = Field(None, description="Resize interpolation (default: model's).")
    mean: Optional[tuple[float, ...]] = Field(None, description="Normalisation mean (default: model's).")
    std: Optional[tuple[float, ...]] = Field(None, description="Normalisation std (default: model's).")
    scale: tuple[float, float] = Field((0.08, 1.0), description="RandomResizedCrop area range.")
    ratio: tuple[float, float] = Field((3 / 4, 4 / 3), description="RandomResizedCrop aspect-ratio range.")
    hflip: float = Field(0.5, ge=0, le=1, description="Horizontal flip probability.")
    vflip: float = Field(0.0, ge=0, le=1, description="Vertical flip probability.")
    color_jitter: Optional[float] = Field(0.4, ge=0, description="Colour jitter strength (0 or None: off).")
    aa: Optional[str] = Field(None, description="Auto-augment policy, e.g. rand-m9-mstd0.5.")
    reprob: float = Field(0.0, ge=0, le=1, description="Random erasing probability.")
    remode: str = Field("pixel", description="Random erasing fill: const, rand or pixel.")
    recount: int = Field(1, ge=1, description="Random erasing count.")
    mixup: float = Field(0.0, ge=0, description="Mixup alpha (0: off).")
    cutmix: float = Field(0.0, ge=0, description="CutMix alpha (0: off).")
    cutmix_minmax: Optional[tuple[float, float]] = Field(None, description="CutMix box ratio range.")
    mixup_prob: float = Field(1.0, ge=0, le=1, description="Probability of mixing a batch.")
    mixup_switch_prob: float = Field(0.5, ge=0, le=1, description="Probability of CutMix when both are on.")
    mixup_mode: Literal["batch", "pair", "elem", "half"] = Field("batch", description="How mixing pairs samples.")
    mixup_off_epoch: int = Field(0, ge=0, description="Turn mixing off from this epoch (0: never).")
    smoothing: float = Field(0.1, ge=0, lt=1, description="Label smoothing.")

    # -- optimisation --------------------------------------------------------------------------
    opt: str = Field("sgd", description="Optimizer name (any registered optimizer).")
    lr: Optional[float] = Field(None, gt=0, description="Learning rate (default: lr_base * batch / 256).")
    lr_base: float = Field(0.1, gt=0, description="Learning rate for a global batch of 256 when --lr is unset.")
    weight_decay: float = Field(2e-5, ge=0, description="Weight decay.")
    momentum: float = Field(0.9, ge=0, lt=1, description="Momentum (optimizers that have one).")
    layer_decay: Optional[float] = Field(None, gt=0, le=1, description="Layer-wise lr decay.")
    opt_kwargs: dict[str, Any] = Field(default_factory=dict, description="Further optimizer options.")
    # schedule, loss, loggers and run control: timm's flag names (see docs/train.md); run_flags.py has the CLI side
    sched: str = Field("cosine", description="lr scheduler (any registered scheduler: pimm list scheduler).")
    sched_on_updates: bool = Field(False, description="Step the lr every optimizer update (timm's default: per epoch).")
    warmup_epochs: float = Field(0.0, ge=0, description="Linear warmup length in epochs.")
    warmup_lr: float = Field(1e-5, ge=0, description="Learning rate at the start of warmup.")
    warmup_prefix: bool = Field(False, description="The decay starts after the warmup instead of overlapping it.")
    min_lr: float = Field(0.0, ge=0, description="Lowest lr of decaying schedules (cosine, tanh, poly, plateau).")
    cooldown_epochs: float = Field(0, ge=0, description="Last epochs held at --min-lr (inside --epochs).")
    decay_epochs: float = Field(90.0, gt=0, description="step: epochs between decays.")
    decay_milestones: tuple[float, ...] = Field((90, 180, 270), description="multistep: epochs of the decays.")
    decay_rate: float = Field(0.1, gt=0, description="step/multistep/plateau: lr factor per decay; poly: power.")
    patience_epochs: int = Field(10, ge=0, description="plateau: epochs without improvement before a decay.")
    lr_cycle_mul: float = Field(1.0, gt=0, description="Cyclic schedules: each cycle this many times longer.")
    lr_cycle_decay: float = Field(0.5, gt=0, description="Cyclic schedules: peak lr factor per cycle.")
    lr_cycle_limit: int = Field(1, ge=1, description="Cyclic schedules: number of cycles in --epochs.")
    lr_k_decay: float = Field(1.0, gt=0, description="k-decay of cosine and poly.")
    lr_noise: Optional[tuple[float, ...]] = Field(None, description="lr noise on from this fraction of the schedule "
                                                  "(one number) or between two fractions.")
    lr_noise_pct: float = Field(0.67, ge=0, description="lr noise limit (relative).")
    lr_noise_std: float = Field(1.0, ge=0, description="lr noise standard deviation.")
    loss: Optional[str] = Field(None, description="Training loss (any registered loss; default: timm's choice).")
    bce_loss: bool = Field(False, description="Binary cross-entropy loss (timm's --bce-loss).")
    bce_sum: bool = Field(False, description="BCE: sum over classes before the batch mean.")
    bce_target_thresh: Optional[float] = Field(None, ge=0, le=1, description="BCE: binarize targets above this.")
    bce_pos_weight: Optional[float] = Field(None, gt=0, description="BCE: weight of the positive terms.")
    log: str = Field("", description="Extra run loggers, comma-separated (e.g. text,tensorboard; pimm list logger).")
    patience: Optional[int] = Field(None, ge=1, description="Stop after this many epochs without improvement.")
    min_delta: float = Field(0.0, ge=0, description="Early stopping: smallest change that counts as improvement.")
    checkpoint_hist: int = Field(0, ge=0, description="Keep the weights of the K best epochs in RUN/checkpoints.")
    epochs: int = Field(10, ge=1, description="Number of epochs.")
    batch_size: int = Field(128, ge=1, description="Batch size per process.")
    val_batch_size: Optional[int] = Field(None, ge=1, description="Validation batch size (default: 2x batch).")
    grad_accum: int = Field(1, ge=1, description="Batches accumulated per optimizer step.")
    clip_grad: Optional[float] = Field(None, gt=0, description="Clip the gradient norm (or value) to this.")
    clip_mode: Literal["norm", "value", "agc"] = Field("norm", description="What --clip-grad clips: the global norm, "
                                                       "each value, or agc (adaptive, per unit: the ratio of "
                                                       "gradient to weight norm).")

    # -- execution -----------------------------------------------------------------------------
    amp: Literal["auto", "none", "bf16", "fp16"] = Field(
        "auto", description="Mixed precision: auto (bf16 where the device runs it natively, fp16 + GradScaler on "
        "CUDA without bf16, else none), none (fp32), bf16, or fp16 (CUDA).")
    channels_last: Optional[bool] = Field(None, description="Channels-last memory format (default: on for "
                                          "convolutional models; --no-channels-last turns it off).")
    tf32: Optional[bool] = Field(None, description="TF32 matmul/convolution on CUDA (default: on for Ampere and "
                                 "newer; --no-tf32 turns it off).")
    cudnn_benchmark: Optional[bool] = Field(None, description="cuDNN benchmark mode on CUDA (default: on; "
                                            "--no-cudnn-benchmark turns it off).")
    keep_memory: Optional[bool] = Field(None, description="On the CPU, keep freed memory in the process for the next "
                                        "step instead of returning it to the system (default: on with glibc; "
                                        "--no-keep-memory turns it off).")
    speed: Optional[dict[str, Any]] = Field(None, description="Written by the run (not an option): the speed "
                                            "settings pimm picked and why (see docs/train.md).")
    compile: bool = Field(False, description="torch.compile the model.")
    model_ema: bool = Field(False, description="Keep an exponential moving average of the weights.")
    model_ema_decay: float = Field(0.9998, gt=0, lt=1, description="EMA decay per optimizer step.")
    model_ema_warmup: bool = Field(False, description="Ramp the EMA decay up over the first steps.")
    seed: int = Field(42, description="Random seed (runs are reproducible for a given seed).")
    workers: Optional[int] = Field(None, ge=0, description="DataLoader worker processes (default: by CPU count).")
    threads: Optional[int] = Field(None, ge=1, description="torch intra-op threads (default: by CPU count).")
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps.")
    nproc: int = Field(1, ge=1, description="Train with this many local processes (DistributedDataParallel).")
    output: str = Field("runs", description="Parent folder of run directories.")
    experiment: Optional[str] = Field(None, description="Run directory name (default: date-time-model).")
    resume: Optional[str] = Field(None, description="Run directory to continue exactly.")
    eval_metric: Literal["top1", "top5", "loss"] = Field("top1", description="Metric that picks the best checkpoint.")
    log_interval: int = Field(50, ge=1, description="Progress: a log line every N batches when the output is not a terminal.")
    # -- timm train.py options with no other pimm spelling (see timm_flags.py) --------------------
    lr_base_size: int = Field(256, ge=1, description="Global batch size that --lr-base refers to.")
    lr_base_scale: Optional[Literal["linear", "sqrt"]] = Field(
        None, description="lr scaling with the batch (default: sqrt for optimizers named *ada*/*lamb*, else linear).")
    train_interpolation: Optional[str] = Field(None, description="Training resize interpolation (default: "
                                               "--interpolation if given, else random).")
    no_aug: bool = Field(False, description="No training augmentation: resize and centre crop only.")
    grad_checkpointing: bool = Field(False, description="Recompute activations in backward (less memory).")
    pin_mem: Optional[bool] = Field(None, description="Pin loader memory (default: on with CUDA).")
    aug_repeats: int = Field(0, ge=0, description="Repeated augmentation: each chosen image this many times per "
                             "epoch (0 or 1: off).")
    sync_bn: bool = Field(False, description="Synchronise BatchNorm statistics across processes (CUDA, >1 process).")
    no_resume_opt: bool = Field(False, description="--resume: restore the weights and the epoch but start the "
                                "optimizer (and loss scaler) afresh; the optimizer may then differ.")
    recovery_interval: int = Field(0, ge=0, description="Also write the weights to RUN/recovery every N optimizer "
                                   "steps inside an epoch (0: off).")
    start_epoch: Optional[int] = Field(None, ge=0, description="Epoch to start at (0-based; the lr schedule starts "
                                       "there too). With --resume, at or after the resumed epoch.")

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would read `epochs: true` as 1; a boolean where a number belongs is a mistake
        if isinstance(value, bool) and _wants_number(cls.model_fields[info.field_name].annotation):
            raise ValueError(f"expected a number, got the boolean {value!r}")
        return value

    @field_validator("amp", mode="before")
    @classmethod
    def _amp_none(cls, value: Any) -> Any:
        # run directories written before --amp auto saved fp32 as null
        return "none" if value is None else value

    @model_validator(mode="after")
    def _check_ranges(self) -> TrainConfig:
        for name in ("scale", "ratio"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must be two numbers with 0 < low <= high, got {(low, high)}")
        return self

    def resolved(self, **updates: Any) -> TrainConfig:
        """A copy with the demo profile and defaults filled in (what the run actually uses)."""
        data = self.model_dump()
        data.update(updates)
        if data["data"] is None:
            for key, value in DEMO_PROFILE.items():
                if key not in self.model_fields_set and key not in updates:
                    data[key] = value
        if data["model"] is None:
            data["model"] = DEFAULT_MODEL
        return TrainConfig.model_validate(data)

    def to_json(self) -> str:
        """The config as indented JSON (what ``config.json`` of a run holds)."""
        return json.dumps(self.model_dump(mode="json"), indent=2) + "\n"


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming each bad option and why."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        flag = "--" + where.replace("_", "-") if err["loc"] else where
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            from difflib import get_close_matches

            close = get_close_matches(where, list(TrainConfig.model_fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            parts.append(f"unknown option {where!r}{hint}")
        else:
            parts.append(f"{flag}: {msg} (got {err.get('input')!r})")
    return f"{source}: " + "; ".join(parts)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The options in a JSON or YAML config file (keys may use - or _)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist; pass the path of a .json or .yaml file")
    text = file.read_text()
    if file.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(
                f"{file} is YAML but PyYAML is not installed: `pip install pyyaml`, or write the config as JSON"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file} is not valid YAML: {' '.join(str(exc).split())}") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{file} is not valid JSON: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file} must hold a mapping of option names to values, got {type(data).__name__}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def make_config(file_options: dict[str, Any] | None = None, cli_options: dict[str, Any] | None = None,
                source: str = "options") -> TrainConfig:
    """Validate config-file options overridden by command-line ones into a :class:`TrainConfig`."""
    merged = {**(file_options or {}), **(cli_options or {})}
    try:
        return TrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None
