"""Erasure on request: a person's name, e-mail, phone and the notes naming them leave Baton for good.

What stays is what a manager's figures are made of, anonymised: the lead, its touches (outcome, time,
who logged it) and its hand-offs, so last week's counts and the attempt curve don't change. What is
recorded is that an erasure happened and a fingerprint per erased person (a SHA-256 of the team and
the normalised e-mail, or of the lead and the person's name), never who it was: the next import or
CRM sync recognises the same person by the fingerprint and leaves them out.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from coaching.crm_file import Row
from coaching.parsing import name_key
from store import queries
from store.models import Contact, Erasure, Lead

ERASED_NOTE = "(note erased on request)"


class NothingToErase(LookupError):
    """No contact, lead or e-mail matched: nothing was changed."""


@dataclass(frozen=True)
class ErasureReport:
    teams: tuple[str, ...]
    contacts: int  # contacts removed
    notes: int  # notes, reasons and hand-off texts emptied
    leads: int  # whole leads anonymised (--lead)
    requests: int  # finished inbox and outbox rows deleted because they named the person

    def lines(self) -> list[str]:
        return [
            f"Erased in {', '.join(self.teams)}: {self.contacts} contact(s) removed, {self.notes} note(s) "
            f"emptied, {self.leads} lead(s) anonymised, {self.requests} kept request(s) and message(s) deleted.",
            "Touches, outcomes and dates stay (anonymised), so managers' figures don't change; "
            "the next import or CRM sync leaves this person out.",
        ]


def fingerprint(team_id: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{team_id}\n{kind}\n{value}".encode()).hexdigest()


def _email(value: str) -> str:
    return value.strip().casefold()


def _person(lead_key: str, person: str) -> str:
    return f"{lead_key}\n{name_key(person)}"


def erase(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    email: str | None = None,
    contact_id: int | None = None,
    lead_name: str | None = None,
) -> ErasureReport:
    """Erase by e-mail (in one team, or every team), by contact id, or a whole lead (in one team)."""
    contacts: list[Contact] = []
    leads: list[Lead] = []
    if email is not None:
        contacts = list(queries.privacy.contacts_by_email(session, team_id=team_id, email=email))
    elif contact_id is not None:
        found = queries.privacy.contact(session, contact_id=contact_id)
        if found is not None and team_id in (None, found.team_id):
            contacts = [found]
    elif lead_name is not None:
        if team_id is None:
            raise ValueError("erasing a lead needs its team")
        lead = queries.leads.lead_by_key(session, team_id=team_id, key=name_key(lead_name))
        if lead is not None:
            leads = [lead]
            contacts = list(queries.leads.contacts(session, team_id=team_id, lead_id=lead.id))
    if not contacts and not leads and email is None:
        raise NothingToErase("no such contact or lead")
    if not contacts and email is not None:
        raise NothingToErase(f"no contact has the e-mail {email}")
    by_lead = {lead.id: lead for lead in leads}
    for lead in queries.privacy.leads_of(
        session, lead_ids=sorted({c.lead_id for c in contacts} - set(by_lead))
    ):
        by_lead[lead.id] = lead
    teams: set[str] = set()
    notes = requests = 0
    marks: set[tuple[str, str, str]] = set()
    whole_leads = {lead.id for lead in leads}
    for lead in by_lead.values():
        teams.add(lead.team_id)
        theirs = [c for c in contacts if c.lead_id == lead.id]
        whole = lead.id in whole_leads
        needles = _needles(theirs, whole_lead=whole, lead=lead)
        notes += _scrub_lead(session, lead, needles, whole=whole)
        requests += queries.privacy.drop_finished_requests(session, team_id=lead.team_id, needles=needles)
        for person in theirs:
            marks.add((lead.team_id, "person", _person(lead.name_key, person.name)))
            if person.email:
                marks.add((lead.team_id, "email", _email(person.email)))
            session.delete(person)
        if whole:
            marks.add((lead.team_id, "lead", lead.name_key))
            lead.name = f"Erased lead {lead.id}"
            lead.name_key = name_key(lead.name)
    if email is not None and not teams and team_id is not None:
        teams.add(team_id)
    for team, kind, value in sorted(marks):
        session.add(
            Erasure(team_id=team, kind=kind, fingerprint=fingerprint(team, kind, value), erased_at=now)
        )
    return ErasureReport(tuple(sorted(teams)), len(contacts), notes, len(leads), requests)


def _needles(contacts: Iterable[Contact], *, whole_lead: bool, lead: Lead) -> list[str]:
    """The words whose presence makes a note about the person: their name and e-mail, lower case,
    and as they appear inside JSON (the inbox and outbox keep text JSON-encoded)."""
    words = {c.name for c in contacts if len(c.name.strip()) > 2} | {c.email for c in contacts if c.email}
    if whole_lead:
        words.add(lead.name)
    found: set[str] = set()
    for word in words:
        low = word.strip().casefold()
        found.add(low)
        found.add(json.dumps(low)[1:-1])
    return sorted(found)


def _names(text: str | None, needles: Sequence[str]) -> bool:
    return bool(text) and any(needle in (text or "").casefold() for needle in needles)


def _scrub_lead(session: Session, lead: Lead, needles: Sequence[str], *, whole: bool) -> int:
    """Empty every free text on the lead that names the person (on a whole lead: every one)."""
    emptied = 0
    if lead.notes and (whole or _names(lead.notes, needles)):
        lead.notes, emptied = None, emptied + 1
    if lead.lost_reason and (whole or _names(lead.lost_reason, needles)):
        lead.lost_reason, emptied = None, emptied + 1
    touches, transfers, ops = queries.privacy.lead_texts(session, team_id=lead.team_id, lead_id=lead.id)
    for touch in touches:
        if touch.note and (whole or _names(touch.note, needles)):
            touch.note, emptied = ERASED_NOTE, emptied + 1
    for transfer in transfers:
        if transfer.reason and (whole or _names(transfer.reason, needles)):
            transfer.reason, emptied = ERASED_NOTE, emptied + 1
        if transfer.decision_note and (whole or _names(transfer.decision_note, needles)):
            transfer.decision_note, emptied = ERASED_NOTE, emptied + 1
    for handoff in ops:
        for field in ("notes", "sold", "timeline"):
            if getattr(handoff, field) and (whole or _names(getattr(handoff, field), needles)):
                setattr(handoff, field, ERASED_NOTE)
                emptied += 1
    return emptied


def leave_out_erased(session: Session, *, team_id: str, rows: Sequence[Row]) -> tuple[list[Row], int]:
    """An import's rows without the people erased on request: a row of an erased lead is left out,
    an erased person is taken off their row (the lead itself still comes in). Returns the rows and
    how many rows lost something."""
    marks = queries.privacy.fingerprints(session, team_id=team_id)
    if not marks:
        return list(rows), 0
    kept: list[Row] = []
    touched = 0
    for row in rows:
        if fingerprint(team_id, "lead", row.key) in marks:
            touched += 1
            continue
        erased_person = bool(row.person) and (
            fingerprint(team_id, "person", _person(row.key, row.person or "")) in marks
            or (row.email is not None and fingerprint(team_id, "email", _email(row.email)) in marks)
        )
        if erased_person:
            touched += 1
            row = replace(
                row, person=None, role=None, email=None, phone=None, decision_maker=False, notes=None
            )
        kept.append(row)
    return kept, touched
