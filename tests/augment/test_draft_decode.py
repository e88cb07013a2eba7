"""Reduced-size JPEG decoding: the dataset hands an undecoded JPEG to a transform that accepts one;
RandomResizedCrop decodes it at 1/2, 1/4 or 1/8 size only when the crop shrinks by 2x or more, with
the crop box mapped exactly; bad JPEGs stay bad samples; eval pixels are timm's unless opted in."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pimm.core.data import ImageDataset, RandomResizedCropAndInterpolation, create_transform
from pimm.core.data.deferred_image import DeferredImage, accepts_deferred, dct_reduction
from pimm.core.data.image_load import BadImageError, load_image
from pimm.core.errors import ConfigError

W, H = 1600, 1200  # the quadrant boundaries sit at x = 800, y = 600


def _quadrants() -> np.ndarray:
    """Red on the left half, green on the top half: the red channel finds x = 800, green y = 600."""
    arr = np.zeros((H, W, 3), np.uint8)
    arr[:, : W // 2, 0] = 255
    arr[: H // 2, :, 1] = 255
    yy, xx = np.mgrid[0:H, 0:W]
    arr[..., 2] = ((xx // 3 + yy // 5) % 64 * 4).astype(np.uint8)  # texture, so content is compared too
    return arr


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    (root / "a").mkdir()
    Image.fromarray(_quadrants()).save(root / "a" / "quad.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def jpeg_bytes(photo_dir: Path) -> bytes:
    return (photo_dir / "a" / "quad.jpg").read_bytes()


def _full(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _deferred(data: bytes) -> DeferredImage:
    img = load_image(data, "RGB", None, defer=True)
    assert isinstance(img, DeferredImage)
    return img


class _Spy:
    """Records (requested reduction, applied factor, decoded size) of every DeferredImage.decode."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, int, tuple[int, int]]] = []
        original = DeferredImage.decode

        def decode(img: DeferredImage, reduction: int = 1) -> tuple[Any, int]:
            out, factor = original(img, reduction)
            self.calls.append((reduction, factor, out.size))
            return out, factor

        monkeypatch.setattr(DeferredImage, "decode", decode)


@pytest.mark.parametrize(
    ("src", "out", "expected"),
    [((447, 447), (224, 224), 1), ((448, 448), (224, 224), 2), ((1000, 900), (224, 224), 4),
     ((1792, 1792), (224, 224), 8), ((4000, 3000), (224, 224), 8), ((1000, 300), (224, 224), 1)],
)
def test_reduction_is_the_largest_that_keeps_the_output_size(src: tuple, out: tuple, expected: int) -> None:
    assert dct_reduction(src[0], src[1], out[0], out[1]) == expected


