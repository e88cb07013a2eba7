"""Image-folder and filename-label readers, class maps."""

from __future__ import annotations

import json
import os
import pickle

import pytest
from reader_helpers import make_folder, png_bytes, write

from pimm.core import create
from pimm.core.data import load_class_map
from pimm.core.errors import ConfigError, OptionsError
from pimm.plugins.readers.labels import ClassMapWarning, DatasetError


def test_classes_from_leaf_dirs_in_natural_case_insensitive_order(tmp_path):
    root = make_folder(str(tmp_path), {"class10": 1, "class2": 1, "Apple": 1, "banana": 2})
    reader = create("reader", "folder", root=root)
    assert list(reader.class_to_idx) == ["Apple", "banana", "class2", "class10"]
    assert len(reader) == 5
    sample, target = reader[0]
    assert sample.read().startswith(b"\x89PNG") and target == 0
    assert reader.filename(0) == os.path.join("Apple", "Apple_0.png")
    assert reader.filename(0, basename=True) == "Apple_0.png"
    assert reader.filename(0, absolute=True) == os.path.join(os.path.abspath(root), "Apple", "Apple_0.png")


def test_nested_dirs_label_is_leaf_and_extensions_case_insensitive(tmp_path):
    write(str(tmp_path / "a" / "deep" / "x.PNG"), png_bytes())
    write(str(tmp_path / "b" / "y.webp"), png_bytes())
    write(str(tmp_path / "b" / "notes.txt"), b"hello")
    reader = create("reader", "folder", root=str(tmp_path))
    assert reader.class_to_idx == {"b": 0, "deep": 1}
    only_png = create("reader", "folder", root=str(tmp_path), extensions=("png",))
    assert only_png.filenames() == [os.path.join("a", "deep", "x.PNG")]


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no images"):
        create("reader", "folder", root=str(tmp_path))
    with pytest.raises(DatasetError, match="does not exist"):
        create("reader", "folder", root=str(tmp_path / "nope"))


def test_unknown_option_is_rejected():
    with pytest.raises(OptionsError, match="extension"):
        create("reader", "folder", root=".", extention=(".png",))


@pytest.mark.parametrize("kind", ["dict", "txt", "json-list", "json-dict"])
def test_class_map_sources(tmp_path, kind):
    root = make_folder(str(tmp_path / "data"), {"cat": 1, "dog": 2})
    mapping = {"dog": 0, "cat": 1}
    if kind == "dict":
        class_map = mapping
    elif kind == "txt":
        class_map = "map.txt"
        (tmp_path / "data" / "map.txt").write_text("dog\ncat\n")
    elif kind == "json-list":
        class_map = str(tmp_path / "map.json")
        (tmp_path / "map.json").write_text(json.dumps(["dog", "cat"]))
    else:
        class_map = str(tmp_path / "map.json")
        (tmp_path / "map.json").write_text(json.dumps(mapping))
    reader = create("reader", "folder", root=root, class_map=class_map)
    assert reader.class_to_idx == mapping
    assert sorted(t for _, t in reader.samples) == [0, 0, 1]


def test_class_map_disagreements_are_reported_not_silent(tmp_path):
    root = make_folder(str(tmp_path), {"cat": 1, "dog": 2, "emu": 1})
    with pytest.warns(ClassMapWarning) as record:
        reader = create("reader", "folder", root=root, class_map={"cat": 0, "dog": 1, "yak": 2})
    messages = " ".join(str(w.message) for w in record)
    assert "'emu'" in messages and "'yak'" in messages
    assert reader.unmapped_classes == {"emu": 1}
    assert reader.missing_classes == ["yak"]
    assert len(reader) == 3
    with pytest.raises(ConfigError, match="emu"):
        create("reader", "folder", root=root, class_map={"cat": 0, "dog": 1}, strict_class_map=True)


def test_load_class_map_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_class_map("missing.txt", str(tmp_path))
    (tmp_path / "m.pkl").write_bytes(b"x")
    with pytest.raises(ConfigError, match="pickle"):
        load_class_map(str(tmp_path / "m.pkl"))
    with pytest.raises(ConfigError, match="ints"):
        load_class_map({"a": "zero"})
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="JSON"):
        load_class_map(str(tmp_path / "bad.json"))


def test_filename_label_reader_oxford_pets(tmp_path):
    for name in ("Abyssinian_12", "Abyssinian_2", "american_bulldog_3", "great_pyrenees_100", "README"):
        write(str(tmp_path / f"{name}.jpg"), png_bytes())
    with pytest.warns(ClassMapWarning, match="README"):
        reader = create("reader", "filename", root=str(tmp_path))
    assert reader.class_to_idx == {"Abyssinian": 0, "american_bulldog": 1, "great_pyrenees": 2}
    assert reader.filenames() == ["Abyssinian_2.jpg", "Abyssinian_12.jpg", "american_bulldog_3.jpg", "great_pyrenees_100.jpg"]
    assert [t for _, t in reader.samples] == [0, 0, 1, 2]
    assert reader.unmatched == ["README.jpg"]
    with pytest.warns(ClassMapWarning):
        custom = create("reader", "filename", root=str(tmp_path), pattern=r"^([a-z])")
    assert set(custom.class_to_idx) == {"a", "g"}
    with pytest.raises(ConfigError, match="regular expression"):
        create("reader", "filename", root=str(tmp_path), pattern="(")
    with pytest.raises(DatasetError, match="README"):
        create("reader", "filename", root=str(tmp_path), strict_pattern=True)


def test_folder_reader_pickles(tmp_path):
    root = make_folder(str(tmp_path), {"a": 2})
    reader = create("reader", "folder", root=root)
    copy = pickle.loads(pickle.dumps(reader))
    assert copy.filenames() == reader.filenames() and copy[1][0].read() == reader[1][0].read()
