"""Freed host memory kept for the next step (glibc): measured by the page faults a re-allocation costs, in a
fresh process each time (the setting is process-wide and is not undone)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pimm.core.app.train.host_memory import _glibc

_PROBE = r"""
import json, resource, sys
import torch
reason = "default"
if sys.argv[1] == "keep":
    from pimm.core.app.train.host_memory import keep_freed_memory
    reason = keep_freed_memory()
faults = []
for _ in range(10):  # a step's pattern: the same large tensors made, touched and freed every time
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    xs = [torch.ones(10 * 2**20) for _ in range(3)]  # 3 x 40 MiB
    del xs
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"reason": reason, "faults": faults}))
"""


def _probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(_glibc() is None, reason="glibc's malloc only (Linux)")
def test_a_freed_block_is_reused_without_page_faults():
    default, kept = _probe("default"), _probe("keep")
    pages = 3 * 40 * 2**20 // 4096
    # glibc's default unmaps the 40 MiB blocks when freed and maps fresh pages in again at every step
    assert min(default["faults"][-3:]) > pages // 2, default
    # kept: after a few steps (glibc's aligned allocations settle into the freed blocks) no step faults
    assert max(kept["faults"][-3:]) < pages // 50, kept
    assert kept["reason"].startswith("on: freed blocks stay with the process")


def test_only_cpu_runs_plan_it_and_the_opt_out_is_kept():
    import torch
    from torch import nn

    from pimm.core.app.train.fast_defaults import plan_speed

    model = nn.Conv2d(3, 4, 3)
    auto = plan_speed(torch.device("cpu"), model, keep_memory=None, cpu_flag=None)
    assert auto.keep_memory and auto.reasons["keep_memory"] == "on: the step runs on the CPU"
    off = plan_speed(torch.device("cpu"), model, keep_memory=False, cpu_flag=None)
    assert not off.keep_memory and off.reasons["keep_memory"] == "off (--no-keep-memory)"
    assert "freed memory reused" in auto.banner() and "freed memory reused" not in off.banner()
