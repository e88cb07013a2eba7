"""Checks that apply to every component of every kind."""

from __future__ import annotations

import functools
import subprocess
import sys

from ..factory import load_target
from ..registry import QUALIFIER
from ..specs import SPEC_CLASSES
from .kit import ComponentRef, check, skip

_HEAVY_MODULES = ("torch", "torchvision", "PIL")


@check()
def check_spec_json_round_trip(component: ComponentRef) -> None:
    """The spec serialises to JSON and reads back equal (specs are data)."""
    spec = component.spec
    text = spec.model_dump_json()
    again = SPEC_CLASSES[component.kind].model_validate_json(text)
    if not (again == spec):
        raise AssertionError(f"spec changed in a JSON round trip:\n{spec!r}\n!=\n{again!r}")
    for name, field in spec.options.model_fields.items():
        if not (field.description):
            raise AssertionError(f"option {name!r} of {component.kind} {component.name!r} has no description; "
            "add Field(..., description=...)")


@check()
def check_valid_names(component: ComponentRef) -> None:
    """Name and aliases are usable on the command line and distinct from each other."""
    spec = component.spec
    names = [spec.name, *spec.aliases]
    if not (len(set(names)) == len(names)):
        raise AssertionError(f"name repeated among aliases: {names}")
    for name in names:
        if not (QUALIFIER not in name and " " not in name):
            raise AssertionError(f"invalid name {name!r}")
        if not (name == name.strip()):
            raise AssertionError(f"name {name!r} has surrounding white space")


@check()
def check_target_importable(component: ComponentRef) -> None:
    """The target imports and is callable."""
    target = load_target(component.entry)
    if not (callable(target)):
        raise AssertionError(f"target {component.spec.target!r} is not callable")


@check(excludes=("no-default-construct",))
def check_default_options_construct(component: ComponentRef) -> None:
    """The component builds with its default options (positional inputs supplied per kind)."""
    if component.kind == "optimizer":
        import torch

        component.create([torch.nn.Parameter(torch.zeros(2))])
        return
    if component.kind == "scheduler" and not any(f.is_required() for f in component.spec.options.model_fields.values()):
        import torch

        component.create(torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1))
        return
    if any(f.is_required() for f in component.spec.options.model_fields.values()):
        skip(f"{component.kind} {component.name!r} has required options; covered by its kind's checks")
    component.create()


@functools.lru_cache(maxsize=None)
def _heavy_imports_of(module: str) -> tuple[str, ...]:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(','.join(m for m in {_HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"importing {module} failed:\n{result.stderr.strip()}")
    return tuple(m for m in result.stdout.strip().split(",") if m)


@check()
def check_plugin_module_imports_no_torch(component: ComponentRef) -> None:
    """The module that registers the plugin imports no torch, torchvision or PIL."""
    module = component.entry.plugin.module
    if module is None:
        skip("plugin registered in-process as an object; no entry module to check")
    module = module.partition(":")[0]
    heavy = _heavy_imports_of(module)
    if not (not heavy):
        raise AssertionError(f"importing plugin module {module!r} imports {', '.join(heavy)}; keep specs in the plugin's "
        "entry module and the torch code in the modules the targets name")
