"""Builtin plugin 'readers': image folder, tar, torchvision datasets, filename-label, WebDataset shards.

Specs only; no torch or PIL import here. The readers live in the sibling modules named by each
spec's target.
"""

from pimm.core import hookimpl
from pimm.core.specs import ReaderSpec

from .options import FilenameLabelOptions, FolderOptions, TarOptions, TorchvisionOptions, WdsOptions

_PKG = "pimm.plugins.readers"


@hookimpl
def pimm_readers() -> list[ReaderSpec]:
    """The builtin readers."""
    return [
        ReaderSpec(
            name="folder",
            target=f"{_PKG}.folder:ReaderImageFolder",
            options=FolderOptions,
            prefixes=("folder",),
            aliases=("image_folder",),
            tags=frozenset({"random-access", "files"}),
            summary="Images in class sub-folders; class = leaf directory name.",
        ),
        ReaderSpec(
            name="tar",
            target=f"{_PKG}.tar:ReaderImageInTar",
            options=TarOptions,
            prefixes=("tar",),
            tags=frozenset({"random-access", "tar"}),
            summary="Images inside .tar files (one tar, a folder of tars, tars in a tar), read in place.",
        ),
        ReaderSpec(
            name="torch",
            target=f"{_PKG}.torchvision_datasets:ReaderTorchvision",
            options=TorchvisionOptions,
            prefixes=("torch",),
            aliases=("torchvision",),
            tags=frozenset({"random-access", "decoded"}),
            summary="torchvision datasets (cifar10, mnist, imagenet, places365, inaturalist, ...).",
        ),
        ReaderSpec(
            name="filename",
            target=f"{_PKG}.filename_label:ReaderFilenameLabel",
            options=FilenameLabelOptions,
            prefixes=("filename",),
            aliases=("filename_label",),
            tags=frozenset({"random-access", "files"}),
            summary="Images in one folder, class parsed from the file name (Oxford-IIIT Pet layout).",
        ),
        ReaderSpec(
            name="wds",
            target=f"{_PKG}.wds:ReaderWds",
            options=WdsOptions,
            prefixes=("wds",),
            iterable=True,
            tags=frozenset({"iterable", "tar"}),
            summary="WebDataset-style tar shards, streamed and split across ranks and workers.",
        ),
    ]
