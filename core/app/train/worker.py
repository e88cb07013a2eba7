"""Entry point of the processes ``--nproc N`` starts: ``python -m pimm.core.app.train.worker TASK CONFIG.json``.

Errors print one line (``pimm: error: ...``) on stderr, which the launching process reports.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run one process's share of a training or validation run; return the exit status."""
    from ...errors import PimmError

    task, path = argv
    payload = Path(path).read_text()
    try:
        if task == "train":
            from .config import TrainConfig
            from .launch import _run

            cfg = TrainConfig.model_validate_json(payload)
            _run(cfg.model_copy(update={"nproc": 1}), max_epochs(), wall_start())
        else:
            from .validate import ValidateConfig, _validate

            _validate(ValidateConfig.model_validate_json(payload))
    except PimmError as exc:
        print(f"pimm: error: {exc}", file=sys.stderr)
        report(str(exc))
        return 2
    except BaseException as exc:  # noqa: BLE001 - the launcher must learn why this process stopped
        import traceback

        traceback.print_exc()
        report(f"{type(exc).__name__}: {exc}")
        return 1
    return 0


def report(message: str) -> None:
    """Leave ``message`` in the error file the launcher reads (``PIMM_ERROR_FILE``), if it gave one."""
    path = os.environ.get("PIMM_ERROR_FILE")
    if path:
        with open(path, "w") as f:
            f.write(" ".join(message.split()) + "\n")


def max_epochs() -> int | None:
    """The per-call epoch limit the launcher passed (through the environment)."""
    import os

    value = os.environ.get("PIMM_MAX_EPOCHS")
    return int(value) if value else None


def wall_start() -> float:
    """The launcher's start time (wall clock), so timings include the process start."""
    import os
    import time

    return float(os.environ.get("PIMM_WALL_START", time.time()))


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # The run is over and its process group left. Exit without interpreter teardown: destructors of
    # torch's background (gloo, DataLoader) threads can abort at exit ("terminate called without an
    # active exception") after a successful run, which the launcher would report as a failure.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
