"""WebDataset shards: brace patterns, labels, and the split over ranks and workers."""

from __future__ import annotations

import math
import os
from collections import Counter

import pytest
import torch
from reader_helpers import make_shards
from torch.utils.data import DataLoader

from pimm.core import create
from pimm.core.data import IterableImageDataset
from pimm.plugins.readers.labels import DatasetError
from pimm.plugins.readers.wds import expand_braces


def test_brace_expansion():
    assert expand_braces("a-{000..002}.tar") == ["a-000.tar", "a-001.tar", "a-002.tar"]
    assert expand_braces("{x,y}-{8..10}") == ["x-8", "x-9", "x-10", "y-8", "y-9", "y-10"]
    assert expand_braces("plain.tar") == ["plain.tar"]


def _reader(root, **kw):
    return create("reader", "wds", root=str(root), **kw)


def test_shard_samples_labels_and_sources(tmp_path):
    make_shards(str(tmp_path), [3, 2])
    by_pattern = _reader(tmp_path / "shard-{000000..000001}.tar")
    by_folder = _reader(tmp_path)
    items = list(by_pattern)
    assert [t for _, t, _ in items] == [0, 1, 2, 0, 1]
    assert items[0][2] == "shard-000000.tar:s00000"
    assert [t for _, t, _ in by_folder] == [0, 1, 2, 0, 1]
    assert by_pattern.class_to_idx == {}
    with pytest.raises(DatasetError, match="do not exist"):
        _reader(tmp_path / "shard-{000000..000005}.tar")


def test_text_labels_get_a_class_map(tmp_path):
    make_shards(str(tmp_path), [4], labels="names")
    reader = _reader(tmp_path)
    assert reader.class_to_idx == {"cat": 0, "dog": 1, "emu": 2}
    assert [t for _, t, _ in reader] == [0, 1, 2, 0]


@pytest.mark.parametrize("total_counts", [[5, 4], [3, 3, 1], [1], [7, 6, 4]])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("batch_size,workers", [(1, 1), (2, 2), (4, 3)])
def test_eval_split_sees_each_sample_once_with_equal_batches(tmp_path_factory, total_counts, world, batch_size, workers):
    root = tmp_path_factory.mktemp("shards")
    make_shards(str(root), total_counts)
    total = sum(total_counts)
    seen: Counter = Counter()
    batches_per_rank = []
    for rank in range(world):
        reader = _reader(root, rank=rank, world_size=world, batch_size=batch_size)
        per_worker = [reader.worker_positions(w, workers) for w in range(workers)]
        batches_per_rank.append(sum(math.ceil(len(p) / batch_size) for p in per_worker))
        assert sum(len(p) for p in per_worker) == len(reader) == math.ceil(total / world)
        seen.update(p for positions in per_worker for p in positions if p is not None)
    assert len(set(batches_per_rank)) == 1, batches_per_rank
    assert len(seen) == total and set(seen.values()) == {1}


@pytest.mark.parametrize("world", [2, 3])
def test_training_split_equal_real_samples_shuffled_per_epoch(tmp_path, world):
    make_shards(str(tmp_path), [4, 3, 3])
    readers = [_reader(tmp_path, is_training=True, rank=r, world_size=world, seed=1) for r in range(world)]
    per_rank = [r.rank_positions() for r in readers]
    assert len({len(p) for p in per_rank}) == 1 and None not in sum(per_rank, [])
    assert set(sum(per_rank, [])) == {(s, i) for s, n in enumerate([4, 3, 3]) for i in range(n)}
    orders = set()
    for epoch in range(4):
        readers[0].set_epoch(epoch)
        orders.add(tuple(t for _, t, _ in readers[0]))
    assert len(orders) > 1  # the order changes with the epoch
    again = _reader(tmp_path, is_training=True, rank=0, world_size=world, seed=1)
    again.set_epoch(3)
    assert tuple(t for _, t, _ in again) == tuple(t for _, t, _ in readers[0])  # deterministic by seed


def _ident(img):
    return torch.tensor(img.getpixel((0, 0))[0])


def test_dataloader_workers_eval_exactly_once_in_order(tmp_path):
    make_shards(str(tmp_path), [4, 3])
    ds = IterableImageDataset(str(tmp_path), reader=_reader(tmp_path, batch_size=2), transform=_ident)
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    pixels = [int(x) for images, _ in loader for x in images]
    assert pixels == list(range(7))  # sample i is coloured (i, 0, 0): every one once, in order


def test_eval_padding_has_target_minus_one(tmp_path):
    make_shards(str(tmp_path), [3])
    targets = [[t for _, t, _ in _reader(tmp_path, rank=r, world_size=2)] for r in range(2)]
    assert targets == [[0, 1], [2, -1]]


def test_bad_shard_member_is_skipped_in_the_stream(tmp_path):
    import tarfile

    from reader_helpers import add_bytes, png_bytes

    with tarfile.open(os.path.join(tmp_path, "s-0.tar"), "w") as tf:
        add_bytes(tf, "a.png", png_bytes())
        add_bytes(tf, "a.cls", b"0")
        add_bytes(tf, "b.png", b"broken")
        add_bytes(tf, "b.cls", b"1")
        add_bytes(tf, "c.png", png_bytes())
        add_bytes(tf, "c.cls", b"2")
    ds = IterableImageDataset(str(tmp_path), reader="wds")
    with pytest.warns(UserWarning, match="s-0.tar:b"):
        assert [t for _, t in ds] == [0, 2]
    assert list(ds.bad_samples()) == ["s-0.tar:b"]
