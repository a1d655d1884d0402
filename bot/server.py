"""HTTP serving: Bolt's WSGI adapter behind gunicorn in production, a threaded server for local use."""

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from bot.config import Settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EVENTS_PATH = "/slack/events"


def wsgi(app: App) -> WsgiApp:
    """Bolt at POST /slack/events, and GET /healthz for load balancers and platform checks."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"ok": True}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return application


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of simultaneous commands must queue, not be refused


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger("baton.http").debug(format, *args)


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 in this process: the try-out and the tests serve the real app with it."""

    def __init__(self, application: WsgiApp, port: int = 0) -> None:
        self._server = make_server(
            "127.0.0.1", port, application, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        # A short poll interval lets stop() return quickly (the default waits up to half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def prefer_quick_replies() -> None:
    """Let a thread that has a request to answer get the interpreter sooner.

    CPython hands the GIL over every 5 ms by default; while lazy listeners are busy, a request
    thread holding an acknowledgement can wait that long per switch. 0.5 ms keeps acks prompt at
    a small cost in throughput.
    """
    sys.setswitchinterval(0.0005)


def run_gunicorn(settings: "Settings", *, port: int) -> None:
    """Serve with gunicorn: threaded workers, each building its own app (and engine) after the fork."""
    from gunicorn.app.base import BaseApplication

    from bot.app import create

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"0.0.0.0:{port}",
                "workers": settings.web_concurrency,
                "worker_class": "gthread",
                "threads": 16,
                "timeout": 30,
                "graceful_timeout": 20,
                "keepalive": 5,
                "loglevel": settings.log_level.lower(),
                "errorlog": "-",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            prefer_quick_replies()
            return wsgi(create(settings).app)

    Gunicorn().run()
