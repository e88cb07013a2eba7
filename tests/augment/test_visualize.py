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
        assert grid.size == (3 * 224 + 4 * 4, 2 * 224 + 3 * 4)


def test_grid_with_rand_augment(image_path, tmp_path):
    pytest.importorskip("pimm.core.data.augment_policy")
    out = render_augment_grid("rand-m9-mstd0.5", image_path, tmp_path / "rand.png", rows=1, cols=3)
    with Image.open(out) as grid:
        assert grid.size == (3 * 224 + 4 * 4, 224 + 2 * 4)


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
