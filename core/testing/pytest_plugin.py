"""pytest plugin (auto-loaded through the ``pytest11`` entry point): pimm's markers and options.

It registers the ``large`` and ``gpu`` markers used by the conformance kit, the ``--run-large``
option (cases marked ``large`` are skipped without it) and skips ``gpu`` cases when no CUDA device
is present, so a plugin's test suite gets the same behaviour as pimm's own.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pimm")
    group.addoption("--run-large", action="store_true", default=False,
                    help="also run cases marked 'large' (components over 100M parameters, slow cases)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "large: slow or very big cases; skipped unless --run-large")
    config.addinivalue_line("markers", "gpu: needs a CUDA device; skipped without one")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_large = config.getoption("--run-large")
    skip_large = pytest.mark.skip(reason="large case: run with --run-large")
    gpu_skip: pytest.MarkDecorator | None | bool = None
    for item in items:
        if "large" in item.keywords and not run_large:
            item.add_marker(skip_large)
        if "gpu" in item.keywords:
            if gpu_skip is None:
                import torch

                gpu_skip = False if torch.cuda.is_available() else pytest.mark.skip(reason="needs a CUDA device")
            if gpu_skip:
                item.add_marker(gpu_skip)
