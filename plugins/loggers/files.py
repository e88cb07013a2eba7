"""File loggers: a csv row or a JSON line per epoch, rewritten consistently on resume."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

from pimm.core.logger import RunLogger
from pimm.core.logger import csv_cell as _cell

__all__ = ["CsvLogger", "JsonlLogger"]


def _epoch_of(record: dict[str, Any]) -> float:
    try:
        return float(record.get("epoch") or 0)
    except (TypeError, ValueError):
        return 0.0


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and one rename (never half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class CsvLogger(RunLogger):
    """Appends one csv row per epoch; the header is the first row's keys (later new keys extend it)."""

    def __init__(self, filename: str = "log.csv") -> None:
        self.filename = filename
        self.path: Path | None = None
        self.columns: list[str] = []

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """Open ``run_dir/filename``; on resume keep only rows up to ``resume_epoch``."""
        super().start(run_dir, config, resume_epoch)
        self.path = Path(run_dir) / self.filename
        rows = self._read()
        rows = [r for r in rows if _epoch_of(r) <= resume_epoch] if resume_epoch else []
        if self.path.is_file() or rows:
            self._rewrite(rows)

    def _read(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.is_file():
            return []
        with self.path.open(newline="") as f:
            reader = csv.DictReader(f)
            self.columns = list(reader.fieldnames or [])
            return list(reader)

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        if self.path is None:
            return
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in self.columns})
        _replace(self.path, buffer.getvalue() if self.columns else "")

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append ``row``; keys not in the header yet extend it (the file is rewritten once)."""
        if self.path is None:
            raise RuntimeError("CsvLogger.log_epoch() before start()")
        new = [k for k in row if k not in self.columns]
        if new:
            rows = self._read()
            self.columns += [k for k in new if k not in self.columns]
            self._rewrite(rows)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns).writerow({k: _cell(row.get(k)) for k in self.columns})


class JsonlLogger(RunLogger):
    """Appends one JSON object per epoch (NaN and missing values as null)."""

    def __init__(self, filename: str = "log.jsonl") -> None:
        self.filename = filename
        self.path: Path | None = None

    def start(self, run_dir: Path, config: dict[str, Any], resume_epoch: int = 0) -> None:
        """Open ``run_dir/filename``; on resume keep only lines up to ``resume_epoch``."""
        super().start(run_dir, config, resume_epoch)
        self.path = Path(run_dir) / self.filename
        if not self.path.is_file():
            return
        kept = []
        if resume_epoch:
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill
                if isinstance(record, dict) and _epoch_of(record) <= resume_epoch:
                    kept.append(line)
        _replace(self.path, "".join(line + "\n" for line in kept))

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append ``row`` as one line of JSON."""
        if self.path is None:
            raise RuntimeError("JsonlLogger.log_epoch() before start()")
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        with self.path.open("a") as f:
            f.write(json.dumps(clean) + "\n")
