"""Stop requests: SIGINT (Ctrl-C) and SIGTERM (batch schedulers) end a run at the next step boundary."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import torch

from fercl_cli.train.distributed import DistInfo


class StopRequests:
    """SIGINT and SIGTERM stop the run at the next step boundary, so the saved checkpoint is the state of
    the last completed step (BatchNorm statistics and counters included) and ``--resume`` is exact; a
    second signal stops at once, without saving over the last checkpoint.

    Handlers are installed only in the main thread (elsewhere Python cannot); DataLoader workers ignore
    both signals (:func:`ignore_stop_signals`) so that they outlive the step being finished.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def pending(self, dist: DistInfo) -> bool:
        """True when any process received a stop signal (one all-reduce under DDP, so all stop together)."""
        flag = self.received is not None
        if dist.world_size > 1:
            shared = torch.tensor([float(flag)], device=dist.device)
            torch.distributed.all_reduce(shared, op=torch.distributed.ReduceOp.MAX)
            flag = bool(shared.item())
        return flag


def ignore_stop_signals(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: the main process decides when to stop (see :class:`StopRequests`)."""
    for signum in StopRequests.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
