"""A plugin for the launcher tests: at import it writes a lot to stdout and stderr (a chatty worker),
with ``PIMM_TEST_DIE_RANK=N`` the process of rank N dies by SIGKILL instead, and with
``PIMM_TEST_SLEEP=S`` every worker sleeps S seconds first."""

import os
import signal
import sys

from pimm.core import hookimpl

if os.environ.get("PIMM_TEST_DIE_RANK") == os.environ.get("RANK", "-"):
    os.kill(os.getpid(), signal.SIGKILL)
if os.environ.get("PIMM_TEST_SLEEP") and "RANK" in os.environ:  # a worker busy for a while
    import time

    time.sleep(float(os.environ["PIMM_TEST_SLEEP"]))

if "RANK" in os.environ:  # where this worker's temporary files go
    import tempfile

    sys.stderr.write(f"chatty worker tmpdir={tempfile.gettempdir()}\n")
_LINE = "chatty worker output " * 4 + "\n"
for _ in range(int(os.environ.get("PIMM_TEST_CHATTY_LINES", "0"))):
    sys.stderr.write(_LINE)
    sys.stdout.write(_LINE)
sys.stderr.flush()
sys.stdout.flush()


@hookimpl
def pimm_pools() -> list:
    """Provides nothing: the plugin exists for its side effects at import."""
    return []
