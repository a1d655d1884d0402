"""One CRM sync: pull what changed in the CRM, push what Baton owes it, and report both.

Run by `python -m bot crm sync`, by the clock every few minutes (pull and push), and by each web
process's recovery loop (push only, every 15 seconds), so a touch reaches the CRM within a minute.
A pull is claimed per team in the database (one process at a time); pushes are leased row by row,
so any number of processes may run this at once and each record is still synced once.
"""

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.hubspot_client import HubSpotRefused, HubSpotUnavailable
from bot.read_ahead import Background, ahead
from coaching import crm_push, workspaces
from coaching.crm_mapping import (
    CrmCompany,
    CrmDeal,
    CrmEngagement,
    CrmOwner,
    CrmPerson,
    CrmPort,
    CrmStage,
    PushResult,
)
from coaching.crm_pull import OwnerMoved, Pull, PullCounts, remember_owners
from coaching.outbox import new_owner
from coaching.settings import TeamConfig, team_config
from handlers import outbox
from handlers.blocks.crm import owner_changed_in_crm
from handlers.courier import Courier
from handlers.deps import Deps
from handlers.people import resolve_owners
from store import crm_sync as rows
from store.models import CrmSync

log = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=10)  # search lags behind changes: each incremental pull re-reads this much
RUN_LEASE = timedelta(minutes=10)  # renewed every page: a live pull is never taken over
PUSH_ROUNDS = 50  # batches per run at most (5,000 pushes); the rest goes on the next run
HISTORY_CHUNK = 500
CRM_LABEL = {"hubspot": "HubSpot"}


@dataclass
class Report:
    """What a sync did, for the terminal and the log."""

    team_id: str
    full: bool
    dry_run: bool
    ran: bool = True  # False: another process was pulling for the team
    stopped: bool = False  # the workspace uninstalled Baton: nothing pulled or pushed
    owners_matched: int = 0
    owners_unmatched: list[str] = field(default_factory=list)
    deals: int = 0
    people: int = 0
    counts: PullCounts = field(default_factory=PullCounts)
    moved: list[OwnerMoved] = field(default_factory=list)
    pushed: int = 0
    push_failed: int = 0
    push_waiting: int = 0
    requests: int = 0
    waited_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.counts
        head = "Dry run: nothing was saved or sent. " if self.dry_run else ""
        if self.stopped:
            return [f"Team {self.team_id} uninstalled Baton: nothing synced until it installs Baton again."]
        if not self.ran:
            return [f"{head}Another process is syncing team {self.team_id} right now; nothing to do here."]
        out = [
            f"{head}{'Full' if self.full else 'Incremental'} sync of team {self.team_id}.",
            f"Owners: {self.owners_matched} matched to Slack by e-mail"
            + (
                f", {len(self.owners_unmatched)} not in Slack: {', '.join(sorted(self.owners_unmatched))}"
                if self.owners_unmatched
                else ""
            ),
            f"Came in: {self.deals} deals and {self.people} contacts read; {c.leads_added} leads added, "
            f"{c.prospects_added} prospects added, {c.leads_updated} updated, {c.unchanged} unchanged, "
            f"{c.contacts_added} contacts added, {c.closed} won or lost in the CRM, {c.archived} deleted in the CRM, "
            f"{len(self.moved)} moved to another rep, {c.histories} leads' history read, "
            f"{c.activity} calls, e-mails and meetings logged in the CRM added as touches.",
        ]
        if c.kept_by_baton:
            out.append(f"Kept Baton's change (not yet sent) over the CRM's: {c.kept_by_baton}.")
        for why, count in sorted(c.skipped.items()):
            out.append(f"Skipped {count}: {why}.")
        out.append(f"Went out: {self.pushed} sent, {self.push_waiting} to retry, {self.push_failed} failed.")
        out.append(f"{self.requests} requests, {self.waited_s:.1f} s waiting for HubSpot's rate limits.")
        out.extend(f"Problem: {e}" for e in self.errors)
        return out