def test_reduced_decode_only_when_the_crop_shrinks_2x_or_more(
    jpeg_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(monkeypatch)
    whole = dict(scale=(1.0, 1.0), ratio=(W / H, W / H))  # the crop is the whole 1600x1200 image
    RandomResizedCropAndInterpolation(64, **whole)(_deferred(jpeg_bytes))
    RandomResizedCropAndInterpolation(500, **whole)(_deferred(jpeg_bytes))  # 1200 / 500 = 2.4x: 1/2
    RandomResizedCropAndInterpolation(700, **whole)(_deferred(jpeg_bytes))  # 1.7x: full size
    assert spy.calls == [(8, 8, (200, 150)), (2, 2, (800, 600)), (1, 1, (1600, 1200))]


def _boundaries(out: Image.Image) -> tuple[int, int]:
    arr = np.asarray(out).astype(np.float32)
    red_cols = arr[..., 0].mean(axis=0) > 127  # left of x = 800
    green_rows = arr[..., 1].mean(axis=1) > 127  # above y = 600
    return int(red_cols.sum()), int(green_rows.sum())


@pytest.mark.parametrize("seed", range(6))
def test_crop_lands_where_the_full_decode_puts_it(jpeg_bytes: bytes, seed: int) -> None:
    rrc = RandomResizedCropAndInterpolation(96, scale=(0.3, 1.0), interpolation="bilinear")
    full = _full(jpeg_bytes)
    random.seed(seed)
    top, left, h, w = rrc.get_params(full, rrc.scale, rrc.ratio)
    random.seed(seed)
    reference = rrc(full)
    random.seed(seed)
    reduced = rrc(_deferred(jpeg_bytes))
    assert reduced.size == reference.size == (96, 96) and reduced.mode == "RGB"
    expected = (
        min(96, max(0, round((800 - left) * 96 / w))),
        min(96, max(0, round((600 - top) * 96 / h))),
    )
    for got in (_boundaries(reference), _boundaries(reduced)):
        assert abs(got[0] - expected[0]) <= 1 and abs(got[1] - expected[1]) <= 1, (got, expected)
    diff = np.abs(np.asarray(reduced, np.float32) - np.asarray(reference, np.float32)).mean()
    assert diff < 6.0, diff


def test_same_random_draws_as_a_decoded_image(jpeg_bytes: bytes) -> None:
    rrc = RandomResizedCropAndInterpolation(32, interpolation="random")
    random.seed(5)
    rrc(_full(jpeg_bytes))
    after_full = random.random()
    random.seed(5)
    rrc(_deferred(jpeg_bytes))
    assert random.random() == after_full


def test_decoded_images_take_the_exact_crop_then_resize(jpeg_bytes: bytes) -> None:
    rrc = RandomResizedCropAndInterpolation(48, interpolation="bicubic")
    img = _full(jpeg_bytes)
    random.seed(1)
    top, left, h, w = rrc.get_params(img, rrc.scale, rrc.ratio)
    expected = img.crop((left, top, left + w, top + h)).resize((48, 48), Image.BICUBIC)
    random.seed(1)
    assert np.array_equal(np.asarray(rrc(img)), np.asarray(expected))


def test_dataset_hands_jpegs_deferred_only_to_transforms_that_accept_them(photo_dir: Path) -> None:
    Image.fromarray(_quadrants()[:300, :400]).save(photo_dir / "a" / "small.png")
    try:
        seen: list[type] = []

        def record(img: Any) -> Any:
            seen.append(type(img))
            return img

        ds = ImageDataset(str(photo_dir), transform=record)
        names = ds.filenames(basename=True)
        for i in range(len(ds)):
            ds[i]
        assert all(t is not DeferredImage for t in seen)
        seen.clear()
        record.accepts_deferred_image = True  # type: ignore[attr-defined]
        for i in range(len(ds)):
            ds[i]
        kinds = dict(zip(names, seen))
        assert kinds["quad.jpg"] is DeferredImage and kinds["small.png"] is not DeferredImage
    finally:
        (photo_dir / "a" / "small.png").unlink()


def _seed_all(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def test_non_jpeg_through_the_training_pipeline_is_unchanged(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    Image.fromarray(_quadrants()[:500, :700]).save(tmp_path / "a" / "x.png")
    pipeline = create_transform(40, is_training=True, auto_augment="rand-m9-mstd0.5")
    ds = ImageDataset(str(tmp_path), transform=pipeline)
    _seed_all(3)
    got = ds[0][0]
    _seed_all(3)
    expected = pipeline(Image.open(tmp_path / "a" / "x.png").convert("RGB"))
    assert got.shape == expected.shape and bool((got == expected).all())


@pytest.mark.parametrize("policy", ["skip", "raise"])
def test_a_damaged_jpeg_is_still_a_bad_sample(tmp_path: Path, jpeg_bytes: bytes, policy: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0_bad.jpg").write_bytes(jpeg_bytes[: len(jpeg_bytes) // 3])  # opens, fails to decode
    (tmp_path / "a" / "1_good.jpg").write_bytes(jpeg_bytes)
    spy = _Spy(monkeypatch)
    ds = ImageDataset(str(tmp_path), transform=create_transform(32, is_training=True), bad_image_policy=policy)
    assert isinstance(load_image(str(tmp_path / "a" / "0_bad.jpg"), "RGB", None, defer=True), DeferredImage)
    if policy == "raise":
        with pytest.raises(BadImageError, match="0_bad.jpg"):
            ds[0]
        return
    with pytest.warns(UserWarning, match="0_bad.jpg"):
        img, target = ds[0]
    assert tuple(img.shape) == (3, 32, 32) and target == 0
    assert list(ds.bad_samples()) == ["a/0_bad.jpg"]
    assert [c[0] for c in spy.calls] == [8]  # only the good one decoded (the bad one failed inside decode)


def test_eval_pixels_equal_timm_by_default_and_fast_decode_is_opt_in(photo_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = photo_dir / "a" / "quad.jpg"
    default = create_transform(64)
    assert not accepts_deferred(default)
    ds = ImageDataset(str(photo_dir), transform=default)
    assert bool((ds[0][0] == default(Image.open(path).convert("RGB"))).all())

    fast = create_transform(64, fast_decode=True)
    assert accepts_deferred(fast) and "ReducedDecode" in repr(fast)
    spy = _Spy(monkeypatch)
    ds.transform = fast
    got = ds[0][0]
    assert spy.calls == [(8, 8, (200, 150))]  # 150 >= the 73-pixel resize target; 1/16 would not be
    reference = default(Image.open(path).convert("RGB"))
    assert got.shape == reference.shape and float((got - reference).abs().mean()) < 0.1


def test_fast_decode_switches(jpeg_bytes: bytes) -> None:
    assert accepts_deferred(create_transform(64, is_training=True))
    assert not accepts_deferred(create_transform(64, is_training=True, fast_decode=False))
    assert not accepts_deferred(create_transform(64, is_training=True, train_crop_mode="rkrc"))
    assert accepts_deferred(create_transform(64, is_training=True, no_aug=True, fast_decode=True))
    with pytest.raises(ConfigError, match="crop_border_pixels"):
        create_transform(64, fast_decode=True, crop_border_pixels=2)
    with pytest.raises(ConfigError, match="fast_decode"):
        create_transform(64, fast_decode="yes")  # type: ignore[arg-type]


def test_deferred_load_keeps_the_pixel_limit_and_decodes_once(jpeg_bytes: bytes) -> None:
    with pytest.raises(OSError, match="decompression-bomb"):
        load_image(jpeg_bytes, "RGB", 1000, defer=True)
    img = _deferred(jpeg_bytes)
    assert img.size == (W, H) and (img.width, img.height) == (W, H)
    decoded, factor = img.decode(1)
    assert factor == 1 and np.array_equal(np.asarray(decoded), np.asarray(_full(jpeg_bytes)))
    with pytest.raises(RuntimeError, match="once"):
        img.decode(2)
    with pytest.raises(ConfigError, match="reduction"):
        _deferred(jpeg_bytes).decode(3)
    grey = load_image(jpeg_bytes, "L", None, defer=True).decode(4)[0]
    assert grey.mode == "L" and grey.size == (400, 300)


class _Stream:
    """A minimal streaming reader yielding (bytes, target, name) triples."""

    def __init__(self, items: list[tuple[bytes, int, str]]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def test_a_damaged_jpeg_in_a_stream_is_skipped(jpeg_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    from pimm.core.data import IterableImageDataset
    from pimm.core.data.reader import IterableReader

    class Stream(_Stream, IterableReader):
        pass

    spy = _Spy(monkeypatch)
    reader = Stream([(jpeg_bytes[: len(jpeg_bytes) // 3], 0, "bad.jpg"), (jpeg_bytes, 1, "good.jpg")])
    ds = IterableImageDataset(None, reader=reader, transform=create_transform(32, is_training=True))
    with pytest.warns(UserWarning, match="bad.jpg"):
        out = list(ds)
    assert [target for _, target in out] == [1] and list(ds.bad_samples()) == ["bad.jpg"]
    assert len(spy.calls) == 1 and spy.calls[0][0] == 8  # the good one went through the reduced decode
