"""How fast Baton acknowledges /logcall, against the framework's floor. A benchmark, not a test.

    python bench/ack_latency.py [--requests 2000] [--rate 20] [--leads 10000] [--touches 100000]
                                [--patterns back-to-back,steady,burst,idle] [--database-url URL]

Seeds a database (SQLite by default) with one team's leads and touches, serves the real app with
`python -m bot serve` (waitress, as in production) and sends signed /logcall requests through HTTP,
timing each acknowledgement; then does the same against a bare Bolt app that only acknowledges,
served the same way (the floor no Bolt app can beat). Each load starts with 100 warm-up commands
whose work is awaited before measuring begins, so no warm-up work is queued behind the measured
load. Load patterns, each with fresh servers:

- back to back: the next request the moment the previous one is acknowledged. Baton acknowledges
  first and works after, so this offers far more work than two cores can do: its capacity is the
  rate replies come back while saturated (the middle 80% of them), side by side with the floor's
  acknowledgements a second;
- steady: requests at a fixed rate (default 20 a second, 72,000 an hour: more than a thousand
  reps logging at their busiest), below capacity: the reply latency a rep sees on a normal day;
- burst: 200 /logcall at once from 20 threads (each sends 10 back to back); every one must be
  acknowledged within Slack's 3 seconds and stored exactly once (checked in the database);
- idle: the burst again with 40 idle connections held open throughout (half silent, half having
  sent headers that announce a body never sent), and /healthz timed meanwhile.

For Baton it also times each reply (the work done: the touch stored, the reply posted to the
response_url) and waits until every reply has arrived.

Slack is another machine. Here the load and the stand-in Slack (this process) run on a core of
their own and the server on the others, unless `--share-cores`: sharing them, the stand-in
checking a reply and the server's work left the load's next acknowledgement unread for up to
5 ms, a wait no real Slack has (on two cores, /logcall's ack p99 3.7 ms apart, 6.5-7.4 shared;
the floor, which does no work, 2.2 either way).
"""

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from bot.localslack import Platform, SlackApi, User, Workspace  # noqa: E402
from coaching.parsing import name_key  # noqa: E402
from store.db import open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Lead, Touch  # noqa: E402

TEAM, TOKEN, SECRET = "T0BENCH", "xoxb-bench", "bench-secret"
REPS = [f"U0REP{i:03d}" for i in range(20)]
OUTCOMES = ["vm", "no-answer", "email", "connected", "replied", ""]
WORDS = "Acme Globex Initech Umbrella Stark Wayne Hooli Soylent Cyberdyne Vandelay Massive Pied Tyrell Wonka Oscorp"
NOTE = re.compile(r"bench note (\d+)")


def seed(url: str, leads: int, touches: int) -> list[str]:
    db = open_database(url, pool_size=1)
    upgrade(db.engine)
    now = datetime.now(UTC)
    companies = WORDS.split()
    names = [f"{companies[i % len(companies)]} {i:05d} Holdings" for i in range(leads)]
    with db.engine.begin() as connection:
        for table in ("touch", "contact", "transfer_request", "ops_handoff", "lead"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            insert(Lead),
            [
                {
                    "team_id": TEAM,
                    "name": name,
                    "name_key": name_key(name),
                    "owner_id": REPS[i % len(REPS)],
                    "created_by": REPS[i % len(REPS)],
                    "status": "open",
                    "created_at": now - timedelta(days=60),
                    "attempt_baseline": 0,
                    "attempts": touches // leads,
                    "reached": False,
                    "ever_reached": False,
                    "next_follow_up": (now + timedelta(days=i % 9 - 4)).date(),
                }
                for i, name in enumerate(names)
            ],
        )
        ids = list(connection.execute(text("SELECT id FROM lead ORDER BY id")).scalars())
        for start in range(0, touches, 20_000):
            rows = [
                {
                    "team_id": TEAM,
                    "lead_id": ids[i % len(ids)],
                    "user_id": REPS[i % len(REPS)],
                    "outcome": "voicemail",
                    "at": now - timedelta(days=50) + timedelta(minutes=i),
                    "note": "seeded",
                    "logged_at": now,
                }
                for i in range(start, min(start + 20_000, touches))
            ]
            connection.execute(insert(Touch), rows)
    db.engine.dispose()
    return names


