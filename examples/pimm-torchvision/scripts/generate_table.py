"""Regenerate src/pimm_torchvision/data/torchvision_models.json from the installed torchvision.

Run after upgrading torchvision: ``python scripts/generate_table.py`` (then run the package tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pimm_torchvision.table import TABLE_PATH, write_table
from pimm_torchvision.generate import build_table


def main() -> int:
    """Write the table and say where it went."""
    table = build_table()
    write_table(table, TABLE_PATH)
    print(f"wrote {len(table['architectures'])} architectures (torchvision {table['torchvision_version']}) "
          f"to {Path(TABLE_PATH)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
