"""The /lead command in one line of text, and finishing any parked command once the rep picks a lead."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from coaching import finding, handoffs, touches
from coaching.caller import Caller
from coaching.finding import DraftRefused, LeadOption, WhichLead
from coaching.handoff_results import HandoffResult
from coaching.leads import (
    BadName,
    Change,
    ContactRemoved,
    ContactSaved,
    LeadAdded,
    LeadDetail,
    LeadExists,
    NoChange,
    NotAllowed,
    StatusChanged,
    add_lead,
    change_status,
    lead_detail,
    remove_contact,
    save_contact,
)
from coaching.parsing import clean, name_key, read_contact, words
from coaching.rules import Status
from coaching.touches import Fix, LogResult
from store import queries
from store.models import Lead

VERBS: dict[str, str] = {
    "add": "add",
    "new": "add",
    "create": "add",
    "show": "show",
    "view": "show",
    "info": "show",
    "find": "find",
    "search": "find",
    "won": "won",
    "win": "won",
    "lost": "lost",
    "lose": "lost",
    "backburner": "backburner",
    "back-burner": "backburner",
    "park": "backburner",
    "reopen": "reopen",
    "open": "reopen",
    "contact": "contact",
    "uncontact": "uncontact",
    "removecontact": "uncontact",
    "optout": "optout",
    "opt-out": "optout",
    "help": "help",
}
CHANGES = {"won": Change.WON, "lost": Change.LOST, "backburner": Change.BACKBURNER, "reopen": Change.REOPEN}
FOUND_SHOWN = 10


@dataclass(frozen=True)
class LeadHelp:
    problem: str | None = None  # what was wrong with the command, if anything


@dataclass(frozen=True)
class Found:
    query: str
    leads: tuple[LeadOption, ...]
    more: int


LeadResult = (
    LeadAdded
    | LeadExists
    | BadName
    | LeadDetail
    | StatusChanged
    | NoChange
    | NotAllowed
    | ContactSaved
    | ContactRemoved
    | WhichLead
    | DraftRefused
    | Found
    | LeadHelp
)


def lead_command(session: Session, caller: Caller, text: str) -> LeadResult:
    cleaned = clean(text).text
    ws = words(cleaned)
    if not ws:
        return LeadHelp()
    verb = VERBS.get(ws[0].text.casefold())
    rest = cleaned[ws[0].end :].strip() if verb else cleaned
    if verb is None:
        verb = "show"  # `/lead acme` shows Acme
    if verb == "help":
        return LeadHelp()
    if verb == "add":
        return add_lead(
            session, team_id=caller.team_id, user_id=caller.user_id, name=rest, now=caller.now, tz=caller.tz
        )
    if not rest:
        return LeadHelp(f"Which lead? Add its name after `{ws[0].text}`.")
    if verb == "find":
        return _find(session, caller, rest)
    found = finding.find_or_ask(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        command=f"lead.{verb}",
        text=rest,
        today=caller.today,
        now=caller.now,
    )
    if isinstance(found, WhichLead):
        return found
    return _run(session, caller, verb, found.lead, found.match.rest)


def _run(session: Session, caller: Caller, verb: str, lead: Lead, rest: str) -> LeadResult:
    if verb == "show":
        return lead_detail(
            session,
            team_id=caller.team_id,
            lead=lead,
            now=caller.now,
            tz=caller.tz,
            rules=caller.rules,
            team_days=caller.config.digest_days,
        )
    if verb == "contact":
        words_read = read_contact(rest)
        saved = save_contact(
            session,
            lead=lead,
            user_id=caller.user_id,
            person=words_read.person,
            role=words_read.role,
            decision_maker=words_read.decision_maker,
            now=caller.now,
            email=words_read.email,
            phone=words_read.phone,
        )
        if isinstance(saved, ContactSaved):
            return ContactSaved(saved.lead, saved.contact, saved.updated, words_read)
        return saved
    if verb == "uncontact":
        return remove_contact(
            session, lead=lead, user_id=caller.user_id, is_manager=caller.is_manager, person=rest
        )
    change = Change.OPT_OUT if verb == "optout" else CHANGES[verb]
    return change_status(
        session,
        lead=lead,
        user_id=caller.user_id,
        is_manager=caller.is_manager,
        change=change,
        reason=rest if change is Change.LOST else "",
        now=caller.now,
        tz=caller.tz,
        rules=caller.rules,
        team_days=caller.config.digest_days,
    )


def _find(session: Session, caller: Caller, query: str) -> Found:
    rows = queries.leads.search_leads(
        session, team_id=caller.team_id, key=name_key(query), limit=FOUND_SHOWN + 1
    )
    options = tuple(LeadOption(r.id, r.name, Status(r.status), r.owner_id) for r in rows)
    return Found(query, options[:FOUND_SHOWN], more=max(0, len(options) - FOUND_SHOWN))


def lead_action(session: Session, caller: Caller, lead_id: int, verb: str) -> LeadResult:
    """A lead button (Show, Won, Lost, Back-burner, Reopen) pressed on a message."""
    lead = queries.leads.lead(session, team_id=caller.team_id, lead_id=lead_id)
    if lead is None:
        return DraftRefused(finding.DraftProblem.MISSING)
    return _run(session, caller, verb, lead, "")


def resume(
    session: Session, caller: Caller, *, draft_id: int, lead_id: int | None, fix: Fix | None
) -> LogResult | LeadResult | HandoffResult:
    """Finish a parked command now that the rep has picked a lead (or a fix)."""
    draft = queries.drafts.draft(session, team_id=caller.team_id, draft_id=draft_id)
    if draft is not None and (draft.command.startswith("lead.") or draft.command == handoffs.COMMAND):
        claimed = finding.claim_draft(
            session, team_id=caller.team_id, user_id=caller.user_id, draft_id=draft_id, now=caller.now
        )
        if isinstance(claimed, DraftRefused):
            return claimed
        lead = (
            queries.leads.lead(session, team_id=caller.team_id, lead_id=lead_id)
            if lead_id is not None
            else None
        )
        if lead is None:
            return DraftRefused(finding.DraftProblem.MISSING)
        if claimed.command == handoffs.COMMAND:
            return handoffs.handoff(session, caller, lead=lead, rest=claimed.rest)
        return _run(session, caller, claimed.command.removeprefix("lead."), lead, claimed.rest)
    return touches.log_from_draft(session, caller, draft_id=draft_id, lead_id=lead_id, fix=fix)
