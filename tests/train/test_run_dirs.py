"""A new run never writes into an existing run directory; a failed start leaves nothing; one file mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from train_helpers import tiny_options

from pimm.core.app.cli import main
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training


def _snapshot(run: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``run`` (links followed) with its mtime and content."""
    out = {}
    for folder, _, files in os.walk(run, followlinks=True):
        for name in files:
            path = Path(folder) / name
            out[str(path.relative_to(run))] = (path.stat().st_mtime_ns, path.read_bytes())
    return out


def test_second_run_with_the_same_name_gets_a_fresh_directory(tiny_folder: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    opts = tiny_options(tiny_folder, tmp_path, epochs=1)
    first = run_training(make_config(opts))
    assert first.run_dir == tmp_path / "run"
    before = _snapshot(first.run_dir)
    assert "best/model.safetensors" in before and "metrics.csv" in before
    second = run_training(make_config(opts))
    assert second.run_dir == tmp_path / "run-1"
    assert "run already exists" in capsys.readouterr().out
    # re-running the saved config.json (which carries the run name) is a new run too
    assert main(["train", "--config", str(first.run_dir / "config.json"), "--threads", "1"]) == 0
    assert (tmp_path / "run-2" / "best" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "run-2" / "config.json").read_text())["experiment"] == "run-2"
    assert _snapshot(first.run_dir) == before  # the earlier run is untouched, byte for byte


def test_failure_before_the_first_epoch_leaves_no_directory(tiny_folder: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--data", str(tiny_folder), "--output", str(tmp_path), "--experiment", "x",
                 "--model", "resnet10t", "--img-size", "16", "--global-pool", "nosuchpool", "--threads", "1"])
    assert code == 2 and "nosuchpool" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_every_file_of_a_run_has_the_same_mode(tiny_folder: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        run_training(make_config(tiny_options(tiny_folder, tmp_path, epochs=1)))
    finally:
        os.umask(old)
    modes = {str(Path(folder, name).relative_to(tmp_path)): stat.S_IMODE(Path(folder, name).stat().st_mode)
             for folder, _, files in os.walk(tmp_path / "run", followlinks=True) for name in files}
    assert modes["run/best/model.safetensors"] == 0o644
    assert set(modes.values()) == {0o644}, modes


def test_torchrun_restart_finds_the_directory_of_its_earlier_attempt(tiny_folder: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pimm.core.app.train.launch import _choose_run

    cfg = make_config(tiny_options(tiny_folder, tmp_path, experiment="x"))
    (tmp_path / "x").mkdir()  # an earlier, unrelated run
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job-1")
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "0")
    _, first, claimed, _ = _choose_run(cfg)
    assert first == tmp_path / "x-1" and claimed
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "1")  # the attempt died before writing anything
    again, run, claimed, notes = _choose_run(cfg)
    assert run == first and claimed and again.experiment == "x-1" and "starting" in notes[0]
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job-2")  # another torchrun job never takes it over
    _, other, _, _ = _choose_run(cfg)
    assert other == tmp_path / "x-2"
