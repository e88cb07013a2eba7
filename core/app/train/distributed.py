"""Distributed training helpers: torchrun environment, process groups, samplers, exact reductions.

``torchrun --nproc_per_node=N -m pimm.core.cli train ...`` sets ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK``; ``pimm train --nproc N`` starts N local processes itself with the same variables.
Either way each process joins one process group (gloo on CPU, nccl on CUDA). Only rank 0 logs and
writes files. Validation is exact: each rank evaluates a disjoint slice of the dataset with no
padding, and sums and counts are all-reduced, so every sample is counted exactly once.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DistInfo", "dist_info", "init_distributed", "cleanup", "all_reduce_sums", "EvalShardSampler",
           "launch_local", "free_port", "barrier", "broadcast_object"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: its rank, the world size and its local rank."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that logs and writes files."""
        return self.rank == 0


def dist_info() -> DistInfo:
    """The rank/world size torchrun (or ``--nproc``) put in the environment; one process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return DistInfo()
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def init_distributed(info: DistInfo, device_type: str) -> None:
    """Join the process group (nccl for CUDA, gloo otherwise) when running distributed."""
    if not info.distributed:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        return
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        import torch

        torch.cuda.set_device(info.local_rank % torch.cuda.device_count())
    restart = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if restart is None:
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
        return
    # Under torchrun the store can outlive a restarted attempt: keys of the dead attempt's processes
    # (their addresses) would be read by the new ones. One key prefix per attempt keeps them apart.
    store, rank, world = next(dist.rendezvous("env://", rank=info.rank, world_size=info.world_size))
    store = dist.PrefixStore(f"pimm/attempt-{restart}", store)
    dist.init_process_group(backend=backend, store=store, rank=rank, world_size=world)


def cleanup() -> None:
    """Leave the process group if one was joined."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except RuntimeError:  # a peer that already left after the run: nothing is lost by not saying goodbye
            pass


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def broadcast_object(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (identity when not distributed)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_reduce_sums(values: list[float], device: Any) -> list[float]:
    """Element-wise sums of ``values`` over all processes (float64; identity when not distributed)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


class EvalShardSampler:
    """Indices ``rank, rank + world, ...`` of a dataset: disjoint, covering, without padding."""

    def __init__(self, size: int, rank: int, world_size: int) -> None:
        self.indices = list(range(rank, size, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def free_port() -> int:
    """A TCP port that was free a moment ago on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def launch_local(nproc: int, task: str, payload: str, env: dict[str, str] | None = None) -> None:
    """Run ``task`` ('train' or 'validate') with ``payload`` (a config as JSON) in ``nproc`` local processes.

    Each process is a fresh interpreter (``python -m pimm.core.app.train.worker``) with the environment
    torchrun would give it, plus ``env``. Their output is not captured: it streams straight to this
    process's stdout/stderr, so a chatty worker can never block on a full pipe. Each worker reports
    a failure in its own error file (``PIMM_ERROR_FILE``); the call returns when all have finished,
    and as soon as one fails the others are stopped and a :class:`~pimm.core.errors.PimmError`
    carries the failing process's message. The workers' temporary folder (``TMPDIR``, also
    ``PIMM_RUN_TMPDIR``) is one folder of the launcher's, holding the payload, the error files and
    whatever the workers put there (e.g. the shared bad-sample logs of the datasets), and it is
    removed on every way out, SIGTERM included, even when a worker was killed before its own cleanup.
    """
    import signal
    import subprocess
    import sys
    import tempfile
    import threading
    import time

    from ...errors import PimmError

    port = free_port()
    procs: list[subprocess.Popen] = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        def _terminate(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)

        previous = signal.signal(signal.SIGTERM, _terminate)
    tmp = tempfile.mkdtemp(prefix="pimm-launch-")
    try:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            f.write(payload)
        errors = [os.path.join(tmp, f"error-{rank}.txt") for rank in range(nproc)]
        for rank in range(nproc):
            child = dict(os.environ, **(env or {}), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
                         LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                         PIMM_ERROR_FILE=errors[rank], PIMM_RUN_TMPDIR=tmp, TMPDIR=tmp)
            procs.append(subprocess.Popen([sys.executable, "-m", "pimm.core.app.train.worker", task, path], env=child))
        failed = None
        while failed is None and any(p.poll() is None for p in procs):
            failed = next((p for p in procs if p.poll() not in (None, 0)), None)
            if failed is None:
                time.sleep(0.05)
        failed = failed or next((p for p in procs if p.returncode not in (None, 0)), None)
        if failed is not None:
            rank = procs.index(failed)
            _stop(procs)
            try:
                message = Path(errors[rank]).read_text().strip()
            except OSError:
                message = ""
            last = message.splitlines()[-1] if message else _describe_exit(failed.returncode)
            raise PimmError(f"process {rank} of {nproc} failed: {last}")
    finally:
        _stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop(procs: list[Any]) -> None:
    """Terminate the processes still running, then kill those that do not exit within a few seconds."""
    import subprocess

    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
