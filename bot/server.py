"""HTTP serving: the front door (bot/front_door.py) behind waitress, in production and in tests alike.

Waitress reads every request, headers and body, on its I/O thread and hands it to a worker thread
only once it is complete. A client that opens a connection and sends nothing, or sends its headers
and never its body, costs a socket and a small buffer, never a worker: 40 such connections left
signed commands acknowledged in milliseconds (README, Performance), where gunicorn's threaded
workers gave each one a thread and kept real commands waiting past Slack's 3 seconds.
"""

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from waitress.server import create_server

from bot.front_door import MAX_BODY, FrontDoor, WsgiApp
from store.db import answers, is_sqlite

if TYPE_CHECKING:
    from bot.app import Baton
    from bot.config import Settings

log = logging.getLogger("baton.server")

# Worker threads per web process. Each acknowledges in a few milliseconds (the work runs on the
# listener pool); the slowest thing one does is a lead search for a picker, capped at 2 seconds.
WEB_THREADS = 8
WAITRESS: dict[str, Any] = {
    "threads": WEB_THREADS,
    "max_request_body_size": MAX_BODY + 1,  # waitress refuses at >=; the front door checks again
    "connection_limit": 500,  # idle connections cost a socket each, not a thread
    "channel_timeout": 30,  # a connection silent this long is closed (Slack's requests take ms)
    "asyncore_use_poll": True,  # select() stops at file descriptor 1024; poll() has no such limit
    "backlog": 1024,  # a burst of simultaneous commands must queue, not be refused
    "clear_untrusted_proxy_headers": True,
    "ident": "baton",
}


def wsgi(baton: "Baton") -> FrontDoor:
    """Bolt at POST /slack/events, and GET /healthz (503 while the database does not answer)."""
    db = baton.deps.db
    return FrontDoor(baton.app, signing_secret=baton.signing_secret, healthy=lambda: answers(db))


class LocalServer:
    """Waitress on 127.0.0.1 in a thread of this process: the try-out and the tests serve the real app with it."""

    def __init__(self, application: WsgiApp, port: int = 0, *, threads: int = WEB_THREADS) -> None:
        self._server = create_server(
            application, host="127.0.0.1", port=port, **{**WAITRESS, "threads": threads}
        )
        self._thread = threading.Thread(target=self._server.run, name="local-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.effective_port}"

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        # Close every connection from the server's own I/O thread; its loop ends when none is left.
        channels = self._server._map
        # The loop may already be over (every channel closed, the trigger with them): then there
        # is nothing left to close, and pulling a closed trigger would raise EBADF.
        with contextlib.suppress(OSError):
            self._server.trigger.pull_trigger(lambda: [c.close() for c in list(channels.values())])
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)


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
    deploy) stops accepting, lets each process finish the work it has acknowledged, then exits.
    """
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


def _serve_one(settings: "Settings", listener: socket.socket) -> int:
    from bot.app import create

    prefer_quick_replies()
    baton = create(settings)
    baton.keep_recovering()  # finish what a killed process acknowledged (handlers/inbox.py)
    server = create_server(wsgi(baton), sockets=[listener], **WAITRESS)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)  # waitress's loop closes its sockets on SystemExit

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
        server.run()  # returns once SIGTERM has closed the sockets
    finally:
        baton.pool.shutdown(wait=True)  # finish what was acknowledged before exiting
        baton.deps.db.engine.dispose()
    return 0
