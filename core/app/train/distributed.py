"""Distributed training helpers: torchrun environment, process groups, samplers, exact reductions.

``torchrun --nproc_per_node=N -m pimm.core.cli train ...`` sets ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK``; ``pimm train --nproc N`` starts N local processes itself with the same variables.
Either way each process joins one process group (gloo on CPU, nccl on CUDA). Only rank 0 logs and
writes files. Validation is exact: each rank evaluates a disjoint slice of the dataset with no
padding, and sums and counts are all-reduced, so every sample is counted exactly once.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
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
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def cleanup() -> None:
    """Leave the process group if one was joined."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


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


def launch_local(nproc: int, task: str, payload: str) -> None:
    """Run ``task`` ('train' or 'validate') with ``payload`` (a config as JSON) in ``nproc`` local processes.

    Each process is a fresh interpreter (``python -m pimm.core.app.train.worker``) with the environment
    torchrun would give it. The call returns when all have finished; if any fails, the others are
    stopped and a :class:`~pimm.core.errors.PimmError` carries the failing process's last message.
    """
    import subprocess
    import sys
    import tempfile
    import time

    from ...errors import PimmError

    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(payload)
        path = f.name
    procs = []
    try:
        for rank in range(nproc):
            env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
                       LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
            procs.append(subprocess.Popen([sys.executable, "-m", "pimm.core.app.train.worker", task, path], env=env,
                                          stderr=subprocess.PIPE, text=True))
        failed = None
        while any(p.poll() is None for p in procs):
            failed = next((p for p in procs if p.poll() not in (None, 0)), None)
            if failed is not None:
                break
            time.sleep(0.05)
        failed = failed or next((p for p in procs if p.returncode not in (None, 0)), None)
        if failed is not None:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                p.wait()
            err = failed.stderr.read() if failed.stderr else ""
            lines = [ln for ln in err.strip().splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit status {failed.returncode}"
            raise PimmError(f"process {procs.index(failed)} of {nproc} failed: {last.removeprefix('pimm: error: ')}")
        for p in procs:
            rest = p.stderr.read() if p.stderr else ""
            if rest.strip():
                sys.stderr.write(rest)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            if p.stderr:
                p.stderr.close()
        os.unlink(path)
