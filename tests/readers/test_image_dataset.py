"""ImageDataset: decoding, image modes, the bad-sample policy, custom readers, workers."""

from __future__ import annotations

import io
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from reader_helpers import cmyk_jpeg_bytes, jpeg_bytes, make_folder, png16_bytes, png_bytes, write
from torch.utils.data import DataLoader, DistributedSampler

from pimm.core.data import ImageDataset, Reader
from pimm.core.data.image_load import BadImageError, BadSampleWarning
from pimm.core.errors import ConfigError


class ListReader(Reader):
    """The tutorial's custom reader: samples from a list of (bytes, label name)."""

    def __init__(self, items):
        super().__init__()
        self.items = items
        names = sorted({label for _, label in items})
        self.class_to_idx = {n: i for i, n in enumerate(names)}

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        data, label = self.items[index]
        return io.BytesIO(data), self.class_to_idx[label]

    def _filename(self, index, basename=False, absolute=False):
        return f"item{index}.png"


def _bad_folder(tmp_path):
    root = tmp_path / "data"
    write(str(root / "a" / "0_good.png"), png_bytes())
    write(str(root / "a" / "1_zero.png"), b"")
    write(str(root / "a" / "2_text.png"), b"this is not an image at all")
    write(str(root / "a" / "3_trunc.jpg"), jpeg_bytes(size=(64, 64))[:200])
    write(str(root / "a" / "4_corrupt.png"), png_bytes()[:40] + b"\x00" * 60)
    write(str(root / "a" / "5_good.png"), png_bytes((1, 2, 3)))
    return str(root)