def time_replies(api: SlackApi) -> dict[int, float]:
    """When each reply reaches the stand-in's response_url, by the note number the command quoted
    (filled in as replies arrive)."""
    arrived: dict[int, float] = {}
    record = api._record

    def timed(call: Any) -> None:
        if call.method == "response_url":
            found = NOTE.search(str(call.args.get("blocks")))
            if found:
                arrived.setdefault(int(found.group(1)), time.perf_counter())
        record(call)

    api._record = timed  # type: ignore[method-assign]
    return arrived


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Cores for the server under test, and for this process (the load and the stand-in Slack): the
# last core is this process's; None: shared, as on a machine with one core or with --share-cores.
CORES: tuple[set[int], set[int]] | None = None


def split_cores() -> tuple[set[int], set[int]] | None:
    """The server gets every core this process may use but the last, which the load and the
    stand-in Slack keep for themselves (Linux); None where there is only one."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return (set(cores[:-1]), {cores[-1]}) if len(cores) > 1 else None


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server_cores = CORES[0] if CORES else None
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Set in the child before it runs anything: every thread it starts inherits it.
        preexec_fn=(lambda: os.sched_setaffinity(0, server_cores)) if server_cores else None,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # ready when /healthz answers (a benchmark may poll)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{' '.join(command)} did not start")


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(samples)}


def row(label: str, figures: dict[str, float]) -> None:
    print(
        f"  {label:<24}" + "".join(f"{figures[k]:>9.1f} ms" for k in ("p50", "p95", "p99", "max")), flush=True
    )


class Load:
    """Sends numbered /logcall bodies and records when each was sent and acknowledged."""

    def __init__(self, slack: Platform, bodies: list[str]) -> None:
        self.slack = slack
        self.bodies = bodies
        self.sent: dict[int, float] = {}
        self.acks: list[float] = []
        self.lock = threading.Lock()

    def one(self, index: int) -> None:
        started = time.perf_counter()
        reply = self.slack.send(self.bodies[index], "application/x-www-form-urlencoded")
        elapsed = (time.perf_counter() - started) * 1000
        assert reply.status == 200, (reply.status, reply.body)
        note = NOTE.search(urllib.parse.unquote_plus(self.bodies[index]))
        with self.lock:
            if note:
                self.sent[int(note.group(1))] = started
            self.acks.append(elapsed)

    def back_to_back(self, indexes: range) -> None:
        for index in indexes:
            self.one(index)

    def burst(self, indexes: range, threads: int) -> None:
        """`threads` senders released together, each sending its share back to back."""
        shares = [indexes[i::threads] for i in range(threads)]
        start = threading.Barrier(threads)

        def send(share: range) -> None:
            start.wait()
            for index in share:
                self.one(index)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(send, shares))

    def steady(self, indexes: range, rate: float) -> None:
        """Open loop: request i leaves at start + i/rate, whether or not earlier ones are answered."""
        with ThreadPoolExecutor(max_workers=64) as pool:
            origin = time.perf_counter()
            for offset, index in enumerate(indexes):
                delay = origin + offset / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.one, index)


class Idle:
    """Connections that hold a socket and never finish a request, as a slow or hostile client does."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets: list[socket.socket] = []
        for index in range(count):
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            if index % 2:  # headers announcing a body that never comes
                connection.sendall(
                    b"POST /slack/events HTTP/1.1\r\nHost: baton\r\nContent-Length: 500\r\n\r\nab"
                )
            self.sockets.append(connection)

    def close(self) -> None:
        for connection in self.sockets:
            connection.close()


def healthz_ms(port: int, times: int = 10) -> list[float]:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30):
            seconds.append((time.perf_counter() - started) * 1000)
    return seconds


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a server process and its forked workers (Linux /proc). On a shared
    machine this says what the work costs, where the wall clock also says how busy the machine was."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def await_replies(arrived: dict[int, float], notes: Iterable[int], *, timeout: float) -> None:
    """Wait until every note's reply has reached the stand-in. Polled: the stand-in's own
    `wait_for` rescans every call on each arrival, which at thousands of calls eats the cores
    the measured server needs."""
    wanted = list(notes)
    deadline = time.monotonic() + timeout
    while any(note not in arrived for note in wanted):
        if time.monotonic() > deadline:
            missing = sum(note not in arrived for note in wanted)
            raise SystemExit(f"{missing} of {len(wanted)} replies missing after {timeout:g} s")
        time.sleep(0.05)


