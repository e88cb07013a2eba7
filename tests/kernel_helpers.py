"""Helpers for kernel tests: fake installed distributions and isolated plugin state."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

PLUGIN_TEMPLATE = '''
from pimm.core import hookimpl
from pimm.core.specs import PoolSpec, Options
from pydantic import Field


class GemOptions(Options):
    flatten: bool = Field(True, description="flatten the output")
    p: float = Field(3.0, gt=0, description="generalised-mean exponent")


@hookimpl
def pimm_pools():
    return [PoolSpec(name={name!r}, target="collections:OrderedDict", options=GemOptions, aliases={aliases!r})]
'''


def make_distribution(root: Path, dist: str, version: str, entry_points: dict[str, str],
                      modules: dict[str, str]) -> None:
    """Write a fake installed distribution (a .dist-info folder and its modules) under ``root``."""
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    eps = "[pimm]\n" + "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(eps)
    top_level = sorted({m.split(".")[0] for m in modules})
    (info / "top_level.txt").write_text("\n".join(top_level) + "\n")
    for module, source in modules.items():
        path = root / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def pool_plugin(name: str, aliases: tuple[str, ...] = ()) -> str:
    """Source of a plugin module providing one pool component."""
    return PLUGIN_TEMPLATE.format(name=name, aliases=aliases)


def forget_modules(prefixes: tuple[str, ...]) -> None:
    """Drop imported fake modules so the next test imports its own versions."""
    for name in list(sys.modules):
        if name.split(".")[0] in prefixes:
            del sys.modules[name]
