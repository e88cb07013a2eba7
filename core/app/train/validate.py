"""``pimm validate``: top-1/top-5, loss and throughput of a run, checkpoint or pretrained model on a dataset.

Preprocessing is the model's own eval pipeline (:func:`pimm.core.data.resolve_data_config`;
``use_test_size`` picks the model's test input size). Distributed like training: ``--nproc N``
or torchrun; each image is counted exactly once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from ...errors import ConfigError

__all__ = ["ValidateConfig", "run_validation"]


class ValidateConfig(BaseModel):
    """Options of ``pimm validate``."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    source: str = Field(description="Run directory, model directory, weights file, or model NAME[.TAG].")
    model: Optional[str] = Field(None, description="Model name for a plain weights file.")
    pretrained: bool = Field(False, description="Load NAME's pretrained weights.")
    data: Optional[str] = Field(None, description="Dataset (default: the run's, else the demo set).")
    data_dir: Optional[str] = Field(None, description="Root of a PREFIX/NAME dataset.")
    split: str = Field("val", description="Split to evaluate.")
    num_classes: Optional[int] = Field(None, ge=1, description="Classifier outputs (names: reset the head).")
    batch_size: int = Field(128, ge=1, description="Batch size per process.")
    input_size: Optional[Union[int, tuple[int, int, int]]] = Field(None, description="Override the input size.")
    use_train_size: bool = Field(False, description="Evaluate at the train input size and crop, not the model's "
                                 "test size (timm validate.py's --use-train-size).")
    use_test_size: bool = Field(True, description="Use the model's test input size and crop when it has one "
                                "(the default, as timm's validate.py; kept for older command lines).")
    crop_pct: Optional[float] = Field(None, gt=0, le=1, description="Override the eval crop fraction.")
    per_class: bool = Field(False, description="Report precision, recall and F1 per class and write per_class.csv, "
                            "confusion.csv and confusion.png.")
    output: Optional[str] = Field(None, description="Folder for the per-class files (default: RUN/eval-SPLIT for a "
                                  "run, else ./pimm-validate).")
    ema: bool = Field(False, description="Evaluate a run's last_ema/ model.")
    amp: Literal["auto", "none", "bf16", "fp16"] = Field("auto", description="Mixed precision (auto: bf16 where "
                                                         "the device has it natively; none: fp32).")
    channels_last: Optional[bool] = Field(None, description="Channels-last memory format (default: on for conv nets).")
    tf32: Optional[bool] = Field(None, description="TF32 on CUDA (default: on for Ampere and newer).")
    cudnn_benchmark: Optional[bool] = Field(None, description="cuDNN benchmark mode on CUDA (default: on).")
    keep_memory: Optional[bool] = Field(None, description="On the CPU, keep freed memory for the next batch "
                                        "(default: on with glibc).")
    fold_bn: bool = Field(True, description="Fold each batch norm into the convolution that feeds it before "
                          "evaluating (outputs equal up to fp32 rounding; --no-fold-bn evaluates the model as is).")
    workers: Optional[int] = Field(None, ge=0, description="DataLoader workers.")
    threads: Optional[int] = Field(None, ge=1, description="torch threads per process.")
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N, mps.")
    nproc: int = Field(1, ge=1, description="Local processes.")
    results: Optional[str] = Field(None, description="Write the metrics to this JSON file.")


def run_validation(cfg: ValidateConfig) -> dict[str, Any]:
    """Evaluate as ``cfg`` says; print and return the metrics (every process returns them)."""
    from .distributed import dist_info, launch_local

    info = dist_info()
    if cfg.nproc > 1 and not info.distributed:
        out = Path(cfg.results) if cfg.results else None
        if out is None:
            import tempfile

            out = Path(tempfile.mkdtemp(prefix="pimm-validate-")) / "results.json"
        launch_local(cfg.nproc, "validate", cfg.model_copy(update={"results": str(out), "nproc": 1}).model_dump_json())
        return json.loads(out.read_text())
    return _validate(cfg)