def test_custom_reader_subclass_works_with_image_dataset():
    ds = ImageDataset(None, reader=ListReader([(png_bytes(), "dog"), (png_bytes((9, 9, 9)), "cat")]),
                      transform=lambda im: np.asarray(im))
    img, target = ds[0]
    assert img.shape == (8, 8, 3) and target == 1
    assert ds.filename(1) == "item1.png" and ds.filenames() == ["item0.png", "item1.png"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(list(iter(ds))) == 2  # plain iteration stops with IndexError
    assert ds[-1][1] == 0


def test_skip_policy_skips_each_bad_file_once_with_one_warning(tmp_path):
    ds = ImageDataset(_bad_folder(tmp_path), max_image_pixels=None)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        images = [ds[i] for i in range(len(ds))]
        again = [ds[i] for i in range(len(ds))]  # second epoch: no new warnings
    bad = [w for w in record if issubclass(w.category, BadSampleWarning)]
    assert len(bad) == 4
    assert {os.path.basename(n) for n in ds.bad_samples()} == {"1_zero.png", "2_text.png", "3_trunc.jpg", "4_corrupt.png"}
    assert "zero-byte" in ds.bad_samples()[os.path.join("a", "1_zero.png")]
    assert ds.skipped == 4
    assert all(isinstance(img, Image.Image) for img, _ in images + again)
    assert images[1][0].getpixel((0, 0)) == (1, 2, 3)  # replaced by the next good sample
    ds.reset_bad_samples()
    assert ds.skipped == 0


def test_raise_policy_names_the_file(tmp_path, monkeypatch):
    root = _bad_folder(tmp_path)
    ds = ImageDataset(root, bad_image_policy="raise")
    with pytest.raises(BadImageError, match="1_zero.png"):
        ds[1]
    monkeypatch.setenv("PIMM_BAD_IMAGE_POLICY", "raise")
    with pytest.raises(BadImageError, match="2_text.png"):
        ImageDataset(root)[2]
    monkeypatch.setenv("PIMM_BAD_IMAGE_POLICY", "sometimes")
    with pytest.raises(ConfigError, match="PIMM_BAD_IMAGE_POLICY"):
        ImageDataset(root)


def test_consecutive_failures_stop_with_a_clear_error(tmp_path):
    root = tmp_path / "d"
    for i in range(5):
        write(str(root / "a" / f"{i}.png"), b"garbage")
    ds = ImageDataset(str(root), max_bad_images=3)
    with pytest.warns(BadSampleWarning), pytest.raises(BadImageError, match="3 consecutive samples failed"):
        ds[0]


def test_consecutive_limit_from_the_environment(tmp_path, monkeypatch):
    root = tmp_path / "d"
    for i in range(3):
        write(str(root / "a" / f"{i}.png"), b"")
    write(str(root / "a" / "3.png"), png_bytes())
    monkeypatch.setenv("PIMM_MAX_BAD_IMAGES", "2")
    with pytest.warns(BadSampleWarning), pytest.raises(BadImageError, match="2 consecutive"):
        ImageDataset(str(root))[0]
    monkeypatch.setenv("PIMM_MAX_BAD_IMAGES", "4")
    with pytest.warns(BadSampleWarning):
        assert ImageDataset(str(root))[0][0].size == (8, 8)


def test_decompression_bomb_limit(tmp_path):
    root = tmp_path / "d"
    write(str(root / "a" / "big.png"), png_bytes(size=(64, 64)))
    write(str(root / "a" / "small.png"), png_bytes(size=(8, 8)))
    ds = ImageDataset(str(root), max_image_pixels=1000)
    with pytest.warns(BadSampleWarning, match="decompression-bomb"):
        img, _ = ds[0]
    assert img.size == (8, 8)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", None])
def test_image_modes(mode):
    ds = ImageDataset(None, reader=ListReader([(png_bytes((200, 100, 50)), "a")]), input_img_mode=mode)
    img, _ = ds[0]
    assert img.mode == (mode or "RGB")


def test_sixteen_bit_png_is_scaled_and_cmyk_converted():
    reader = ListReader([(png16_bytes(65535), "a"), (png16_bytes(32896), "a"), (cmyk_jpeg_bytes(), "b")])
    rgb = ImageDataset(None, reader=reader)
    assert rgb[0][0].getpixel((0, 0)) == (255, 255, 255)
    assert rgb[1][0].getpixel((0, 0)) == (128, 128, 128)
    r, g, b = rgb[2][0].getpixel((0, 0))
    assert r > 200 and g < 60 and b < 60  # CMYK (0, 255, 255, 0) is red
    assert ImageDataset(None, reader=reader, input_img_mode="L")[1][0].getpixel((0, 0)) == 128
    assert ImageDataset(None, reader=reader, input_img_mode=None)[0][0].mode == "I;16"


def test_palette_with_transparency_converts_without_warning():
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.info["transparency"] = b"\x00\xff" + b"\xff" * 254
    buf = io.BytesIO()
    img.save(buf, format="PNG", transparency=b"\x00\xff" + b"\xff" * 254)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = ImageDataset(None, reader=ListReader([(buf.getvalue(), "a")]))[0]
    assert out.mode == "RGB" and out.getpixel((0, 0)) == (255, 0, 0)


def test_load_bytes_and_targets(tmp_path):
    class NoLabel(ListReader):
        def __getitem__(self, index):
            return self.items[index][0], None

    data = png_bytes()
    assert ImageDataset(None, reader=ListReader([(data, "a")]), load_bytes=True)[0] == (data, 0)
    assert ImageDataset(None, reader=NoLabel([(data, "a")]))[0][1] == -1
    ds = ImageDataset(None, reader=ListReader([(data, "a")]), target_transform=lambda t: t + 10)
    assert ds[0][1] == 10


def _to_tensor(img):
    return torch.as_tensor(np.asarray(img.resize((4, 4))))


def test_dataloader_workers_and_distributed_sampler(tmp_path):
    root = _bad_folder(tmp_path)
    make_folder(os.path.join(root), {"b": 6})
    ds = ImageDataset(root, transform=_to_tensor)
    ds2 = pickle.loads(pickle.dumps(ds))
    assert len(ds2) == len(ds) == 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadSampleWarning)
        loader = DataLoader(ds, batch_size=4, num_workers=2)
        batches = list(loader)
    assert sum(len(t) for _, t in batches) == 12
    assert len(ds.bad_samples()) == 4  # recorded in the workers, seen by the main process
    seen = []
    for rank in range(3):
        sampler = DistributedSampler(ds, num_replicas=3, rank=rank, shuffle=False)
        seen.extend(sampler)
    assert sorted(seen) == list(range(12))
