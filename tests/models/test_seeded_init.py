"""With the same seed, ``create_model`` gives timm's initial weights bit for bit.

The builders create modules in timm's order and run the same init calls (torch's default init,
then the family's own), so a training run seeded like a timm run starts from the same weights.
The fingerprints were read off timm 1.0.31 (``torch.manual_seed(0); timm.create_model(name,
num_classes=10)``, torch 2.15 on x86-64). The random streams behind them depend on the torch
release and on the CPU code path torch picks for ``normal_``, so the comparison runs where a
probe of those streams gives the recorded digest, and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

import hashlib

import pytest
import torch

from pimm.core.models import create_model

#: Digest of the seeded streams the fingerprints were drawn from (see ``_stream_probe``).
RECORDED_STREAMS = "8ae2ea16b5d593cc"

TIMM_FINGERPRINTS = {
    "resnet18": "f96eb906dc9ba7bc",
    "resnet50d": "4ff8f2334d846026",
    "seresnext26t_32x4d": "0f69b4b6085bbfa8",
    "ecaresnet26t": "ba6804d9730ef983",
    "resnetrs50": "f74b0e4c6c8e2b0f",
    "wide_resnet50_2": "aab1b885368807a2",
    "vgg11_bn": "9c5cefb269ace07c",
}


def _stream_probe() -> str:
    """Digest of normal_, uniform_ and kaiming_normal_ draws after ``manual_seed(0)``."""
    torch.manual_seed(0)
    digest = hashlib.sha256()
    draws = (torch.empty(4099).normal_(), torch.empty(4099).uniform_(-1, 1),
             torch.nn.init.kaiming_normal_(torch.empty(64, 3, 7, 7), mode="fan_out", nonlinearity="relu"))
    for tensor in draws:
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def _fingerprint(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(TIMM_FINGERPRINTS))
def test_seeded_init_equals_timm(name):
    if _stream_probe() != RECORDED_STREAMS:
        pytest.skip(f"torch {torch.__version__} on this CPU draws other seeded streams than the ones "
                    "the timm fingerprints were recorded from")
    torch.manual_seed(0)
    assert _fingerprint(create_model(name, num_classes=10)) == TIMM_FINGERPRINTS[name]


def test_seeded_init_is_reproducible():
    torch.manual_seed(3)
    first = _fingerprint(create_model("resnet18", num_classes=10))
    torch.manual_seed(3)
    assert _fingerprint(create_model("resnet18", num_classes=10)) == first
