"""The thread pool Bolt runs listeners on, sized for a team, able to say when it is idle, and to
hand its queued work back to the inbox when the process stops."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class ListenerPool(ThreadPoolExecutor):
    """Bolt's default pool has 5 workers: a sixth slow listener at once would miss its 3-second ack.

    `wait_idle` lets the try-out (and tests) wait until every listener has finished, instead of
    sleeping and hoping. `hand_back` is how a stopping process lets go of its work (bot/server.py).
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._running = 0
        self._idle = threading.Condition()
        self.stopping = threading.Event()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if self.stopping.is_set():
            # Work offered while the process stops (a request still being acknowledged, a
            # recovery pass) is not refused with an error: Bolt would answer it with a 500 and
            # "nothing was saved" although its inbox row is kept. It stays in the inbox, untaken,
            # and the next process does it once.
            log.info("Stopping: work left in the inbox for the next process")
            return _left_for_later()
        with self._idle:
            self._running += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def hand_back(self, *, timeout: float | None = None) -> int:
        """Stop: work already started finishes (it took its inbox row and will mark it done); work
        still queued is cancelled, its inbox row untaken, so the next process resumes it. Returns
        how many were handed back."""
        self.stopping.set()
        handed_back = 0
        # The executor's own queue: cancel every queued task before waiting for the running ones.
        while True:
            try:
                item = self._work_queue.get_nowait()
            except Exception:  # queue.Empty
                break
            if item is not None and item.future.cancel():
                handed_back += 1
        if handed_back:
            log.info("Stopping: %d queued requests left in the inbox for the next process", handed_back)
        if timeout is None:
            self.shutdown(wait=True)
        else:
            self.shutdown(wait=False)
            self.wait_idle(timeout)
        return handed_back

    def _done(self, _future: Any) -> None:
        with self._idle:
            self._running -= 1
            if self._running == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout)


def _left_for_later() -> "Future[Any]":
    future: Future[Any] = Future()
    future.cancel()
    return future
