"""docs/coming-from-timm.md: its import block runs, in the tutorial's order, and names what it claims."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "coming-from-timm.md"


def _import_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    (block,) = [b for b in blocks if "coming-from-timm: imports" in b]
    return block


def test_the_import_block_runs():
    out = subprocess.run([sys.executable, "-c", _import_block()], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_optimizer_classes_the_page_names_are_on_the_public_module():
    import pimm.core.optim as optim

    classes = {name for name, obj in inspect.getmembers(optim) if inspect.isclass(obj)}
    assert {"AdamP", "Lamb", "RMSpropTF", "SGDP", "Lookahead"} <= classes


def test_readme_links_the_page():
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/coming-from-timm.md" in readme
