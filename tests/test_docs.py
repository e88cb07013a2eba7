"""Docs stay in step with the code: every hook has its section, versions agree."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

from pimm.core import hookspecs
from pimm.core._version import __version__

ROOT = Path(__file__).resolve().parents[1]


def test_every_hook_has_a_heading_with_its_signature():
    text = (ROOT / "docs" / "hooks.md").read_text()
    headings = re.findall(r"^#+\s+`?(.+?)`?\s*$", text, flags=re.M)
    for name in hookspecs.HOOK_FOR_KIND.values():
        function = getattr(hookspecs, name)
        signature = f"{name}{inspect.signature(function)}".replace("'", "")
        assert any(h.replace("'", "").startswith(signature) for h in headings), (
            f"docs/hooks.md needs a heading `{signature}`")


def test_version_matches_pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["version"] == __version__


def test_readme_quick_start_has_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
