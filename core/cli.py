"""Alias of :mod:`pimm.core.app.cli` for existing imports and for ``python -m pimm.core.cli``
(torchrun's ``-m`` form); the command itself lives in the app layer.
"""

from __future__ import annotations

import sys

from .app.cli import EXIT_ERROR, EXIT_FAILED, EXIT_OK, build_parser, main

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_ERROR"]

if __name__ == "__main__":
    sys.exit(main())
