"""Options models of the builtin readers (pydantic only; no torch, no PIL)."""

from __future__ import annotations

from typing import Any, Optional, Union

from pydantic import Field

from pimm.core.specs import Options

#: Image file extensions read by default (lower-case; the test is case-insensitive).
DEFAULT_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")

ClassMap = Optional[Union[dict[str, int], str]]

_ROOT = "Dataset location (a directory, or a file where the reader takes one)."
_CLASS_MAP = (
    "Class name -> index: a dict, or a .txt (one name per line) / .json file (looked up as given, then "
    "under root). None builds the map from the data, classes in natural case-insensitive order."
)
_EXT = "Image file extensions to read, case-insensitive (default: " + " ".join(DEFAULT_EXTENSIONS) + ")."
_STRICT = (
    "When a class map is given: raise if the data holds classes the map lacks (True), or leave those "
    "samples out with a warning and list them in `unmapped_classes` (False)."
)


class FolderOptions(Options):
    """Options of the image-folder reader."""

    root: str = Field(description=_ROOT)
    class_map: ClassMap = Field(default=None, description=_CLASS_MAP)
    extensions: Optional[tuple[str, ...]] = Field(default=None, description=_EXT)
    strict_class_map: bool = Field(default=False, description=_STRICT)
    follow_links: bool = Field(default=True, description="Follow symbolic links to directories while scanning.")


class TarOptions(Options):
    """Options of the tar reader."""

    root: str = Field(description="A .tar file, or a directory of .tar files (each may hold .tar files one level deep).")
    class_map: ClassMap = Field(default=None, description=_CLASS_MAP)
    extensions: Optional[tuple[str, ...]] = Field(default=None, description=_EXT)
    strict_class_map: bool = Field(default=False, description=_STRICT)
    cache_index: bool = Field(
        default=True,
        description="Keep each tar's member index in a JSON file so the next open skips the scan; the "
        "file is rebuilt when the tar's size or modification time changes.",
    )
    cache_dir: Optional[str] = Field(
        default=None,
        description="Where index files go. None: next to each tar ('<name>.tar.pimm-index.json'), falling "
        "back to ~/.cache/pimm/tar-index when that directory is not writable (env PIMM_CACHE_DIR moves it).",
    )


class FilenameLabelOptions(Options):
    """Options of the filename-label reader."""

    root: str = Field(description="Directory holding the images (sub-directories only with recursive=True).")
    pattern: str = Field(
        default=r"^(?P<label>.+)_\d+$",
        description="Regular expression matched against the file name without extension; the label is the "
        "group named 'label', else group 1, else the whole match. The default takes 'Abyssinian_12' -> "
        "'Abyssinian' (Oxford-IIIT Pet layout).",
    )
    class_map: ClassMap = Field(default=None, description=_CLASS_MAP)
    extensions: Optional[tuple[str, ...]] = Field(default=None, description=_EXT)
    strict_class_map: bool = Field(default=False, description=_STRICT)
    recursive: bool = Field(default=False, description="Also read images in sub-directories.")
    strict_pattern: bool = Field(
        default=False,
        description="Raise when an image's name does not match the pattern (default: leave it out, warn, and "
        "list it in `unmatched`).",
    )


class TorchvisionOptions(Options):
    """Options of the torchvision-dataset reader."""

    dataset: str = Field(
        description="torchvision dataset: cifar10, cifar100, mnist, fashion_mnist, kmnist, qmnist, imagenet, "
        "image_folder (alias folder), places365, inaturalist (alias inat). With create_dataset it is the "
        "part after 'torch/'."
    )
    root: str = Field(description="Directory where the dataset lives (or is downloaded to).")
    split: str = Field(
        default="train",
        description="train|training, or val|validation|test (inaturalist: a version such as '2021_valid', "
        "optionally 'target_type/version').",
    )
    download: bool = Field(default=False, description="Download the dataset when it is missing (where torchvision can).")
    target_type: str = Field(default="full", description="inaturalist only: the target type (full, kingdom, ...).")


class WdsOptions(Options):
    """Options of the WebDataset-shard reader."""

    root: str = Field(
        description="Shards: a brace pattern ('/data/shard-{000000..000009}.tar'), a .tar file, a directory "
        "of .tar files, or several of those joined with '::'."
    )
    split: str = Field(
        default="train",
        description="With a directory root: read root/<split> when that directory exists, else the shards whose "
        "name starts with '<split>' when there are any, else every shard in root.",
    )
    is_training: bool = Field(
        default=False,
        description="Training streams shuffle (shard order per epoch, then a sample buffer) and pad each rank "
        "with wrapped-around samples; evaluation streams keep the order and see each sample once.",
    )
    batch_size: int = Field(default=1, ge=1, description="DataLoader batch size; workers get whole batches.")
    seed: int = Field(default=42, description="Shuffle seed (the same on every rank).")
    repeats: int = Field(default=0, ge=0, description="Training only: extra passes over the data per epoch.")
    image_key: tuple[str, ...] = Field(
        default=("jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "ppm"),
        description="Member extensions holding the image, in order of preference.",
    )
    target_key: tuple[str, ...] = Field(
        default=("cls", "cls.txt", "label", "target"),
        description="Member extensions holding the integer label (or a class name looked up in class_map); a "
        "'.json' member is read for a 'label' field when none of these exists.",
    )
    class_map: ClassMap = Field(default=None, description="For text labels: class name -> index (dict, .txt or .json).")
    shuffle_buffer: int = Field(default=256, ge=1, description="Training only: samples held in the shuffle buffer.")
    rank: Optional[int] = Field(default=None, ge=0, description="This process' rank (default: torch.distributed, else env RANK, else 0).")
    world_size: Optional[int] = Field(
        default=None, ge=1, description="Number of ranks (default: torch.distributed, else env WORLD_SIZE, else 1)."
    )
    cache_index: bool = Field(default=True, description="Cache each shard's sample index as JSON (see the tar reader).")
    cache_dir: Optional[str] = Field(default=None, description="Where shard index files go (see the tar reader).")


def as_kwargs(options: Any) -> dict[str, Any]:
    """The option values of an options model instance as a dict."""
    return {name: getattr(options, name) for name in type(options).model_fields}
