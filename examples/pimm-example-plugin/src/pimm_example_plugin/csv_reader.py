"""A reader for a CSV manifest: one ``path,label`` row per image (paths relative to the CSV)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from pimm.core.data.reader import Reader
from pimm.core.errors import ConfigError


class CsvManifestReader(Reader):
    """Reads ``root`` (a ``.csv`` file, or a folder holding ``<split>.csv``) of ``path,label`` rows."""

    def __init__(self, root: str, split: str = "train", class_map: dict[str, int] | None = None,
                 path_column: str = "path", label_column: str = "label") -> None:
        super().__init__()
        manifest = Path(root)
        if manifest.is_dir():
            manifest = manifest / f"{split}.csv"
        if not manifest.is_file():
            raise ConfigError(f"CSV manifest {str(manifest)!r} not found; pass root=<file.csv> or a folder "
                              f"with {split}.csv in it")
        self.root = str(manifest.parent)
        with open(manifest, newline="") as handle:
            rows = list(csv.DictReader(handle))
        missing = {path_column, label_column} - set(rows[0] if rows else {})
        if not rows or missing:
            raise ConfigError(f"{manifest} needs a header with columns {path_column!r} and {label_column!r} "
                              f"and at least one row")
        labels = sorted({row[label_column] for row in rows})
        self.class_to_idx = dict(class_map) if class_map else {name: i for i, name in enumerate(labels)}
        unknown = sorted(set(labels) - set(self.class_to_idx))
        if unknown:
            raise ConfigError(f"labels {unknown} of {manifest} are not in the class map")
        self.samples = [(row[path_column], self.class_to_idx[row[label_column]]) for row in rows]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        return open(os.path.join(self.root, path), "rb"), target

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        return self._shape_name(self.samples[index][0], self.root, basename, absolute)

    @staticmethod
    def make_sample_dataset(tmpdir: str) -> dict:
        """Write a tiny manifest with images (for pimm's reader conformance checks); return create options."""
        from PIL import Image

        root = Path(tmpdir)
        rows = ["path,label"]
        for i, label in enumerate(["cat", "dog", "cat", "bird", "dog", "bird"]):
            Image.new("RGB", (8, 8), (40 * i, 10, 200 - 30 * i)).save(root / f"img{i}.png")
            rows.append(f"img{i}.png,{label}")
        (root / "train.csv").write_text("\n".join(rows) + "\n")
        return {"root": str(root)}
