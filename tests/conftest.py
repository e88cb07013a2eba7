"""Project-wide pytest setup. Markers and --run-large come from pimm's own pytest plugin
(pimm.core.testing.pytest_plugin, auto-loaded through its entry point)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helper modules
