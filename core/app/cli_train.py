"""``pimm train``, ``pimm validate`` and ``pimm export``: the main job from the command line.

No torch import here (the commands import what they need when they run). Flags of ``train``
map one to one onto :class:`pimm.core.app.train.config.TrainConfig` fields; only flags actually
given override a ``--config`` file.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from .cli import EXIT_OK, subcommand

_S = argparse.SUPPRESS


def _floats(n: int) -> dict[str, Any]:
    return {"type": float, "nargs": n}


#: (flags, field, argparse keywords) for every ``pimm train`` option.
_TRAIN_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--model", "-m"), {"help": "model NAME or NAME.TAG (any registered model) or local-dir:DIR"}),
    (("--pretrained",), {"action": "store_true", "help": "start from pretrained weights"}),
    (("--initial-checkpoint",), {"help": "weights file to start from"}),
    (("--num-classes",), {"type": int, "help": "classifier outputs (default: the dataset's classes)"}),
    (("--in-chans",), {"type": int, "help": "input channels"}),
    (("--global-pool",), {"help": "global pool (any registered pool)"}),
    (("--drop-rate",), {"type": float, "help": "dropout before the classifier"}),
    (("--drop-path-rate",), {"type": float, "help": "stochastic depth rate"}),
    (("--data",), {"help": "image folder or .tar path, or PREFIX/NAME (torch/cifar10); default: the demo set"}),
    (("--data-dir",), {"help": "root of a PREFIX/NAME dataset"}),
    (("--download",), {"action": "store_true", "help": "download a PREFIX/NAME dataset that supports it"}),
    (("--train-split",), {"help": "training split (default train)"}),
    (("--val-split",), {"help": "validation split (default val; '' for none)"}),
    (("--class-map",), {"help": "class map file (.txt or .json)"}),
    (("--input-size",), {"type": int, "nargs": "+", "metavar": "N", "help": "input size: N or C H W"}),
    (("--img-size",), {"type": int, "dest": "img_size", "help": "square input size (same as --input-size N)"}),
    (("--crop-pct",), {"type": float, "help": "eval centre-crop fraction (default: the model's)"}),
    (("--interpolation",), {"help": "resize interpolation (default: the model's)"}),
    (("--mean",), {**_floats(3), "help": "normalisation mean"}),
    (("--std",), {**_floats(3), "help": "normalisation std"}),
    (("--scale",), {**_floats(2), "help": "random-resized-crop area range"}),
    (("--ratio",), {**_floats(2), "help": "random-resized-crop aspect range"}),
    (("--hflip",), {"type": float, "help": "horizontal flip probability (0.5)"}),
    (("--vflip",), {"type": float, "help": "vertical flip probability (0)"}),
    (("--color-jitter",), {"type": float, "help": "colour jitter strength (0.4)"}),
    (("--aa",), {"help": "auto-augment policy, e.g. rand-m9-mstd0.5"}),
    (("--reprob",), {"type": float, "help": "random erasing probability"}),
    (("--remode",), {"help": "random erasing mode: const, rand, pixel"}),
    (("--recount",), {"type": int, "help": "random erasing count"}),
    (("--mixup",), {"type": float, "help": "mixup alpha"}),
    (("--cutmix",), {"type": float, "help": "cutmix alpha"}),
    (("--cutmix-minmax",), {**_floats(2), "help": "cutmix box ratio range"}),
    (("--mixup-prob",), {"type": float, "help": "probability of mixing a batch"}),
    (("--mixup-switch-prob",), {"type": float, "help": "probability of cutmix when both are on"}),
    (("--mixup-mode",), {"help": "batch, pair, elem or half"}),
    (("--mixup-off-epoch",), {"type": int, "help": "stop mixing from this epoch"}),
    (("--smoothing",), {"type": float, "help": "label smoothing (0.1)"}),
    (("--opt",), {"help": "optimizer (any registered optimizer; sgd)"}),
    (("--lr",), {"type": float, "help": "learning rate (default lr-base * global batch / 256)"}),
    (("--lr-base",), {"type": float, "help": "lr for a global batch of 256 (0.1)"}),
    (("--weight-decay", "--wd"), {"type": float, "dest": "weight_decay", "help": "weight decay"}),
    (("--momentum",), {"type": float, "help": "momentum"}),
    (("--layer-decay",), {"type": float, "help": "layer-wise lr decay"}),
    (("--epochs",), {"type": int, "help": "epochs"}),
    (("--batch-size", "-b"), {"type": int, "dest": "batch_size", "help": "batch size per process"}),
    (("--val-batch-size",), {"type": int, "help": "validation batch size"}),
    (("--grad-accum",), {"type": int, "help": "batches per optimizer step"}),
    (("--clip-grad",), {"type": float, "help": "gradient clipping threshold"}),
    (("--clip-mode",), {"help": "norm or value"}),
    (("--amp",), {"nargs": "?", "const": "bf16", "choices": ("auto", "none", "bf16", "fp16"),
                  "help": "mixed precision: auto (bf16 where the device has it natively), none (fp32), bf16 "
                          "(the value of a bare --amp) or fp16 (CUDA)"}),
    (("--no-amp",), {"action": "store_const", "const": "none", "dest": "amp", "help": "fp32: same as --amp none"}),
    (("--channels-last",), {"action": "store_true", "help": "channels-last memory format (default: on for conv nets)"}),
    (("--no-channels-last",), {"action": "store_false", "dest": "channels_last", "help": "keep NCHW memory format"}),
    (("--no-tf32",), {"action": "store_false", "dest": "tf32", "help": "no TF32 matmul/convolution on CUDA"}),
    (("--no-cudnn-benchmark",), {"action": "store_false", "dest": "cudnn_benchmark",
                                 "help": "no cuDNN benchmark mode on CUDA (default: on)"}),
    (("--no-keep-memory",), {"action": "store_false", "dest": "keep_memory",
                             "help": "return freed memory to the system (default on the CPU: keep it for the next step)"}),
    (("--compile",), {"action": "store_true", "help": "torch.compile the model"}),
    (("--model-ema",), {"action": "store_true", "help": "keep an EMA of the weights"}),
    (("--model-ema-decay",), {"type": float, "help": "EMA decay (0.9998)"}),
    (("--model-ema-warmup",), {"action": "store_true", "help": "ramp the EMA decay up"}),
    (("--seed",), {"type": int, "help": "random seed (42)"}),
    (("--workers", "-j"), {"type": int, "dest": "workers", "help": "DataLoader workers per process"}),
    (("--threads",), {"type": int, "help": "torch threads per process"}),
    (("--device",), {"help": "auto, cpu, cuda, cuda:N, mps"}),
    (("--nproc",), {"type": int, "help": "train with N local processes (DDP)"}),
    (("--output", "-o"), {"help": "parent folder of run directories (runs)"}),
    (("--experiment",), {"help": "run directory name"}),
    (("--resume",), {"metavar": "RUN_DIR", "help": "continue a run exactly"}),
    (("--eval-metric",), {"help": "top1, top5 or loss: picks the best checkpoint"}),
    (("--log-interval",), {"type": int, "help": "progress update interval (batches)"}),
]


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default=_S, help="JSON or YAML file of options (flags override it)")
    from .train.run_flags import SCHEDULE_LOSS_LOG_OPTIONS
    from .train.timm_flags import TIMM_OPTIONS

    p.add_argument("data_path", nargs="?", default=_S, metavar="DATA_DIR",
                   help="dataset folder, .tar or PREFIX/NAME, as timm's train.py takes it (same as --data)")
    for flags, kwargs in _TRAIN_OPTIONS + SCHEDULE_LOSS_LOG_OPTIONS + TIMM_OPTIONS:
        p.add_argument(*flags, default=_S, **_with_default(flags, kwargs))


def _with_default(flags: tuple[str, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the TrainConfig default appended to the help text (flags' own default is SUPPRESS)."""
    from .train.config import TrainConfig

    field = TrainConfig.model_fields.get(kwargs.get("dest") or flags[0].lstrip("-").replace("-", "_"))
    text = kwargs.get("help") or ""
    if field is None or "default" in text or kwargs.get("action") == "store_false":
        return kwargs
    value = field.get_default(call_default_factory=True)
    shown = "unset" if value is None else (" ".join(map(str, value)) if isinstance(value, (tuple, list)) else value)
    if text.endswith(f"({shown})"):  # the help already ends with the default
        return kwargs
    return {**kwargs, "help": f"{text} (default: {shown})".strip().replace("%", "%%")}


