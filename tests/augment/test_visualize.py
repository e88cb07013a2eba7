"""render_augment_grid: PNG grids of augmented samples."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pimm.core.app.show_augment import render_augment_grid
from pimm.core.errors import ConfigError


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    yy, xx = np.mgrid[0:90, 0:120]
    arr = np.stack([xx * 2, yy * 2, (xx + yy)], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("img") / "input.png"
    Image.fromarray(arr).save(path)
    return path


@pytest.mark.parametrize("config", ["rrc", "mixup", "cutmix-a0.5", "train"])
def test_grid_size_and_format(config, image_path, tmp_path):
    out = render_augment_grid(config, image_path, tmp_path / f"{config}.png", rows=2, cols=3)
    with Image.open(out) as grid:
        assert grid.format == "PNG"
        assert grid.size == (3 * 260, 2 * 290 + 40)  # matplotlib: 2.6 x 2.9 inches per cell at 100 dpi + title


def test_grid_with_rand_augment(image_path, tmp_path):
    pytest.importorskip("pimm.core.data.augment_policy")
    out = render_augment_grid("rand-m9-mstd0.5", image_path, tmp_path / "rand.png", rows=1, cols=3)
    with Image.open(out) as grid:
        assert grid.size == (3 * 260, 290 + 40)


def test_grid_is_reproducible(image_path, tmp_path):
    a = render_augment_grid("rrc", image_path, tmp_path / "a.png", rows=1, cols=2)
    b = render_augment_grid("rrc", image_path, tmp_path / "b.png", rows=1, cols=2)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("config", ["", "mixup-x", "cutmix-a-1", "42"])
def test_bad_configs(config, image_path, tmp_path):
    with pytest.raises(ConfigError):
        render_augment_grid(config, image_path, tmp_path / "x.png")


def test_missing_image_and_bad_shape(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        render_augment_grid("rrc", tmp_path / "nope.png", tmp_path / "x.png")
    with pytest.raises(ConfigError, match="rows"):
        render_augment_grid("rrc", tmp_path / "nope.png", tmp_path / "x.png", rows=0)


def test_grid_cells_hold_the_input_and_its_augmentation(image_path, tmp_path):
    """Values, not just the format: with 'Invert' the second cell is the first one inverted, pixel for
    pixel wherever both cells show image (titles and margins aside)."""
    out = render_augment_grid("Invert", image_path, tmp_path / "inv.png", rows=1, cols=2)
    with Image.open(out) as grid:
        pixels = np.asarray(grid.convert("RGB")).astype(int)
    cell = pixels.shape[1] // 2
    first, second = pixels[:, :cell], pixels[:, cell:2 * cell]
    image = ~(first > 245).all(-1) & ~(second > 245).all(-1)
    assert image.sum() > 0.5 * first.shape[0] * first.shape[1]  # the pictures fill most of the cells
    diff = np.abs(second - (255 - first))[image]
    assert np.median(diff) <= 2 and (diff > 8).mean() < 0.01
    # and the first cell really is the input: its colours span the input's gradient
    assert first[image][:, 0].max() > 200 and first[image][:, 0].min() < 40


def test_samples_are_the_op_applied_to_the_input(image_path):
    from PIL import ImageOps

    from pimm.core.app.show_augment import augment_samples

    samples = augment_samples("Invert", image_path, 2)
    assert [caption for _, caption in samples] == ["Invert", "Invert"]
    assert np.array_equal(np.asarray(samples[0][0]), np.asarray(samples[1][0]))  # p=1, no randomness
    # undoing the inversion gives back the input's gradient: red grows left to right, green top to bottom
    restored = np.asarray(ImageOps.invert(samples[0][0])).astype(int)
    assert (np.diff(restored[112, :, 0]) >= 0).all() and restored[112, -1, 0] - restored[112, 0, 0] > 150
    assert (np.diff(restored[:, 112, 1]) >= 0).all() and restored[-1, 112, 1] - restored[0, 112, 1] > 150


def test_a_file_that_is_not_an_image_is_one_clear_error(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(ConfigError, match="cannot read .*notes.png.* as an image"):
        render_augment_grid("rrc", bad, tmp_path / "x.png")


def test_cli_show_augment_on_a_non_image_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"\x00" * 64)
    out = subprocess.run([sys.executable, "-m", "pimm.core.cli", "show", "augment", "rrc", str(bad),
                          "-o", str(tmp_path / "x.png")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith("pimm")]
    assert len(lines) == 1 and "cannot read" in lines[0] and "Traceback" not in out.stderr