def _validate(cfg: ValidateConfig) -> dict[str, Any]:
    import torch

    from ...data import create_dataset
    from . import components as setup
    from .distributed import cleanup, dist_info, init_distributed
    from .loop import evaluate
    from .sources import load_model_source

    info = dist_info()
    device = setup.pick_device(cfg.device, info)
    torch.set_num_threads(cfg.threads or setup.default_threads(info))
    try:
        init_distributed(info, device.type)
        src = load_model_source(cfg.source, cfg.model, cfg.pretrained, cfg.num_classes, cfg.ema)
        run = src.run_config
        data = cfg.data if cfg.data is not None else run.get("data")
        data_dir = cfg.data_dir if cfg.data_dir is not None else run.get("data_dir")
        data_cfg = _DataArgs(data=data, data_dir=data_dir)
        name, root, _ = setup.dataset_source(data_cfg)
        dataset = create_dataset(name, root=root, split=cfg.split, is_training=False,
                                 class_map=run.get("class_map"))
        model = src.model
        classes = setup.count_classes(dataset)
        outputs = getattr(model, "num_classes", None)
        if outputs is not None and outputs < classes:
            raise ConfigError(f"the model has {outputs} classes but the dataset has {classes}: evaluate it on data "
                              f"with {outputs} classes, or pass a checkpoint trained on this data")
        num_classes = outputs or classes
        dc = setup.data_config_for(_Overrides(cfg), model, use_test_size=cfg.use_test_size and not cfg.use_train_size)
        dataset.transform = setup.eval_transform(dc)
        model.to(device).eval()
        from .bn_folding import fold_for_eval
        from .fast_defaults import apply_plan, plan_speed, probe_plan

        plan = plan_speed(device, model, cfg.amp, cfg.channels_last, cfg.tf32, cfg.cudnn_benchmark, cfg.keep_memory)
        fold_for_eval(model, plan, cfg.fold_bn, tuple(dc["input_size"]))
        plan = probe_plan(model, plan, device, tuple(dc["input_size"]), train=False)
        apply_plan(model, plan, device)
        workers = cfg.workers if cfg.workers is not None else setup.default_workers(info)
        loader = setup.make_loader(dataset, cfg.batch_size, workers, False, info, 0, device)
        size = "x".join(str(s) for s in dc["input_size"][1:])
        if info.is_main:
            print(f"pimm validate: {src.location} on {data or 'demo'} [{cfg.split}]: {len(dataset)} images at {size}, "
                  f"crop {dc['crop_pct']}, {dc['interpolation']}", flush=True)
            for notice in plan.notices:
                print(notice, flush=True)
            print(f"  {plan.banner()}", flush=True)
        _warm_up(model, plan, device, min(cfg.batch_size, len(dataset)), tuple(dc["input_size"]))
        start = time.perf_counter()
        result = evaluate(model, loader.for_epoch(0), device, len(loader), num_classes, amp=plan.amp,
                          channels_last=plan.channels_last, show=info.is_main, label="validate",
                          per_class=cfg.per_class)
        result["wall_s"] = time.perf_counter() - start
        result.update(source=src.location, input_size=list(dc["input_size"]), crop_pct=dc["crop_pct"],
                      speed=plan.as_dict())
        if cfg.per_class:
            from .class_report import class_metrics

            names = setup.class_names(dataset, num_classes)
            result["per_class"] = {names[i]: (100.0 * c / t if t else None)
                                   for i, (c, t) in enumerate(zip(result["class_correct"], result["class_total"]))}
            result["class_metrics"] = class_metrics(result["confusion"], names)
            if info.is_main:
                result["class_files"] = _write_class_files(result["confusion"], names, cfg, src, data)
        if info.is_main:
            _report(result, cfg)
        return result
    finally:
        cleanup()


def _warm_up(model: Any, plan: Any, device: Any, batch: int, input_size: tuple[int, ...]) -> None:
    """One forward pass on a batch of zeros before the timed pass, as timm's validate.py does, so img/s is the
    steady rate (the first pass also builds the CPU kernels' plans). Eval mode: no state changes."""
    import torch

    from .loop import autocast_context

    x = torch.zeros(max(1, batch), *input_size, device=device)
    if plan.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), autocast_context(device, plan.amp):
        model(x)


def _report(result: dict[str, Any], cfg: ValidateConfig) -> None:
    print(f"top-1 {result['top1']:.2f}%  top-5 {result['top5']:.2f}%  loss {result['loss']:.4f}  "
          f"({result['count']} images, {result['img_s']:.0f} img/s)")
    if cfg.per_class:
        rows = result["class_metrics"]
        width = max([len(r["name"]) for r in rows] + [5])

        def pct(value: Any) -> str:
            return "     -" if value is None else f"{100 * value:6.2f}"

        print(f"  {'class':<{width}}  recall  precision      F1  (correct/images)")
        for r in rows:
            print(f"  {r['name']:<{width}}  {pct(r['recall'])}%    {pct(r['precision'])}%  {pct(r['f1'])}%  "
                  f"({r['correct']}/{r['support']})")
        files = result.get("class_files") or {}
        if files:
            print(f"per-class metrics: {files['per_class']}; confusion matrix: {files['confusion']} "
                  f"and {files['picture']}")
    if cfg.results:
        Path(cfg.results).write_text(json.dumps(result, indent=2) + "\n")


def _write_class_files(confusion: list[list[int]], names: list[str], cfg: ValidateConfig, src: Any,
                       data: Any) -> dict[str, str]:
    from .class_report import write_class_report

    if cfg.output:
        out = Path(cfg.output)
    elif src.run_dir is not None:
        out = Path(src.run_dir) / f"eval-{cfg.split}"
    else:
        out = Path("pimm-validate")
    where = Path(src.location)
    title = f"{where.parent.name}/{where.name} on {Path(data).name if data else 'demo'} [{cfg.split}]"
    return {k: str(v) for k, v in write_class_report(confusion, names, out, title).items()}


class _DataArgs:
    def __init__(self, data: str | None, data_dir: str | None) -> None:
        self.data = data
        self.data_dir = data_dir


class _Overrides:
    """The subset of TrainConfig fields ``setup.data_config_for`` reads."""

    def __init__(self, cfg: ValidateConfig) -> None:
        self.input_size = cfg.input_size
        self.in_chans = None
        self.crop_pct = cfg.crop_pct
        self.interpolation = None
        self.mean = None
        self.std = None