class PushesToCrm(ABC):
    """What each web process's recovery loop calls every 15 seconds: `push_all` on its own thread."""

    def __init__(self) -> None:
        self._pushing: threading.Thread | None = None
        self._pushing_lock = threading.Lock()

    @abstractmethod
    def push_all(self) -> int:
        """Send every team's due pushes; how many went."""

    def push_in_background(self) -> None:
        """Start `push_all` on its own thread unless one is still running: a HubSpot outage (retries
        with back-off) must not hold up the recovery loop that resumes Slack requests."""
        with self._pushing_lock:
            if self._pushing is not None and self._pushing.is_alive():
                return

            def run() -> None:
                try:
                    self.push_all()
                except Exception:
                    log.exception("Pushing to the CRM failed; what is owed stays owed and is tried again")

            self._pushing = threading.Thread(target=run, name="crm-push", daemon=True)
            self._pushing.start()

    def wait_for_push(self, timeout: float | None = None) -> None:
        """For a caller that must see the push done (tests, the try-out): wait for the thread."""
        pushing = self._pushing
        if pushing is not None:
            pushing.join(timeout)


class CrmSyncer(PushesToCrm):
    """Syncs one team with one CRM (its adapter: `port`)."""

    def __init__(
        self, deps: Deps, port: CrmPort, *, crm: str = "hubspot", slack: WebClient | None = None
    ) -> None:
        super().__init__()
        self.deps, self.port, self.crm, self.slack = deps, port, crm, slack
        self.owner = new_owner()
        self._stages: list[CrmStage] | None = None
        self._prepared = False  # the CRM's markers made sure of, once per process

    # ---- the whole sync ------------------------------------------------------------------------------

    def sync(
        self, team_id: str, *, full: bool = False, dry_run: bool = False, default_owner: str | None = None
    ) -> Report:
        """Pull, then push. HubSpotRefused (bad token, missing scope) goes to the caller."""
        started = self.deps.clock()
        with self.deps.db.readers.begin() as session:
            if workspaces.is_stopped(session, team_id):
                return Report(team_id, full, dry_run, ran=False, stopped=True)
        with self.deps.db.sessions.begin() as session:
            state = self._connect(session, team_id, started)
            first = state.full_pull_at is None
            cursors: dict[str, str] = json.loads(state.cursors or "{}")
            if not dry_run and not rows.claim_run(
                session,
                team_id=team_id,
                crm=self.crm,
                owner=self.owner,
                now=started,
                until=started + RUN_LEASE,
            ):
                return Report(team_id, full or first, dry_run, ran=False)
        report = Report(team_id, full or first, dry_run)
        try:
            with self._work(dry_run) as work:
                if first and not dry_run:
                    self.port.prepare()
                    self._prepared = True
                # The history is read on its own thread while deals and contacts are written: the
                # rate limit's waits and the database's work overlap instead of adding up.
                history = Background(self._read_history) if first or full else None
                self._pull(
                    work, team_id, report, full=full or first, cursors=cursors, default_owner=default_owner
                )
                if history is not None:
                    self._history(work, team_id, report, history.result())
                # Activity logged in HubSpot since the first pull (whose history counted what came
                # before) becomes touches; a team synced before this was read starts from now.
                logged_since = cursors.get("activity_from") or started.isoformat()
                if not first:
                    since = cursors.get("engagements") or logged_since
                    self._activity(
                        work,
                        team_id,
                        report,
                        since=None if full else datetime.fromisoformat(since) - OVERLAP,
                        logged_since=datetime.fromisoformat(logged_since),
                    )
                if not dry_run:
                    with work() as session:
                        values: dict[str, object] = {
                            "cursors": json.dumps(
                                {
                                    "deals": started.isoformat(),
                                    "contacts": started.isoformat(),
                                    "engagements": started.isoformat(),
                                    "activity_from": logged_since,
                                }
                            ),
                            "last_run_at": self.deps.clock(),
                        }
                        if first or full:
                            values["full_pull_at"] = self.deps.clock()
                        rows.release_run(session, team_id=team_id, crm=self.crm, owner=self.owner, **values)
        except BaseException:
            if not dry_run:
                with self.deps.db.sessions.begin() as session:
                    rows.release_run(session, team_id=team_id, crm=self.crm, owner=self.owner)
            raise
        if not dry_run:
            self.push(team_id, report)
            if report.moved and self.slack is not None:
                Courier(self.deps, self.slack).sweep()  # the reps hear of their moved deals now
        pacer = getattr(self.port, "pacer", None)
        if pacer is not None:
            report.requests, report.waited_s = pacer.requests, pacer.waited
        return report

    def _connect(self, session: Session, team_id: str, now: datetime) -> CrmSync:
        state = rows.sync_row(session, team_id=team_id, crm=self.crm)
        if state is None:
            state = CrmSync(team_id=team_id, crm=self.crm, connected_at=now, cursors="{}")
            session.add(state)
            session.flush()
        return state

    @contextmanager
    def _work(self, dry_run: bool) -> Iterator["_Transactions"]:
        """A real run commits each page on its own; a dry run does everything in one transaction that
        is rolled back at the end, so it reports exactly what a real run would do and saves nothing."""
        if not dry_run:
            yield _Transactions(self.deps, None)
            return
        try:
            with self.deps.db.sessions.begin() as session:
                yield _Transactions(self.deps, session)
                raise _RolledBack  # leaving the block by an exception rolls the whole run back
        except _RolledBack:
            pass

    # ---- pulling -------------------------------------------------------------------------------------

    def stages(self) -> list[CrmStage]:
        if self._stages is None:
            self._stages = self.port.stages()
        return self._stages

    def _pull(
        self,
        work: "_Transactions",
        team_id: str,
        report: Report,
        *,
        full: bool,
        cursors: dict[str, str],
        default_owner: str | None,
    ) -> None:
        owners = self.port.owners()
        matched = self._match(owners)
        if self.slack is None:  # no Slack token: the matches made before stand
            with work() as session:
                matched = {
                    row.owner_id: row.user_id
                    for row in rows.owners(session, team_id=team_id, crm=self.crm)
                    if row.user_id
                }
        report.owners_matched = len(matched)
        report.owners_unmatched = [o.email or o.id for o in owners if o.id not in matched]
        stages = self.stages()
        with work() as session:
            remember_owners(
                session,
                team_id=team_id,
                crm=self.crm,
                owners=[(o.id, o.email, o.name, matched.get(o.id)) for o in owners],
                looked_up=self.slack is not None,
            )
            config = team_config(session, team_id=team_id, defaults=self.deps.defaults)
        common = dict(
            team_id=team_id,
            crm=self.crm,
            stages=stages,
            default_owner=default_owner,
            rules=config.rules,
            team_days=config.digest_days,
        )

        def since(kind: str) -> datetime | None:
            if full or kind not in cursors:
                return None
            return datetime.fromisoformat(cursors[kind]) - OVERLAP

        def deal_pages() -> Iterator[tuple[list[CrmDeal], dict[str, CrmCompany], dict[str, CrmPerson]]]:
            for page in self.port.deals(since=since("deals")):
                company_ids = sorted({d.company for d in page if d.company})
                companies = {c.id: c for c in self.port.companies(company_ids)} if company_ids else {}
                contact_ids = sorted({c for d in page for c in d.contacts})
                yield page, companies, {p.id: p for p in self.port.people_by_id(contact_ids)}

        for page, companies, people in ahead(deal_pages()):
            with work() as session:
                self._renew(session, team_id)
                pull = Pull(session, now=self.deps.clock(), **common)  # type: ignore[arg-type]
                pull.deals(page, companies, people)
                self._tell(session, team_id, pull.moved, work.dry_run)
                _add(report.counts, pull.counts)
                report.moved.extend(pull.moved)
            report.deals += len(page)

        def people_pages() -> Iterator[tuple[list[CrmPerson], dict[str, CrmCompany]]]:
            for persons in self.port.people(since=since("contacts")):
                company_ids = sorted({p.company for p in persons if p.company and p.lead_status})
                yield persons, ({c.id: c for c in self.port.companies(company_ids)} if company_ids else {})

        for persons, companies in ahead(people_pages()):
            with work() as session:
                self._renew(session, team_id)
                pull = Pull(session, now=self.deps.clock(), **common)  # type: ignore[arg-type]
                pull.people(persons, companies)
                _add(report.counts, pull.counts)
            report.people += len(persons)
        for object_type in ("deals", "contacts"):
            for ids in self.port.archived(object_type):
                with work() as session:
                    pull = Pull(session, now=self.deps.clock(), **common)  # type: ignore[arg-type]
                    pull.archived(object_type[:-1], ids)
                    _add(report.counts, pull.counts)

    def _read_history(self) -> dict[str, list[CrmEngagement]]:
        """The first pull reads every call, e-mail and meeting once, grouped by deal."""
        by_deal: dict[str, list[CrmEngagement]] = defaultdict(list)
        for page in self.port.history():
            for engagement in page:
                for deal in engagement.deals:
                    by_deal[deal].append(engagement)
        return by_deal

    def _history(
        self, work: "_Transactions", team_id: str, report: Report, by_deal: dict[str, list[CrmEngagement]]
    ) -> None:
        """Each lead's progress from its deal's history, a chunk of deals per transaction."""
        deals = sorted(by_deal)
        with work() as session:
            config = team_config(session, team_id=team_id, defaults=self.deps.defaults)
        for start in range(0, len(deals), HISTORY_CHUNK):
            chunk = {d: by_deal[d] for d in deals[start : start + HISTORY_CHUNK]}
            with work() as session:
                pull = self._pull_in(session, team_id, config)
                pull.history(chunk)
                _add(report.counts, pull.counts)

    def _activity(
        self,
        work: "_Transactions",
        team_id: str,
        report: Report,
        *,
        since: datetime | None,
        logged_since: datetime,
    ) -> None:
        """Calls, e-mails and meetings changed in the CRM since `since` (all of them on a full
        pull: each becomes a touch once), a page per transaction."""
        with work() as session:
            config = team_config(session, team_id=team_id, defaults=self.deps.defaults)
        for page in self.port.history(since=since):
            if not page:
                continue
            with work() as session:
                self._renew(session, team_id)
                pull = self._pull_in(session, team_id, config)
                pull.activity(page, logged_since=logged_since)
                _add(report.counts, pull.counts)

    def _pull_in(self, session: Session, team_id: str, config: TeamConfig) -> Pull:
        """A pull of what was read already (history, activity): no new records, so no default owner."""
        return Pull(
            session,
            team_id=team_id,
            crm=self.crm,
            now=self.deps.clock(),
            stages=self.stages(),
            default_owner=None,
            rules=config.rules,
            team_days=config.digest_days,
        )

    def _match(self, owners: list[CrmOwner]) -> dict[str, str]:
        """CRM owner id → Slack user id, by e-mail (users.lookupByEmail, each address once)."""
        emails = {o.email for o in owners if o.email}
        found, _ = resolve_owners(self.slack, emails) if self.slack is not None else ({}, {})
        return {o.id: found[o.email] for o in owners if o.email in found}

    def _renew(self, session: Session, team_id: str) -> None:
        now = self.deps.clock()
        rows.claim_run(
            session, team_id=team_id, crm=self.crm, owner=self.owner, now=now, until=now + RUN_LEASE
        )

    def _tell(self, session: Session, team_id: str, moved: list[OwnerMoved], dry_run: bool) -> None:
        """Both reps hear of a deal moved in the CRM, through the outbox, in the pull's transaction."""
        if dry_run:
            return
        label = CRM_LABEL.get(self.crm, self.crm)
        for move in moved:
            for reader in (move.from_user, move.to_user):
                message = owner_changed_in_crm(
                    lead_id=move.lead_id,
                    lead_name=move.lead_name,
                    from_user=move.from_user,
                    to_user=move.to_user,
                    reader=reader,
                    crm=label,
                )
                outbox.post(session, team_id, reader, message, deps=self.deps)

    # ---- pushing -------------------------------------------------------------------------------------

    def push_all(self) -> int:
        """Every team's due pushes: each web process's recovery loop runs this every 15 seconds."""
        with self.deps.db.readers.begin() as session:
            teams = rows.teams_owed(session, crm=self.crm, now=self.deps.clock())
        return sum(self.push(team).pushed for team in teams)

    def push(self, team_id: str, report: Report | None = None) -> Report:
        """Send what is owed, a batch at a time, until nothing is due (or PUSH_ROUNDS batches)."""
        report = report or Report(team_id, full=False, dry_run=False)
        stages: list[CrmStage] | None = None
        for _ in range(PUSH_ROUNDS):
            with self.deps.db.sessions.begin() as session:
                if not rows.due_pushes(
                    session, team_id=team_id, crm=self.crm, now=self.deps.clock(), limit=1
                ):
                    break
            if stages is None:
                try:
                    stages = self.stages()
                except HubSpotUnavailable as error:
                    # Nothing was taken yet: what is owed stays due, for the next round of this loop.
                    report.errors.append(str(error))
                    break
            with self.deps.db.sessions.begin() as session:
                taken = crm_push.take(
                    session,
                    team_id=team_id,
                    crm=self.crm,
                    owner=self.owner,
                    now=self.deps.clock(),
                    stages=stages,
                )
            report.push_failed += taken.skipped
            if taken.empty:
                continue
            try:
                results = self._deals(taken)
                results += (
                    self.port.find_engagements(taken.look_first, push_ids=taken.push_of_touch)
                    if taken.look_first
                    else []
                )
                results += (
                    self.port.create_engagements(taken.create, push_ids=taken.push_of_touch)
                    if taken.create
                    else []
                )
                results += self.port.change_deals(taken.deal_changes) if taken.deal_changes else []
                results += self._contacts(taken)
            except HubSpotUnavailable as error:
                # Nothing is lost: the rows stay leased and are taken again when the lease runs out.
                report.errors.append(str(error))
                break
            with self.deps.db.sessions.begin() as session:
                sent, owed = crm_push.settle(
                    session,
                    results,
                    team_id=team_id,
                    crm=self.crm,
                    owner=self.owner,
                    now=self.deps.clock(),
                    changes=taken.deal_changes,
                    deals=taken.new_deals + taken.deals_look_first,
                    contacts=taken.contacts,
                )
            report.pushed += sent
            report.push_waiting += owed
            report.push_failed += len(results) - sent - owed
        return report

    def _deals(self, taken: crm_push.Taken) -> list[PushResult]:
        """Leads added in Slack, as deals: looked for first when an earlier try may have made them."""
        if not (taken.new_deals or taken.deals_look_first):
            return []
        self._prepare_once()
        found = self.port.find_deals(taken.deals_look_first) if taken.deals_look_first else []
        return found + (self.port.create_deals(taken.new_deals) if taken.new_deals else [])

    def _contacts(self, taken: crm_push.Taken) -> list[PushResult]:
        if not taken.contacts:
            return []
        self._prepare_once()
        return self.port.upsert_contacts(taken.contacts)

    def _prepare_once(self) -> None:
        """The CRM's markers made sure of, once per process: a team synced before Baton created
        deals and contacts has no deal or contact marker yet."""
        if not self._prepared:
            self.port.prepare()
            self._prepared = True


class _RolledBack(Exception):
    """Ends a dry run's transaction without saving anything."""


class _Transactions:
    """`work()` opens a committed transaction per page, or hands out the dry run's one session."""

    def __init__(self, deps: Deps, session: Session | None) -> None:
        self.deps, self.session = deps, session

    @property
    def dry_run(self) -> bool:
        return self.session is not None

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        if self.session is not None:
            with self.session.begin_nested():
                yield self.session
            return
        with self.deps.db.sessions.begin() as session:
            yield session


def _add(total: PullCounts, part: PullCounts) -> None:
    for name in (
        "leads_added",
        "leads_updated",
        "unchanged",
        "prospects_added",
        "contacts_added",
        "closed",
        "archived",
        "kept_by_baton",
        "histories",
        "activity",
    ):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for why, count in part.skipped.items():
        total.skipped[why] += count


def refused_reason(error: HubSpotRefused) -> str:
    return str(error)


__all__ = ["CrmCompany", "CrmSyncer", "HubSpotRefused", "HubSpotUnavailable", "Report"]
