"""torchvision datasets as readers (``torch/<name>``): cifar10/100, the MNIST family, ImageNet, ..."""

from __future__ import annotations

import difflib
import os
from typing import Any

from pimm.core.data.reader import Reader
from pimm.core.errors import ConfigError, PimmError

_TRAIN = {"train", "training"}
_EVAL = {"val", "valid", "validation", "eval", "evaluation", "test"}


class DatasetNotFoundError(PimmError, FileNotFoundError):
    """A torchvision dataset is not on disk (and was not downloaded)."""


#: Dataset name -> (torchvision class, what must be under root).
_LAYOUT: dict[str, tuple[str, str]] = {
    "cifar10": ("CIFAR10", "root/cifar-10-batches-py/ with data_batch_1..5, test_batch and batches.meta "
                "(the python version, cifar-10-python.tar.gz, extracted)"),
    "cifar100": ("CIFAR100", "root/cifar-100-python/ with train, test and meta (cifar-100-python.tar.gz extracted)"),
    "mnist": ("MNIST", "root/MNIST/raw/ with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"),
    "fashion_mnist": ("FashionMNIST", "root/FashionMNIST/raw/ with the four *-idx?-ubyte files"),
    "kmnist": ("KMNIST", "root/KMNIST/raw/ with the four *-idx?-ubyte files"),
    "qmnist": ("QMNIST", "root/QMNIST/raw/ with qmnist-train-images-idx3-ubyte, qmnist-train-labels-idx2-int, "
               "qmnist-test-images-idx3-ubyte, qmnist-test-labels-idx2-int"),
    "imagenet": ("ImageNet", "root/ILSVRC2012_devkit_t12.tar.gz (or root/meta.bin) and root/train/ or root/val/ "
                 "with one folder per wnid (torchvision cannot download ImageNet)"),
    "image_folder": ("ImageFolder", "root/<split>/<class>/<image> (or root/<class>/<image>)"),
    "places365": ("Places365", "root/categories_places365.txt, root/places365_train_standard.txt or "
                  "places365_val.txt, and the image folders data_large_standard/ or val_large/"),
    "inaturalist": ("INaturalist", "root/<version>/ (e.g. root/2021_train/) with one folder per category"),
}
_ALIASES = {"folder": "image_folder", "imagefolder": "image_folder", "inat": "inaturalist",
            "fashionmnist": "fashion_mnist", "cifar-10": "cifar10", "cifar-100": "cifar100"}


def canonical_name(dataset: str) -> str:
    """The table name of a torchvision dataset name (aliases and case folded)."""
    key = dataset.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _LAYOUT:
        close = difflib.get_close_matches(key, list(_LAYOUT) + list(_ALIASES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown torchvision dataset {dataset!r}{hint}; supported: {', '.join(_LAYOUT)}")
    return key


def _is_train(split: str) -> bool:
    base = split.split("[", 1)[0].lower()
    if base in _TRAIN:
        return True
    if base in _EVAL:
        return False
    raise ConfigError(f"split {split!r}: use train/training or val/validation/test")


def _build(name: str, root: str, split: str, download: bool, target_type: str) -> Any:
    import torchvision.datasets as tvd

    cls = getattr(tvd, _LAYOUT[name][0])
    if name in ("cifar10", "cifar100", "mnist", "fashion_mnist", "kmnist"):
        return cls(root, train=_is_train(split), download=download)
    if name == "qmnist":
        return cls(root, train=_is_train(split), download=download)
    if name == "imagenet":
        split_dir = "train" if _is_train(split) else "val"
        if not (os.path.isfile(os.path.join(root, "meta.bin")) or os.path.isfile(os.path.join(root, "ILSVRC2012_devkit_t12.tar.gz"))):
            raise FileNotFoundError(f"neither meta.bin nor ILSVRC2012_devkit_t12.tar.gz in {root!r}")
        return cls(root, split=split_dir)
    if name == "image_folder":
        from pimm.core.data.reader_factory import find_split_dir

        return cls(find_split_dir(root, split))
    if name == "places365":
        return cls(root, split="train-standard" if _is_train(split) else "val", download=download)
    if "/" in split:
        target_type, split = split.split("/", 1)
    base = split.lower()
    version = "2021_train" if base in _TRAIN else "2021_valid" if base in _EVAL else split
    return cls(root, version=version, target_type=target_type, download=download)


class ReaderTorchvision(Reader):
    """A torchvision dataset behind the Reader contract; samples are decoded PIL images."""

    def __init__(
        self, dataset: str, root: str, split: str = "train", download: bool = False, target_type: str = "full"
    ) -> None:
        super().__init__()
        self.name = canonical_name(dataset)
        self.root = root
        self.split = split
        try:
            self.dataset = _build(self.name, root, split, download, target_type)
        except (ConfigError, PimmError):
            raise
        except Exception as exc:  # torchvision reports a missing dataset in several ways
            what = _LAYOUT[self.name][1]
            fix = ("pass download=True to fetch it" if not download and self.name != "imagenet"
                   else "check the download (network access, disk space)" if download else "download it by hand")
            raise DatasetNotFoundError(
                f"torchvision dataset {self.name!r} (split {split!r}) not found under {os.path.abspath(root)!r}: "
                f"expected {what}; {fix}. (torchvision said: {type(exc).__name__}: {exc})"
            ) from None
        classes_map = getattr(self.dataset, "class_to_idx", None)
        if classes_map:
            self.class_to_idx = {str(k): int(v) for k, v in classes_map.items()}
        else:
            classes = getattr(self.dataset, "classes", None) or []
            self.class_to_idx = {str(c): i for i, c in enumerate(classes)}

    @property
    def classes(self) -> list[str]:
        """The torchvision dataset's own ``classes`` (e.g. CIFAR-10's names), else the class map's names."""
        names = getattr(self.dataset, "classes", None)
        return list(names) if names is not None else super().classes

    @property
    def targets(self) -> list[Any]:
        """The torchvision dataset's ``targets`` as a list (read without decoding any image)."""
        targets = getattr(self.dataset, "targets", None)
        if targets is None:
            return super().targets
        return targets.tolist() if hasattr(targets, "tolist") else list(targets)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = self.dataset[index][:2]
        return img, target

    def _filename(self, index: int, basename: bool = False, absolute: bool = False) -> str:
        samples = getattr(self.dataset, "samples", None)
        if samples is not None:
            path = samples[index][0]
            root = getattr(self.dataset, "root", self.root)
            if basename:
                return os.path.basename(path)
            return os.path.abspath(path) if absolute else os.path.relpath(path, root)
        return f"{self.name}-{self.split}-{index}"


def make_sample_dataset(tmpdir: str) -> dict[str, Any]:
    """Conformance-kit sample data: a tiny image folder read through torchvision's ImageFolder."""
    from .folder import make_sample_dataset as folder_sample

    return {**folder_sample(tmpdir), "dataset": "image_folder"}
