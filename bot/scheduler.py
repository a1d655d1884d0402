"""The clock: APScheduler running Baton's periodic work. Run one (`python -m bot clock`), or with Socket Mode in-process.

A single tick every few minutes decides who is due, in each person's own time zone, instead of a
cron job per rep: time zones and daylight-saving changes need no rescheduling, a tick missed while
the clock was down is simply caught up by the next one, and the database (not the scheduler)
guarantees one digest per person per local day, so a second clock or a restart never double-sends.

Every job runs per workspace, with that workspace's own client (bot/workspaces.py), and the
workspaces side by side: one whose token was revoked, or that is waiting out a 429, holds up
no other's digests.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot.app import Baton
from bot.crm_teams import CrmSyncers
from bot.workspaces import each_team
from coaching.people import forget_old_events
from coaching.workspaces import is_stopped
from handlers.courier import Courier
from handlers.deliveries import Deliveries
from handlers.handoff_posts import sweep
from store import queries

log = logging.getLogger(__name__)
TICK_MINUTES = 5
CRM_SYNC_MINUTES = 5  # HubSpot → Baton; Baton → HubSpot goes every 15 s from each web process
KEEP_EVENTS = timedelta(days=2)  # Slack retries an event for minutes, not days
KEEP_DRAFTS = timedelta(days=7)  # "which lead did you mean?" buttons older than a week are stale


class Jobs:
    def __init__(self, baton: Baton) -> None:
        self.baton = baton
        self.deps = baton.deps
        self.client = baton.client
        self.workspaces = baton.workspaces

    def tick(self) -> None:
        """Digests and reviews due now, and hand-off requests waiting too long."""
        now = self.deps.clock()
        clocks = self.baton.settings.clock_processes if self.baton.settings else 1

        def deliver(team_id: str | None, client: WebClient) -> None:
            deliveries = Deliveries(self.deps, client, team_id=team_id, clocks=clocks)
            where = f" in {team_id}" if team_id else ""
            self._run("digests", lambda: log.info("Digests%s: %s", where, deliveries.digests(at=now)))
            self._run("reviews", lambda: log.info("Reviews%s: %s", where, deliveries.reviews(at=now)))

        if self.baton.installations is None:
            deliver(None, self.client)  # one bot token speaks for every team Baton holds
        else:
            self._run("deliveries", lambda: each_team(self.workspaces, "deliveries", deliver))
        self._run("hand-offs", lambda: sweep(self.deps, self.client, per_team=self.workspaces.client))

    def outbox(self) -> None:
        """Messages still owed: a passing Slack failure retried, a lost answer settled."""
        if self.baton.installations is not None:
            self._run("outbox", self.baton.sweep_outbox)
            return
        courier = Courier(self.deps, self.client, per_team=self.workspaces.client)
        self._run("outbox", lambda: log.info("Outbox: %s", courier.sweep()))

    def crm_sync(self) -> None:
        """Each team with a CRM (HUBSPOT_TOKEN for one workspace, or its own stored token): pull
        what changed and push what Baton owes it; one team's refused token holds up no other."""
        crm = self.baton.crm
        if not isinstance(crm, CrmSyncers):
            return
        default = self.baton.settings.hubspot_default_owner if self.baton.settings else None

        def sync(team_id: str, client: WebClient) -> None:
            if self._stopped(team_id):
                return
            syncer = crm.for_team(team_id)
            if syncer is not None:
                log.info("CRM sync: %s", " ".join(syncer.sync(team_id, default_owner=default).lines()))

        self._run("crm sync", lambda: each_team(self.workspaces, "crm sync", sync))

    def refresh_directory(self) -> None:
        """Time zones and deactivations from users.list; someone who left has their leads flagged at once."""

        def refresh(team_id: str, client: WebClient) -> None:
            if self._stopped(team_id):
                return
            Deliveries(self.deps, client, team_id=team_id).refresh_directory(team_id)

        self._run("directory", lambda: each_team(self.workspaces, "directory", refresh))

    def tidy(self) -> None:
        now = self.deps.clock()

        def tidy() -> None:
            with self.deps.db.sessions.begin() as session:
                forget_old_events(session, before=now - KEEP_EVENTS)
                queries.drafts.delete_drafts_before(session, now - KEEP_DRAFTS)
            log.info("Tidy: %s", self.baton.tidy.tidy())  # finished work, old notes, uninstalled teams

        self._run("tidy", tidy)

    def _stopped(self, team_id: str) -> bool:
        """The workspace uninstalled Baton: its jobs are skipped until it installs Baton again."""
        with self.deps.db.readers.begin() as session:
            if is_stopped(session, team_id):
                log.info("Workspace %s uninstalled Baton: its jobs are skipped", team_id)
                return True
        return False

    def _run(self, name: str, job: Callable[[], object]) -> None:
        # One job failing (Slack down, a bad row) must not stop the others or kill the clock.
        try:
            job()
        except Exception:
            log.exception("The %s job failed; it runs again on the next tick", name)


def build(baton: Baton, *, blocking: bool) -> BaseScheduler:
    jobs = Jobs(baton)
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone=UTC,
        # A late tick still runs (up to four minutes late); ticks missed while down collapse into one.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 240},
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        jobs.tick, CronTrigger(minute=f"*/{TICK_MINUTES}", timezone=UTC), id="tick", next_run_time=now
    )
    scheduler.add_job(jobs.outbox, CronTrigger(minute="*", timezone=UTC), id="outbox", next_run_time=now)
    scheduler.add_job(
        jobs.refresh_directory,
        CronTrigger(hour="*/6", minute=3, timezone=UTC),
        id="directory",
        next_run_time=now,
    )
    if baton.crm is not None:
        scheduler.add_job(
            jobs.crm_sync,
            CronTrigger(minute=f"*/{CRM_SYNC_MINUTES}", timezone=UTC),
            id="crm",
            next_run_time=now,
        )
    scheduler.add_job(jobs.tidy, CronTrigger(hour=3, minute=17, timezone=UTC), id="tidy")
    return scheduler
