"""Cached tar and shard indexes are untrusted input: a bad one is rebuilt, never believed.

Each case takes a good cached index, damages one thing (type, length, name, offset, size, a
dropped member, a giant file) and checks the reader still sees exactly the archive's members,
with every absolute file name inside the archive, and that the cache was rewritten.
"""

from __future__ import annotations

import copy
import json
import os
import warnings

import pytest
from reader_helpers import make_shards, make_tar, png_bytes

from pimm.core import create
from pimm.plugins.readers import index_cache

NAMES = ["a/1.png", "a/2.png", "b/3.png", "b/4.png"]


def _mutations():
    def setter(column, i, value):
        def apply(d):
            d[column][i] = value
        return apply

    def drop(i):
        def apply(d):
            for c in ("names", "offsets", "sizes", "parents", "labels"):
                del d[c][i]
        return apply

    def pad_names(d):
        d["names"].append("a/5.png")

    return {
        "escaping name": setter("names", 1, "../../outside.png"),
        "absolute name": setter("names", 0, "/etc/passwd"),
        "name not a string": setter("names", 0, 7),
        "offset past the end": setter("offsets", 2, 10**9),
        "negative offset": setter("offsets", 0, -512),
        "misaligned offset": setter("offsets", 1, 1000),
        "offset is a float": setter("offsets", 0, 1536.0),
        "offset is a bool": setter("offsets", 0, True),
        "huge size": setter("sizes", 0, 10**12),
        "size is a string": setter("sizes", 0, "70"),
        "columns of different lengths": pad_names,
        "a member dropped": drop(2),
        "parent escaping": setter("parents", 0, "../x.tar"),
        "label not from its name": setter("labels", 0, "b"),
        "skipped not pairs": lambda d: d.__setitem__("skipped", [["x"]]),
        "offsets swapped with another archive's": lambda d: d.__setitem__("offsets", [o + 512 for o in d["offsets"]]),
        "names not a list": lambda d: d.__setitem__("names", {"a": 1}),
        "too many members": lambda d: [d[c].extend(d[c] * 50) for c in ("names", "offsets", "sizes", "parents", "labels")],
    }


@pytest.mark.parametrize("damage", sorted(_mutations()))
def test_damaged_tar_index_is_rebuilt(tmp_path, damage):
    path = make_tar(str(tmp_path / "d.tar"), {n: png_bytes((i, 0, 0)) for i, n in enumerate(NAMES)})
    good = create("reader", "tar", root=path)
    cache = path + ".pimm-index.json"
    data = json.loads(open(cache).read())
    original = copy.deepcopy(data)
    _mutations()[damage](data)
    with open(cache, "w") as f:
        json.dump(data, f)
    reader = create("reader", "tar", root=path)
    assert reader.filenames() == good.filenames() == NAMES
    inside = os.path.abspath(path)
    assert all(n.startswith(inside + os.sep) for n in reader.filenames(absolute=True))
    assert [reader[i][0].read() for i in range(len(reader))] == [png_bytes((i, 0, 0)) for i in range(4)]
    assert json.loads(open(cache).read()) == original  # rewritten with the true index


def test_giant_index_file_is_not_parsed(tmp_path, monkeypatch):
    path = make_tar(str(tmp_path / "d.tar"), {n: png_bytes() for n in NAMES})
    create("reader", "tar", root=path)
    cache = path + ".pimm-index.json"
    limit = index_cache._INDEX_BYTES_FLOOR + index_cache._INDEX_BYTES_PER_ARCHIVE_BYTE * os.path.getsize(path)
    with open(cache, "r+") as f:
        f.seek(limit + 10)
        f.write(" ")  # a valid JSON document with a huge tail of padding

    def refuse(*args, **kwargs):
        raise AssertionError("a giant index was parsed")

    monkeypatch.setattr(index_cache.json, "load", refuse)
    assert create("reader", "tar", root=path).filenames() == NAMES


def test_a_good_index_is_still_reused_without_a_scan(tmp_path, monkeypatch):
    path = make_tar(str(tmp_path / "d.tar"), {"dir/" + n: png_bytes() for n in NAMES})  # directory-style names
    create("reader", "tar", root=path)

    def no_scan(*args, **kwargs):
        raise AssertionError("the tar was scanned again")

    monkeypatch.setattr("pimm.plugins.readers.tar.scan_tar", no_scan)
    assert len(create("reader", "tar", root=path)) == 4


@pytest.mark.parametrize("damage", ["escaping key", "offset outside", "dropped sample", "text of a missing member"])
def test_damaged_shard_index_is_rebuilt(tmp_path, damage):
    (shard,) = make_shards(str(tmp_path), [4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        good = list(create("reader", "wds", root=str(tmp_path)))
    cache = shard + ".pimm-wds-index.json"
    data = json.loads(open(cache).read())
    samples = data["samples"]
    if damage == "escaping key":
        samples[0][0] = "../../etc/x"
    elif damage == "offset outside":
        samples[1][1]["png"][0] = 10**9
    elif damage == "dropped sample":
        del samples[2]
    else:
        samples[0][2]["txt"] = "7"
    with open(cache, "w") as f:
        json.dump(data, f)
    again = list(create("reader", "wds", root=str(tmp_path)))
    assert [(s[0].read(), s[1], s[2]) for s in again] == [(s[0].read(), s[1], s[2]) for s in good]
