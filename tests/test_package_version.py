"""``import pimm; pimm.__version__`` (the timm tutorial's first line), equal to the installed distribution's version."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

CHEAP = r"""
import json, sys
from pimm import core
import pimm
print(json.dumps({"heavy": [m for m in ("torch", "torchvision", "PIL", "importlib.metadata", "importlib_metadata")
                            if m in sys.modules],
                  "top": sorted(m for m in sys.modules if m == "pimm" or m.startswith("pimm."))}))
"""


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd="/").stdout.strip().splitlines()[-1]


def test_version_equals_the_distribution_version():
    assert _run("import pimm; print(pimm.__version__)") == version("pimm")
    assert _run("import pimm, pimm.core; print(pimm.__version__ == pimm.core.__version__)") == "True"


def test_pimm_is_a_regular_package_with_core_and_plugins():
    out = _run("import pimm, pimm.core, pimm.plugins; print(pimm.__file__ is not None, pimm.core.__name__)")
    assert out == "True pimm.core"


def test_from_pimm_import_core_stays_cheap():
    """The top-level package adds nothing to `from pimm import core`: no torch, not even importlib.metadata."""
    data = json.loads(_run(CHEAP))
    assert data["heavy"] == []
    assert "pimm.plugins" not in data["top"]
