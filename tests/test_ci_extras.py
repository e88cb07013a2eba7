"""CI runs with what users run with: the optional packages behind the YAML, hub, ONNX, TensorBoard and
picture tests must be importable there, so those tests exercise the real path instead of skipping or
taking their "package missing" branch. Outside CI (``CI`` unset) a missing one is only reported."""

from __future__ import annotations

import importlib
import os

import pytest

# import name -> why pimm's tests need it
EXPECTED = {
    "yaml": "YAML training configs (runtime dependency)",
    "huggingface_hub": "hub weights and pimm push (runtime dependency)",
    "matplotlib": "learning curves and pimm show pictures (runtime dependency)",
    "tqdm": "progress bars (runtime dependency)",
    "onnx": "pimm export --format onnx (test extra)",
    "onnxruntime": "running exported ONNX graphs in the export check (test extra)",
    "tensorboard": "the tensorboard run logger (test extra)",
    "importlinter": "the layer contracts (test extra)",
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_optional_package_is_installed_in_ci(module):
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{module} ({EXPECTED[module]}) is not installed in CI: {exc}; "
                        "add it to pyproject.toml's dependencies or the test extra")
        pytest.skip(f"{module} not installed here ({EXPECTED[module]})")
