"""Bringing CRM records into Baton's pipeline: deals as leads, contacts as prospects, history as progress.

One `Pull` per sync run, fed one page at a time inside the caller's transaction. The conflict rule
(README, "CRM sync"): the CRM owns a deal's stage and owner, unless Baton changed them since the
last sync (a push still owed); a rep's touches are never touched by a pull.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from coaching.calendar import local_date, next_working_day
from coaching.crm_mapping import (
    ActivityTouch,
    CrmCompany,
    CrmDeal,
    CrmEngagement,
    CrmPerson,
    CrmStage,
    activity_touch,
    history_of,
    lead_name,
    prospect_reached,
    prospect_status,
    second_name,
    status_of_stage,
)
from coaching.crm_push import OWNER, STAGE
from coaching.leads import refresh_progress
from coaching.parsing import name_key
from coaching.people import last_known_profile, zone
from coaching.privacy import fingerprint
from coaching.rules import CLOSED, Rules, Status
from store import crm_sync as rows
from store import queries
from store.models import Contact, CrmLink, CrmOwner, Lead, StatusChange, Touch

CRM_ACTOR = "CRM"  # who a change made in the CRM is recorded as (status changes, contacts added)
ACTIVITY_NOTE = "Logged in HubSpot"  # a touch that came from the CRM says so in /lead show
ARCHIVED_REASON = "Deleted in the CRM"


@dataclass(frozen=True)
class OwnerMoved:
    """A deal moved to another rep in the CRM: both hear of it as they would of a hand-off."""

    lead_id: int
    lead_name: str
    from_user: str
    to_user: str


@dataclass
class PullCounts:
    leads_added: int = 0
    leads_updated: int = 0
    unchanged: int = 0
    prospects_added: int = 0
    contacts_added: int = 0
    closed: int = 0
    archived: int = 0
    kept_by_baton: int = 0
    histories: int = 0
    activity: int = 0  # calls, e-mails and meetings logged in the CRM that became touches
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def skip(self, why: str) -> None:
        self.skipped[why] += 1


def remember_owners(
    session: Session,
    *,
    team_id: str,
    crm: str,
    owners: Iterable[tuple[str, str, str, str | None]],
    looked_up: bool = True,
) -> None:
    """CRM owners (id, e-mail, name) and the Slack person each one is (None: nobody with that e-mail).
    `looked_up=False` (no Slack token to look with): the matches made before are kept."""
    known = {row.owner_id: row for row in rows.owners(session, team_id=team_id, crm=crm)}
    for owner_id, email, name, user_id in owners:
        row = known.get(owner_id)
        if row is None:
            session.add(
                CrmOwner(team_id=team_id, crm=crm, owner_id=owner_id, email=email, name=name, user_id=user_id)
            )
        else:
            row.email, row.name = email, name
            if looked_up:
                row.user_id = user_id


class Pull:
    def __init__(
        self,
        session: Session,
        *,
        team_id: str,
        crm: str,
        now: datetime,
        stages: list[CrmStage],
        default_owner: str | None,
        rules: Rules,
        team_days: frozenset[int],
    ) -> None:
        self.session, self.team_id, self.crm, self.now = session, team_id, crm, now
        self.stages = {stage.id: stage for stage in stages}
        self.default_owner = default_owner
        self.rules, self.team_days = rules, team_days
        self.slack_of = {
            row.owner_id: row.user_id for row in rows.owners(session, team_id=team_id, crm=crm) if row.user_id
        }
        self.counts = PullCounts()
        self.moved: list[OwnerMoved] = []
        # People and leads erased on request (python -m bot privacy erase) never come back from the CRM.
        self.erased = queries.privacy.fingerprints(session, team_id=team_id)

    def is_erased(self, *, lead_key: str | None = None, person: CrmPerson | None = None) -> bool:
        if not self.erased:
            return False
        marks = []
        if lead_key is not None:
            marks.append(fingerprint(self.team_id, "lead", lead_key))
        if person is not None and person.email:
            marks.append(fingerprint(self.team_id, "email", person.email.strip().casefold()))
        if person is not None and lead_key is not None:
            marks.append(fingerprint(self.team_id, "person", f"{lead_key}\n{name_key(person.name)}"))
        return any(mark in self.erased for mark in marks)

    def owner_for(self, crm_owner: str | None) -> str | None:
        return self.slack_of.get(crm_owner or "") or self.default_owner

    # ---- deals ---------------------------------------------------------------------------------------

    def deals(
        self, deals: list[CrmDeal], companies: dict[str, CrmCompany], people: dict[str, CrmPerson]
    ) -> None:
        """One page of deals (with their companies and contacts read in bulk beside them), in a
        handful of statements per page rather than a few per deal."""
        with self.session.no_autoflush:
            links = rows.links(
                self.session,
                team_id=self.team_id,
                crm=self.crm,
                object_type="deal",
                crm_ids=[d.id for d in deals],
            )
            lead_ids = sorted({link.lead_id for link in links.values() if link.lead_id is not None})
            leads = rows.leads_by_id(self.session, lead_ids, for_update=True)
            placed: list[tuple[CrmDeal, Lead]] = []
            fresh: list[CrmDeal] = []
            for deal in deals:
                link = links.get(deal.id)
                lead = leads.get(link.lead_id) if link is not None and link.lead_id is not None else None
                if lead is None:
                    fresh.append(deal)
                else:
                    assert link is not None
                    self._known_deal(deal, link, lead)
                    placed.append((deal, lead))
            placed.extend(self._new_deals(fresh, links, companies))
            self._attach([(lead, people[c]) for deal, lead in placed for c in deal.contacts if c in people])

    def _new_deals(
        self, deals: list[CrmDeal], links: dict[str, CrmLink], companies: dict[str, CrmCompany]
    ) -> list[tuple[CrmDeal, Lead]]:
        """Deals Baton has no lead for: a new lead each, or an existing one of that name that no
        other deal has (a CSV import's, a rep's own), adopted."""
        if not deals:
            return []
        names = {d.id: lead_name(d, companies.get(d.company or "")) for d in deals}
        keys = {name_key(n)[:200] for n in names.values()} | {
            name_key(second_name(names[d.id], d))[:200] for d in deals
        }
        by_key = rows.leads_by_keys(self.session, team_id=self.team_id, keys=sorted(keys))
        claimed: set[str] = set()  # names given to a deal on this page
        taken = rows.leads_with_deal(
            self.session, team_id=self.team_id, crm=self.crm, lead_ids=[lead.id for lead in by_key.values()]
        )
        placed: list[tuple[CrmDeal, Lead, bool]] = []
        for deal in deals:
            owner = self.owner_for(deal.owner)
            if owner is None:
                self.counts.skip("its owner is nobody in Slack (set --default-owner to take them)")
                continue
            if self.is_erased(lead_key=name_key(names[deal.id])[:200]):
                self.counts.skip("it names someone erased on request")
                continue
            for candidate in (names[deal.id], second_name(names[deal.id], deal)):
                key = name_key(candidate)[:200]
                lead = by_key.get(key)
                if lead is None:
                    lead = self._new_lead(deal, candidate[:200], key, owner)
                    by_key[key] = lead
                    claimed.add(key)
                    placed.append((deal, lead, True))
                    break
                if key not in claimed and lead.id not in taken:
                    claimed.add(key)
                    placed.append((deal, lead, False))
                    break
            else:
                self.counts.skip("another deal's lead has its name")
        self.session.add_all([lead for _, lead, new in placed if new])
        self.session.flush()  # one flush for the page's new leads: their ids for the links
        self.counts.leads_added += sum(1 for _, _, new in placed if new)
        self.counts.leads_updated += sum(1 for _, _, new in placed if not new)
        for deal, lead, _ in placed:
            link = links.get(deal.id)
            if link is None:
                link = CrmLink(
                    team_id=self.team_id, crm=self.crm, object_type="deal", crm_id=deal.id, archived=False
                )
                self.session.add(link)
            link.lead_id, link.stage, link.crm_owner = lead.id, deal.stage, deal.owner
            link.modified_at, link.archived, link.company = deal.modified_at, False, deal.company
        return [(deal, lead) for deal, lead, _ in placed]

    def _new_lead(self, deal: CrmDeal, name: str, key: str, owner: str) -> Lead:
        status = status_of_stage(self.stages.get(deal.stage))
        return Lead(
            team_id=self.team_id,
            name=name,
            name_key=key,
            owner_id=owner,
            created_by=owner,
            status=status.value,
            created_at=deal.created_at or self.now,
            closed_at=(deal.modified_at or self.now) if status in CLOSED else None,
            lost_reason=(deal.closed_lost_reason or None) if status is Status.LOST else None,
            counting_since=None,
            attempt_baseline=0,
            attempts=0,
            reached=False,
            ever_reached=status is Status.WON,
            next_follow_up=self._today() if status is Status.OPEN else None,
        )

    def _known_deal(self, deal: CrmDeal, link: CrmLink, lead: Lead) -> None:
        # Before the unchanged check: a deal re-read after the upgrade to per-deal companies
        # (migration 0023) gets its company though HubSpot changed nothing.
        link.company = deal.company
        if (
            link.modified_at is not None
            and deal.modified_at is not None
            and deal.modified_at <= link.modified_at
        ):
            self.counts.unchanged += 1  # read again because the cursor overlaps: nothing new
            return
        changed = False
        if deal.stage != link.stage:
            if rows.unsent_changes(self.session, lead_id=lead.id, kind=STAGE):
                self.counts.kept_by_baton += 1  # Baton changed it since the last sync: its push stands
            else:
                changed |= self._restage(lead, status_of_stage(self.stages.get(deal.stage)), deal)
                link.stage = deal.stage
        if deal.owner != link.crm_owner:
            if rows.unsent_changes(self.session, lead_id=lead.id, kind=OWNER):
                self.counts.kept_by_baton += 1
            else:
                to_user = self.slack_of.get(deal.owner or "")
                if to_user is None:
                    self.counts.skip("its new owner is nobody in Slack: the lead kept its owner")
                elif to_user != lead.owner_id:
                    self.moved.append(OwnerMoved(lead.id, lead.name, lead.owner_id, to_user))
                    lead.owner_id = to_user
                    lead.counting_since = self.now  # a hand-off is a fresh start for the new owner
                    lead.attempt_baseline = 0
                    lead.attempts = 0
                    if lead.status == Status.OPEN.value and lead.opted_out_at is None:
                        lead.next_follow_up = self._today()
                    changed = True
                link.crm_owner = deal.owner
        link.modified_at = deal.modified_at
        if changed:
            self.counts.leads_updated += 1
        else:
            self.counts.unchanged += 1

    def _restage(self, lead: Lead, status: Status, deal: CrmDeal) -> bool:
        if status.value == lead.status or (status is Status.LOST and lead.status == Status.BACKBURNER.value):
            return False
        lead.status = status.value
        if status in CLOSED:
            self.counts.closed += 1
            lead.closed_at = self.now
            lead.next_follow_up = None
            lead.lost_reason = (deal.closed_lost_reason or None) if status is Status.LOST else None
        else:
            lead.closed_at = None
            lead.lost_reason = None
            lead.counting_since = self.now
            lead.attempt_baseline = 0
            lead.next_follow_up = self._today() if lead.opted_out_at is None else None
        self.session.add(
            StatusChange(
                team_id=self.team_id,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                by=CRM_ACTOR,
                status=status.value,
                at=self.now,
            )
        )
        return True

    # ---- contacts --------------------------------------------------------------------------------

    def _attach(self, pairs: list[tuple[Lead, CrmPerson]]) -> None:
        """People on leads: new ones added, details filled in, opt-outs taken; one read of their
        links and contacts and one flush for the whole page."""
        if not pairs:
            return
        links = rows.links(
            self.session,
            team_id=self.team_id,
            crm=self.crm,
            object_type="contact",
            crm_ids=sorted({person.id for _, person in pairs}),
        )
        known = rows.contacts_by_id(
            self.session, sorted({link.contact_id for link in links.values() if link.contact_id})
        )
        made: dict[str, Contact] = {}
        erased = [pair for pair in pairs if self.is_erased(lead_key=pair[0].name_key, person=pair[1])]
        if erased:
            self.counts.skipped["a person erased on request"] += len(erased)
            pairs = [pair for pair in pairs if pair not in erased]
        for lead, person in pairs:
            link = links.get(person.id)
            contact = made.get(person.id) or (
                known.get(link.contact_id) if link is not None and link.contact_id else None
            )
            if contact is None:
                contact = Contact(
                    team_id=self.team_id,
                    lead_id=lead.id,
                    name=person.name[:200],
                    role=person.title[:200] or None,
                    email=person.email[:254] or None,
                    phone=person.phone[:64] or None,
                    added_by=CRM_ACTOR,
                    added_at=self.now,
                )
                self.session.add(contact)
                made[person.id] = contact
                self.counts.contacts_added += 1
            else:
                for attr, value in (("role", person.title), ("email", person.email), ("phone", person.phone)):
                    if value and getattr(contact, attr) != value:
                        setattr(contact, attr, value)
            if person.opted_out and lead.opted_out_at is None:
                # Opt-outs only travel one way: no sync ever takes one back (as no CSV import does).
                lead.opted_out_at = self.now
                lead.next_follow_up = None
                lead.meeting_on = None
        self.session.flush()  # the new contacts' ids, for their links
        for _lead, person in pairs:
            contact = made.get(person.id)
            link = links.get(person.id)
            if link is None:
                link = CrmLink(
                    team_id=self.team_id,
                    crm=self.crm,
                    object_type="contact",
                    crm_id=person.id,
                    archived=False,
                )
                self.session.add(link)
                links[person.id] = link
            if contact is not None:
                link.lead_id, link.contact_id = contact.lead_id, contact.id
            link.modified_at, link.company = person.modified_at, person.company

    def people(self, people: list[CrmPerson], companies: dict[str, CrmCompany]) -> None:
        """Contacts changed in the CRM: those on a lead are refreshed; those with a lead status and on
        no lead yet become prospects, named after their company (a deal's contacts came with it)."""
        with self.session.no_autoflush:
            links = rows.links(
                self.session,
                team_id=self.team_id,
                crm=self.crm,
                object_type="contact",
                crm_ids=[p.id for p in people],
            )
            leads = rows.leads_by_id(
                self.session,
                sorted({link.lead_id for link in links.values() if link.lead_id}),
                for_update=True,
            )
            pairs: list[tuple[Lead, CrmPerson]] = []
            wanted: list[tuple[CrmPerson, str, str]] = []
            for person in people:
                link = links.get(person.id)
                lead = leads.get(link.lead_id) if link is not None and link.lead_id else None
                if lead is not None:
                    pairs.append((lead, person))
                elif not person.lead_status:
                    self.counts.skip("a contact with no lead status and no open deal")
                elif (owner := self.owner_for(person.owner)) is None:
                    self.counts.skip("its owner is nobody in Slack (set --default-owner to take them)")
                else:
                    company = companies.get(person.company or "")
                    name = " ".join((company.name if company else person.name).split())[:200]
                    if self.is_erased(lead_key=name_key(name)[:200], person=person):
                        self.counts.skip("a person erased on request")
                        continue
                    wanted.append((person, name, owner))
            by_key = rows.leads_by_keys(
                self.session, team_id=self.team_id, keys=sorted({name_key(n)[:200] for _, n, _ in wanted})
            )
            new: list[Lead] = []
            for person, name, owner in wanted:
                key = name_key(name)[:200]
                lead = by_key.get(key)
                if lead is None:
                    lead = self._prospect(person, name, key, owner)
                    by_key[key] = lead
                    new.append(lead)
                pairs.append((lead, person))
            self.session.add_all(new)
            self.session.flush()
            self.counts.prospects_added += len(new)
            self._attach(pairs)

    def _prospect(self, person: CrmPerson, name: str, key: str, owner: str) -> Lead:
        status = prospect_status(person)
        reached = prospect_reached(person)
        return Lead(
            team_id=self.team_id,
            name=name,
            name_key=key,
            owner_id=owner,
            created_by=owner,
            status=status.value,
            created_at=self.now,
            closed_at=self.now if status in CLOSED else None,
            counting_since=None,
            attempt_baseline=0,
            attempts=0,
            reached=reached,
            ever_reached=reached,
            crm_contact_at=person.modified_at if reached else None,
            last_contact_at=person.modified_at if reached else None,
            next_follow_up=self._today() if status is Status.OPEN else None,
        )

    # ---- deleted records -------------------------------------------------------------------------

    def archived(self, object_type: str, crm_ids: list[str]) -> None:
        """Deleted (archived) in the CRM: the lead leaves the pipeline; its touches stay in Baton."""
        links = rows.links(
            self.session, team_id=self.team_id, crm=self.crm, object_type=object_type, crm_ids=crm_ids
        )
        fresh = [link for link in links.values() if not link.archived]
        leads = rows.leads_by_id(
            self.session, sorted({link.lead_id for link in fresh if link.lead_id}), for_update=True
        )
        for link in fresh:
            link.archived = True
            lead = leads.get(link.lead_id or 0)
            if lead is None or lead.status != Status.OPEN.value:
                continue
            if object_type == "contact" and any(
                other.object_type == "deal" and not other.archived
                for other in rows.links_of_lead(
                    self.session, team_id=self.team_id, crm=self.crm, lead_id=lead.id
                )
            ):
                continue  # one contact of a live deal went: the lead stays
            lead.status = Status.LOST.value
            lead.lost_reason = ARCHIVED_REASON
            lead.closed_at = self.now
            lead.next_follow_up = None
            self.counts.archived += 1

    # ---- the first pull's history ------------------------------------------------------------------

    def history(self, by_deal: dict[str, list[CrmEngagement]]) -> None:
        """Attempts, last touch and last conversation from the CRM's activity, for leads Baton has no
        touches of its own on yet: a team is coached from its real past on day one."""
        deal_leads = rows.deal_links(self.session, team_id=self.team_id, crm=self.crm)
        per_lead: dict[int, list[CrmEngagement]] = defaultdict(list)
        for deal_id, engagements in by_deal.items():
            lead_id = deal_leads.get(deal_id)
            if lead_id is not None:
                per_lead[lead_id].extend(engagements)
        leads = rows.leads_by_id(self.session, sorted(per_lead), for_update=True)
        logged = rows.leads_with_touches(self.session, sorted(per_lead))
        for lead_id, engagements in per_lead.items():
            lead = leads.get(lead_id)
            if lead is None or lead_id in logged:
                continue
            past = history_of(engagements)
            if past.last_touch_at is None:
                continue
            lead.attempt_baseline = lead.attempts = past.attempts
            lead.last_touch_at = past.last_touch_at
            lead.crm_contact_at = lead.last_contact_at = past.last_contact_at
            lead.reached = past.last_contact_at is not None
            lead.ever_reached = lead.ever_reached or lead.reached
            if lead.status == Status.OPEN.value and lead.opted_out_at is None:
                spacing = timedelta(
                    days=self.rules.follow_up_days if not lead.reached else max(1, self.rules.stall_days // 2)
                )
                due = max((past.last_touch_at + spacing).date(), self._today())
                lead.next_follow_up = next_working_day(due, self.team_days)
            self.counts.histories += 1

    # ---- activity logged in the CRM after the first pull ------------------------------------------

    def activity(self, engagements: list[CrmEngagement], *, logged_since: datetime) -> None:
        """Calls, e-mails and meetings logged straight into the CRM since Baton started syncing
        (`logged_since`; what came before is the first pull's history) become touches on their
        lead, each once (its id kept as a link), so a rep who dials from HubSpot is coached from
        those calls too. Baton's own engagements are its touches already."""
        fresh = [e for e in engagements if not e.ours and (e.created_at or e.at) > logged_since]
        by_type: dict[str, list[CrmEngagement]] = defaultdict(list)
        for e in fresh:
            by_type[e.kind.value].append(e)
        seen = {
            (kind, crm_id)
            for kind, group in by_type.items()
            for crm_id in rows.links(
                self.session,
                team_id=self.team_id,
                crm=self.crm,
                object_type=kind,
                crm_ids=[e.id for e in group],
            )
        }
        fresh = [e for e in fresh if (e.kind.value, e.id) not in seen]
        deal_of = self._leads_of("deal", {d for e in fresh for d in e.deals})
        contact_of = self._leads_of("contact", {c for e in fresh for c in e.contacts})
        placed: list[tuple[int, CrmEngagement, ActivityTouch]] = []
        for e in fresh:
            # Its deal's lead first; a prospect's activity is on its contact.
            lead_id = next((deal_of[d] for d in e.deals if deal_of.get(d)), None) or next(
                (contact_of[c] for c in e.contacts if contact_of.get(c)), None
            )
            touch = activity_touch(e, now=self.now)
            if lead_id is not None and touch is not None:
                placed.append((lead_id, e, touch))
        leads = rows.leads_by_id(self.session, sorted({lead_id for lead_id, _, _ in placed}), for_update=True)
        worked: dict[int, Lead] = {}
        for lead_id, e, touch in sorted(placed, key=lambda item: item[2].at):
            lead = leads.get(lead_id)
            if lead is None:
                continue
            self.session.add(
                Touch(
                    team_id=self.team_id,
                    lead_id=lead.id,
                    user_id=self.slack_of.get(e.owner or "") or lead.owner_id,
                    outcome=touch.outcome.value,
                    at=touch.at,
                    meeting_on=touch.meeting_on,
                    note=ACTIVITY_NOTE,
                    logged_at=self.now,
                    # the first one does the follow-up that was due, as a touch logged in Slack would
                    due_on=lead.next_follow_up
                    if lead.status == Status.OPEN and lead.id not in worked
                    else None,
                )
            )
            self.session.add(
                CrmLink(
                    team_id=self.team_id, crm=self.crm, object_type=e.kind.value, crm_id=e.id, lead_id=lead.id
                )
            )
            worked[lead.id] = lead
            self.counts.activity += 1
        self.session.flush()
        for lead in worked.values():
            known = last_known_profile(self.session, team_id=self.team_id, user_id=lead.owner_id)
            tz = zone(known[0].tz if known else None)
            refresh_progress(
                self.session,
                lead,
                tz=tz,
                rules=self.rules,
                today=local_date(self.now, tz),
                team_days=self.team_days,
            )

    def _leads_of(self, object_type: str, crm_ids: set[str]) -> dict[str, int | None]:
        """The lead each of these CRM records is (records deleted in the CRM left out)."""
        found = rows.links(
            self.session, team_id=self.team_id, crm=self.crm, object_type=object_type, crm_ids=sorted(crm_ids)
        )
        return {crm_id: link.lead_id for crm_id, link in found.items() if not link.archived}

    def _today(self) -> date:
        return next_working_day(self.now.astimezone(UTC).date(), self.team_days)
