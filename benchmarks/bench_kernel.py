"""Kernel figures: cold import, cold listing, registry build with many plugin components.

Importing this module must stay cheap (no torch): the cold cases run their own interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from common import Case

_COLD_IMPORT = """
import time
t = time.perf_counter()
from pimm import core
print((time.perf_counter() - t) * 1000)
"""

_COLD_LIST = """
import time, sys
t = time.perf_counter()
from pimm import core
names = core.list_models() if hasattr(core, "list_models") else core.list_names("model")
dt = (time.perf_counter() - t) * 1000
import json
print(json.dumps({"ms": dt, "torch_imported": float("torch" in sys.modules)}))
"""


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def cold_import() -> float:
    """ms for `from pimm import core` in a fresh interpreter."""
    return float(_python(_COLD_IMPORT).strip().splitlines()[-1])


def cold_list_models() -> dict[str, float]:
    """ms for import + first model listing (plugins load, registry builds) in a fresh interpreter."""
    data = json.loads(_python(_COLD_LIST).strip().splitlines()[-1])
    return {"ms": data["ms"], "torch_imported": data["torch_imported"]}


def registry_build_200() -> float:
    """ms to rebuild the registry with a synthetic plugin providing 200 components."""
    from pimm import core
    from pimm.core.registry import get_registry
    from pimm.core.specs import PoolSpec

    class Synthetic:
        @core.hookimpl
        def pimm_pools(self):
            return [PoolSpec(name=f"synthetic_pool_{i}", target="collections:OrderedDict") for i in range(200)]

    get_registry()  # plugins loaded; time only the rebuild caused by the new plugin
    name = core.register_plugin(Synthetic(), name="synthetic-bench")
    try:
        t = time.perf_counter()
        registry = get_registry()
        dt = (time.perf_counter() - t) * 1000
        if len(registry.names("pool", "synthetic_pool_*")) != 200:
            raise RuntimeError("synthetic components missing from the registry")
    finally:
        core.unregister_plugin(name)
    return dt


CASES = [
    Case("kernel.cold_import", "ms", cold_import, repeats=7),
    Case("kernel.cold_list_models", "ms", cold_list_models, repeats=5),
    Case("kernel.registry_build_200", "ms", registry_build_200, repeats=7),
]
