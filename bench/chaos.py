"""What Baton loses or doubles when things break, and what slow clients and long writers cost.
A benchmark, not a test.

    python bench/chaos.py [--database-url URL] [--burst 120] [--reps 30]
                          [--only kill|term|slow|import|digests] [--held 2000,5000] [--rows 60000]

kill / term: serves the real app with `python -m bot serve`, sends a burst of signed /logcall
requests from 20 threads, SIGKILLs (a crash) or SIGTERMs (a deploy) every server process once half
of them have been acknowledged, starts the server again on the same database, and counts the
acknowledged touches that never got stored (lost), the ones stored twice, the acknowledged
commands whose rep never got an answer or got two, and contradictory answers (told "something
went wrong", or shown an error, about a command that was stored after all).

slow: holds `--held` connections open that send headers announcing a body and never send it
(reopening each one Baton closes, as an attacker would) while signed /logcall arrives at 10/s for
`--seconds`; times every acknowledgement.

import (SQLite only): `python -m bot import` of `--rows` leads while /logcall arrives at 10/s;
times every acknowledgement and counts those answered "too busy" (nothing kept).

digests: the morning digests of `--reps` reps through the real app and a local Slack that loses
its answers after posting (the connection dropped after the post, or an answer after the client's
timeout), then the ticks and outbox sweeps of the next half hour, and a run slowed to 30 minutes
while another clock runs beside it; counts the digests each rep received.
"""

import argparse
import logging
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bot.app import Baton, create  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.localslack import Platform, SlackApi, User, Workspace  # noqa: E402
from coaching.parsing import name_key  # noqa: E402
from coaching.settings import TeamConfig  # noqa: E402
from handlers.courier import Courier  # noqa: E402
from handlers.deliveries import Deliveries  # noqa: E402
from handlers.say import Pacer  # noqa: E402
from store.db import open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Lead, Touch  # noqa: E402

TEAM, TOKEN, SECRET = "T0CHAOS", "xoxb-chaos", "chaos-secret"
NOTE = re.compile(r"chaos note (\d+)")


def fresh_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    db = open_database(url, pool_size=1)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    db.engine.dispose()


def seed_leads(url: str, reps: list[str], *, per_rep: int, overdue: bool) -> None:
    db = open_database(url, pool_size=1)
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        rows = []
        for r, rep in enumerate(reps):
            for i in range(per_rep):
                name = f"Company {r:03d}-{i:02d}"
                rows.append(
                    {
                        "team_id": TEAM,
                        "name": name,
                        "name_key": name_key(name),
                        "owner_id": rep,
                        "created_by": rep,
                        "status": "open",
                        "created_at": now - timedelta(days=30),
                        "attempt_baseline": 0,
                        "attempts": 1,
                        "reached": False,
                        "ever_reached": False,
                        "next_follow_up": (now - timedelta(days=3 if overdue else -5)).date(),
                    }
                )
        connection.execute(insert(Lead), rows)
    db.engine.dispose()


def workspace(reps: list[str]) -> Workspace:
    users = {u: User(u, f"rep{i}", f"Rep {i}", tz="UTC") for i, u in enumerate(reps)}
    return Workspace(team_id=TEAM, team_name="Chaos Team", users=users)


# ---- SIGKILL mid-burst ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches every web process
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def stored_notes(url: str) -> Counter[int]:
    db = open_database(url, pool_size=1)
    with db.engine.connect() as connection:
        notes = connection.execute(select(Touch.note)).scalars().all()
    db.engine.dispose()
    return Counter(int(m.group(1)) for note in notes if (m := NOTE.search(note)))


def answered(api: SlackApi) -> set[int]:
    """Commands whose rep got an answer: ephemeral through the response_url, or by DM."""
    found = set()
    for call in api.calls:
        if call.method in ("response_url", "chat.postEphemeral", "chat.postMessage"):
            found |= {int(n) for n in NOTE.findall(str(call.args.get("blocks") or call.args.get("text")))}
    return found


