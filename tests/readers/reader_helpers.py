"""Builders of small datasets for the reader tests (folders, tars, shards, damaged files)."""

from __future__ import annotations

import io
import os
import tarfile

import numpy as np
from PIL import Image


def png_bytes(color: tuple[int, int, int] = (10, 20, 30), size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color if mode != "L" else color[0]).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (16, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_folder(root: str, layout: dict[str, int], ext: str = ".png") -> str:
    """root/<class>/<class>_<i><ext> images, one colour per class."""
    for ci, (cls, n) in enumerate(sorted(layout.items())):
        for i in range(n):
            write(os.path.join(root, cls, f"{cls}_{i}{ext}"), png_bytes((ci * 20 % 256, i * 10 % 256, 5)))
    return root


def add_bytes(tf: tarfile.TarFile, name: str, data: bytes, **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tf.addfile(info, io.BytesIO(data))


def make_tar(path: str, members: dict[str, bytes], fmt: int = tarfile.PAX_FORMAT) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with tarfile.open(path, "w", format=fmt) as tf:
        for name, data in members.items():
            add_bytes(tf, name, data)
    return path


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            add_bytes(tf, name, data)
    return buf.getvalue()


def make_shards(root: str, counts: list[int], prefix: str = "shard", labels: str = "int") -> list[str]:
    """WebDataset shards: counts[s] samples in shard s; label = global index % 3 (or a name)."""
    paths = []
    index = 0
    for s, n in enumerate(counts):
        path = os.path.join(root, f"{prefix}-{s:06d}.tar")
        with tarfile.open(path, "w") as tf:
            for _ in range(n):
                key = f"s{index:05d}"
                add_bytes(tf, f"{key}.png", png_bytes((index % 256, 0, 0)))
                label = str(index % 3) if labels == "int" else ["cat", "dog", "emu"][index % 3]
                add_bytes(tf, f"{key}.cls", label.encode())
                index += 1
        paths.append(path)
    return paths


def png16_bytes(value: int = 65535, size: tuple[int, int] = (4, 4)) -> bytes:
    arr = np.full(size[::-1], value, dtype=np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def cmyk_jpeg_bytes(cmyk: tuple[int, int, int, int] = (0, 255, 255, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("CMYK", (8, 8), cmyk).save(buf, format="JPEG")
    return buf.getvalue()
