"""The builtin families work with the PyTorch toolchain: TorchScript, FX, FX-then-TorchScript, torch.export,
torch.compile(fullgraph=True), channels_last and bfloat16 autocast, all matching eager.

Every builtin architecture is swept at 32x32. Models deeper than 16 blocks (the same code paths
as a shallower sibling, repeated) and inductor compilation of every model (10-20 s each on a
CPU) carry the ``large`` marker: ``pytest --run-large`` runs them.
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from family_helpers import filled

from pimm import core

X32 = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def _model(name: str, **options) -> torch.nn.Module:
    return filled(name, num_classes=5, **options)


def _script(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script's own deprecation notice
        return torch.jit.script(model)


def _fx_then_script(model):
    """The chain timm's tests run: FX graph first, then TorchScript of the generated module."""
    return _script(torch.fx.symbolic_trace(model))


TOOLS = {
    "script": _script,
    "fx": torch.fx.symbolic_trace,
    "fx_script": _fx_then_script,
    "export": lambda m: torch.export.export(m, (X32,)).module(),
}

CASES = [
    pytest.param("test_resnet", {}, ("script", "fx", "export"), id="test_resnet"),
    pytest.param("resnet18", {}, ("script", "fx", "fx_script", "export"), id="resnet18"),
    pytest.param("test_resnet", {"output_stride": 8}, ("script", "fx", "export"), id="test_resnet-os8"),
    pytest.param("resnet50d", {}, ("fx",), id="resnet50d"),
    pytest.param("resnetblur18", {"global_pool": "catavgmax"}, ("script", "fx"), id="resnetblur18-catavgmax"),
    pytest.param("seresnext26t_32x4d", {}, ("fx",), id="seresnext26t_32x4d"),
    pytest.param("ecaresnet26t", {}, ("script",), id="ecaresnet26t"),
    pytest.param("resnetrs50", {}, ("fx",), id="resnetrs50"),
    pytest.param("vgg11", {}, ("script", "fx", "fx_script", "export"), id="vgg11"),
]


@pytest.mark.parametrize("name, options, tools", CASES)
def test_script_trace_export_match_eager(name, options, tools):
    model = _model(name, **options)
    with torch.no_grad():
        expected = model(X32)
        for tool in tools:
            converted = TOOLS[tool](model)
            assert torch.allclose(converted(X32), expected, atol=1e-5), tool


@pytest.mark.parametrize("name", ["resnet10t", "vgg11"])
def test_scripting_raises_no_warning_of_ours(name):
    """TorchScript parses the constructors; nothing in them may make it warn (torch's own
    deprecation notice for torch.jit aside)."""
    model = _model(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.jit.script(model)
    ours = [str(w.message) for w in caught if not issubclass(w.category, FutureWarning)]
    assert not ours


def test_traced_model_backpropagates():
    traced = torch.fx.symbolic_trace(core.create("model", "test_resnet", num_classes=3).train())
    traced(X32).sum().backward()
    assert all(p.grad is not None for p in traced.parameters())


def test_scripted_head_variants():
    for options in ({"num_classes": 0}, {"num_classes": 0, "global_pool": ""}, {"drop_rate": 0.2}):
        model = core.create("model", "test_resnet", **options).eval()
        with torch.no_grad():
            assert torch.allclose(_script(model)(X32), model(X32))


def test_meta_device_creation_then_materialise():
    with torch.device("meta"):
        model = core.create("model", "resnetblur18")
    assert all(p.is_meta for p in model.parameters())
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if hasattr(module, "init_non_persistent_buffers"):
            module.init_non_persistent_buffers()
    blur = model.layer2[0].aa
    assert torch.allclose(blur.filt[0, 0].sum(), torch.tensor(1.0))


def _compiled(model: torch.nn.Module, backend: str = "inductor") -> torch.nn.Module:
    torch._dynamo.reset()
    return torch.compile(model, fullgraph=True, backend=backend)


def _compile_matches(name: str) -> None:
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        assert torch.allclose(_compiled(model)(X32), expected, atol=1e-4)


@pytest.mark.parametrize("name", ["test_resnet", "vgg11"])
def test_compile_fullgraph_inductor(name):
    """The default backend (inductor, C++ codegen on the CPU) on one model per family."""
    _compile_matches(name)


#: Deeper than resnet50 (3+4+6+3 blocks): the same stems and blocks as a shallower sibling, repeated.
#: Every code path exists at depth <= 16 blocks, so CI sweeps those; the rest run with --run-large.
MAX_CI_BLOCKS = 16


def _builtin_names() -> list[str]:
    return [name for name in core.list_names("model")
            if core.get_spec("model", name).target.startswith("pimm.plugins.")]


def _every_builtin_model() -> list:
    params = []
    for name in _builtin_names():
        spec = core.get_spec("model", name)
        deep = sum(spec.arch_args.get("layers") or ()) > MAX_CI_BLOCKS
        marks = [pytest.mark.large] if "large" in spec.tags or deep else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


#: Whole-graph capture: dynamo with ``fullgraph=True`` (any graph break is an error) through AOT
#: autograd, without inductor's code generation, which costs 10-20 s per model on this CPU and is
#: covered by test_compile_fullgraph_inductor (CI) and test_every_builtin_model_inductor (--run-large).
SWEEP_TOOLS = {**TOOLS, "compile": lambda m: _compiled(m, backend="aot_eager")}


@pytest.mark.parametrize("name", _every_builtin_model())
def test_every_builtin_model_scripts_traces_exports_and_compiles(name):
    """TorchScript, FX, FX-then-TorchScript, torch.export and torch.compile(fullgraph=True) of
    every builtin architecture match eager at 32x32."""
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        for tool, convert in SWEEP_TOOLS.items():
            converted = convert(model)
            assert torch.allclose(converted(X32), expected, atol=1e-5, rtol=1e-4), tool


@pytest.mark.parametrize("name", _every_builtin_model())
def test_every_builtin_model_channels_last_and_bf16_autocast(name):
    """channels_last gives eager's outputs; bfloat16 autocast runs, stays finite and close."""
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        fast = copy.deepcopy(model).to(memory_format=torch.channels_last)
        assert torch.allclose(fast(X32.to(memory_format=torch.channels_last)), expected, atol=1e-4, rtol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(X32)
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    assert torch.allclose(low.float(), expected, atol=0.1 * expected.abs().max().item() + 0.05)


@pytest.mark.large
@pytest.mark.parametrize("name", _builtin_names())
def test_every_builtin_model_inductor(name):
    """torch.compile(fullgraph=True) with the default backend, every builtin model (--run-large)."""
    _compile_matches(name)