def serve_env(url: str, api: SlackApi) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_"))},
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "ERROR",
    }


def apologised(api: SlackApi) -> set[int]:
    """Commands whose rep was told something went wrong (nothing saved: try again)."""
    found = set()
    for call in api.calls:
        if call.method in ("response_url", "chat.postEphemeral", "chat.postMessage"):
            shown = str(call.args.get("blocks") or call.args.get("text"))
            if "went wrong" in shown:
                found |= {int(n) for n in NOTE.findall(shown)}
    return found


def answer_counts(api: SlackApi) -> Counter[int]:
    """How many answers (not apologies) each command got."""
    counts: Counter[int] = Counter()
    for call in api.calls:
        if call.method in ("response_url", "chat.postEphemeral", "chat.postMessage") and call.status == 200:
            shown = str(call.args.get("blocks") or call.args.get("text"))
            if "went wrong" not in shown:
                counts.update({int(n) for n in NOTE.findall(shown)})
    return counts


def stop_mid_burst(url: str, backend: str, burst: int, how: signal.Signals) -> None:
    """SIGKILL (a crash) or SIGTERM (a deploy) of every web process once half the burst is acknowledged."""
    reps = [f"U0REP{i:03d}" for i in range(20)]
    fresh_database(url)
    seed_leads(url, reps, per_rep=3, overdue=False)
    api = SlackApi(workspace(reps), token=TOKEN).start()
    port = free_port()
    env = serve_env(url, api)
    server = start_server(env, port)
    slack = Platform(api, f"http://127.0.0.1:{port}", SECRET)
    bodies = [
        slack.command_body(reps[i % 20], "/logcall", f"Company {i % 20:03d}-{i % 3:02d} vm chaos note {i}")
        for i in range(burst)
    ]
    acked: set[int] = set()
    refused: set[int] = set()  # an error Slack would show the rep: nothing was promised
    lock = threading.Lock()
    stopped = threading.Event()
    stop_at = 0.0

    def send(i: int) -> None:
        nonlocal stop_at
        try:
            reply = slack.send(bodies[i], "application/x-www-form-urlencoded")
        except OSError:
            with lock:
                refused.add(i)
            return
        with lock:
            if reply.status != 200:
                refused.add(i)
                return
            acked.add(i)
            if len(acked) >= burst // 2 and not stopped.is_set():
                stopped.set()
                stop_at = time.monotonic()
                os.killpg(server.pid, how)  # every web process at once, mid-burst

    with ThreadPoolExecutor(20) as threads:
        list(threads.map(send, range(burst)))
    server.wait()
    exited = time.monotonic() - stop_at
    at_exit = stored_notes(url)
    in_queue = len(acked) - sum(1 for n in at_exit if n in acked)
    restarted = start_server(env, port)
    started = time.monotonic()
    # Recovery runs at start-up and every 2 s: on SQLite the new process frees the dead one's
    # requests at once; on PostgreSQL they are free when its 6-second lease runs out. A message
    # the dead process was sending waits out the outbox's own lease.
    stored_by = answered_by = None
    while time.monotonic() - started < 300:
        stored = stored_notes(url)
        if stored_by is None and all(n in stored for n in acked):
            stored_by = time.monotonic() - started
        if acked <= set(answer_counts(api)):
            answered_by = time.monotonic() - started
            if stored_by is not None:
                break
        time.sleep(1)
    stored = stored_notes(url)
    os.killpg(restarted.pid, signal.SIGTERM)
    restarted.wait()
    api.stop()
    lost = sorted(n for n in acked if n not in stored)
    doubled = sorted(n for n, count in stored.items() if count > 1)
    answers = answer_counts(api)
    unanswered = sorted(acked - set(answers))
    # Told "something went wrong" (or shown an error) about a command that was stored after all.
    contradicted = sorted((apologised(api) | refused) & set(stored))
    twice = sorted(n for n, count in answers.items() if count > 1)
    print(
        f"  {backend:<11} {how.name}: {burst} sent, {len(acked)} acknowledged, {len(refused)} refused;"
        f" {in_queue} acknowledged not yet stored when the server exited ({exited:.1f} s after the signal);"
        f" after restart: lost {len(lost)}, stored twice {len(doubled)}, never answered {len(unanswered)},"
        f" answered twice {len(twice)}, contradictory answers {len(contradicted)}"
        f" (all stored {stored_by or float('nan'):.0f} s and all answered {answered_by or float('nan'):.0f} s"
        " after the restart)"
    )
    for n in twice:  # which ways each doubled answer went out, in order
        ways = [c.method for c in api.calls if c.status == 200 and n in _notes(c.args)]
        print(f"    answered twice: note {n} by {', '.join(ways)}")
    for n in unanswered:
        print(f"    never answered: note {n}")
    for n in contradicted:
        why = "refused at the door" if n in refused else "told something went wrong"
        print(f"    contradictory: note {n} {why}, and stored")


