"""Reading a CRM on threads while the database is written: the rate limit's waits and the
database's work overlap instead of adding up."""

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
AHEAD = 4  # pages read from the CRM ahead of the one being written


def ahead(pages: Iterator[T], depth: int = AHEAD) -> Iterator[T]:
    """Read the next pages from the CRM on a thread while this one is written to the database:
    the rate limit's waits and the database's work overlap instead of adding up."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        ready.put(("page", page), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(("done", None))
        except BaseException as error:  # handed to the reader, which raises it
            ready.put(("error", error))

    reader = threading.Thread(target=read, name="crm-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()


class Background:
    """One function run on its own thread; `result()` waits for it and raises what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = work()
            except BaseException as error:  # handed to whoever asks for the result
                self._error = error

        self._thread = threading.Thread(target=run, name="crm-history", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
