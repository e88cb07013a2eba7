"""pimm-torchvision figures (skipped when the package is not installed).

* cold list: ``list_models('tv-*')`` in a fresh interpreter with the package installed (ms), and
  whether torch got imported on the way (``torch_imported`` must stay 0);
* create: ``create_model('tv-resnet50')`` vs ``torchvision.models.get_model('resnet50')`` in a warm
  process (ms; ratio = torchvision / pimm, above 1 means pimm is faster);
* eval throughput: resnet18 and mobilenet_v3_large, batch 8, 224 px, fp32, best of 6 interleaved
  batches (img/s; ratio = pimm / torchvision, 1.0 is parity: the bridge runs torchvision's modules).

Defaults are short (well under a minute on an idle 2-core machine). This module imports neither torch nor
pimm at import time (the cold case needs a clean process).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from typing import Any

from common import Case

_COLD_LIST = """
import json, sys, time
t = time.perf_counter()
from pimm.core import list_models
names = list_models("tv-*")
ms = (time.perf_counter() - t) * 1000
print(json.dumps({"ms": ms, "models": len(names), "torch_imported": int("torch" in sys.modules)}))
"""


def _installed() -> bool:
    return importlib.util.find_spec("pimm_torchvision") is not None


def _cold(env: dict[str, str] | None = None) -> dict[str, float]:
    import os

    out = subprocess.run([sys.executable, "-c", _COLD_LIST], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_list() -> dict[str, float]:
    """ms for import + list_models('tv-*') in a fresh interpreter, with the plugin and with it blocked.

    ``torch_imported`` must stay 0: listing 80 torchvision models reads their specs only.
    """
    with_plugin = _cold()
    blocked = _cold({"PIMM_BLOCK_PLUGINS": "torchvision"})
    return {"ms": with_plugin["ms"], "ms_plugin_blocked": blocked["ms"], "models": with_plugin["models"],
            "torch_imported": with_plugin["torch_imported"]}


def _ms(fn: Any, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def create_resnet50() -> dict[str, float]:
    """ms to build resnet50 (random init): pimm's tv-resnet50 and torchvision's get_model."""
    import torchvision.models as tvm

    from pimm.core import create_model

    create_model("tv-resnet50")  # warm both paths (imports, registry)
    tvm.get_model("resnet50")
    pimm_ms = _ms(lambda: create_model("tv-resnet50"))
    tv_ms = _ms(lambda: tvm.get_model("resnet50"))
    return {"pimm": pimm_ms, "torchvision": tv_ms, "ratio": tv_ms / pimm_ms}


def _seconds_per_batch(model: Any, x: Any) -> float:
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def _eval_parity(tv_name: str, rounds: int = 6, batch: int = 8) -> dict[str, float]:
    """Interleaved single batches (pimm, torchvision, pimm, ...), best of each: fair on a busy machine."""
    import torch
    import torchvision.models as tvm

    from pimm.core import create_model

    ours = create_model(f"tv-{tv_name}").eval()
    theirs = tvm.get_model(tv_name).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(batch, 3, 224, 224)
    with torch.inference_mode():
        ours(x), theirs(x)  # warm-up
        times = [(_seconds_per_batch(ours, x), _seconds_per_batch(theirs, x)) for _ in range(rounds)]
    pimm_rate = batch / min(t[0] for t in times)
    tv_rate = batch / min(t[1] for t in times)
    return {"pimm": pimm_rate, "torchvision": tv_rate, "ratio": pimm_rate / tv_rate}


def eval_resnet18() -> dict[str, float]:
    """Eval img/s of resnet18, pimm bridge vs torchvision (batch 8, 224 px, fp32)."""
    return _eval_parity("resnet18")


def eval_mobilenet_v3_large() -> dict[str, float]:
    """Eval img/s of mobilenet_v3_large, pimm bridge vs torchvision (batch 8, 224 px, fp32)."""
    return _eval_parity("mobilenet_v3_large")


CASES = [
    Case("torchvision.cold_list_models", "ms", cold_list, repeats=3, fresh_process=False),
    Case("torchvision.create_resnet50", "ms", create_resnet50, repeats=1),
    Case("torchvision.eval_resnet18", "img/s", eval_resnet18, repeats=1, higher_is_better=True),
    Case("torchvision.eval_mobilenet_v3_large", "img/s", eval_mobilenet_v3_large, repeats=1, higher_is_better=True),
] if _installed() else []
