"""HTTP serving: the front door (bot/front_door.py) behind waitress, in production and in tests alike.

Waitress reads every request, headers and body, on its I/O thread and hands it to a worker thread
only once it is complete. A client that opens a connection and sends nothing, or sends its headers
and never its body, costs a socket and a small buffer, never a worker. `SlackServer` adds what
waitress lacks for a flood of them (issue 19): a request must arrive whole within
`REQUEST_DEADLINE` of its first byte, and when the connections reach their limit the oldest idle
or half-sent ones are closed to make room, instead of waitress's way of no longer accepting, which
left every new Slack request waiting in the backlog (520 half-sent connections stopped
acknowledgements). It also stops gracefully: on SIGTERM it stops accepting, answers every request
it has read, then closes (`drain`).
"""

import contextlib
import logging
import os
import resource
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from bot.front_door import MAX_BODY, FrontDoor, WsgiApp
from store.db import is_sqlite, takes_writes

if TYPE_CHECKING:
    from bot.app import Baton
    from bot.config import Settings

log = logging.getLogger("baton.server")

# Worker threads per web process. Each acknowledges in a few milliseconds (the work runs on the
# listener pool); the slowest thing one does is a lead search for a picker, capped at 2 seconds.
WEB_THREADS = 8
# Open connections per process before the oldest idle or half-sent ones are closed to make room.
# Each costs a file descriptor and a few kilobytes; 2,000 held open left acknowledgements as
# prompt as none (README, Performance). The process's file limit is raised to allow it.
CONNECTIONS = 10_000
# Slack sends a whole request in milliseconds; one still incomplete this long after its first
# byte is a slow or hostile client, and its connection is closed.
REQUEST_DEADLINE = 10.0
# Connections accepted per turn of the I/O loop, when many are waiting.
ACCEPT_BATCH = 128
# SIGTERM: requests already read get this long to be answered before the connections close
# (platforms send SIGKILL 30 s after SIGTERM; the listener pool needs some of that too).
DRAIN_GRACE = 10.0
WAITRESS: dict[str, Any] = {
    "threads": WEB_THREADS,
    "max_request_body_size": MAX_BODY + 1,  # waitress refuses at >=; the front door checks again
    "connection_limit": CONNECTIONS,
    "channel_timeout": 30,  # a connection silent this long is closed (Slack's requests take ms)
    "cleanup_interval": 1,  # how often the deadlines above are checked
    "asyncore_use_poll": True,  # select() stops at file descriptor 1024; poll() has no such limit
    "backlog": 1024,  # a burst of simultaneous commands must queue, not be refused
    "clear_untrusted_proxy_headers": True,
    "ident": "baton",
}


class SlackChannel(HTTPChannel):  # type: ignore[misc]
    """A connection that knows since when its current request has been arriving."""

    began: float | None = None  # the first byte of a request not yet complete

    def received(self, data: bytes) -> bool:
        partial = self.request
        result: bool = super().received(data)
        if self.request is None:
            self.began = None
        elif self.request is not partial or self.began is None:
            self.began = time.time()
        return result


