"""``--nproc`` never hangs on chatty workers and fails fast when one dies; torchrun restarts continue the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import tiny_model

HERE = Path(__file__).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", TMPDIR=str(tmp_path / "tmp"),
               PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]), PIMM_PLUGINS="chatty_plugin")
    env.update(extra)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return env


def _train_args(data: Path, out: Path) -> list[str]:
    return ["--data", str(data), "--output", str(out), "--experiment", "run", "--model", tiny_model(),
            "--img-size", "16", "--batch-size", "8", "--threads", "1", "--workers", "0", "--epochs", "2",
            "--lr", "0.05", "--warmup-epochs", "0"]


def test_chatty_workers_do_not_deadlock(tiny_folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_folder, data)
    (data / "train" / "red" / "broken.png").write_bytes(b"not a png")  # the workers log a bad sample
    # 3000 lines of ~90 bytes on each stream of each worker: four times a pipe's 64 KiB buffer
    env = _env(tmp_path, PIMM_TEST_CHATTY_LINES="3000")
    cmd = [sys.executable, "-m", "pimm.core.app.cli", "train", "--nproc", "2", *_train_args(data, tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("chatty worker output") >= 2 * 3000  # both workers' output came through
    assert "broken.png" in proc.stderr
    # the workers' temporary files (e.g. the datasets' shared bad-sample logs) live in the launcher's folder,
    # which goes with the run even when a worker is killed before its own cleanup
    tmpdirs = {line.split("=", 1)[1] for line in proc.stderr.splitlines() if line.startswith("chatty worker tmpdir=")}
    assert len(tmpdirs) == 1 and Path(tmpdirs.pop()).name.startswith("pimm-launch-"), proc.stderr[:2000]
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()
    assert list((tmp_path / "tmp").glob("pimm-*")) == []  # the launcher's temporary files are gone


def test_a_dying_worker_fails_the_run_fast(tiny_folder: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, PIMM_TEST_DIE_RANK="1")
    cmd = [sys.executable, "-m", "pimm.core.app.cli", "train", "--nproc", "2", *_train_args(tiny_folder, tmp_path)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "pimm: error: process 1 of 2 failed: killed by signal SIGKILL", last
    assert time.monotonic() - start < 120
    assert not (tmp_path / "run").exists()  # failed before its first checkpoint: no run directory left
    assert list((tmp_path / "tmp").glob("pimm-*")) == []


def test_sigterm_to_the_launcher_stops_workers_and_removes_temporary_files(tiny_folder: Path, tmp_path: Path) -> None:
    import signal

    env = _env(tmp_path, PIMM_TEST_SLEEP="60")
    cmd = [sys.executable, "-m", "pimm.core.app.cli", "train", "--nproc", "2", *_train_args(tiny_folder, tmp_path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "tmp").glob("pimm-launch-*/config.json")) and time.monotonic() < deadline:
            time.sleep(0.2)  # the payload is written just before the workers start
        assert list((tmp_path / "tmp").glob("pimm-launch-*")), "the launcher did not start its workers"
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert list((tmp_path / "tmp").glob("pimm-*")) == [], err[-2000:]
    assert not (tmp_path / "run").exists()


def test_torchrun_restart_continues_from_the_last_checkpoint(tiny_folder: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    env.pop("PIMM_PLUGINS")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "--max-restarts", "1", "--monitor-interval", "0.2", str(HERE / "kill_once.py"),
           *_train_args(tiny_folder, tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "torchrun restart 1: continuing" in proc.stdout and "after epoch 1" in proc.stdout, proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("run")) == ["run"]
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_done"] == 2


def test_torchrun_ranks_do_not_wait_when_rank_0_cannot_set_up_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{broken")
    env = _env(tmp_path)
    env.pop("PIMM_PLUGINS")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "pimm.core.app.cli", "train", "--resume", str(run)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("pimm: error:")]
    assert len(errors) == 2 and all("not valid JSON" in line for line in errors), proc.stderr[-3000:]
