"""The out-of-tree example plugin, installed next to pimm, is listed and its components build."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pimm import core

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pimm_example_plugin") is None,
    reason="install examples/pimm-example-plugin (CI and the README's test command do)",
)


def test_pimm_plugins_lists_it():
    out = subprocess.run([sys.executable, "-m", "pimm.core.cli", "plugins", "--json"],
                         capture_output=True, text=True, check=True)
    record = next(r for r in json.loads(out.stdout) if r["name"] == "example")
    assert record["distribution"] == "pimm-example-plugin" and record["version"] == "0.1.0"
    assert record["status"] == "active" and record["source"] == "entry-point"
    assert {k: v for k, v in record["counts"].items() if v} == {
        "model": 2, "pool": 1, "augment": 1, "reader": 1, "optimizer": 1, "scheduler": 1, "loss": 1, "logger": 1}


def test_model_builds_and_uses_any_pool():
    import torch

    model = core.create("model", "tinynet_8", num_classes=3, global_pool="gem")
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_gem_pool_builds_and_works_in_builtin_models():
    import torch

    pool = core.create("pool", "gem", flatten=True, p=2.0)
    assert pool(torch.rand(2, 5, 4, 4)).shape == (2, 5)
    if "resnet18" in core.list_names("model"):
        model = core.create("model", "resnet18", num_classes=4, global_pool="gem").eval()
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 4)


def test_optimizer_builds_and_steps():
    import torch

    p = torch.nn.Parameter(torch.ones(3))
    opt = core.create("optimizer", "signsgd", [p], lr=0.1)
    p.grad = torch.tensor([1.0, -2.0, 0.0])
    opt.step()
    assert torch.allclose(p.detach(), torch.tensor([0.9, 1.1, 1.0]))  # first step: sign(0.1 * g)


def test_reader_builds_from_a_manifest(tmp_path: Path):
    from PIL import Image

    for i, label in enumerate(["cat", "dog", "cat"]):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(tmp_path / f"img{i}.png")
    (tmp_path / "train.csv").write_text("path,label\nimg0.png,cat\nimg1.png,dog\nimg2.png,cat\n")
    reader = core.create("reader", "csv", root=str(tmp_path))
    assert len(reader) == 3 and reader.class_to_idx == {"cat": 0, "dog": 1}
    handle, target = reader[1]
    assert target == 1 and handle.read(4) == b"\x89PNG"
    assert reader.filename(2) == "img2.png"


def test_augment_op_builds_and_applies():
    from PIL import Image

    op = core.create("augment", "ChannelShuffle", p=1.0)
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    out = op(img)
    assert out.size == img.size and sorted(out.getpixel((0, 0))) == [10, 20, 30]


def test_augment_op_is_usable_inside_randaugment_by_name():
    import random

    from PIL import Image

    policy = core.rand_augment_transform("rand-m9-n1-p1.0", transforms=["ChannelShuffle"])
    assert "ChannelShuffle" in repr(policy)
    random.seed(3)
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    outs = {policy(img).getpixel((0, 0)) for _ in range(20)}
    assert len(outs) > 1 and all(sorted(o) == [10, 20, 30] for o in outs)
