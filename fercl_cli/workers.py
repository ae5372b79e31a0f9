"""Worker processes that never outlive the fercl process that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Call first in a worker's initializer: the worker is killed when ``parent_pid`` (the process that
    started it) dies, even by ``kill -9``.

    On Linux this asks the kernel for SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``); a
    parent already gone before the call makes the worker exit at once. Elsewhere only that check runs.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)
