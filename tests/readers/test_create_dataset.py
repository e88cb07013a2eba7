"""create_dataset / create_reader routing, split search, third-party readers, torchvision datasets."""

from __future__ import annotations

import os
import pickle
import types

import numpy as np
import pytest
from reader_helpers import make_folder, make_shards, make_tar, png_bytes

from pimm import core
from pimm.core.data import ImageDataset, IterableImageDataset, Reader, create_dataset, create_reader
from pimm.core.errors import OptionsError, UnknownComponentError
from pimm.core.specs import Options, ReaderSpec


def test_no_prefix_reads_a_folder_with_split_search(tmp_path):
    make_folder(str(tmp_path / "train"), {"a": 2, "b": 1})
    make_folder(str(tmp_path / "validation"), {"a": 1, "b": 1})
    train = create_dataset("", root=str(tmp_path), split="training")
    assert isinstance(train, ImageDataset) and len(train) == 3
    val = create_dataset("imagenet-like", root=str(tmp_path), split="val")  # plain names are labels
    assert len(val) == 2
    assert len(create_dataset("", root=str(tmp_path / "train"), split="validation")) == 3  # no split dir: root


def test_no_prefix_reads_tars_and_split_tar_files(tmp_path):
    make_tar(str(tmp_path / "one" / "data.tar"), {"a/1.png": png_bytes(), "b/2.png": png_bytes()})
    assert type(create_dataset("", root=str(tmp_path / "one" / "data.tar")).reader).__name__ == "ReaderImageInTar"
    assert len(create_dataset("", root=str(tmp_path / "one"))) == 2  # a folder holding only tars
    make_tar(str(tmp_path / "splits" / "val.tar"), {"a/1.png": png_bytes()})
    make_tar(str(tmp_path / "splits" / "train.tar"), {"a/1.png": png_bytes(), "a/2.png": png_bytes()})
    assert len(create_dataset("", root=str(tmp_path / "splits"), split="validation")) == 1
    assert len(create_dataset("", root=str(tmp_path / "splits"), split="train")) == 2


def test_prefixes_and_reader_names(tmp_path):
    make_folder(str(tmp_path), {"x_1": 1})
    assert type(create_dataset("Folder/anything", root=str(tmp_path)).reader).__name__ == "ReaderImageFolder"
    assert type(create_dataset("filename", root=str(tmp_path / "x_1")).reader).__name__ == "ReaderFilenameLabel"
    with pytest.raises(UnknownComponentError, match="nope"):
        create_dataset("nope/x", root=str(tmp_path))
    with pytest.raises(OptionsError, match="extention"):
        create_dataset("", root=str(tmp_path), extention=("png",))
    ds = create_dataset("", root=str(tmp_path), extensions=None, bad_image_policy="raise", class_map=None)
    assert ds.bad_image_policy == "raise"
    assert len(ImageDataset(str(tmp_path), reader="folder")) == 1
    assert len(create_reader("folder/", root=str(tmp_path))) == 1


class CountingReader(Reader):
    """A third-party reader: n synthetic images."""

    def __init__(self, root=None, dataset="", n=3):
        super().__init__()
        self.n, self.dataset = n, dataset
        self.class_to_idx = {"only": 0}

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return png_bytes((index, 0, 0)), 0

    def _filename(self, index, basename=False, absolute=False):
        return f"{self.dataset}/{index}"


class CountingOptions(Options):
    root: str | None = None
    dataset: str = ""
    n: int = 3

    model_config = {"extra": "forbid", "frozen": True}


CountingOptions.model_fields["root"].description = "unused"
CountingOptions.model_fields["dataset"].description = "name after the prefix"
CountingOptions.model_fields["n"].description = "number of samples"


def test_third_party_reader_prefix_is_routed():
    plugin = types.SimpleNamespace()

    @core.hookimpl
    def pimm_readers():
        return [ReaderSpec(name="counting", target=f"{__name__}:CountingReader", options=CountingOptions,
                           prefixes=("count",))]

    plugin.pimm_readers = pimm_readers
    name = core.register_plugin(plugin, name="fake_counting_reader")
    try:
        ds = create_dataset("COUNT/demo", n=5)
        assert len(ds) == 5 and ds.filename(4) == "demo/4" and ds[2][0].size == (8, 8)
    finally:
        core.unregister_plugin(name)
    with pytest.raises(UnknownComponentError, match="count"):
        create_dataset("count/demo")


