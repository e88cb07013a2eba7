"""``--resume``: extending, finished runs, untouched history, damaged runs, unsafe state files, best kept."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from run_helpers import fast_options, same_weights

from pimm.core.app.cli import main
from pimm.core.app.train import session as session_module
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training


def _opts(data: Path, out: Path, **extra: object) -> dict:
    return fast_options(data, out, model_ema=False, mixup=0.0, **extra)


@pytest.fixture(scope="module")
def one_epoch(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 1-epoch run (copied by the tests that damage it)."""
    out = tmp_path_factory.mktemp("one")
    run_training(make_config(_opts(tiny_folder, out, epochs=1)))
    return out / "run"


def _copy(run: Path, where: Path) -> Path:
    shutil.copytree(run, where, symlinks=True)
    return where


def test_epochs_extends_a_finished_run_without_rewriting_history(one_epoch: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(one_epoch, tmp_path / "run")
    first_rows = (run / "metrics.csv").read_text()
    # finished, and no more epochs asked for: says so, exits 0, trains nothing
    assert main(["train", "--resume", str(run)]) == 0
    assert "is finished (1 of 1 epochs)" in capsys.readouterr().out
    assert (run / "metrics.csv").read_text() == first_rows
    # --epochs 2 extends it
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "resumed" in out and "epoch 2/2" in out and "epoch 1/2" not in out
    text = (run / "metrics.csv").read_text()
    assert text.startswith(first_rows) and len(text.splitlines()) == 3  # header, row 1 byte-identical, row 2
    saved = json.loads((run / "config.json").read_text())
    assert saved["epochs"] == 2 and saved["resume"] is None


def _damage_weights(run: Path) -> str:
    target = run / "last" / "model.safetensors"
    data = target.read_bytes()
    target.unlink()  # a hard link may be shared with best/: replace, never edit in place
    target.write_bytes(data[: len(data) // 3])
    return "last/model.safetensors"


def _corrupt_config(run: Path) -> str:
    (run / "config.json").write_text("{\"epochs\": 2,")
    return "config.json"


def _invalid_config(run: Path) -> str:
    data = json.loads((run / "config.json").read_text())
    data["batch_size"] = "lots"
    (run / "config.json").write_text(json.dumps(data))
    return "config.json"


def _state_of(run: Path, tiny_folder: Path, where: Path, **extra: object) -> str:
    run_training(make_config(_opts(tiny_folder, where, epochs=1, **extra)))
    state = run / "state.pt"
    real = state.resolve()
    state.unlink()
    shutil.copyfile(where / "run" / "state.pt", real)
    os.symlink(os.path.relpath(real, run), state)
    return "state.pt"


@pytest.mark.parametrize("damage, expected", [
    (_damage_weights, "is damaged"),
    (_corrupt_config, "not valid JSON"),
    (_invalid_config, "--batch-size"),
    ("other_optimizer", "written for optimizer 'adamw'"),
    ("other_model", "written for model"),
])
def test_damaged_run_is_one_line_naming_the_file(damage: object, expected: str, one_epoch: Path, tiny_folder: Path,
                                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(one_epoch, tmp_path / "run")
    if damage == "other_optimizer":
        name = _state_of(run, tiny_folder, tmp_path / "o", opt="adamw", lr=0.001)
    elif damage == "other_model":
        name = _state_of(run, tiny_folder, tmp_path / "o", model="resnet10t")
    else:
        name = damage(run)
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pimm: error:") and "\n" not in err, err
    assert str(run / name) in err and expected in err, err


class _RunsCode:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch PWNED",))


def test_state_file_that_would_run_code_is_refused(one_epoch: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run = _copy(one_epoch, tmp_path / "run")
    state = torch.load(run / "state.pt", weights_only=True)
    state["payload"] = _RunsCode()
    real = (run / "state.pt").resolve()
    torch.save(state, real)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "refusing to load" in err and str(run / "state.pt") in err
    assert not (tmp_path / "PWNED").exists()


def test_best_epoch_before_the_last_survives_a_resume(tiny_folder: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    scores = {1: 50.0, 2: 90.0, 3: 60.0, 4: 70.0}
    real = session_module.evaluate

    def scripted(*args: object, **kwargs: object) -> dict:
        result = real(*args, **kwargs)
        epoch = int(str(kwargs["label"]).split()[1].split("/")[0])
        return {**result, "top1": scores[epoch]}

    monkeypatch.setattr(session_module, "evaluate", scripted)
    opts = _opts(tiny_folder, tmp_path, epochs=4)
    run_training(make_config(opts), max_epochs=2)
    run = tmp_path / "run"
    shutil.copytree(run / "last", tmp_path / "epoch2")
    run_training(make_config({"resume": str(run)}), max_epochs=1)
    result = run_training(make_config({"resume": str(run)}))
    assert result.epochs_done == 4 and (result.best_metric, result.best_epoch) == (90.0, 2)
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["best_metric"], summary["best_epoch"]) == (90.0, 2)
    assert same_weights(run / "best", tmp_path / "epoch2") and not same_weights(run / "last", tmp_path / "epoch2")


def test_run_of_an_older_pimm_layout_resumes_and_is_adopted(one_epoch: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from pimm.core.app.train.checkpoint import CHECKPOINT_DIR, LINKED

    run = _copy(one_epoch, tmp_path / "run")
    for name in LINKED:  # the layout before committed generations: real files in the run directory
        link = run / name
        if link.is_symlink():
            target = link.resolve()
            link.unlink()
            (shutil.copytree if target.is_dir() else shutil.copyfile)(target, link)
    shutil.rmtree(run / CHECKPOINT_DIR)
    rows = (run / "metrics.csv").read_text()
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert "moved the checkpoint of an older pimm" in capsys.readouterr().out
    assert all((run / name).is_symlink() for name in ("last", "best", "state.pt", "metrics.csv"))
    text = (run / "metrics.csv").read_text()
    assert text.startswith(rows) and len(text.splitlines()) == 3