def _notes(args: dict[str, object]) -> set[int]:
    return {int(n) for n in NOTE.findall(str(args.get("blocks") or args.get("text")))}


# ---- slow clients ----------------------------------------------------------------------------------------

HALF_SENT = b"POST /slack/events HTTP/1.1\r\nHost: baton\r\nContent-Length: 500\r\n\r\nabc"


class HalfSent:
    """Keeps `count` connections open that send headers announcing a body and never send it,
    opening a new one whenever Baton closes one (as an attacker would)."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.selector = selectors.DefaultSelector()
        self.reopened = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.hold, daemon=True)

    def open_one(self) -> None:
        try:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            connection.sendall(HALF_SENT)
            connection.setblocking(False)
            self.selector.register(connection, selectors.EVENT_READ)
        except OSError:
            pass

    def hold(self) -> None:
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                self.selector.unregister(key.fileobj)
                key.fileobj.close()  # type: ignore[union-attr]
                self.reopened += 1
            missing = self.count - len(self.selector.get_map())
            for _ in range(missing):
                self.open_one()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]

    def __enter__(self) -> "HalfSent":
        for _ in range(self.count):
            self.open_one()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


def slow_clients(url: str, backend: str, counts: list[int], seconds: float) -> None:
    """N half-sent connections held open while /logcall arrives at 10/s; the acknowledgements timed."""
    reps = [f"U0REP{i:03d}" for i in range(20)]
    fresh_database(url)
    seed_leads(url, reps, per_rep=3, overdue=False)
    api = SlackApi(workspace(reps), token=TOKEN).start()
    port = free_port()
    server = start_server(serve_env(url, api), port)
    slack = Platform(api, f"http://127.0.0.1:{port}", SECRET)
    number = 0
    try:
        for count in counts:
            with HalfSent(port, count) as held:
                acks: list[float] = []
                failed = 0
                started = time.monotonic()
                with ThreadPoolExecutor(20) as threads:
                    futures = []
                    while time.monotonic() - started < seconds:
                        body = slack.command_body(
                            reps[number % 20],
                            "/logcall",
                            f"Company {number % 20:03d}-00 vm chaos note {number}",
                        )
                        futures.append(threads.submit(slack.send, body, "application/x-www-form-urlencoded"))
                        number += 1
                        time.sleep(0.1)
                    for future in futures:
                        try:
                            reply = future.result()
                        except OSError:
                            failed += 1
                            continue
                        if reply.status == 200:
                            acks.append(reply.seconds)
                        else:
                            failed += 1
                reopened = held.reopened
            acks.sort()
            late = sum(1 for a in acks if a > 3.0)
            p50 = acks[len(acks) // 2] * 1000 if acks else float("nan")
            p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))] * 1000 if acks else float("nan")
            print(
                f"  {backend:<11} {count:>6} half-sent connections held: {len(acks) + failed} /logcall,"
                f" ack p50 {p50:.0f} ms, p99 {p99:.0f} ms, over 3 s {late}, failed {failed};"
                f" {reopened} connections closed by Baton (and reopened) in {seconds:.0f} s"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        api.stop()


# ---- an import beside live traffic (SQLite) ----------------------------------------------------------


def import_beside_traffic(url: str, backend: str, rows: int, rate: float) -> None:
    """`python -m bot import` of `rows` leads while /logcall arrives at `rate`/s; the acks timed."""
    reps = [f"U0REP{i:03d}" for i in range(20)]
    fresh_database(url)
    seed_leads(url, reps, per_rep=3, overdue=False)
    api = SlackApi(workspace(reps), token=TOKEN).start()
    port = free_port()
    env = serve_env(url, api)
    server = start_server(env, port)
    slack = Platform(api, f"http://127.0.0.1:{port}", SECRET)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.csv"
        export.write_text(
            "Company,Owner,Status,Last Activity,Notes\n"
            + "".join(f"Imported {i:06d},{reps[i % 20]},open,2026-11-02,from the CRM\n" for i in range(rows))
        )
        report = Path(tmp) / "import.txt"
        importer = subprocess.Popen(
            [sys.executable, "-m", "bot", "import", str(export), "--team", TEAM],
            cwd=ROOT,
            env=env,
            stdout=report.open("w"),
            stderr=subprocess.STDOUT,
        )
        acks: list[float] = []
        failed = busy = number = 0
        started = time.monotonic()
        with ThreadPoolExecutor(20) as threads:
            futures = []
            while importer.poll() is None:
                body = slack.command_body(
                    reps[number % 20], "/logcall", f"Company {number % 20:03d}-00 vm chaos note {number}"
                )
                futures.append(threads.submit(slack.send, body, "application/x-www-form-urlencoded"))
                number += 1
                time.sleep(1 / rate)
            took = time.monotonic() - started
            for future in futures:
                try:
                    reply = future.result()
                except OSError:
                    failed += 1
                    continue
                if reply.status != 200:
                    failed += 1
                    continue
                acks.append(reply.seconds)
                busy += "too busy" in reply.body
        if importer.returncode:
            print("  the import failed:", report.read_text()[-600:])
    os.killpg(server.pid, signal.SIGTERM)
    server.wait()
    api.stop()
    imported = count_leads(url) - 60
    acks.sort()
    p50 = acks[len(acks) // 2] * 1000 if acks else float("nan")
    p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))] * 1000 if acks else float("nan")
    print(
        f"  {backend:<11} import of {rows:,} rows ({imported:,} leads written, exit {importer.returncode})"
        f" in {took:.1f} s beside {number} /logcall at {rate:g}/s: ack p50 {p50:.0f} ms, p99 {p99:.0f} ms,"
        f" max {max(acks, default=0) * 1000:.0f} ms; over 3 s {sum(1 for a in acks if a > 3.0)},"
        f" answered 'too busy' {busy}, failed {failed}"
    )


def count_leads(url: str) -> int:
    db = open_database(url, pool_size=1)
    with db.engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM lead")).scalar_one())
    db.engine.dispose()
    return count


# ---- digests while Slack loses answers ---------------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SlowSlack(Pacer):
    """Every post takes Slack a minute; twenty minutes in, another clock process runs."""

    def __init__(self, clock: FakeClock, meanwhile: Callable[[], object]) -> None:
        super().__init__(60)
        self.clock, self.meanwhile, self.posts = clock, meanwhile, 0

    def wait(self) -> None:
        self.posts += 1
        self.clock.now += timedelta(minutes=1)
        if self.posts == 20:
            self.meanwhile()


def digests(url: str, backend: str, reps_count: int) -> None:
    reps = [f"U0REP{i:03d}" for i in range(reps_count)]
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    morning = datetime(monday.year, monday.month, monday.day, 8, 35, tzinfo=UTC)  # the reps are in UTC
    print(f"  {backend}, {reps_count} reps, each with overdue follow-ups:")
    for scenario in ("drop", "late", "slow"):
        fresh_database(url)
        seed_leads(url, reps, per_rep=2, overdue=True)
        clock = FakeClock(morning)
        # Slack's clock is the bench's: a lost post is looked for around when it was made.
        api = SlackApi(workspace(reps), token=TOKEN, clock=lambda c=clock: c.now.timestamp()).start()
        settings = Settings(
            bot_token=TOKEN, signing_secret=SECRET, api_url=api.url, team=TeamConfig(), database_url=url
        )
        baton = create(settings, clock=clock, sleep=lambda _: None, verify_token=False, client_timeout=2)
        Deliveries(baton.deps, baton.client).refresh_directory(TEAM)  # who works here, in which time zone
        if scenario in ("drop", "late"):
            api.lose_answer("chat.postMessage", how=scenario, times=reps_count // 3)
            Deliveries(baton.deps, baton.client).digests(at=clock.now)
            for _ in range(6):  # the next half hour of ticks, and the outbox job between them
                clock.now += timedelta(minutes=5)
                Deliveries(baton.deps, baton.client).digests(at=clock.now)
                Courier(baton.deps, baton.client).sweep()
            label = {"drop": "connection dropped after posting", "late": "answer after the timeout"}[scenario]
            label += f" ({reps_count // 3} of {reps_count})"
        else:

            def another_clock(baton: Baton = baton, clock: FakeClock = clock) -> None:
                Deliveries(baton.deps, baton.client).digests(at=clock.now)

            slow = Deliveries(baton.deps, baton.client, pacer=SlowSlack(clock, another_clock))
            slow.digests(at=clock.now)
            label = f"a run taking {reps_count} minutes, another clock at 20"
        per_rep = Counter(
            str(c.args.get("channel")) for c in api.calls_to("chat.postMessage") if c.status == 200
        )
        received = [per_rep.get(rep, 0) for rep in reps]
        extra = sum(max(0, n - 1) for n in received)
        print(
            f"    {label:<52} digests per rep: min {min(received)}, max {max(received)};"
            f" duplicates {extra}, missing {received.count(0)}"
        )
        baton.pool.shutdown(wait=True)
        baton.deps.db.engine.dispose()
        api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--burst", type=int, default=120)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--only", choices=("kill", "term", "slow", "import", "digests"))
    parser.add_argument("--rows", type=int, default=60_000, help="rows of the import beside traffic")
    parser.add_argument(
        "--held", default="2000", help="half-sent connections to hold, comma-separated (default 2000)"
    )
    parser.add_argument("--seconds", type=float, default=20, help="how long each slow-client round lasts")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the lost answers are the point; their log lines are noise here
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'chaos.db'}"
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        if args.only in (None, "kill"):
            print("SIGKILL of every web process mid-burst of /logcall, then a restart:")
            stop_mid_burst(url, backend, args.burst, signal.SIGKILL)
        if args.only in (None, "term"):
            print("SIGTERM (a deploy) of every web process mid-burst of /logcall, then a restart:")
            stop_mid_burst(url, backend, args.burst, signal.SIGTERM)
        if args.only in (None, "slow"):
            print("Half-sent connections held open while /logcall arrives at 10/s:")
            slow_clients(url, backend, [int(n) for n in args.held.split(",")], args.seconds)
        if args.only in (None, "import") and backend == "SQLite":
            print("A CRM import beside /logcall at 10/s (SQLite: one write lock):")
            import_beside_traffic(url, backend, args.rows, 10)
        if args.only in (None, "digests"):
            print("Morning digests while Slack loses its answers:")
            digests(url, backend, args.reps)


if __name__ == "__main__":
    main()
