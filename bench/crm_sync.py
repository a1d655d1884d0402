"""The HubSpot sync against the local HubSpot at HubSpot's published limits. A benchmark, not a test.

    python bench/crm_sync.py [--scale 1.0] [--database-url URL] [--parts pull,incremental,touches,chaos]

The stand-in (bot/localhubspot: 190 requests per rolling 10 s, search 5 a second) runs in a child
process with its account (10,000 deals, 20,000 contacts, 5,000 companies, 100,000 engagements at
scale 1, all dated a day back), so this process's peak memory is the sync's own. Then:

- pull: the first full pull, timed beside the least time HubSpot's burst limit allows for the
  requests it made (the first 190 at once, then 19 a second), and this process's peak memory;
- incremental: 100 records changed in HubSpot (50 deals re-staged, 50 contacts), then one sync;
- touches: 20 touches a second for 60 s logged through Baton's own use case while a pusher runs
  every 15 s, as each web process does: how long each touch took to reach HubSpot (p50/p99/max);
- chaos: touches while HubSpot drops answers after writing, answers a storm of 429s, is down for
  `--down` seconds, and the pushing process (`python -m bot crm sync`) is killed with SIGKILL
  mid-push; then duplicate engagements (two with one touch id) and lost touches (none) are counted.
"""

import argparse
import multiprocessing
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bot.app import deps_for  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.crm_sync import CrmSyncer  # noqa: E402
from bot.hubspot import HubSpotCrm  # noqa: E402
from bot.localslack import SlackApi, User, Workspace  # noqa: E402
from bot.slack import make_client  # noqa: E402
from coaching import touches  # noqa: E402
from coaching.crm_mapping import CONNECTED, LEFT_VOICEMAIL, NO_ANSWER  # noqa: E402
from store.db import Database, open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import CrmPush, Lead  # noqa: E402

TEAM, TOKEN = "T0CRMSYNC", "xoxb-bench"
REPS = 20
DAY_MS = 86_400_000


# ---- the stand-in, in its own process -----------------------------------------------------------------


