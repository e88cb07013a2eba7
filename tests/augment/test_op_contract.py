"""The augment-op contract lives in core (pimm.core.data.augment); builtins use it like a third party.

Also: core reaches the augment plugin only through the registry (``core.Mixup`` & friends), never
by importing it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pimm import core
from pimm.core.data.augment import AugmentOp, OpOptions
from pimm.core.factory import load_target, resolve
from pimm.core.specs import AugmentSpec
from pimm.core.testing.kit import run_checks
from pimm.plugins.augment.op_specs import OP_SPECS

ROOT = Path(__file__).resolve().parents[2]


def test_no_core_module_imports_the_builtin_plugins():
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.startswith("pimm.plugins")]
            # module names in lazy-export tables or importlib calls are imports too; only the plugin
            # loader (core/manager.py) may name the builtin plugin packages, to load them as plugins
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value.startswith("pimm.plugins") and path.name != "manager.py"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_the_op_contract_imports_only_the_kernel():
    """core/data/augment/ imports nothing of core's other sub-packages (framework rule)."""
    for path in sorted((ROOT / "core" / "data" / "augment").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = "." * node.level + (node.module or "")
                assert node.level == 1 or (node.level == 3 and (node.module or "").split(".")[0] in
                                            ("errors", "specs", "_lazy")), f"{path.name}: {target}"


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_each_builtin_op_is_one_class_holding_its_behaviour(spec):
    """Target is an AugmentOp subclass named like the spec, with its own level mapping and PIL and
    tensor behaviour (no table lookups), and flags that agree with the spec's tags."""
    cls = load_target(resolve("augment", spec.name))
    assert isinstance(cls, type) and issubclass(cls, AugmentOp) and cls.name == spec.name
    for method in ("level_args", "apply_pil", "apply_tensor_args"):
        assert getattr(cls, method) is not getattr(AugmentOp, method), (spec.name, method)
    assert cls.signed == ("signed" in spec.tags)
    assert cls.geometric == ("geometric" in spec.tags)


def test_base_level_args_is_the_ops_own_method():
    class NoLevels(AugmentOp):
        name = "NoLevels"

        def apply_pil(self, img, *args, resample=None, fill=None):
            return img

    with pytest.raises(NotImplementedError, match="NoLevels must define level_args"):
        NoLevels(p=1.0)(Image.new("RGB", (8, 8)))


def test_op_rejects_a_non_image():
    op = core.create("augment", "Invert", p=1.0)
    with pytest.raises(core.ConfigError, match="PIL image or a uint8/float tensor"):
        op([[1, 2], [3, 4]])


def test_core_classes_are_the_registered_components_targets():
    for public, component in (("Mixup", "mixup"), ("FastCollateMixup", "fast_collate_mixup"),
                              ("RandomErasing", "random_erasing"),
                              ("RandomResizedCropAndInterpolation", "random_resized_crop")):
        from pimm.core import data

        assert getattr(data, public) is load_target(resolve("augment", component))
    assert core.Mixup is core.data.Mixup


def test_core_mixup_says_the_augment_plugin_is_blocked():
    env = {**os.environ, "PIMM_BLOCK_PLUGINS": "augment"}
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from pimm import core\n"
        "try:\n    core.Mixup\nexcept AttributeError as exc:\n"
        "    print(type(exc).__name__, '|', exc)\n"
        "else:\n    print('no error')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ComponentUnavailableError |"), out.stdout
    assert "'mixup'" in out.stdout and "blocked" in out.stdout and "PIMM_BLOCK_PLUGINS" in out.stdout


# -- a third-party op written only against pimm.core passes the conformance kit ----------------
class _Darken(AugmentOp):
    """Darken by a factor from the magnitude, with its own native tensor path."""

    name = "Darken"

    def level_args(self, f, sign):
        return (1.0 - 0.5 * f,)

    def apply_pil(self, img, factor, resample=None, fill=None):
        lut = [int(v * factor) for v in range(256)]
        return img.point(lut * len(img.getbands())) if img.mode != "RGBA" else _rgba(img, lut)

    def apply_tensor_args(self, x, args, ctx):
        factor = args[0] if isinstance(args[0], torch.Tensor) else torch.tensor([args[0]])
        return (x * factor.to(x).view(-1, 1, 1, 1)).floor_()


def _rgba(img, lut):
    alpha = img.getchannel("A")
    out = img.convert("RGB").point(lut * 3).convert("RGBA")
    out.putalpha(alpha)
    return out


@pytest.fixture
def darken_plugin():
    from pimm.core import hookimpl

    class Plugin:
        @hookimpl
        def pimm_augment_ops(self):
            return [AugmentSpec(name="Darken", target=f"{__name__}:_Darken", options=OpOptions, role="op",
                                tags=frozenset({"tensor"}))]

    name = core.register_plugin(Plugin(), name="darken_plugin")
    try:
        yield name
    finally:
        core.unregister_plugin(name)


def test_third_party_op_passes_the_kit(darken_plugin):
    results = run_checks(kind="augment", plugin=darken_plugin)
    ran = [r for r in results if not r.skipped]
    assert len(ran) >= 6
    assert [r for r in results if not r.passed] == []
    op = core.create("augment", "Darken", p=1.0, magnitude=10)
    x = torch.full((2, 3, 4, 4), 200, dtype=torch.uint8)
    assert op(x).unique().tolist() == [100]
    assert np.asarray(op(Image.new("RGB", (4, 4), (200, 200, 200)))).max() == 100


def test_op_options_import_no_torch_or_pil():
    """A plugin's spec module imports OpOptions from core; listing names must stay torch- and PIL-free."""
    code = (
        "import sys\n"
        "from pimm.core.data.augment import OpOptions, OpHParams, LEVEL_DENOM\n"
        "from pimm.core.data.augment import sample_magnitude\n"
        "print(sorted(m for m in ('torch', 'PIL', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
