"""Weights through pimm's resolver, torchvision's eval preprocessing, and output parity with torchvision."""

import hashlib
import os
from pathlib import Path

import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from pimm.core import create_model, create_transform, resolve_data_config
from pimm.core.models.pretrained import cfg_to_dict, get_pretrained_cfg
from pimm.core.models.weights import ChecksumError, WeightsNotFoundError

from pimm_torchvision.families import family_of


def _tv_model(tv_name: str, **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    return tvm.get_model(tv_name, weights=None, **{**family_of(tv_name).builder_args, **kwargs}).eval()


def _save(model: torch.nn.Module, path: Path) -> Path:
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty torch hub cache under tmp_path (TORCH_HOME)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("PIMM_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError("a network call was made")

    monkeypatch.setattr("socket.getaddrinfo", refuse)
    monkeypatch.setattr("pimm.core.models.hub.download_url", refuse)
    return Path(torch.hub.get_dir()) / "checkpoints"


# One architecture per family, small inputs (ViT and MaxViT are built for a fixed size).
PARITY = [
    ("resnet18", 64, {}), ("googlenet", 64, {}), ("inception_v3", 80, {}), ("mobilenet_v3_small", 64, {}),
    ("efficientnet_b0", 64, {}), ("convnext_tiny", 64, {}), ("squeezenet1_1", 64, {}), ("densenet121", 64, {}),
    ("shufflenet_v2_x0_5", 64, {}), ("mnasnet0_5", 64, {}), ("regnet_x_400mf", 64, {}), ("alexnet", 64, {}),
    ("swin_t", 64, {}), ("vit_b_32", 64, {"image_size": 64}), ("mobilenet_v2", 64, {}),
]


@pytest.mark.parametrize("tv_name,size,tv_kwargs", PARITY, ids=[p[0] for p in PARITY])
def test_outputs_equal_torchvision_for_identical_weights(tv_name, size, tv_kwargs, tmp_path):
    reference = _tv_model(tv_name, **tv_kwargs)
    path = _save(reference, tmp_path / "weights.pth")
    options = {"img_size": tv_kwargs["image_size"]} if "image_size" in tv_kwargs else {}
    model = create_model(f"tv-{tv_name}", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)), **options).eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert list(model.state_dict()) and set(model.state_dict()) == set(reference.state_dict())


def test_file_downloaded_by_torchvision_is_found_without_network(offline, tmp_path):
    """The torch hub cache layout torchvision uses; the hash prefix in the file name is verified."""
    path = _save(_tv_model("resnet18"), tmp_path / "w.pth")
    prefix = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    offline.mkdir(parents=True)
    name = f"resnet18-{prefix}.pth"
    os.replace(path, offline / name)
    url = f"https://download.pytorch.org/models/{name}"
    model = create_model("tv-resnet18", pretrained=True, pretrained_cfg_overlay=dict(url=url, hash_prefix=prefix))
    assert torch.equal(model.fc.weight, _tv_model("resnet18").fc.weight)
    with pytest.raises(ChecksumError, match="expected 00000000"):
        create_model("tv-resnet18", pretrained=True, pretrained_cfg_overlay=dict(url=url, hash_prefix="00000000"))


def test_missing_weights_offline_say_which_file_goes_where(offline):
    weights = tvm.ResNet18_Weights.IMAGENET1K_V1
    with pytest.raises(WeightsNotFoundError) as info:
        create_model("tv-resnet18", pretrained=True)
    message = str(info.value)
    expected = Path(torch.hub.get_dir()) / "checkpoints" / weights.url.rsplit("/", 1)[-1]
    assert weights.url in message and str(expected) in message and "start with" in message


PREPROCESSING = [
    ("resnet50", "IMAGENET1K_V2"), ("resnet50", "IMAGENET1K_V1"), ("efficientnet_b1", "IMAGENET1K_V2"),
    ("efficientnet_b0", "IMAGENET1K_V1"), ("inception_v3", "IMAGENET1K_V1"), ("vit_b_16", "IMAGENET1K_SWAG_E2E_V1"),
    ("vgg16", "IMAGENET1K_FEATURES"), ("regnet_y_16gf", "IMAGENET1K_SWAG_LINEAR_V1"), ("swin_v2_t", "IMAGENET1K_V1"),
]


@pytest.mark.parametrize("tv_name,weight_name", PREPROCESSING, ids=[f"{a}.{b}" for a, b in PREPROCESSING])
def test_eval_preprocessing_reproduces_weights_transforms(tv_name, weight_name):
    weights = tvm.get_model_weights(tv_name)[weight_name]
    cfg = cfg_to_dict(get_pretrained_cfg(f"tv-{tv_name}.{weight_name.lower()}"))
    transform = create_transform(**resolve_data_config(pretrained_cfg=cfg))
    generator = torch.Generator().manual_seed(3)
    for width, height in ((333, 257), (200, 410)):
        pixels = torch.randint(0, 256, (height, width, 3), generator=generator, dtype=torch.uint8).numpy()
        image = Image.fromarray(pixels, "RGB")
        ours, theirs = transform(image), weights.transforms()(image)
        assert ours.shape == theirs.shape
        assert torch.allclose(ours, theirs, atol=1e-6), (ours - theirs).abs().max()


def test_in_chans_adapts_pretrained_first_conv(tmp_path):
    reference = _tv_model("googlenet")
    path = _save(reference, tmp_path / "w.pth")
    overlay = dict(file=str(path))
    one = create_model("tv-googlenet", pretrained=True, pretrained_cfg_overlay=overlay, in_chans=1, num_classes=4)
    assert torch.allclose(one.conv1.conv.weight, reference.conv1.conv.weight.sum(1, keepdim=True))
    assert not one.transform_input, "the ImageNet re-normalisation only makes sense for 3 channels"
    four = create_model("tv-googlenet", pretrained=True, pretrained_cfg_overlay=overlay, in_chans=4)
    w = reference.conv1.conv.weight
    assert torch.allclose(four.conv1.conv.weight, torch.cat([w, w[:, :1]], 1) * 0.75)
    assert torch.equal(four.fc.weight, reference.fc.weight), "same class count: the classifier is kept"
    assert one(torch.randn(1, 1, 64, 64)).shape == (1, 4)


def test_wide_pool_with_pretrained_pre_logits_is_a_clear_error(tmp_path):
    path = _save(_tv_model("mobilenet_v3_small"), tmp_path / "w.pth")
    with pytest.raises(ValueError, match="feat_mult 1"):
        create_model("tv-mobilenet_v3_small", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)),
                     global_pool="catavgmax")
