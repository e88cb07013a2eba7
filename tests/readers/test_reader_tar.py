"""The tar reader: single tar, folder of tars, nested tars, the index cache, unsafe members."""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile

import pytest
from reader_helpers import add_bytes, make_folder, make_tar, png_bytes, tar_bytes

from pimm.core import create
from pimm.plugins.readers import tar_index
from pimm.plugins.readers.labels import DatasetError
from pimm.plugins.readers.tar import UnsafeMemberWarning


def _tar_reader(root, **kw):
    return create("reader", "tar", root=str(root), **kw)


def test_single_tar_matches_folder(tmp_path):
    folder = make_folder(str(tmp_path / "f"), {"cat": 2, "dog10": 1, "dog9": 2})
    path = tmp_path / "data.tar"
    with tarfile.open(path, "w") as tf:
        tf.add(folder, arcname=".")
    from_tar, from_folder = _tar_reader(path), create("reader", "folder", root=folder)
    assert from_tar.class_to_idx == from_folder.class_to_idx == {"cat": 0, "dog9": 1, "dog10": 2}
    assert from_tar.filenames() == from_folder.filenames()
    for i in range(len(from_tar)):
        (a, ta), (b, tb) = from_tar[i], from_folder[i]
        assert a.read() == b.read() and ta == tb


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_names_in_every_tar_format(tmp_path, fmt):
    deep = "d" * 60 + "/" + "e" * 60 + "/cls"
    long_name = deep + "/" + "x" * 80 + ".png"
    if fmt == tarfile.USTAR_FORMAT:
        long_name = deep + "/img.png"  # ustar splits at a '/', names <= 100 chars after the prefix
    path = make_tar(str(tmp_path / "t.tar"), {long_name: png_bytes(), "cls/ü-é.png": png_bytes((1, 2, 3))}, fmt=fmt)
    reader = _tar_reader(path, cache_index=False)
    assert sorted(reader.filenames()) == sorted([long_name, "cls/ü-é.png"])
    assert set(reader.class_to_idx) == {"cls"}
    with tarfile.open(path) as tf:
        for i, name in enumerate(reader.filenames()):
            assert reader[i][0].read() == tf.extractfile(name).read()


def test_folder_of_tars_labels_from_tar_names(tmp_path):
    make_tar(str(tmp_path / "n02.tar"), {"a.png": png_bytes(), "b.png": png_bytes()})
    make_tar(str(tmp_path / "n01.tar"), {"c.png": png_bytes()})
    reader = _tar_reader(tmp_path)
    assert reader.class_to_idx == {"n01": 0, "n02": 1}
    assert sorted(t for _, t in reader.samples) == [0, 1, 1]


def test_tars_nested_one_level(tmp_path):
    inner_a = tar_bytes({"1.png": png_bytes((1, 1, 1)), "2.png": png_bytes((2, 2, 2))})
    inner_b = tar_bytes({"3.png": png_bytes((3, 3, 3)), "deeper.tar": tar_bytes({"4.png": png_bytes()})})
    path = make_tar(str(tmp_path / "outer.tar"), {"classA.tar": inner_a, "classB.tar": inner_b})
    with pytest.warns(UnsafeMemberWarning, match="nested more than one level"):
        reader = _tar_reader(path)
    assert reader.class_to_idx == {"classA": 0, "classB": 1}
    assert reader.filenames() == ["1.png", "2.png", "3.png"]
    assert [t for _, t in reader.samples] == [0, 0, 1]
    assert reader[2][0].read() == png_bytes((3, 3, 3))


def test_index_is_cached_as_json_and_reused(tmp_path, monkeypatch):
    path = make_tar(str(tmp_path / "d.tar"), {"a/1.png": png_bytes(), "b/2.png": png_bytes()})
    first = _tar_reader(path)
    cache = path + ".pimm-index.json"
    data = json.loads(open(cache).read())  # plain JSON, never pickle
    assert data["size"] == os.path.getsize(path) and data["names"] == ["a/1.png", "b/2.png"]

    def no_scan(*args, **kwargs):
        raise AssertionError("the tar was scanned again")

    monkeypatch.setattr("pimm.plugins.readers.tar.scan_tar", no_scan)
    again = _tar_reader(path)
    assert again.filenames() == first.filenames()
    monkeypatch.undo()
    make_tar(path, {"a/1.png": png_bytes(), "b/2.png": png_bytes(), "c/3.png": png_bytes()})  # changed tar
    assert len(_tar_reader(path)) == 3


