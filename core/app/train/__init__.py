"""pimm.core.app.train: the main job. ``pimm train``, ``pimm validate`` and ``pimm export`` as a library.

``run_training(TrainConfig(...))`` trains any registered model on any registered dataset (or the
built-in demo set), ``run_validation(ValidateConfig(...))`` evaluates a run, a checkpoint or a
pretrained model, ``export_model(...)`` writes TorchScript / ONNX / torch.export files. Names are
resolved lazily so that importing this package does not import torch.
"""

from __future__ import annotations

from ..._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "TrainConfig": ".config",
    "DEMO_PROFILE": ".config",
    "load_config_file": ".config",
    "make_config": ".config",
    "run_training": ".launch",
    "RunResult": ".outcome",
    "TrainingError": ".outcome",
    "ValidateConfig": ".validate",
    "run_validation": ".validate",
    "export_model": ".export",
    "ExportError": ".export",
    "ensure_demo_dataset": ".demo_data",
    "demo_root": ".demo_data",
    "ModelEma": ".ema",
    "RunSchedule": ".schedule",
    "create_schedule": ".schedule",
    "plot_curves": ".plot",
    "read_metrics": ".metrics",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
