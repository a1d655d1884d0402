"""Holding what this process sends: the outbox's heartbeat, and adopting a replaced process's sending."""

import logging
import threading
import time

from sqlalchemy.orm import Session

from coaching import outbox
from coaching.leases import HEARTBEAT
from handlers.deps import Deps

log = logging.getLogger(__name__)


class Held:
    """The outbox's heartbeat: the rows this process's senders hold, leased again once their lease
    is HEARTBEAT old (on a daemon thread of its own, in every process that sends: web, clock,
    command line) until let go. A send that takes less than that costs no renewal. A row held
    longer than FORGET (its sender vanished without letting go) is no longer renewed: its lease
    runs out and a sweep takes it over."""

    FORGET = 300.0  # seconds; far longer than a send, or than a patient sender's longest wait and a send

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> (owner, held since, last leased, deps)
        self._rows: dict[int, tuple[str, float, float, Deps]] = {}
        self._thread: threading.Thread | None = None

    def hold(self, deps: Deps, outbox_id: int, owner: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._rows[outbox_id] = (owner, now, now, deps)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="outbox-heartbeat", daemon=True)
                self._thread.start()

    def let_go(self, outbox_id: int) -> None:
        with self._lock:
            self._rows.pop(outbox_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._rows)

    def let_go_all(self) -> None:
        """Hold nothing any more (a process about to die, as a test plays one)."""
        with self._lock:
            self._rows.clear()

    def renew(self, *, every: float = HEARTBEAT.total_seconds()) -> int:
        """One beat: every row held whose lease is `every` seconds old, leased again from now on
        the database's clock."""
        now = time.monotonic()
        by_deps: dict[int, tuple[Deps, dict[int, str]]] = {}
        with self._lock:
            for outbox_id, (owner, since, leased, deps) in list(self._rows.items()):
                if now - since > self.FORGET:
                    del self._rows[outbox_id]
                elif now - leased >= every:
                    by_deps.setdefault(id(deps.db), (deps, {}))[1][outbox_id] = owner
                    self._rows[outbox_id] = (owner, since, now, deps)
        renewed = 0
        for deps, held in by_deps.values():
            with deps.bookkeeping() as session:
                kept = outbox.renew_held(session, held)
            renewed += len(kept)
            with self._lock:  # not renewed: sent and recorded, rolled back, or taken over; not ours
                for outbox_id in held.keys() - kept:
                    if self._rows.get(outbox_id, ("",))[0] == held[outbox_id]:
                        del self._rows[outbox_id]
        return renewed

    def _beat(self) -> None:
        while True:
            # A daemon thread's beat on the wall clock: the leases it renews are kept on the
            # database's clock, so only the spacing of renewals depends on this sleep.
            time.sleep(HEARTBEAT.total_seconds() / 2)
            try:
                self.renew()
            except Exception:  # the next beat tries again; meanwhile the leases still have seconds
                log.exception("Couldn't renew the outbox's leases")


HELD = Held()


def adopt_sending(session: Session) -> int:
    """At start-up on SQLite: what the replaced process was sending is free at once (all but
    what this process holds already)."""
    return outbox.adopt(session, keep=HELD.ids())
