"""End to end through pimm's app: train from local torchvision weights, then validate, export and predict."""

import json
import random
from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from pimm.core.app.cli import main

COLOURS = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40)}


def _folder(root: Path, per_class: int, seed: int) -> None:
    rng = random.Random(seed)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            jitter = tuple(min(255, max(0, c + rng.randint(-30, 30))) for c in colour)
            Image.new("RGB", (36, 36), jitter).save(root / name / f"{i}.png")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tv-data")
    _folder(root / "train", 8, 0)
    _folder(root / "val", 3, 1)
    return root


def test_train_validate_export_predict_from_local_torchvision_weights(data, tmp_path, capsys):
    torch.manual_seed(0)
    reference = tvm.mobilenet_v3_small().eval()
    weights = tmp_path / "mobilenet_v3_small.pth"
    torch.save(reference.state_dict(), weights)
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"model_kwargs": {"pretrained_cfg_overlay": {"file": str(weights)}}}))
    out = tmp_path / "runs"
    code = main(["train", "--config", str(config), "--model", "tv-mobilenet_v3_small", "--pretrained",
                 "--data", str(data), "--epochs", "1", "--batch-size", "6", "--input-size", "32", "--lr", "1e-9",
                 "--warmup-epochs", "0", "--workers", "0", "--threads", "1", "--output", str(out),
                 "--experiment", "tv"])
    assert code == 0, capsys.readouterr().err[-2000:]
    run = out / "tv"
    assert (run / "metrics.csv").is_file()
    from safetensors.torch import load_file

    saved = load_file(str(next(run.glob("last/*.safetensors"))))
    assert torch.allclose(saved["features.0.0.weight"], reference.features[0][0].weight, atol=1e-6), \
        "training did not start from the local torchvision weights"
    assert saved["classifier.3.weight"].shape == (3, 1024), "a fresh 3-class head replaced torchvision's"
    capsys.readouterr()

    assert main(["validate", str(run), "--data", str(data), "--workers", "0", "--batch-size", "4"]) == 0
    assert "top-1" in capsys.readouterr().out

    exports = tmp_path / "exports"
    assert main(["export", str(run), "--output", str(exports), "--input-size", "32"]) == 0
    assert any(exports.iterdir())

    image = next((data / "val" / "red").iterdir())
    assert main(["predict", str(run), str(image), "--top-k", "1", "--threads", "1"]) == 0
    assert any(name in capsys.readouterr().out for name in COLOURS)
