"""`from pimm import core` and listing names must not import torch, torchvision or PIL."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = r"""
import json, sys
from pimm import core
after_import = [m for m in ("torch", "torchvision", "PIL") if m in sys.modules]
counts = {kind: len(core.list_names(kind)) for kind in core.KINDS}
if hasattr(core, "list_models"):
    counts["list_models"] = len(core.list_models())
for kind in core.KINDS:
    for name in core.list_names(kind)[:50]:
        core.get_spec(kind, name)
after_list = [m for m in ("torch", "torchvision", "PIL") if m in sys.modules]
print(json.dumps({"after_import": after_import, "after_list": after_list, "counts": counts}))
"""


def test_kernel_and_listing_import_no_heavy_modules():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["after_import"] == [], data
    assert data["after_list"] == [], data


def test_importing_core_loads_no_plugins_and_no_pydantic():
    code = ("import sys; from pimm import core; "
            "print(sorted(m for m in sys.modules if m.startswith(('pimm.plugins', 'pydantic', 'importlib_metadata'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