def run(
    label: str,
    command: list[str],
    env: dict[str, str],
    bodies_for: Callable[[Platform], list[str]],
    *,
    api: SlackApi,
    arrived: dict[int, float] | None,
    requests: int,
    rate: float | None,
    threads: int | None = None,
    idle: int = 0,
) -> tuple[dict[str, float], Load, float, float]:
    """One server, one load; returns acknowledgement figures, the load, the seconds the sending took,
    and the server's CPU seconds for the measured load (its work included, for Baton).

    With `arrived` (Baton, whose replies are timed), the warm-up's replies are awaited before
    measuring starts, so no warm-up work is still queued when the measured load begins, and the
    server is stopped only once every measured reply has arrived."""
    port = free_port()
    process = start([*command, str(port)], {**env, "PORT": str(port)}, port)
    holding: Idle | None = None
    try:
        slack = Platform(api, f"http://127.0.0.1:{port}", SECRET)
        load = Load(slack, bodies_for(slack))
        warmup = len(load.bodies) - requests
        load.back_to_back(range(warmup))  # each worker opens its pool and learns its reps' time zones
        if arrived is not None:
            await_replies(arrived, load.sent, timeout=300)
        load.acks.clear()
        load.sent.clear()
        holding = Idle(port, idle) if idle else None
        cpu = cpu_seconds(process.pid)
        began = time.perf_counter()
        measured = range(warmup, len(load.bodies))
        if threads is not None:
            load.burst(measured, threads)
        elif rate is None:
            load.back_to_back(measured)
        else:
            load.steady(measured, rate)
        sending = time.perf_counter() - began
        figures = percentiles(load.acks)
        row(label, figures)
        if holding is not None:
            health = healthz_ms(port)
            print(
                f"  {'/healthz (40 idle open)':<24}{statistics.median(health):>9.1f} ms median{max(health):>9.1f} ms max"
            )
        if arrived is not None:  # let the queued work finish before stopping the server
            await_replies(arrived, load.sent, timeout=900)
        return figures, load, sending, cpu_seconds(process.pid) - cpu
    finally:
        if holding is not None:
            holding.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def capacity(load: Load, arrived: dict[int, float]) -> float:
    """Commands done a second while saturated: replies in the middle 80% of the run over its span.

    The first replies come while the server warms to the load, and the last ones drain a queue
    that is no longer being fed: both would flatter or understate the rate the work sustains."""
    done = sorted(arrived[note] for note in load.sent if note in arrived)
    first, last = len(done) // 10, len(done) - 1 - len(done) // 10
    return (last - first) / (done[last] - done[first])


def stored_once(url: str, notes: Iterable[int]) -> tuple[int, int, int]:
    """(stored exactly once, missing, stored more than once) among the numbered bench notes."""
    db = open_database(url, pool_size=1)
    with db.readers.begin() as session:
        stored = Counter(
            int(found.group(1))
            for note in session.scalars(select(Touch.note).where(Touch.note.like("%bench note %")))
            if (found := NOTE.search(note))
        )
    db.engine.dispose()
    wanted = list(notes)
    return (
        sum(stored[n] == 1 for n in wanted),
        sum(stored[n] == 0 for n in wanted),
        sum(stored[n] > 1 for n in wanted),
    )


