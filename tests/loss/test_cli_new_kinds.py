"""`pimm list`, `pimm info`, `pimm plugins` and `pimm check` cover the scheduler, loss and logger kinds."""

from __future__ import annotations

import subprocess
import sys


def _pimm(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "pimm.core.cli", *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_list_info_plugins():
    assert {"cosine", "multistep", "plateau", "tanh"} <= set(_pimm("list", "scheduler").split())
    assert {"bce", "cross_entropy", "label_smoothing", "soft_target"} <= set(_pimm("list", "loss").split())
    assert {"csv", "jsonl", "tensorboard", "text"} <= set(_pimm("list", "logger").split())
    info = _pimm("info", "loss", "bce")
    assert "targets" in info and "pos_weight" in info
    plugins = _pimm("plugins")
    assert "7 schedulers" in plugins and "4 losses" in plugins and "4 loggers" in plugins


def test_check_runs_the_new_kinds_checks():
    out = _pimm("check", "schedulers", "-v")
    assert "check_scheduler_state_resumes_the_same_lrs" in out and " 0 failed" in out
