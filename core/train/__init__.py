"""Alias of :mod:`pimm.core.app.train`, the training app's library API, for existing imports.

``from pimm.core.train import TrainConfig, run_training`` keeps working; new code should import
from ``pimm.core.app.train``. The submodules live only under ``pimm.core.app.train``.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_NAMES = ("TrainConfig", "DEMO_PROFILE", "load_config_file", "make_config", "run_training", "RunResult",
          "TrainingError", "ValidateConfig", "run_validation", "export_model", "ExportError",
          "ensure_demo_dataset", "demo_root", "ModelEma", "RunSchedule", "create_schedule", "plot_curves", "read_metrics")

__getattr__, __dir__ = lazy_exports(__name__, {name: "pimm.core.app.train" for name in _NAMES})