def replies(load: Load, arrived: dict[int, float]) -> dict[str, float]:
    """Milliseconds from sending each measured command to its reply reaching the response_url."""
    return percentiles([(arrived[i] - load.sent[i]) * 1000 for i in load.sent if i in arrived])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second in the steady run")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--touches", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument(
        "--patterns", default="back-to-back,steady,burst,idle", help="which loads to run (comma-separated)"
    )
    parser.add_argument("--burst", type=int, default=200, help="commands in the burst (and idle) pattern")
    parser.add_argument(
        "--share-cores",
        action="store_true",
        help="run the server, the load and the stand-in Slack on the same cores",
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    global CORES
    CORES = None if args.share_cores else split_cores()
    if CORES:  # before any thread starts: the threads this process starts inherit its core
        os.sched_setaffinity(0, CORES[1])

    workdir = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    began = time.perf_counter()
    names = seed(url, args.leads, args.touches)
    backend = url.split(":")[0].split("+")[0]
    print(
        f"Seeded {args.leads:,} leads and {args.touches:,} touches ({backend}) in {time.perf_counter() - began:.1f} s"
    )

    api = SlackApi(
        Workspace(team_id=TEAM, users={r: User(r, r.lower(), tz="America/New_York") for r in REPS}),
        token=TOKEN,
    )
    api.start()
    arrived = time_replies(api)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_"))},
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        "DATABASE_URL": url,
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    randomiser = random.Random(7)
    warmup = 100
    counter = iter(range(10**9))

    def logcalls(count: int) -> Callable[[Platform], list[str]]:
        def make(slack: Platform) -> list[str]:
            bodies = []
            for _ in range(count + warmup):
                i = next(counter)
                name = names[randomiser.randrange(len(names))]
                typed = (
                    f"{name.split()[0].lower()} {name.split()[1]}" if i % 3 else name
                )  # a prefix, or the full name
                note = f"{typed} {OUTCOMES[i % len(OUTCOMES)]} bench note {i}"
                bodies.append(slack.command_body(REPS[i % len(REPS)], "/logcall", note))
            return bodies

        return make

    baton = [sys.executable, "-m", "bot", "serve", "--port"]
    bare = [sys.executable, str(Path(__file__)), "--serve-bare"]
    patterns = args.patterns.split(",")
    processes = "1 process" if backend == "sqlite" else "2 processes"
    cores = (
        f"server on cores {sorted(CORES[0])}, load and stand-in Slack on core {min(CORES[1])}"
        if CORES
        else "server, load and stand-in Slack sharing every core"
    )
    print(f"\n/logcall over HTTP: waitress, {processes}, {backend}; {cores}")
    print("  " + " " * 24 + "".join(f"{k:>12}" for k in ("p50", "p95", "p99", "max")))
    most = 0.0  # the capacity measured back to back, if it ran: the steady rate should stay below it
    for key, pattern, rate in (
        ("back-to-back", "back to back (saturating: capacity)", None),
        ("steady", f"steady {args.rate:g}/s", args.rate),
    ):
        if key not in patterns:
            continue
        print(f" {pattern}, {args.requests:,} requests after {warmup} warm-up ones whose work is done first")
        ours, load, _, work_cpu = run(
            "Baton acknowledges",
            baton,
            env,
            logcalls(args.requests),
            api=api,
            arrived=arrived,
            requests=args.requests,
            rate=rate,
        )
        floor, _, floor_seconds, _ = run(
            "bare Bolt (floor)",
            bare,
            env,
            logcalls(args.requests),
            api=api,
            arrived=None,
            requests=args.requests,
            rate=rate,
        )
        print(f"  {'ratio p99':<24}{ours['p99'] / floor['p99']:>31.2f}x the floor")
        row("Baton's reply (work done)", replies(load, arrived))
        if rate is None:
            most = capacity(load, arrived)
            print(f"  {'Baton capacity':<24}{most:>27.1f} commands/s done (the middle 80% of replies)")
            print(f"  {'bare Bolt (floor)':<24}{args.requests / floor_seconds:>27.1f} acknowledgements/s")
            print(
                f"  {'Baton server CPU':<24}{work_cpu * 1000 / args.requests:>27.1f} ms a command "
                f"(at most {args.requests / work_cpu:.0f}/s a core; PostgreSQL's own work not included)"
            )
        elif most and rate > 0.8 * most:
            print(f"  (not below capacity: {rate:g}/s is over 80% of the {most:.1f}/s measured back to back)")
    for pattern, idle in (("burst", 0), ("idle", 40)):
        if pattern not in patterns:
            continue
        what = f"{args.burst} at once from 20 threads" + (f", {idle} idle connections open" if idle else "")
        print(f" {pattern}: {what}")
        ours, load, _, _ = run(
            "Baton acknowledges",
            baton,
            env,
            logcalls(args.burst),
            api=api,
            arrived=arrived,
            requests=args.burst,
            rate=None,
            threads=20,
            idle=idle,
        )
        late = sum(ms > 3000 for ms in load.acks)
        once, missing, twice = stored_once(url, load.sent)
        print(f"  {'acknowledged in 3 s':<24}{len(load.acks) - late:>9} of {len(load.acks)}")
        print(
            f"  {'stored exactly once':<24}{once:>9} of {len(load.sent)} ({missing} missing, {twice} doubled)"
        )
        row("Baton's reply (work done)", replies(load, arrived))
    total = len(api.calls_to("response_url"))
    print(f"\n Replies delivered by Baton: {total:,}")
    api.stop()


def serve_bare(port: int) -> None:
    """The floor: Bolt behind the same front door and waitress settings, acknowledging and nothing else."""
    from slack_bolt import App
    from slack_sdk import WebClient
    from waitress.server import create_server

    from bot.front_door import FrontDoor
    from bot.server import WAITRESS, prefer_quick_replies

    prefer_quick_replies()
    client = WebClient(token=TOKEN, base_url=os.environ["SLACK_API_URL"])  # the same stand-in as Baton
    # The same mode as Baton: the request thread acknowledges.
    app = App(
        signing_secret=SECRET,
        client=client,
        token_verification_enabled=False,
        request_verification_enabled=False,  # checked by the front door, as for Baton
        process_before_response=True,
    )

    @app.command("/logcall")
    def ack_only(ack: Any) -> None:
        ack()

    create_server(FrontDoor(app, signing_secret=SECRET), host="127.0.0.1", port=port, **WAITRESS).run()


if __name__ == "__main__":
    main()
