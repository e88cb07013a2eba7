"""The built-in demo dataset: coloured shapes on textured backgrounds, generated deterministically.

``pimm train`` with no ``--data`` trains on it, so a new user sees the whole pipeline work in a
few minutes on a CPU. The set is written once as real PNG files in the image-folder layout
(``<root>/train/<class>/<n>.png`` and ``<root>/val/<class>/<n>.png``) under the pimm cache
(``~/.cache/pimm/demo-v1``; ``PIMM_CACHE_DIR`` moves it), and read back by the folder reader
like any user dataset. Every image depends only on its split, class and index, so the files are
byte-identical on every machine and every run.

Each image shows one shape (the class) of random colour, size, position and rotation over a
random low-contrast background texture (stripes, checks, speckle or a gradient) in colours far
from the shape's, plus pixel noise.
"""

from __future__ import annotations

import math
import os
import random
import shutil
from pathlib import Path

__all__ = ["DEMO_CLASSES", "DEMO_VERSION", "demo_root", "ensure_demo_dataset"]

DEMO_VERSION = "demo-v1"
#: Class names, in label order.
DEMO_CLASSES: tuple[str, ...] = ("circle", "cross", "ring", "square", "star", "triangle")
DEMO_IMAGE_SIZE = 40
DEMO_TRAIN_PER_CLASS = 400
DEMO_VAL_PER_CLASS = 100
_DONE = ".complete"


def demo_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Folder of the demo dataset: ``cache_dir`` or ``$PIMM_CACHE_DIR`` or ``~/.cache/pimm``, plus ``demo-v1``."""
    base = cache_dir or os.environ.get("PIMM_CACHE_DIR") or Path.home() / ".cache" / "pimm"
    return Path(base).expanduser() / DEMO_VERSION


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _far_colour(rng: random.Random, avoid: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """A random colour at least a fixed distance from every colour in ``avoid``."""
    best, best_d = _colour(rng), -1.0
    for _ in range(30):
        c = _colour(rng)
        d = min(math.dist(c, a) for a in avoid) if avoid else 1e9
        if d > 150:
            return c
        if d > best_d:
            best, best_d = c, d
    return best


def _background(rng: random.Random, size: int, colours: list[tuple[int, int, int]]):  # noqa: ANN202
    from PIL import Image, ImageDraw

    a, b = colours
    img = Image.new("RGB", (size, size), a)
    draw = ImageDraw.Draw(img)
    kind = rng.randrange(4)
    step = rng.randint(3, 8)
    if kind == 0:  # stripes at a random angle
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        for k in range(-2 * size, 2 * size, 2 * step):
            cx, cy = size / 2 + dx * k, size / 2 + dy * k
            draw.line([(cx - dy * 2 * size, cy + dx * 2 * size), (cx + dy * 2 * size, cy - dx * 2 * size)],
                      fill=b, width=step)
    elif kind == 1:  # checks
        for y in range(0, size, step):
            for x in range(0, size, step):
                if (x // step + y // step) % 2:
                    draw.rectangle([x, y, x + step - 1, y + step - 1], fill=b)
    elif kind == 2:  # speckle
        for _ in range(size * size // 6):
            x, y = rng.randrange(size), rng.randrange(size)
            draw.point((x, y), fill=b)
    else:  # vertical gradient
        for y in range(size):
            t = y / (size - 1)
            draw.line([(0, y), (size, y)], fill=tuple(int(a[i] * (1 - t) + b[i] * t) for i in range(3)))
    return img


def _polygon(cx: float, cy: float, radii: list[float], rot: float) -> list[tuple[float, float]]:
    n = len(radii)
    return [(cx + r * math.cos(rot + 2 * math.pi * i / n), cy + r * math.sin(rot + 2 * math.pi * i / n))
            for i, r in enumerate(radii)]


def _draw_shape(draw, shape: str, cx: float, cy: float, r: float, rot: float, fill, back) -> None:  # noqa: ANN001
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        h = r * 0.55
        draw.ellipse([cx - h, cy - h, cx + h, cy + h], fill=back)
    elif shape == "square":
        draw.polygon(_polygon(cx, cy, [r] * 4, rot), fill=fill)
    elif shape == "triangle":
        draw.polygon(_polygon(cx, cy, [r * 1.1] * 3, rot), fill=fill)
    elif shape == "star":
        draw.polygon(_polygon(cx, cy, [r * 1.1, r * 0.45] * 5, rot), fill=fill)
    elif shape == "cross":
        w = r * 0.38
        arm = [(-r, -w), (-w, -w), (-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w),
               (-r, w)]
        c, s = math.cos(rot), math.sin(rot)
        draw.polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in arm], fill=fill)
    else:  # pragma: no cover - DEMO_CLASSES is fixed
        raise ValueError(shape)


def render_demo_image(split: str, label: int, index: int, size: int = DEMO_IMAGE_SIZE):  # noqa: ANN201
    """The demo image ``index`` of class ``label`` in ``split`` (a PIL RGB image); deterministic."""
    from PIL import Image, ImageDraw

    seed = (0 if split == "train" else 1) * 10_000_000 + label * 100_000 + index
    rng = random.Random(seed)
    scale = 3  # draw large, then shrink: anti-aliased edges
    big = size * scale
    base = _colour(rng)
    shade = tuple(min(255, max(0, c + rng.randint(-70, 70))) for c in base)
    bg_colours = [base, shade]
    img = _background(rng, big, bg_colours)
    fill = _far_colour(rng, bg_colours)
    r = rng.uniform(0.28, 0.42) * big
    cx = rng.uniform(r, big - r)
    cy = rng.uniform(r, big - r)
    draw = ImageDraw.Draw(img)
    back = img.getpixel((int(cx), int(cy)))
    _draw_shape(draw, DEMO_CLASSES[label], cx, cy, r, rng.uniform(0, 2 * math.pi), fill, back)
    img = img.resize((size, size), Image.BILINEAR)
    noise = Image.frombytes("L", (size, size), rng.randbytes(size * size)).convert("RGB")
    return Image.blend(img, noise, rng.uniform(0.03, 0.1))


def ensure_demo_dataset(cache_dir: str | os.PathLike[str] | None = None, verbose: bool = False) -> Path:
    """Generate the demo dataset if it is not there yet; return its root (holding ``train/`` and ``val/``).

    Generation writes into a temporary sibling folder and renames it when complete, so an
    interrupted run never leaves a half-written dataset behind; concurrent callers are safe.
    """
    root = demo_root(cache_dir)
    if (root / _DONE).is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{DEMO_VERSION}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    if verbose:
        total = len(DEMO_CLASSES) * (DEMO_TRAIN_PER_CLASS + DEMO_VAL_PER_CLASS)
        print(f"generating the demo dataset ({total} images, {len(DEMO_CLASSES)} classes) in {root} ...",
              flush=True)
    for split, count in (("train", DEMO_TRAIN_PER_CLASS), ("val", DEMO_VAL_PER_CLASS)):
        for label, name in enumerate(DEMO_CLASSES):
            folder = tmp / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                render_demo_image(split, label, i).save(folder / f"{name}_{i:04d}.png", optimize=False)
    (tmp / _DONE).write_text(f"{DEMO_VERSION}\n")
    try:
        os.replace(tmp, root)
    except OSError:  # another process finished first (the target is a non-empty directory)
        shutil.rmtree(tmp, ignore_errors=True)
        if not (root / _DONE).is_file():
            raise
    return root
