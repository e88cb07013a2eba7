"""torchrun entry point for the restart test: ``pimm train ARGS``, where on the first attempt the process
of rank 1 is SIGKILLed when its second epoch starts (after the first epoch's checkpoint)."""

import os
import signal
import sys

from pimm.core.app.train import session

if os.environ.get("TORCHELASTIC_RESTART_COUNT") == "0" and os.environ.get("RANK") == "1":
    _real = session.train_one_epoch

    def _dying(st, loader, epoch, *args, **kwargs):  # type: ignore[no-untyped-def]
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return _real(st, loader, epoch, *args, **kwargs)

    session.train_one_epoch = _dying

if __name__ == "__main__":
    from pimm.core.app.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
