"""Labels that cannot be class indices are clear errors, never an overflow deep inside a DataLoader."""

from __future__ import annotations

import json
import tarfile

import pytest
from reader_helpers import add_bytes, make_folder, png_bytes

from pimm.core import create
from pimm.core.data.class_map import MAX_CLASS_INDEX, load_class_map
from pimm.core.errors import ConfigError, PimmError


def _shard(path, labels):
    with tarfile.open(path, "w") as tf:
        for i, label in enumerate(labels):
            add_bytes(tf, f"s{i:03d}.png", png_bytes())
            add_bytes(tf, f"s{i:03d}.cls", label.encode())


@pytest.mark.parametrize("label", ["9223372036854775808", "-9223372036854775809", "1" * 4000,
                                   "0000000000000000000000099999999999999999999"],
                         ids=["2**63", "-2**63-1", "4000-digits", "zero-padded-2e22"])
def test_wds_labels_that_do_not_fit_int64(tmp_path, label):
    _shard(str(tmp_path / "shard-000000.tar"), ["1", label])
    with pytest.raises(PimmError, match="does not fit a 64-bit integer") as info:
        create("reader", "wds", root=str(tmp_path))
    assert len(str(info.value)) < 400  # a 4000-digit label is not pasted into the message


def test_wds_label_too_long_to_index_is_an_error_not_no_label(tmp_path):
    _shard(str(tmp_path / "shard-000000.tar"), ["1", "7" * 5000])
    with pytest.raises(PimmError, match="over 4096 bytes"):
        create("reader", "wds", root=str(tmp_path))


def test_wds_labels_at_the_int64_edges_work(tmp_path):
    _shard(str(tmp_path / "shard-000000.tar"), ["0", "9223372036854775807", "000000000000000000000000007"])
    reader = create("reader", "wds", root=str(tmp_path))
    assert sorted(target for _, target, _ in reader) == [0, 7, 9223372036854775807]


@pytest.mark.parametrize("index", [MAX_CLASS_INDEX, 10**30, 10**5000], ids=["limit", "1e30", "5001-digits"])
def test_class_map_with_absurd_indices(tmp_path, index):
    with pytest.raises(ConfigError, match="must be below") as info:
        load_class_map({"cat": 0, "dog": index})
    assert len(str(info.value)) < 300
    root = make_folder(str(tmp_path / "data"), {"cat": 1, "dog": 1})
    with pytest.raises(ConfigError, match="must be below"):
        create("reader", "folder", root=root, class_map={"cat": 0, "dog": index})


def test_class_map_json_with_a_huge_number_is_one_clear_error(tmp_path):
    path = tmp_path / "map.json"
    path.write_text('{"cat": 0, "dog": ' + "9" * 5000 + "}")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_class_map(str(path))
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_class_map(str(path))
    path.write_text(json.dumps({"cat": 0, "dog": MAX_CLASS_INDEX - 1}))
    assert load_class_map(str(path))["dog"] == MAX_CLASS_INDEX - 1
