"""The thread pool Bolt runs listeners on, sized for a team, able to say when it is idle, and to
hand its queued work back to the inbox when the process stops.

A request's work waits for its acknowledgement: it is held until the acknowledgement has been
written (`after_answer`, used by bot/front_door.py). Started at once, the work took the
interpreter and a core from the thread writing the acknowledgement it had just been handed
(issue 19: /logcall's acknowledgement at 20 a second on SQLite, p50 4.6 ms with and 2.7 ms
without, against the bare-Bolt floor's 1.5 ms).
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from functools import partial
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class Held:
    """The work one request thread offered while answering: started by `release`, once."""

    def __init__(self, pool: "ListenerPool") -> None:
        self.pool = pool
        self.tasks: list[tuple[Future[Any], Callable[[], Any]]] = []
        self.released = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        tasks, self.tasks = self.tasks, []
        for placeholder, task in tasks:
            started = self.pool._start(task)
            if started is None:
                placeholder.cancel()
            else:
                started.add_done_callback(partial(_copy, to=placeholder))


_HELD: ContextVar[Held | None] = ContextVar("baton_held_work", default=None)


class ListenerPool(ThreadPoolExecutor):
    """Bolt's default pool has 5 workers: a sixth slow listener at once would miss its 3-second ack.

    `wait_idle` lets the try-out (and tests) wait until every listener has finished, held work
    included, instead of sleeping and hoping. `hand_back` is how a stopping process lets go of
    its work (bot/server.py).
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._running = 0
        self._idle = threading.Condition()
        self.stopping = threading.Event()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._idle:
            self._running += 1  # held or started, it is work `wait_idle` waits for
        task = partial(fn, *args, **kwargs)
        held = _HELD.get()
        if held is not None and held.pool is self and not held.released:
            placeholder: Future[T] = Future()
            held.tasks.append((placeholder, task))
            return placeholder
        return self._start(task) or _left_for_later()

    @contextlib.contextmanager
    def after_answer(self) -> Iterator[Held]:
        """Work this thread offers inside the block is held until the `Held` is released: the
        front door releases it once the acknowledgement is written."""
        held = Held(self)
        token = _HELD.set(held)
        try:
            yield held
        finally:
            _HELD.reset(token)

    def _start(self, task: Callable[[], Any]) -> "Future[Any] | None":
        """Start counted work, or leave it for the next process (None) if this one is stopping."""
        if self.stopping.is_set():
            # Work offered while the process stops (a request still being acknowledged, a
            # recovery pass) is not refused with an error: Bolt would answer it with a 500 and
            # "nothing was saved" although its inbox row is kept. It stays in the inbox, untaken,
            # and the next process does it once.
            log.info("Stopping: work left in the inbox for the next process")
            self._done(None)
            return None
        try:
            future = super().submit(task)
        except RuntimeError:  # shut down under us: the same, the inbox row stays for the next process
            log.info("Stopped: work left in the inbox for the next process")
            self._done(None)
            return None
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


def _copy(done: "Future[Any]", to: "Future[Any]") -> None:
    if done.cancelled():
        to.cancel()
    elif (error := done.exception()) is not None:
        to.set_exception(error)
    else:
        to.set_result(done.result())


def _left_for_later() -> "Future[Any]":
    future: Future[Any] = Future()
    future.cancel()
    return future