def train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields set on the command line."""
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "debug", "config")}
    if "img_size" in given:
        given.setdefault("input_size", [given.pop("img_size")])
    if "input_size" in given:
        size = given["input_size"]
        if len(size) not in (1, 3):
            from ..errors import ConfigError

            raise ConfigError(f"--input-size takes N or C H W, got {' '.join(map(str, size))}")
        given["input_size"] = size[0] if len(size) == 1 else tuple(size)
    if given.get("val_split") == "":
        given["val_split"] = None
    from .train.timm_flags import translate_timm_flags

    return translate_timm_flags(given)


def build_train_config(args: argparse.Namespace) -> Any:
    """A validated TrainConfig from ``--config`` and the flags given."""
    from .train.config import load_config_file, make_config

    file_options = load_config_file(args.config) if getattr(args, "config", None) else {}
    return make_config(file_options, train_options(args), source="pimm train")


def _cmd_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    cfg = build_train_config(args)
    from .train.launch import run_training
    from .train.run_parts import configure_cli_logging

    with configure_cli_logging():
        run_training(cfg, start_time=start)
    return EXIT_OK


@subcommand("train")
def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train or fine-tune a model (no arguments: the built-in demo)",
                       description="Train any registered model on a folder, tar or named dataset; with no "
                       "--data, on the built-in demo set. Writes a run directory with the config, metrics.csv, "
                       "curves.png, last/ and best/ checkpoints and the resume state.")
    _add_train_flags(p)
    p.set_defaults(func=_cmd_train)


# -- validate ------------------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    from .train.validate import ValidateConfig, run_validation

    options = {k: v for k, v in vars(args).items() if k not in ("func", "command", "debug") and v is not None}
    if "input_size" in options:
        size = options["input_size"]
        options["input_size"] = size[0] if len(size) == 1 else tuple(size)
    from pydantic import ValidationError

    from ..errors import ConfigError

    try:
        cfg = ValidateConfig.model_validate(options)
    except ValidationError as exc:
        from .train.config import format_validation_error

        raise ConfigError(format_validation_error(exc, "pimm validate")) from None
    run_validation(cfg)
    return EXIT_OK


@subcommand("validate")
def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="evaluate a run, a checkpoint or a pretrained model on a dataset")
    p.add_argument("source", help="run directory, model directory or weights file, or model NAME[.TAG]")
    p.add_argument("--model", "-m", help="model name for a plain weights file")
    p.add_argument("--pretrained", action="store_true", default=None, help="load NAME's pretrained weights")
    p.add_argument("--data", help="dataset (as for train; default: the run's data, or the demo set)")
    p.add_argument("--data-dir", help="root of a PREFIX/NAME dataset")
    p.add_argument("--split", help="split to evaluate (default val)")
    p.add_argument("--num-classes", type=int, help="classifier outputs (default: the checkpoint's)")
    p.add_argument("--batch-size", "-b", type=int, help="batch size (default 128)")
    p.add_argument("--input-size", type=int, nargs="+", metavar="N", help="override the input size")
    p.add_argument("--use-train-size", action="store_true", default=None,
                   help="evaluate at the train input size; by default the model's test size is used when it has one")
    p.add_argument("--use-test-size", action="store_true", default=None, help=argparse.SUPPRESS)  # the default now
    p.add_argument("--crop-pct", type=float, help="override the eval crop fraction")
    p.add_argument("--per-class", action="store_true", default=None,
                   help="precision, recall, F1 per class; writes per_class.csv, confusion.csv and confusion.png")
    p.add_argument("--output", "-o", help="folder for the --per-class files (default: RUN/eval-SPLIT, else ./pimm-validate)")
    p.add_argument("--ema", action="store_true", default=None, help="evaluate last_ema/ of a run directory")
    p.add_argument("--amp", nargs="?", const="bf16", choices=("auto", "none", "bf16", "fp16"),
                   help="mixed precision: auto (default: bf16 where the device has it natively), none, bf16, fp16")
    p.add_argument("--no-amp", action="store_const", const="none", dest="amp", help="fp32: same as --amp none")
    p.add_argument("--channels-last", action="store_true", default=None,
                   help="channels-last memory format (default: on for conv nets)")
    p.add_argument("--no-channels-last", action="store_false", dest="channels_last", help="keep NCHW")
    p.add_argument("--no-tf32", action="store_false", dest="tf32", default=None, help="no TF32 on CUDA")
    p.add_argument("--no-cudnn-benchmark", action="store_false", dest="cudnn_benchmark", default=None,
                   help="no cuDNN benchmark mode on CUDA (default: on)")
    p.add_argument("--no-keep-memory", action="store_false", dest="keep_memory", default=None,
                   help="return freed memory to the system (default on the CPU: keep it for the next batch)")
    p.add_argument("--no-fold-bn", action="store_false", dest="fold_bn", default=None,
                   help="evaluate the model as it is (default: batch norms folded into the convolutions that feed "
                   "them, outputs equal up to fp32 rounding)")
    p.add_argument("--workers", "-j", type=int, help="DataLoader workers (default: a few per process)")
    p.add_argument("--threads", type=int, help="torch threads per process")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--nproc", type=int, help="evaluate with N local processes")
    p.add_argument("--results", help="write the metrics to this JSON file")
    p.set_defaults(func=_cmd_validate)


# -- export --------------------------------------------------------------------------------------


def _cmd_export(args: argparse.Namespace) -> int:
    from .train.export import ExportError, export_report

    report = export_report(args.source, formats=args.format, output=args.output, model_name=args.model,
                           pretrained=args.pretrained, batch_size=args.batch_size, input_size=args.input_size,
                           num_classes=args.num_classes, opset=args.opset, atol=args.atol)
    for fmt, path, diff in report.written:
        print(f"wrote {path} ({fmt}; max difference to the eager model {diff:.2e})")
    for fmt, reason in report.skipped.items():
        print(f"skipped {fmt}: {reason}")
    if report.failed:
        raise ExportError("; ".join(f"{fmt}: {why}" for fmt, why in report.failed.items()))
    if not report.written:
        raise ExportError("nothing was exported: " + "; ".join(report.skipped.values()))
    return EXIT_OK


@subcommand("export")
def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model or run checkpoint to TorchScript, ONNX or torch.export")
    p.add_argument("source", help="run directory, model directory or weights file, or model NAME[.TAG]")
    p.add_argument("--format", "-f", action="append", choices=("torchscript", "onnx", "torch.export"),
                   help="format(s) to write (repeatable; default torchscript)")
    p.add_argument("--output", "-o", default=None, help="output folder (default: exports/ or RUN/exports)")
    p.add_argument("--model", "-m", help="model name for a plain weights file")
    p.add_argument("--pretrained", action="store_true", help="load NAME's pretrained weights")
    p.add_argument("--num-classes", type=int, help="classifier outputs")
    p.add_argument("--input-size", type=int, nargs="+", metavar="N", help="sample input size: N or C H W")
    p.add_argument("--batch-size", type=int, default=2, help="sample batch used to check the export")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter's)")
    p.add_argument("--atol", type=float, default=1e-4, help="largest allowed difference from the eager model")
    p.set_defaults(func=_cmd_export)
