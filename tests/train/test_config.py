"""TrainConfig, config files and the command-line mapping (no training here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimm.core.app.cli import build_parser, main
from pimm.core.app.cli_train import build_train_config
from pimm.core.errors import ConfigError
from pimm.core.app.train.config import DEMO_PROFILE, TrainConfig, load_config_file, make_config


def _parse(*argv: str):
    return build_parser().parse_args(["train", *argv])


def test_flags_map_to_fields() -> None:
    cfg = build_train_config(_parse("--model", "resnet18", "--lr", "0.3", "--img-size", "48", "--amp",
                                    "--mixup", "0.2", "--wd", "0.01", "-b", "16", "--val-split", ""))
    assert cfg.model == "resnet18" and cfg.lr == 0.3 and cfg.input_size == 48
    assert cfg.amp == "bf16" and cfg.mixup == 0.2 and cfg.weight_decay == 0.01 and cfg.batch_size == 16
    assert cfg.val_split is None
    assert build_train_config(_parse("--input-size", "3", "40", "40")).input_size == (3, 40, 40)


def test_cli_overrides_config_file(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"epochs": 3, "lr": 0.1, "drop-rate": 0.2}))
    cfg = build_train_config(_parse("--config", str(tmp_path / "run.json"), "--lr", "0.5"))
    assert (cfg.epochs, cfg.lr, cfg.drop_rate) == (3, 0.5, 0.2)
    assert "lr" in cfg.model_fields_set


def test_yaml_config(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    (tmp_path / "run.yaml").write_text("model: resnet10t\nepochs: 4\nscale: [0.5, 1.0]\n")
    assert load_config_file(tmp_path / "run.yaml") == {"model": "resnet10t", "epochs": 4, "scale": [0.5, 1.0]}


def test_yaml_without_pyyaml_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)
    (tmp_path / "run.yaml").write_text("epochs: 4\n")
    with pytest.raises(ConfigError, match="pip install pyyaml"):
        load_config_file(tmp_path / "run.yaml")


@pytest.mark.parametrize("options, match", [
    ({"epohcs": 3}, "unknown option 'epohcs'; did you mean 'epochs'"),
    ({"lr": -1}, "--lr"),
    ({"amp": "fp8"}, "--amp"),
    ({"scale": (0.9, 0.1)}, "scale"),
])
def test_bad_options_are_one_line_errors(options: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        make_config(options)
    assert "\n" not in str(info.value)


def test_demo_profile_fills_only_unset_fields() -> None:
    cfg = TrainConfig(epochs=2).resolved()
    assert cfg.epochs == 2 and cfg.model == DEMO_PROFILE["model"] and cfg.input_size == DEMO_PROFILE["input_size"]
    other = TrainConfig(data="/some/where").resolved()
    assert other.model == "resnet18" and other.input_size is None and other.epochs == 10


def test_cli_bad_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["train", "--config", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pimm: error:") and "not valid JSON" in err and "\n" not in err


def test_cli_module_imports_no_torch() -> None:
    import subprocess
    import sys

    code = "import sys, pimm.core.app.cli_train, pimm.core.app.train.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("text, field", [("epochs: true\n", "epochs"), ("seed: 1e23\n", "seed"),
                                         ("lr: false\n", "lr"), ("batch_size: yes\n", "batch_size")])
def test_config_file_values_of_the_wrong_type_are_one_clear_error(tmp_path, capsys, text, field):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    assert main(["train", "--config", str(config), "--output", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pimm: error:"), err
    assert f"--{field.replace('_', '-')}:" in err[0] and "Value error" not in err[0], err
    assert not (tmp_path / "runs").exists()
