"""Model figures, pimm side by side with timm when timm is importable (run with PYTHONPATH=/tmp/timmlib).

* cold create: ``import`` + ``create_model('resnet50d')`` in a fresh interpreter (ms);
* warm create: ``create_model`` of resnet18 / resnet50d / vgg16 in a warm process (ms);
* pretrained create: ``create_model('resnet50d', pretrained=True)`` from a local safetensors file (ms);
* eval throughput: batch 8, 224x224, fp32, NCHW and channels_last, resnet18 / resnet50d (img/s);
* train-step throughput: resnet18, batch 8, 224x224, SGD step (img/s).

Each dict figure has ``pimm``, ``timm`` and ``ratio``; the ratio is timm/pimm for times (above 1
means pimm is faster) and pimm/timm for throughputs (above 1 means pimm is faster as well).
This module imports neither torch nor pimm at import time (the cold case needs a clean process).
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from common import Case

_COLD = """
import time
t = time.perf_counter()
from {module} import create_model
model = create_model("resnet50d")
print((time.perf_counter() - t) * 1000)
"""


def _timm_available() -> bool:
    try:
        import timm  # noqa: F401
    except ImportError:
        return False
    return True


def _cold_ms(module: str) -> float:
    out = subprocess.run([sys.executable, "-c", _COLD.format(module=module)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _side_by_side(pimm_value: float, timm_value: float | None, higher_is_better: bool) -> dict[str, float]:
    result = {"pimm": pimm_value}
    if timm_value is not None:
        result["timm"] = timm_value
        result["ratio"] = (pimm_value / timm_value) if higher_is_better else (timm_value / pimm_value)
    return result


def cold_create_resnet50d() -> dict[str, float]:
    """ms for import + create_model('resnet50d') in fresh interpreters, pimm then timm."""
    pimm_ms = _cold_ms("pimm.core")
    timm_ms = _cold_ms("timm") if _timm_available() else None
    return _side_by_side(pimm_ms, timm_ms, higher_is_better=False)


def _creators() -> tuple[Any, Any]:
    from pimm.core import create_model as pimm_create

    timm_create = None
    if _timm_available():
        import timm

        timm_create = timm.create_model
    return pimm_create, timm_create


def _warm_create(name: str) -> dict[str, float]:
    pimm_create, timm_create = _creators()
    pimm_create(name)  # warm: plugins loaded, modules imported
    t = time.perf_counter()
    pimm_create(name)
    pimm_ms = (time.perf_counter() - t) * 1000
    timm_ms = None
    if timm_create is not None:
        timm_create(name)
        t = time.perf_counter()
        timm_create(name)
        timm_ms = (time.perf_counter() - t) * 1000
    return _side_by_side(pimm_ms, timm_ms, higher_is_better=False)


_WEIGHTS: dict[str, str] = {}


def _local_weights(name: str) -> str:
    """A safetensors file with ``name``'s weights in a temporary directory (written once per process)."""
    if name not in _WEIGHTS:
        import os
        import tempfile

        from safetensors.torch import save_file

        pimm_create, _ = _creators()
        path = os.path.join(tempfile.mkdtemp(prefix="pimm-bench-"), f"{name}.safetensors")
        save_file({k: v.contiguous() for k, v in pimm_create(name).state_dict().items()}, path)
        _WEIGHTS[name] = path
    return _WEIGHTS[name]


def _pretrained_create(name: str) -> dict[str, float]:
    """ms for create_model(name, pretrained=True) from a local file (pimm builds on meta: no init)."""
    pimm_create, timm_create = _creators()
    overlay = {"file": _local_weights(name)}
    pimm_create(name, pretrained=True, pretrained_cfg_overlay=overlay)  # warm the page cache
    t = time.perf_counter()
    pimm_create(name, pretrained=True, pretrained_cfg_overlay=overlay)
    pimm_ms = (time.perf_counter() - t) * 1000
    timm_ms = None
    if timm_create is not None:
        t = time.perf_counter()
        timm_create(name, pretrained=True, pretrained_cfg_overlay=overlay)
        timm_ms = (time.perf_counter() - t) * 1000
    return _side_by_side(pimm_ms, timm_ms, higher_is_better=False)


def _images_per_second(model: Any, x: Any, steps: int, train: bool) -> float:
    import torch

    if train:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        target = torch.zeros(x.shape[0], dtype=torch.long)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), target).backward()
            opt.step()
    else:
        model.eval()

        def step() -> None:
            with torch.inference_mode():
                model(x)

    step()  # warm-up (allocations, kernel selection)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * x.shape[0] / (time.perf_counter() - t)


def _throughput(name: str, channels_last: bool, train: bool, steps: int) -> dict[str, float]:
    import torch

    pimm_create, timm_create = _creators()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(8, 3, 224, 224).contiguous(memory_format=fmt)
    pimm_model = pimm_create(name).to(memory_format=fmt)
    timm_model = timm_create(name).to(memory_format=fmt) if timm_create is not None else None
    if timm_model is not None:
        timm_model.load_state_dict(pimm_model.state_dict())  # same numbers through the same arithmetic
    pimm_ips = _images_per_second(pimm_model, x, steps, train)
    timm_ips = _images_per_second(timm_model, x, steps, train) if timm_model is not None else None
    return _side_by_side(pimm_ips, timm_ips, higher_is_better=True)


CASES = [
    Case("models.cold_create_resnet50d", "ms", cold_create_resnet50d, repeats=3, fresh_process=True),
    Case("models.warm_create_resnet18", "ms", lambda: _warm_create("resnet18"), repeats=5),
    Case("models.warm_create_resnet50d", "ms", lambda: _warm_create("resnet50d"), repeats=5),
    Case("models.warm_create_vgg16", "ms", lambda: _warm_create("vgg16"), repeats=3),
    Case("models.pretrained_create_resnet50d", "ms", lambda: _pretrained_create("resnet50d"), repeats=5),
    Case("models.eval_resnet18_nchw", "img/s", lambda: _throughput("resnet18", False, False, 5), repeats=3,
         higher_is_better=True),
    Case("models.eval_resnet18_channels_last", "img/s", lambda: _throughput("resnet18", True, False, 5), repeats=3,
         higher_is_better=True),
    Case("models.eval_resnet50d_nchw", "img/s", lambda: _throughput("resnet50d", False, False, 3), repeats=3,
         higher_is_better=True),
    Case("models.eval_resnet50d_channels_last", "img/s", lambda: _throughput("resnet50d", True, False, 3),
         repeats=3, higher_is_better=True),
    Case("models.train_resnet18", "img/s", lambda: _throughput("resnet18", False, True, 3), repeats=3,
         higher_is_better=True),
]
