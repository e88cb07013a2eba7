"""local-dir: folders whose config.json has the wrong shape: one ConfigError naming the field."""

from __future__ import annotations

import json

import pytest

from pimm.core.errors import ConfigError
from pimm.core.models import create_model, save_pretrained


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    save_pretrained(create_model("resnet10t", num_classes=3), folder)
    return folder, json.loads((folder / "config.json").read_text())


CASES = {
    "not an object": ([1, 2], "must be a JSON object"),
    "pimm section a string": ({"pimm": "resnet10t"}, "'pimm'"),
    "pimm.name a number": ({"pimm": {"name": 5, "options": {}}}, "'pimm.name'"),
    "pimm.options a list": ({"pimm": {"name": "resnet10t", "options": [1]}}, "'pimm.options'"),
    "architecture a list": ({"architecture": ["resnet10t"]}, "'architecture'"),
    "model_args a list": ({"architecture": "resnet10t", "model_args": [3]}, "'model_args'"),
    "num_classes a string": ({"architecture": "resnet10t", "num_classes": "3"}, "'num_classes'"),
    "num_classes a bool": ({"architecture": "resnet10t", "num_classes": True}, "'num_classes'"),
    "num_classes negative": ({"architecture": "resnet10t", "num_classes": -2}, "'num_classes'"),
    "label_names a string": ({"architecture": "resnet10t", "label_names": "cat"}, "'label_names'"),
    "label_names with a number": ({"architecture": "resnet10t", "label_names": ["a", 2]}, "'label_names[1]'"),
    "pretrained_cfg a list": ({"architecture": "resnet10t", "pretrained_cfg": []}, "'pretrained_cfg'"),
    "pretrained_cfg.input_size text": ({"architecture": "resnet10t", "pretrained_cfg": {"input_size": "big"}},
                                       "'pretrained_cfg.input_size'"),
    "pretrained_cfg.mean a number": ({"architecture": "resnet10t", "pretrained_cfg": {"mean": 0.5}},
                                     "'pretrained_cfg.mean'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_shapes_name_the_field(saved, tmp_path, case):
    folder, good = saved
    patch, field = CASES[case]
    config = patch if not isinstance(patch, dict) else {**{k: v for k, v in good.items() if k != "pimm"}, **patch}
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    (target / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError) as info:
        create_model(f"local-dir:{target}")
    message = str(info.value)
    assert field in message and "config.json" in message and "\n" not in message


def test_deeply_nested_json_is_one_error(tmp_path):
    (tmp_path / "config.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ConfigError, match="cannot read"):
        create_model(f"local-dir:{tmp_path}")


def test_a_good_saved_folder_still_loads(saved):
    folder, _ = saved
    assert create_model(f"local-dir:{folder}").num_classes == 3
