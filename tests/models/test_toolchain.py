"""The builtin families work with the PyTorch toolchain: TorchScript, FX, torch.export,
torch.compile(fullgraph=True), channels_last and bfloat16 autocast, all matching eager.

Small inputs keep this fast; the slowest cases (compile of real-size models) carry the
``large`` marker, and one compile case always runs.
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from conftest import filled

from pimm import core

X32 = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def _model(name: str, **options) -> torch.nn.Module:
    return filled(name, num_classes=5, **options)


def _script(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.script's own deprecation notice
        return torch.jit.script(model)


TOOLS = {
    "script": _script,
    "fx": torch.fx.symbolic_trace,
    "export": lambda m: torch.export.export(m, (X32,)).module(),
}

CASES = [
    pytest.param("test_resnet", {}, ("script", "fx", "export"), id="test_resnet"),
    pytest.param("resnet18", {}, ("script", "fx", "export"), id="resnet18"),
    pytest.param("test_resnet", {"output_stride": 8}, ("script", "fx", "export"), id="test_resnet-os8"),
    pytest.param("resnet50d", {}, ("fx",), id="resnet50d"),
    pytest.param("resnetblur18", {"global_pool": "catavgmax"}, ("script", "fx"), id="resnetblur18-catavgmax"),
    pytest.param("seresnext26t_32x4d", {}, ("fx",), id="seresnext26t_32x4d"),
    pytest.param("ecaresnet26t", {}, ("script",), id="ecaresnet26t"),
    pytest.param("resnetrs50", {}, ("fx",), id="resnetrs50"),
    pytest.param("vgg11", {}, ("script", "fx", "export"), id="vgg11"),
]


@pytest.mark.parametrize("name, options, tools", CASES)
def test_script_trace_export_match_eager(name, options, tools):
    model = _model(name, **options)
    with torch.no_grad():
        expected = model(X32)
        for tool in tools:
            converted = TOOLS[tool](model)
            assert torch.allclose(converted(X32), expected, atol=1e-5), tool


def test_traced_model_backpropagates():
    traced = torch.fx.symbolic_trace(core.create("model", "test_resnet", num_classes=3).train())
    traced(X32).sum().backward()
    assert all(p.grad is not None for p in traced.parameters())


def test_scripted_head_variants():
    for options in ({"num_classes": 0}, {"num_classes": 0, "global_pool": ""}, {"drop_rate": 0.2}):
        model = core.create("model", "test_resnet", **options).eval()
        with torch.no_grad():
            assert torch.allclose(_script(model)(X32), model(X32))


@pytest.mark.parametrize("name", ["test_resnet", "resnet18", "vgg11"])
def test_channels_last_and_bf16_autocast(name):
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        fast = copy.deepcopy(model).to(memory_format=torch.channels_last)
        assert torch.allclose(fast(X32.to(memory_format=torch.channels_last)), expected, atol=1e-4)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(X32)
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    assert torch.allclose(low.float(), expected, atol=0.1 * expected.abs().max().item() + 0.05)


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


def _compile_matches(name: str) -> None:
    torch._dynamo.reset()
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        compiled = torch.compile(model, fullgraph=True)
        assert torch.allclose(compiled(X32), expected, atol=1e-4)


def test_compile_fullgraph_tiny():
    _compile_matches("test_resnet")


@pytest.mark.large
@pytest.mark.parametrize("name", ["resnet18", "resnet50d", "vgg11"])
def test_compile_fullgraph(name):
    _compile_matches(name)


#: Deeper than resnet50 (3+4+6+3 blocks): the same stems and blocks as a shallower sibling, repeated.
#: Every code path exists at depth <= 16 blocks, so CI sweeps those; the rest run with --run-large.
MAX_CI_BLOCKS = 16


def _every_builtin_model() -> list:
    params = []
    for name in core.list_names("model"):
        spec = core.get_spec("model", name)
        if not spec.target.startswith("pimm.plugins."):
            continue  # third-party models get the conformance kit, not this builtin sweep
        deep = sum(spec.arch_args.get("layers") or ()) > MAX_CI_BLOCKS
        marks = [pytest.mark.large] if "large" in spec.tags or deep else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


@pytest.mark.parametrize("name", _every_builtin_model())
def test_every_builtin_model_scripts_traces_and_exports(name):
    """TorchScript, FX and torch.export of every builtin architecture match eager at 32x32."""
    model = _model(name)
    with torch.no_grad():
        expected = model(X32)
        for tool, convert in TOOLS.items():
            converted = convert(model)
            assert torch.allclose(converted(X32), expected, atol=1e-5, rtol=1e-4), tool
