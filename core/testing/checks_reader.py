"""Conformance checks for readers: the Reader contract on a sample dataset each reader provides.

Checks only get the component, so a reader supplies its own tiny dataset: its target (a
static/class method) or the module defining its target may define
``make_sample_dataset(tmpdir: str) -> dict`` that writes a few images into ``tmpdir`` in the
layout it reads and returns the options to create the reader on them. Readers without one skip
these checks (with a message saying so).
"""

from __future__ import annotations

import atexit
import importlib
import io
import os
import pickle
import shutil
import tempfile
from typing import Any

from ..factory import load_target
from .kit import ComponentRef, check, skip

_SAMPLES: dict[str, dict[str, Any]] = {}
_TMP: list[str] = []


def _cleanup() -> None:
    for path in _TMP:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_cleanup)


def sample_options(component: ComponentRef) -> dict[str, Any]:
    """Create options for the reader's sample dataset (written once per process)."""
    key = component.qualified_name
    if key not in _SAMPLES:
        target = load_target(component.entry)
        maker = getattr(target, "make_sample_dataset", None)
        if maker is None:
            module = importlib.import_module(component.spec.target.partition(":")[0])
            maker = getattr(module, "make_sample_dataset", None)
        if maker is None:
            skip(
                f"reader {component.name!r} defines no make_sample_dataset(tmpdir) -> options (on its target "
                "or in its module); the reader checks need it to build a sample dataset"
            )
        tmp = tempfile.mkdtemp(prefix=f"pimm-check-{component.name}-")
        _TMP.append(tmp)
        _SAMPLES[key] = dict(maker(tmp))
    return dict(_SAMPLES[key])


def _build(component: ComponentRef) -> Any:
    return component.create(**sample_options(component))


def _items(reader: Any) -> list[tuple[Any, ...]]:
    if component_iterable(reader):
        return [tuple(item) for item in reader]
    return [tuple(reader[i]) for i in range(len(reader))]


def component_iterable(reader: Any) -> bool:
    """True for streaming readers (subclasses of IterableReader)."""
    from ..data.reader import IterableReader

    return isinstance(reader, IterableReader)


def _raw(sample: Any) -> Any:
    from PIL import Image

    if isinstance(sample, Image.Image):
        return sample.tobytes()
    if isinstance(sample, (bytes, bytearray)):
        return bytes(sample)
    data = sample.read()
    sample.close()
    return data


@check("reader")
def check_reader_contract(component: ComponentRef) -> None:
    """len() > 0; items are (file-like | bytes | PIL image, int | None); every sample decodes."""
    from PIL import Image

    from ..data.image_load import load_image

    reader = _build(component)
    n = len(reader)
    if not (n > 0):
        raise AssertionError("the reader is empty on its sample dataset")
    items = _items(reader)
    if not (len(items) == n):
        raise AssertionError(f"len() is {n} but {len(items)} samples were read")
    for item in items:
        if not (len(item) >= 2):
            raise AssertionError(f"a sample must be (sample, target, ...), got {len(item)} elements")
        sample, target = item[0], item[1]
        ok = isinstance(sample, (bytes, bytearray, Image.Image, io.IOBase)) or hasattr(sample, "read")
        if not (ok):
            raise AssertionError(f"sample must be a binary file-like object, bytes or a PIL image, got {type(sample).__name__}")
        if not (target is None or isinstance(target, int)):
            raise AssertionError(f"target must be an int or None, got {type(target).__name__}")
        img = load_image(sample, "RGB", None)
        if not (img.size[0] > 0 and img.size[1] > 0):
            raise AssertionError('check failed: img.size[0] > 0 and img.size[1] > 0')
    mapping = getattr(reader, "class_to_idx", {})
    if not (isinstance(mapping, dict)):
        raise AssertionError("class_to_idx must be a dict")
    if mapping:
        values = set(mapping.values())
        if not (all(t is None or t in values for _, t, *_ in items)):
            raise AssertionError("targets outside class_to_idx")


@check("reader")
def check_reader_stable(component: ComponentRef) -> None:
    """Two readers on the same data agree: same class map, same order of samples and targets."""
    first, second = _build(component), _build(component)
    if not (getattr(first, "class_to_idx", {}) == getattr(second, "class_to_idx", {})):
        raise AssertionError("class map not stable")
    a, b = _items(first), _items(second)
    if not ([t for _, t, *_ in a] == [t for _, t, *_ in b]):
        raise AssertionError("sample order / targets not stable")
    if not component_iterable(first):
        if not (first.filenames() == second.filenames()):
            raise AssertionError("file names not stable")


@check("reader")
def check_reader_filenames(component: ComponentRef) -> None:
    """filename(i) / filenames() agree, are strings, and basename=True gives the last component."""
    reader = _build(component)
    if component_iterable(reader):
        skip("streaming readers have no per-index file names")
    names = reader.filenames()
    if not (len(names) == len(reader)):
        raise AssertionError('check failed: len(names) == len(reader)')
    if not (all(isinstance(n, str) and n for n in names)):
        raise AssertionError("file names must be non-empty strings")
    if not (reader.filename(0) == names[0]):
        raise AssertionError('check failed: reader.filename(0) == names[0]')
    base = reader.filename(0, basename=True)
    if not ("/" not in base and base == os.path.basename(base)):
        raise AssertionError(f"basename=True gave {base!r}")
    if not (isinstance(reader.filename(0, absolute=True), str)):
        raise AssertionError('check failed: isinstance(reader.filename(0, absolute=True), str)')


@check("reader")
def check_reader_picklable(component: ComponentRef) -> None:
    """A pickled copy (what a DataLoader worker gets) reads the same samples."""
    reader = _build(component)
    _items(reader)  # open handles first: they must not break pickling
    copy = pickle.loads(pickle.dumps(reader))
    if not (len(copy) == len(reader)):
        raise AssertionError('check failed: len(copy) == len(reader)')
    if not ([(_raw(s), t) for s, t, *_ in _items(copy)] == [(_raw(s), t) for s, t, *_ in _items(reader)]):
        raise AssertionError('check failed: [(_raw(s), t) for s, t, *_ in _items(copy)] == [(_raw(s), t) for s, t, *_ in _items(reader)]')


@check("reader")
def check_reader_dataloader_workers(component: ComponentRef) -> None:
    """The reader works in a DataLoader with num_workers=2 and yields the same targets."""
    import torch
    from torch.utils.data import DataLoader

    from ..data.dataset import ImageDataset, IterableImageDataset

    reader = _build(component)

    def to_tensor(img: Any) -> Any:
        return torch.as_tensor(list(img.resize((4, 4)).tobytes()), dtype=torch.uint8)

    if component_iterable(reader):
        dataset: Any = IterableImageDataset(None, reader=reader, transform=to_tensor)
    else:
        dataset = ImageDataset(None, reader=reader, transform=to_tensor)
    serial = sorted(int(t) for _, t in (dataset[i] for i in range(len(dataset)))) if not component_iterable(reader) \
        else sorted(int(t) for _, t in dataset)
    loader = DataLoader(dataset, batch_size=2, num_workers=2)
    seen = sorted(int(t) for _, targets in loader for t in targets)
    if not (seen == serial):
        raise AssertionError(f"workers yielded targets {seen}, a single process {serial}")