def test_cache_dir_and_corrupt_cache(tmp_path):
    path = make_tar(str(tmp_path / "d.tar"), {"a/1.png": png_bytes()})
    cache_dir = tmp_path / "cache"
    _tar_reader(path, cache_dir=str(cache_dir))
    files = os.listdir(cache_dir)
    assert len(files) == 1 and not os.path.exists(path + ".pimm-index.json")
    (cache_dir / files[0]).write_text("{ not json")
    assert len(_tar_reader(path, cache_dir=str(cache_dir))) == 1  # rebuilt, not crashed


def test_unsafe_members_are_skipped_and_reported(tmp_path):
    path = str(tmp_path / "evil.tar")
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        add_bytes(tf, "ok/good.png", png_bytes())
        add_bytes(tf, "/etc/abs.png", png_bytes())
        add_bytes(tf, "ok/../../escape.png", png_bytes())
        link = tarfile.TarInfo("ok/link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        hard = tarfile.TarInfo("ok/hard.png")
        hard.type, hard.linkname = tarfile.LNKTYPE, "ok/good.png"
        tf.addfile(hard)
        for kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            dev = tarfile.TarInfo(f"ok/dev{kind.decode()}.png")
            dev.type = kind
            tf.addfile(dev)
    with pytest.warns(UnsafeMemberWarning) as record:
        reader = _tar_reader(path)
    assert reader.filenames() == ["ok/good.png"]
    reasons = {name: reason for _, name, reason in reader.skipped_members}
    assert reasons["/etc/abs.png"] == "absolute path"
    assert reasons["ok/../../escape.png"] == "'..' in path"
    assert reasons["ok/link.png"] == "symbolic link" and reasons["ok/hard.png"] == "hard link"
    assert {reasons["ok/dev3.png"], reasons["ok/dev4.png"], reasons["ok/dev6.png"]} == {
        "character device", "block device", "fifo"}
    assert "7 members left out" in str(record[0].message)
    assert not os.path.exists("/etc/abs.png.pimm-index.json")


def test_truncated_tar_keeps_the_complete_members(tmp_path):
    data = tar_bytes({"a/1.png": png_bytes(), "a/2.png": png_bytes((9, 9, 9), size=(64, 64))})
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        cut = tf.getmember("a/2.png").offset_data + 10
    path = tmp_path / "cut.tar"
    path.write_bytes(data[:cut])
    with pytest.warns(UnsafeMemberWarning, match="truncated"):
        reader = _tar_reader(path, cache_index=False)
    assert reader.filenames() == ["a/1.png"]


def test_not_a_tar_and_compressed_tars_are_clear_errors(tmp_path):
    (tmp_path / "junk.tar").write_bytes(os.urandom(2048))
    with pytest.raises(DatasetError, match="not a tar"):
        _tar_reader(tmp_path / "junk.tar")
    gz = tmp_path / "z.tar"
    with tarfile.open(gz, "w:gz") as tf:
        add_bytes(tf, "a.png", png_bytes())
    with pytest.raises(DatasetError, match="gzip-compressed"):
        _tar_reader(gz)
    with pytest.raises(DatasetError, match="no .tar files"):
        _tar_reader(tmp_path / "nothing") if os.makedirs(tmp_path / "nothing") is None else None


def test_scanner_agrees_with_tarfile_on_offsets(tmp_path):
    members = {f"c{i % 3}/img_{i}.png": png_bytes((i, i, i)) for i in range(20)}
    path = make_tar(str(tmp_path / "x.tar"), members)
    fd = os.open(path, os.O_RDONLY)
    try:
        index = tar_index.scan_tar(path, fd)
    finally:
        os.close(fd)
    with tarfile.open(path) as tf:
        expected = {ti.name: (ti.offset_data, ti.size) for ti in tf if ti.isfile()}
    assert dict(zip(index["names"], zip(index["offsets"], index["sizes"]))) == expected


def test_handles_reopen_after_pickle(tmp_path):
    path = make_tar(str(tmp_path / "d.tar"), {"a/1.png": png_bytes(), "b/2.png": png_bytes((5, 5, 5))})
    reader = _tar_reader(path)
    first = reader[1][0].read()
    assert reader._fds  # a handle is open in this process
    copy = pickle.loads(pickle.dumps(reader))
    assert copy._fds == {} and copy[1][0].read() == first
    reader.close()
    assert reader[0][0].read() == png_bytes()