def _fake_cifar10(root):
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 255, (2, 3072), dtype=np.uint8)
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"data": data, "labels": [1, 7]}, f)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)


def test_torch_cifar10_from_disk(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as cifar

    _fake_cifar10(str(tmp_path))
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)  # md5 of the real files
    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    train = create_dataset("torch/cifar10", root=str(tmp_path), split="train")
    assert len(train) == 10 and train[1][1] == 7 and train[0][0].size == (32, 32)
    assert len(create_dataset("torch/cifar10", root=str(tmp_path), split="validation")) == 2
    assert train.class_to_idx["c3"] == 3 and train.filename(0) == "cifar10-train-0"


def test_torch_cifar10_keeps_what_a_torchvision_user_reads(tmp_path, monkeypatch):
    """.classes, .targets and .class_to_idx as on torchvision's CIFAR10, on pimm's ImageDataset."""
    import torchvision.datasets.cifar as cifar

    _fake_cifar10(str(tmp_path))
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    train = create_dataset("torch/cifar10", root=str(tmp_path), split="train")
    reference = cifar.CIFAR10(str(tmp_path), train=True)
    assert isinstance(train, ImageDataset)
    assert train.classes == reference.classes == [f"c{i}" for i in range(10)]
    assert train.class_to_idx == reference.class_to_idx
    decoded = cifar.CIFAR10.__getitem__
    monkeypatch.setattr(cifar.CIFAR10, "__getitem__", lambda self, i: pytest.fail("targets decoded an image"))
    assert train.targets == list(reference.targets) == [1, 7] * 5
    monkeypatch.setattr(cifar.CIFAR10, "__getitem__", decoded)
    assert [train[i][1] for i in range(len(train))] == train.targets


def test_folder_and_tar_datasets_have_classes_and_targets(tmp_path):
    folder = make_folder(str(tmp_path / "f"), {"cat": 2, "dog": 3})
    ds = create_dataset("", root=folder)
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 1, 1, 1]
    path = str(tmp_path / "d.tar")
    make_tar(path, {"cat/1.png": png_bytes(), "dog/2.png": png_bytes(), "dog/3.png": png_bytes()})
    tar_ds = create_dataset("", root=path)
    assert tar_ds.classes == ["cat", "dog"] and tar_ds.targets == [0, 1, 1]


def test_torch_missing_dataset_is_one_clear_error(tmp_path):
    from pimm.plugins.readers.torchvision_datasets import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError) as info:
        create_dataset("torch/cifar10", root=str(tmp_path))
    message = str(info.value)
    assert "cifar-10-batches-py" in message and "download=True" in message and str(tmp_path) in message
    assert info.value.__cause__ is None and isinstance(info.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError, match="MNIST/raw"):
        create_dataset("torch/mnist", root=str(tmp_path), split="test")
    with pytest.raises(DatasetNotFoundError, match="meta.bin"):
        create_dataset("torch/imagenet", root=str(tmp_path))
    with pytest.raises(Exception, match="did you mean 'cifar10'"):
        create_dataset("torch/cifar11", root=str(tmp_path))


def test_torch_image_folder_searches_splits(tmp_path):
    make_folder(str(tmp_path / "val"), {"a": 1, "b": 2})
    ds = create_dataset("torch/image_folder", root=str(tmp_path), split="validation")
    assert len(ds) == 3 and ds.class_to_idx == {"a": 0, "b": 1} and ds.filename(0) == os.path.join("a", "a_0.png")


def test_wds_prefix_gives_an_iterable_dataset(tmp_path):
    make_shards(str(tmp_path), [2, 3])
    ds = create_dataset("wds/whatever", root=str(tmp_path / "shard-{000000..000001}.tar"), split="train",
                        is_training=True, batch_size=2)
    assert isinstance(ds, IterableImageDataset) and len(ds) == 5
    assert sorted(t for _, t in ds) == [0, 0, 1, 1, 2]
