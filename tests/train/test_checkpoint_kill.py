"""A kill at any point of the checkpoint commit leaves the new or the previous complete checkpoint,
and ``--resume`` then finishes the run bit-identically to an uninterrupted one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from run_helpers import fast_options, same_weights, strip_timing

from pimm.core.app.train import checkpoint
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training
from pimm.core.app.train.metrics import read_metrics


class Killed(BaseException):
    """Stands for the process dying: a BaseException, so no `except Exception` in pimm swallows it."""


@pytest.fixture(scope="module")
def reference(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """An uninterrupted 2-epoch run, and the names of the commit points of its second checkpoint."""
    out = tmp_path_factory.mktemp("ref")
    points: list[str] = []
    checkpoint.fault_hook = lambda name, path: points.append(name)
    try:
        run_training(make_config(fast_options(tiny_folder, out)))
    finally:
        checkpoint.fault_hook = None
    half = len(points) // 2
    assert points[:half] == points[half:] and points[0] == "begin"
    return out / "run", points[half:]


def _kill_at(point: str, occurrence: int):
    seen = {"n": 0}

    def hook(name: str, path: Path) -> None:
        if name == point:
            seen["n"] += 1
            if seen["n"] == occurrence:
                if point in ("model:last", "state"):  # a torn file as well: the kill hit mid-write
                    target = path / "model.safetensors" if path.is_dir() else path
                    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
                raise Killed(point)
    return hook


def _check_resumes_exactly(run: Path, ref: Path) -> None:
    assert run.is_dir()
    assert checkpoint.has_checkpoint(run)
    done = checkpoint.epochs_done(run)
    assert done in (1, 2)
    rows = read_metrics(run / "metrics.csv")
    assert len(rows) == done and strip_timing(rows) == strip_timing(read_metrics(ref / "metrics.csv"))[:done]
    resumed = run_training(make_config({"resume": str(run)}))
    assert resumed.epochs_done == 2
    for sub in ("last", "last_ema", "best"):
        assert same_weights(run / sub, ref / sub), sub
    assert strip_timing(read_metrics(run / "metrics.csv")) == strip_timing(read_metrics(ref / "metrics.csv"))
    assert not any(p.name.endswith(".tmp") for p in (run / checkpoint.CHECKPOINT_DIR).iterdir())
    assert sorted(p.name for p in (run / checkpoint.CHECKPOINT_DIR).iterdir()) == ["current", "gen-000002"]


def test_kill_at_every_commit_point_then_resume_exactly(reference: tuple[Path, list[str]], tiny_folder: Path,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, points = reference
    assert len(points) >= 12, points
    for i, point in enumerate(points):
        out = tmp_path / f"k{i}"
        checkpoint.fault_hook = _kill_at(point, 2)  # during the second epoch's commit
        try:
            with pytest.raises(Killed):
                run_training(make_config(fast_options(tiny_folder, out)))
        finally:
            checkpoint.fault_hook = None
        capsys.readouterr()
        _check_resumes_exactly(out / "run", ref)
        said = capsys.readouterr().out
        leftover = point not in ("begin", "prune")  # a kill after the new folder exists leaves something to clean
        assert ("left by an interrupted run" in said) == leftover, (point, said)


_SCRIPT = """
import os, signal, sys
from pathlib import Path
from pimm.core.app.train import checkpoint
from pimm.core.app.train.config import make_config
from pimm.core.app.train.launch import run_training
point, occurrence, options = sys.argv[1], int(sys.argv[2]), eval(sys.argv[3])
seen = [0]
def hook(name, path):
    if name == point:
        seen[0] += 1
        if seen[0] == occurrence:
            os.kill(os.getpid(), signal.SIGKILL)
checkpoint.fault_hook = hook
run_training(make_config(options))
"""


def _sigkill_run(point: str, occurrence: int, options: dict) -> None:
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, point, str(occurrence), repr(options)],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == -9, proc.stderr[-2000:]


@pytest.mark.parametrize("point, occurrence", [("model:best", 1)])
def test_sigkill_in_a_real_process_then_resume(point: str, occurrence: int, reference: tuple[Path, list[str]],
                                                tiny_folder: Path, tmp_path: Path) -> None:
    ref, _ = reference
    _sigkill_run(point, occurrence, fast_options(tiny_folder, tmp_path))
    run = tmp_path / "run"
    if occurrence == 1 and point != "switch":  # killed before the first checkpoint: resume starts over
        assert not checkpoint.has_checkpoint(run)
        assert run_training(make_config({"resume": str(run)})).epochs_done == 2
        assert same_weights(run / "last", ref / "last")
        return
    _check_resumes_exactly(run, ref)


@pytest.mark.large
def test_sigkill_at_every_point_of_both_commits(reference: tuple[Path, list[str]], tiny_folder: Path,
                                                tmp_path: Path) -> None:
    ref, points = reference
    for occurrence in (1, 2):
        for i, point in enumerate(points):
            out = tmp_path / f"k{occurrence}-{i}"
            _sigkill_run(point, occurrence, fast_options(tiny_folder, out))
            run = out / "run"
            if not checkpoint.has_checkpoint(run):
                assert occurrence == 1
                assert run_training(make_config({"resume": str(run)})).epochs_done == 2
                assert same_weights(run / "last", ref / "last")
                continue
            _check_resumes_exactly(run, ref)
            shutil.rmtree(out)