class SlackServer(TcpWSGIServer):  # type: ignore[misc]
    """Waitress built for many slow clients, and for stopping without dropping what it has read."""

    channel_class = SlackChannel
    draining = False
    next_channel_cleanup: float = 0.0

    @classmethod
    def on(cls, application: WsgiApp, sock: socket.socket, **overrides: Any) -> "SlackServer":
        adj = Adjustments(**{**WAITRESS, **overrides, "sockets": [sock]})
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        info = (sock.family, sock.type, sock.proto, sock.getsockname())
        return cls(
            application, {}, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False, sockinfo=info
        )

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections, after channel_timeout
        for channel in list(self.active_channels.values()):
            if channel.began is not None and now - channel.began > REQUEST_DEADLINE and not channel.requests:
                channel.will_close = True

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) >= self.adj.connection_limit:
            # Waitress would stop accepting until some close by themselves; a Slack request would
            # then wait in the backlog behind a flood of idle connections. Make room instead.
            return self.make_room() > 0
        return True

    def handle_accept(self) -> None:
        # Waitress accepts one connection per turn of its loop, and each turn visits every open
        # connection: a flood of a thousand took a thousand turns, and a request from Slack waited
        # in the backlog behind them. Accept whatever is waiting, up to a batch.
        for _ in range(ACCEPT_BATCH):
            before = len(self._map)
            super().handle_accept()
            if len(self._map) == before or len(self._map) >= self.adj.connection_limit:
                return

    def make_room(self) -> int:
        """Close the oldest tenth of the connections that have no request being answered."""
        waiting = [c for c in self.active_channels.values() if not c.requests and not c.will_close]
        waiting.sort(key=lambda c: c.began or c.last_activity)
        closing = waiting[: max(1, self.adj.connection_limit // 10)]
        for channel in closing:
            channel.will_close = True
        if closing:
            log.warning(
                "%d connections open: closed the %d oldest idle or half-sent", len(self._map), len(closing)
            )
        return len(closing)

    def drain(self, grace: float = DRAIN_GRACE) -> None:
        """Stop accepting; answer every request already read (within `grace`); then close all, which
        ends `run`. Safe from any thread, and more than once."""
        self.trigger.pull_trigger(lambda: self._start_draining(time.monotonic() + grace))

    def _start_draining(self, deadline: float) -> None:
        if self.draining:
            return
        self.draining = True
        self.accepting = False
        # Close the listening socket: new connections are refused (or, on PostgreSQL, go to the
        # other web processes that share it) instead of waiting for a process that is leaving.
        self.del_channel()
        self.socket.close()
        threading.Thread(target=self._watch_drain, args=(deadline,), name="http-drain", daemon=True).start()

    def _watch_drain(self, deadline: float) -> None:
        done = threading.Event()

        def step() -> None:  # on the I/O thread
            busy = False
            for channel in list(self.active_channels.values()):
                if channel.requests or channel.total_outbufs_len:
                    busy = True
                else:  # idle, or a request only partly sent: nothing was kept from it
                    channel.will_close = True
            if not busy or time.monotonic() > deadline:
                for item in list(self._map.values()):
                    with contextlib.suppress(OSError):
                        item.close()
                done.set()

        while not done.is_set():
            with contextlib.suppress(OSError):  # the loop already ended: nothing left to close
                self.trigger.pull_trigger(step)
            if done.wait(0.02) or not self._map:
                return

    def finish(self) -> None:
        """After `run`: the worker threads answer what they hold, then stop."""
        self.task_dispatcher.shutdown(cancel_pending=False, timeout=DRAIN_GRACE)


def wsgi(baton: "Baton") -> FrontDoor:
    """Bolt at POST /slack/events, and GET /healthz (503 while the database can't take the write
    that comes before every acknowledgement)."""
    db = baton.deps.db
    return FrontDoor(
        baton.app,
        signing_secret=baton.signing_secret,
        healthy=lambda: takes_writes(db),
        hold=baton.pool.after_answer,
    )


class LocalServer:
    """Waitress on 127.0.0.1 in a thread of this process: the try-out and the tests serve the real app with it."""

    def __init__(
        self, application: WsgiApp, port: int = 0, *, threads: int = WEB_THREADS, **overrides: Any
    ) -> None:
        listener = socket.create_server(("127.0.0.1", port), backlog=WAITRESS["backlog"])
        self.server = SlackServer.on(application, listener, threads=threads, **overrides)
        self._thread = threading.Thread(target=self.server.run, name="local-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """At once: every connection closed, whatever it was doing (a test's end, a SIGKILL's stand-in)."""
        channels = self.server._map
        # The loop may already be over (every channel closed, the trigger with them): then there
        # is nothing left to close, and pulling a closed trigger would raise EBADF.
        with contextlib.suppress(OSError):
            self.server.trigger.pull_trigger(lambda: [c.close() for c in list(channels.values())])
        self._thread.join(timeout=5)
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def drain(self, grace: float = DRAIN_GRACE) -> None:
        """As on SIGTERM: stop accepting, answer what was read, then close."""
        self.server.drain(grace)
        self._thread.join(timeout=grace + 5)
        self.server.finish()


def prefer_quick_replies() -> None:
    """Let a thread that has a request to answer get the interpreter sooner.

    CPython hands the GIL over every 5 ms by default; while lazy listeners are busy, a request
    thread holding an acknowledgement can wait that long per switch. 0.5 ms keeps acks prompt at
    a small cost in throughput.
    """
    sys.setswitchinterval(0.0005)


def web_processes(settings: "Settings") -> int:
    """How many web processes `serve` runs: WEB_CONCURRENCY, but one on SQLite.

    SQLite lets one process write at a time; a second one only waits on the busy timeout (and a
    Slack request cannot wait), while the threads of one process take turns fairly (store/db.py).
    """
    if is_sqlite(settings.database_url):
        if settings.web_concurrency > 1:
            log.warning(
                "WEB_CONCURRENCY=%d asks for %d web processes; on SQLite Baton serves with one "
                "(use PostgreSQL, DATABASE_URL=postgresql://…, for several)",
                settings.web_concurrency,
                settings.web_concurrency,
            )
        return 1
    return settings.web_concurrency


def serve(settings: "Settings", *, port: int) -> int:
    """Serve on `port`: one waitress process, or on PostgreSQL WEB_CONCURRENCY of them sharing the socket.

    Each process builds its own app (engine, pool, Slack client) after the fork. SIGTERM (a
    deploy) makes each process stop gracefully (`_serve_one`).
    """
    allow_connections()
    listener = socket.create_server(("0.0.0.0", port), backlog=WAITRESS["backlog"])
    processes = web_processes(settings)
    if processes == 1:
        return _serve_one(settings, listener)
    children: list[int] = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's exit status is what the parent sees
            os._exit(_serve_one(settings, listener))
        children.append(pid)
    listener.close()

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):  # it has already exited
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while children:
        pid, code = os.wait()
        if pid in children:
            children.remove(pid)
            if os.waitstatus_to_exitcode(code) != 0 and children:
                # One web process died: stop the others too, so the platform restarts us whole.
                log.error("A web process exited with %s; stopping", os.waitstatus_to_exitcode(code))
                status = 1
                forward(signal.SIGTERM, None)
    return status


def allow_connections() -> None:
    """Raise this process's open-file limit to the hard limit: each connection is a descriptor, and
    many platforms start processes at a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, CONNECTIONS + 1024)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def connection_limit() -> int:
    """`CONNECTIONS`, or fewer if the file limit is lower (leaving room for the database and Slack)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS
    return max(100, min(CONNECTIONS, soft - 200))


def stop_gracefully(baton: "Baton", server: SlackServer, recovering: threading.Event) -> None:
    """What SIGTERM does to one web process (issue 19, deploys).

    1. Stop accepting; answer every request already read (each was written to the inbox before
       its acknowledgement), then close the connections.
    2. Stop the recovery pass, so this process takes no more work.
    3. The listener pool finishes the work it has started (it holds the inbox row and marks it
       done in its own transaction) and hands back the work still queued: its inbox row stays
       untaken, and the next process resumes it and answers once. Nothing offered to the pool
       from now on is refused with an error (which Bolt would answer "nothing was saved").
    """
    server.drain()
    recovering.set()
    # Steps 2 and 3 finish in `_serve_one` once the I/O loop has ended.


def _serve_one(settings: "Settings", listener: socket.socket) -> int:
    from bot.app import create

    prefer_quick_replies()
    baton = create(settings)
    recovering = threading.Event()  # set: stop recovering
    recovery = baton.keep_recovering(
        stop=recovering
    )  # finish what a killed process acknowledged (handlers/inbox.py)
    server = SlackServer.on(wsgi(baton), listener, connection_limit=connection_limit())

    def stop(signum: int, _frame: FrameType | None) -> None:
        # A signal handler runs between two bytecodes of the I/O loop: leave the work to a thread.
        threading.Thread(target=stop_gracefully, args=(baton, server, recovering), daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = listener.getsockname()[:2]
    log.info(
        "Baton is serving Slack on http://%s:%d/slack/events (process %d, %d threads)",
        host,
        port,
        os.getpid(),
        WEB_THREADS,
    )
    try:
        server.run()  # returns once every connection is closed (SIGTERM: after the drain)
    finally:
        server.finish()
        recovering.set()
        recovery.join(timeout=DRAIN_GRACE)  # a pass under way may be sending what the outbox owes
        handed_back = baton.pool.hand_back()
        try:  # their inbox rows free at once for the next process, not when this one's lease runs out
            baton.door.hand_back_all()
        except Exception:
            log.exception("Couldn't hand back the inbox rows; they are free when the lease runs out")
        log.info("Stopped: work in hand finished, %d queued requests left for the next process", handed_back)
        baton.deps.db.engine.dispose()
    return 0