def stand_in(conn: Connection, scale: float) -> None:
    from bot.localhubspot import HubSpot, LocalHubSpot

    offset = [-DAY_MS]  # everything seeded is a day old, so no incremental sync reads it again
    hubspot = HubSpot(now_ms=lambda: int(time.time() * 1000) + offset[0])
    rng = random.Random(7)
    started = time.monotonic()
    owners = [hubspot.add_owner(f"rep{n}@example.com", "Rep", str(n)) for n in range(REPS)]
    companies = [hubspot.add_company(f"Company {n:05}") for n in range(int(5_000 * scale))]
    contacts = []
    for n in range(int(20_000 * scale)):
        status = {"hs_lead_status": "NEW", "hubspot_owner_id": owners[n % REPS]} if n % 5 == 0 else {}
        contacts.append(
            hubspot.add_contact(
                "Pat",
                f"No{n}",
                f"pat{n}@example.com",
                company=companies[n % len(companies)],
                jobtitle="Director",
                **status,
            )
        )
    stages = ["appointmentscheduled", "qualifiedtobuy", "contractsent", "closedwon", "closedlost"]
    deals = [
        hubspot.add_deal(
            f"Deal {n}",
            stage=stages[n % len(stages)],
            owner=owners[n % REPS],
            company=companies[n % len(companies)],
            # a deal's two contacts come from the first three quarters: the rest may be prospects
            contacts=[contacts[(2 * n + k) % (len(contacts) * 3 // 4)] for k in (0, 1)],
        )
        for n in range(int(10_000 * scale))
    ]
    now = int(time.time() * 1000)
    kinds = ("calls", "calls", "calls", "emails", "meetings")
    for n in range(int(100_000 * scale)):
        kind = kinds[n % len(kinds)]
        extra = (
            {"hs_call_disposition": rng.choice((CONNECTED, NO_ANSWER, LEFT_VOICEMAIL))}
            if kind == "calls"
            else {}
        )
        hubspot.add_engagement(
            kind, timestamp_ms=now - rng.randrange(400) * DAY_MS, deal=deals[n % len(deals)], **extra
        )
    offset[0] = 0
    with LocalHubSpot(hubspot) as local:
        conn.send({"url": local.url, "token": hubspot.token, "seeded_s": time.monotonic() - started})
        while True:
            command, *args = conn.recv()
            if command == "stop":
                conn.send("ok")
                return
            if command == "change":
                for n in range(50):
                    hubspot.update("deals", deals[(n * 7) % len(deals)], dealstage="closedwon")
                    hubspot.update(
                        "contacts", contacts[(n * 13 + 1) % len(contacts)], hs_lead_status="CONNECTED"
                    )
                conn.send("ok")
            elif command == "faults":
                name, fault_args = args
                if name == "down":
                    hubspot.faults().down(time.monotonic() + fault_args[0])
                else:
                    getattr(hubspot.faults(), name)(*fault_args)
                conn.send("ok")
            elif command == "ours":
                counts: dict[str, int] = {}
                for kind in ("calls", "emails", "meetings", "notes"):
                    for record in hubspot.objects(kind):
                        touch = record["properties"].get("baton_touch_id")
                        if touch and not record["archived"]:
                            counts[touch] = counts.get(touch, 0) + 1
                conn.send(counts)


# ---- Baton's side -----------------------------------------------------------------------------------


def fresh_database(url: str | None) -> tuple[Database, str]:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='crm-bench-')}/baton.db"
    db = open_database(url, pool_size=8)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    return db, url


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.parent, child = multiprocessing.Pipe()
        self.child = multiprocessing.Process(target=stand_in, args=(child, args.scale), daemon=True)
        self.child.start()
        hello = self.parent.recv()
        self.url, self.token = hello["url"], hello["token"]
        print(f"Seeded the stand-in in {hello['seeded_s']:.0f} s (scale {args.scale:g}).")
        users = {
            f"U0REP{n:03}": User(f"U0REP{n:03}", f"rep{n}", f"Rep {n}", email=f"rep{n}@example.com")
            for n in range(REPS)
        }
        self.slack = SlackApi(Workspace(team_id=TEAM, users=users), token=TOKEN).start()
        self.db, self.db_url = fresh_database(args.database_url)
        self.settings = Settings(bot_token=TOKEN, api_url=self.slack.url, database_url=self.db_url)
        self.deps = deps_for(self.settings, self.db)

    def ask(self, *command: Any) -> Any:
        self.parent.send(command)
        return self.parent.recv()

    def syncer(self) -> CrmSyncer:
        return CrmSyncer(
            self.deps, HubSpotCrm(self.token, api_url=self.url), slack=make_client(TOKEN, self.slack.url)
        )

    def pull(self) -> None:
        syncer = self.syncer()
        started = time.monotonic()
        if self.args.profile:
            import cProfile

            profiler = cProfile.Profile()
            report = profiler.runcall(syncer.sync, TEAM)
            profiler.dump_stats(self.args.profile)
        else:
            report = syncer.sync(TEAM)
        took = time.monotonic() - started
        requests = report.requests
        floor = max(0, requests - 190) / 19
        print("\n".join(report.lines()))
        print(
            f"First full pull: {took:.1f} s for {requests:,} requests; HubSpot's burst limit allows them in "
            f"{floor:.1f} s at best ({took / floor if floor else 0:.2f} times); peak memory {peak_mb():.0f} MB"
        )

    def incremental(self) -> None:
        self.syncer().sync(TEAM)  # settle: the full pull's own window read once more
        self.ask("change")
        syncer = self.syncer()
        started = time.monotonic()
        report = syncer.sync(TEAM)
        print(
            f"Incremental: 100 records changed in HubSpot; one sync took {time.monotonic() - started:.2f} s "
            f"({report.deals} deals and {report.people} contacts read, {report.counts.closed} won, "
            f"{report.requests} requests)"
        )

    def log_touches(self, seconds: float, rate: float, stop_pushers: threading.Event | None = None) -> int:
        """Touches through Baton's own use case, on random open leads, at `rate` a second."""
        with self.db.sessions.begin() as session:
            leads = list(
                session.execute(
                    select(Lead.name, Lead.owner_id).where(Lead.team_id == TEAM, Lead.status == "open")
                )
            )
        rng = random.Random(11)
        logged = 0
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            name, owner = rng.choice(leads)
            with self.db.sessions.begin() as session:
                caller = self.deps.caller(session, TEAM, owner, ZoneInfo("America/New_York"))
                touches.log_from_text(
                    session,
                    caller,
                    f'"{name}" {rng.choice(["vm", "no-answer", "connected", "email"])} bench note {logged}',
                )
            logged += 1
            pause = started + logged / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        return logged

    def pusher(self, stop: threading.Event, every: float = 15.0) -> threading.Thread:
        syncer = self.syncer()

        def loop() -> None:
            while not stop.is_set():
                try:
                    syncer.push_all()
                except Exception as error:  # the web process logs and carries on
                    print(f"  pusher: {error}")
                stop.wait(every)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def drain(self, deadline_s: float = 900) -> None:
        syncer = self.syncer()
        started = time.monotonic()
        while time.monotonic() - started < deadline_s:
            syncer.push_all()
            with self.db.sessions.begin() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(CrmPush)
                    .where(CrmPush.status.in_(("pending", "sending", "unknown")))
                )
            if not left:
                return
            time.sleep(5)

    def touches(self) -> None:
        stop = threading.Event()
        thread = self.pusher(stop)
        logged = self.log_touches(60, 20)
        self.drain()
        stop.set()
        thread.join()
        with self.db.sessions.begin() as session:
            delays = [
                (done - made).total_seconds()
                for made, done in session.execute(
                    select(CrmPush.created_at, CrmPush.finished_at).where(
                        CrmPush.kind == "touch", CrmPush.status == "sent"
                    )
                )
            ]
        print(
            f"Touches: {logged} logged at 20/s; reached HubSpot p50 {percentile(delays, 50):.1f} s, "
            f"p99 {percentile(delays, 99):.1f} s, max {max(delays, default=0):.1f} s ({len(delays)} sent)"
        )

    def chaos(self) -> None:
        with self.db.sessions.begin() as session:
            before = session.scalar(select(func.count()).select_from(CrmPush).where(CrmPush.kind == "touch"))
        stop = threading.Event()
        self.ask("faults", "drop_after_write", [5])
        self.ask("faults", "rate_limit_storm", [40, None])
        thread = self.pusher(stop, every=5)
        self.log_touches(20, 20)
        self.ask("faults", "down", [self.args.down])
        self.log_touches(20, 20)
        stop.set()
        thread.join()
        # A pushing process killed mid-push: `python -m bot crm sync` on the same database.
        self.log_touches(10, 20)
        env = dict(
            os.environ,
            DATABASE_URL=self.db_url,
            HUBSPOT_TOKEN=self.token,
            HUBSPOT_API_URL=self.url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=self.slack.url,
        )
        env.pop("SLACK_SIGNING_SECRET", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--env-file", "/nonexistent", "crm", "sync", "--team", TEAM],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(self.args.kill_after)
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(130)  # the killed process's leases (2 minutes) run out
        self.drain()
        ours = self.ask("ours")
        with self.db.sessions.begin() as session:
            touch_ids = {
                str(t) for t in session.scalars(select(CrmPush.touch_id).where(CrmPush.kind == "touch"))
            }
            statuses = dict(
                session.execute(
                    select(CrmPush.status, func.count())
                    .where(CrmPush.kind == "touch")
                    .group_by(CrmPush.status)
                ).all()
            )
        duplicates = sum(1 for count in ours.values() if count > 1)
        lost = len(touch_ids - set(ours))
        print(
            f"Chaos ({len(touch_ids) - (before or 0)} touches through dropped answers, a 429 storm, HubSpot down "
            f"{self.args.down:g} s and a SIGKILLed pusher): {duplicates} duplicate engagements, {lost} touches "
            f"not in HubSpot; push states {statuses}"
        )

    def close(self) -> None:
        self.ask("stop")
        self.slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url")
    parser.add_argument("--parts", default="pull,incremental,touches,chaos")
    parser.add_argument("--down", type=float, default=60.0, help="seconds HubSpot is down in the chaos part")
    parser.add_argument("--profile", help="write the first pull's cProfile stats to this file")
    parser.add_argument("--kill-after", type=float, default=3.0, help="seconds before the pusher is killed")
    args = parser.parse_args()
    bench = Bench(args)
    try:
        for part in args.parts.split(","):
            getattr(bench, part)()
    finally:
        bench.close()
    print(f"Ran at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.")


if __name__ == "__main__":
    main()
