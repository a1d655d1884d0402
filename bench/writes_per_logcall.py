"""Write transactions per /logcall: how often one command takes SQLite's one write lock (or opens a
PostgreSQL write transaction). A benchmark, not a test.

    python bench/writes_per_logcall.py [--commands 50] [--database-url URL]

Serves the real app in this process (waitress, as the try-out does) against the Slack stand-in,
adds a lead of the rep's own and one of a colleague's, sends one /logcall to warm up (the rep's
time zone is learnt once), then sends `--commands` signed /logcall one at a time, each finished
before the next: on the rep's own lead, then on the colleague's (whose owner is told by DM, a
second message owed). A write transaction is
one that committed after an INSERT, UPDATE or DELETE; each is listed by the statements it ran.
"""

import argparse
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot.app import create  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.localslack import Platform, SlackApi, User, Workspace  # noqa: E402
from bot.server import LocalServer, wsgi  # noqa: E402
from coaching.settings import TeamConfig  # noqa: E402
from store.db import open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402

TEAM, TOKEN, SECRET, REP, COLLEAGUE = "T0BENCH", "xoxb-bench", "bench-secret", "U0REP001", "U0REP002"
WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteCounter:
    """Counts committed transactions that wrote, with the shape of each (its statements' heads)."""

    def __init__(self) -> None:
        self.shapes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            words = statement.split()
            if words and words[0].upper() in WRITES:
                table = words[2] if words[0].upper() in ("INSERT", "DELETE") else words[1]
                name = table.strip('"')
                conn.info.setdefault("writes", []).append(f"{words[0].upper()} {name}")

        @event.listens_for(engine, "commit")
        def _commit(conn: Any) -> None:
            writes = conn.info.pop("writes", None)
            if writes:
                with self._lock:
                    self.shapes[" + ".join(writes)] += 1

        @event.listens_for(engine, "rollback")
        def _rollback(conn: Any) -> None:
            conn.info.pop("writes", None)

    def reset(self) -> None:
        with self._lock:
            self.shapes.clear()

    @property
    def total(self) -> int:
        return sum(self.shapes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.db"
        db = open_database(url, pool_size=8)
        upgrade(db.engine)
        counter = WriteCounter()
        counter.attach(db.engine)
        workspace = Workspace(
            team_id=TEAM,
            users={
                REP: User(REP, "rep", tz="America/New_York"),
                COLLEAGUE: User(COLLEAGUE, "colleague", tz="America/New_York"),
            },
        )
        api = SlackApi(workspace, token=TOKEN).start()
        settings = Settings(
            bot_token=TOKEN,
            signing_secret=SECRET,
            api_url=api.url,
            team=TeamConfig(manager_ids=frozenset({REP})),
            listener_threads=4,
        )
        baton = create(settings, db=db)
        server = LocalServer(wsgi(baton)).start()
        slack = Platform(api, server.url, SECRET, settle=baton.pool.wait_idle)
        figures: list[tuple[str, Counter[str]]] = []
        try:
            slack.command(REP, "/lead", "add Acme Corp")
            slack.command(COLLEAGUE, "/lead", "add Globex Inc")
            slack.command(REP, "/logcall", "acme vm warm-up")
            for whose, typed in (("the rep's own lead", "acme"), ("a colleague's lead", "globex")):
                counter.reset()
                for number in range(options.commands):
                    reply = slack.command(REP, "/logcall", f"{typed} vm note {number}")
                    assert reply.status == 200, reply.body
                figures.append((whose, Counter(counter.shapes)))
            answered = len([c for c in api.calls_to("response_url") if c.status == 200])
        finally:
            server.stop()
            api.stop()
            baton.pool.shutdown(wait=True)
            db.engine.dispose()
    print(
        f"{options.commands} /logcall on each lead, {url.split(':', 1)[0]}, "
        f"{answered} answers through the response_url"
    )
    for whose, shapes in figures:
        print(f"write transactions per /logcall on {whose}: {sum(shapes.values()) / options.commands:.2f}")
        for shape, count in shapes.most_common():
            print(f"  {count / options.commands:5.2f}  {shape}")


if __name__ == "__main__":
    main()
