"""The layer rule of docs/architecture.md, enforced: import contracts in pyproject.toml, run by lint-imports.

Kernel (pimm.core's root modules) < framework (one package per kind) < conformance kit < app.
A violation fails here with the offending import (module, line) as import-linter reports it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import importlinter  # noqa: F401  (the `test` extra installs it; a missing linter must fail, not skip)

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
CORE = ROOT / "core"

# Root modules of pimm.core that are not kernel: the thin alias of the app's CLI.
ALIASES = {"pimm.core.cli", "pimm.core.train"}


def _contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _lint_imports() -> str:
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    result = subprocess.run([*command, "--no-logo", "--no-cache", str(PYPROJECT)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        broken = output.split("Broken contracts", 1)[-1].strip()
        raise AssertionError(f"the layer rule is broken (lint-imports exit {result.returncode}):\n{broken}")
    return output


def test_import_contracts_hold():
    output = _lint_imports()
    assert "0 broken" in output, output
    assert f"{len(_contracts())} kept" in output, output


def test_every_core_module_and_package_is_placed_in_a_layer():
    """A new root module or sub-package of core must be added to the contracts, not slip past them."""
    contracts = _contracts()
    kernel = set(contracts["kernel-imports-no-sub-package"]["source_modules"])
    framework = set(contracts["framework-packages-independent"]["modules"])
    upper = {"pimm.core.testing", "pimm.core.app"}
    root_modules = {f"pimm.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"} | {"pimm.core"}
    packages = {f"pimm.core.{p.parent.name}" for p in CORE.glob("*/__init__.py")}
    unplaced_modules = sorted(root_modules - kernel - ALIASES)
    unplaced_packages = sorted(packages - framework - upper - ALIASES)
    assert not unplaced_modules, (
        f"core root modules {unplaced_modules} are in no layer: add them to the kernel contract's "
        "source_modules in pyproject.toml (or move them into a sub-package)")
    assert not unplaced_packages, (
        f"core sub-packages {unplaced_packages} are in no layer: add a framework package to the "
        "framework contracts in pyproject.toml (and to the kernel contract's forbidden_modules)")
    forbidden_for_kernel = set(contracts["kernel-imports-no-sub-package"]["forbidden_modules"])
    missing = sorted(p for p in packages if p not in forbidden_for_kernel)
    assert not missing, f"the kernel contract does not forbid importing {missing}; add them to forbidden_modules"
    for cid in ("framework-imports-only-kernel", "app-imported-by-nothing-in-core"):
        sources = set(contracts[cid]["source_modules"])
        assert framework <= sources, f"contract {cid!r} does not cover framework packages {sorted(framework - sources)}"
