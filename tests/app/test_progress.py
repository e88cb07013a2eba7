"""Progress: a tqdm bar with ETA and figures on a terminal; a line every --log-interval batches in a log."""

from __future__ import annotations

import io
from pathlib import Path

from app_helpers import app_options

from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training
from pimm.core.app.train.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drive(bar: Progress, total: int) -> None:
    for done in range(1, total + 1):
        if bar.due(done):
            bar.update(done, loss=1.5 / done, acc=10.0 * done, img_s=100.0)
    bar.close("epoch 1 train: done")


def test_log_gets_a_line_every_interval_with_eta():
    log = io.StringIO()
    _drive(Progress("epoch 1 train", 7, stream=log, interval=3), 7)
    lines = log.getvalue().splitlines()
    assert [line.split()[3] for line in lines[:-1]] == ["3/7", "6/7", "7/7"]
    assert "loss 0.5 acc 30.0% 100 img/s" in lines[0] and "eta" in lines[0] and "elapsed" in lines[0]
    assert lines[-1] == "epoch 1 train: done" and "\r" not in log.getvalue()


def test_terminal_gets_a_tqdm_bar_with_eta_and_figures():
    term = _Terminal()
    _drive(Progress("epoch 1 train", 5, stream=term, interval=50), 5)
    text = term.getvalue()
    assert "\r" in text and "epoch 1 train" in text and "5/5" in text
    assert "<" in text  # tqdm's elapsed<remaining
    assert "acc 50.0%" in text and "img/s" in text
    assert text.rstrip().endswith("epoch 1 train: done")


def test_disabled_progress_is_silent():
    log = io.StringIO()
    bar = Progress("x", 4, enabled=False, stream=log, interval=1)
    assert not bar.due(1)
    bar.close("summary")
    assert log.getvalue() == ""


def test_training_log_follows_log_interval(app_folder: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    run_training(make_config(app_options(app_folder, tmp_path, epochs=1, log_interval=2)))
    out = capsys.readouterr().out
    steps = [line.split()[3] for line in out.splitlines() if line.startswith("epoch 1/1 train ")]
    assert steps == ["2/6", "4/6", "6/6"], out


def test_end_of_run_message_names_the_curves_and_metrics_files(app_folder: Path, tmp_path: Path, capsys,
                                                                 monkeypatch):
    monkeypatch.setenv("PIMM_CACHE_DIR", str(tmp_path / "cache"))
    result = run_training(make_config(app_options(app_folder, tmp_path, epochs=1)))
    out = capsys.readouterr().out
    line = f"learning curves: {result.run_dir / 'curves.png'}; metrics per epoch: {result.run_dir / 'metrics.csv'}"
    assert line in out.splitlines()
    assert (result.run_dir / "curves.png").is_file() and (result.run_dir / "metrics.csv").is_file()
