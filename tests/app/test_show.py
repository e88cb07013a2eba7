"""`pimm show`: augment grids titled with the ops applied; feature maps next to the input, at the
model's input size, from a model name or a run directory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageChops

from pimm.core.app.cli import EXIT_ERROR, main
from pimm.core.app.show_augment import augment_samples, render_augment_grid
from pimm.core.app.show_features import render_feature_maps


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    yy, xx = np.mgrid[0:90, 0:120]
    arr = np.stack([xx * 2, yy * 2, (xx + yy)], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("img") / "input.png"
    Image.fromarray(arr).save(path)
    return path


def _colourful(path, box=None) -> int:
    img = Image.open(path).convert("RGB")
    if box:
        img = img.crop(box)
    px = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(-1, 3).int()
    return int(((px.max(1).values - px.min(1).values) > 40).sum())


def test_policy_samples_are_titled_with_the_ops_that_changed_them(picture):
    from pimm.core import list_names

    samples = augment_samples("rand-m9-mstd0.5", picture, 12, seed=3)
    op_names = set(list_names("augment"))
    from pimm.core.app.show_augment import _base, _load

    start = _base(_load(picture))
    seen_ops = 0
    for img, caption in samples:
        changed = ImageChops.difference(img, start).getbbox() is not None
        if caption == "no op applied":
            assert not changed
        else:
            names = caption.split(", ")
            assert all(n in op_names for n in names), caption
            seen_ops += len(names)
    # 12 samples x 2 layers, each op applied with p=0.5: some samples get none, never all 24 ops
    assert 6 <= seen_ops < 24 and any(c == "no op applied" for _, c in samples)
    assert [c for _, c in augment_samples("Rotate", picture, 2)] == ["Rotate", "Rotate"]
    train = [c for _, c in augment_samples("train", picture, 3, seed=0)]
    assert all(c.startswith("RandomResizedCrop") for c in train)


def test_augment_grid_png(picture, tmp_path):
    out = render_augment_grid("rand-m9", picture, tmp_path / "grid.png", rows=2, cols=3, seed=1)
    with Image.open(out) as grid:
        assert grid.format == "PNG" and grid.size == (780, 620)
    assert _colourful(out) > 20000  # the samples are drawn, not an empty canvas


def test_feature_maps_of_a_run_directory_at_its_input_size(app_run, picture, tmp_path, capsys):
    out = tmp_path / "maps.png"
    assert main(["show", "features", str(app_run), str(picture), "-o", str(out), "--channels", "4"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with Image.open(out) as img:
        width, height = img.size
    assert (width, height) == (5 * 190, 5 * 200 + 50)  # input + 4 channels, resnet10t's 5 levels
    assert _colourful(out, (int(width * 0.45), 0, width, height)) > 5000  # channel maps in viridis colours
    from pimm.core.app.show_features import _input_tensor, _make_model

    net = _make_model(str(app_run), None)
    x, dc = _input_tensor(net, picture, None)
    assert tuple(x.shape[1:]) == (3, 16, 16) == tuple(dc["input_size"])  # the run's 16 px, not 224


def test_feature_maps_errors(picture, tmp_path, capsys):
    (tmp_path / "notarun").mkdir()
    assert main(["show", "features", str(tmp_path / "notarun"), str(picture)]) == EXIT_ERROR
    assert "neither a run directory" in capsys.readouterr().err
    with pytest.raises(Exception, match="channels must be >= 1"):
        render_feature_maps("resnet10t", picture, tmp_path / "x.png", max_channels=0)


def test_flat_feature_maps_are_coloured_against_their_level_with_the_value_shown():
    """A 1x1 level (every deep level at a small input) must not draw every channel the same dark square."""
    import torch

    from pimm.core.app.show_features import features_figure

    values = torch.tensor([0.0, 1.5, 3.0]).view(1, 3, 1, 1)
    dc = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
    fig = features_figure([values], [{"reduction": 32, "module": "layer4"}], torch.zeros(1, 3, 8, 8), dc, 3)
    axes = fig.axes[1:4]
    colours = [tuple(ax.get_images()[0].to_rgba(ax.get_images()[0].get_array())[0, 0]) for ax in axes]
    assert len(set(colours)) == 3, colours
    assert [ax.get_title() for ax in axes] == ["ch 0 = 0", "ch 1 = 1.5", "ch 2 = 3"]
