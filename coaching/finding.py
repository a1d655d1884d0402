"""Finding the lead a rep means, and parking the command in a draft when Baton has to ask."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session

from coaching.parsing import (
    Candidate,
    LeadMatch,
    MatchKind,
    closest,
    leading_keys,
    name_key,
    split_lead,
    words,
)
from coaching.rules import Status
from store import queries
from store.models import Draft, Lead

SHOWN_OPTIONS = 5


@dataclass(frozen=True)
class LeadOption:
    lead_id: int
    name: str
    status: Status
    owner_id: str


@dataclass(frozen=True)
class WhichLead:
    """Baton could not tell which lead was meant; the rep picks one with a button."""

    draft_id: int
    command: str
    lead_text: str
    options: tuple[LeadOption, ...]
    more: int  # further matches not shown
    unknown: bool  # nothing matched: the options only look similar
    can_add: bool  # offer to add `lead_text` as a new lead


@dataclass(frozen=True)
class Resolved:
    lead: Lead
    match: LeadMatch

    @property
    def guessed(self) -> bool:
        """The rep typed part of the name (or another word of it): say which lead it was read as."""
        return self.match.kind is not MatchKind.EXACT


def resolve(session: Session, team_id: str, text: str, today: date) -> LeadMatch:
    """Match against the leads sharing the first two words typed, and only when no lead spans two
    words against all sharing the first one. Longer matches win, so the narrow search finds every
    match the wide one would that spans two or more words; typical commands read one or two rows."""
    keys = leading_keys(text)
    if len(keys) == 2:
        narrow = queries.leads.lead_candidates(session, team_id=team_id, keys=[f"{keys[0]} {keys[1]}"])
        match = split_lead(text, [Candidate(*row) for row in narrow], today)
        if match.leads and len(words(match.lead_text)) >= 2:
            return match
    rows = queries.leads.lead_candidates(session, team_id=team_id, keys=keys[:1])
    return split_lead(text, [Candidate(*row) for row in rows], today)


def find_or_ask(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    command: str,
    text: str,
    today: date,
    now: datetime,
    can_add: bool = False,
) -> Resolved | WhichLead:
    """The lead `text` starts with, or a draft and the options to ask the rep about."""
    match = resolve(session, team_id, text, today)
    if len(match.leads) == 1:
        found = queries.leads.lead(session, team_id=team_id, lead_id=match.leads[0].lead_id)
        assert found is not None  # just read in this transaction
        return Resolved(found, match)
    draft_id = save_draft(session, team_id=team_id, user_id=user_id, command=command, match=match, now=now)
    if match.leads:
        options = [_option(c) for c in match.leads]
        return WhichLead(
            draft_id,
            command,
            match.lead_text,
            tuple(options[:SHOWN_OPTIONS]),
            more=max(0, len(options) - SHOWN_OPTIONS),
            unknown=False,
            can_add=False,
        )
    lookalikes = []
    for name in closest(match.lead_text, queries.leads.lead_names(session, team_id=team_id)):
        lead = queries.leads.lead_by_key(session, team_id=team_id, key=name_key(name))
        if lead is not None:
            lookalikes.append(LeadOption(lead.id, lead.name, Status(lead.status), lead.owner_id))
    return WhichLead(
        draft_id,
        command,
        match.lead_text,
        tuple(lookalikes),
        more=0,
        unknown=True,
        can_add=can_add and bool(match.lead_text),
    )


def _option(candidate: Candidate) -> LeadOption:
    return LeadOption(candidate.lead_id, candidate.name, Status(candidate.status), candidate.owner_id)


def save_draft(
    session: Session, *, team_id: str, user_id: str, command: str, match: LeadMatch, now: datetime
) -> int:
    draft = Draft(
        team_id=team_id,
        user_id=user_id,
        command=command,
        lead_text=match.lead_text,
        rest=match.rest,
        created_at=now,
    )
    session.add(draft)
    session.flush()
    return draft.id


class DraftProblem(StrEnum):
    MISSING = "missing"  # unknown id, or another team's
    NOT_YOURS = "not_yours"
    USED = "used"  # a double click, or a second device


@dataclass(frozen=True)
class DraftRefused:
    problem: DraftProblem


def claim_draft(
    session: Session, *, team_id: str, user_id: str, draft_id: int, now: datetime
) -> Draft | DraftRefused:
    """Take a draft for use, exactly once even when two clicks race."""
    draft = queries.drafts.draft(session, team_id=team_id, draft_id=draft_id)
    if draft is None:
        return DraftRefused(DraftProblem.MISSING)
    if draft.user_id != user_id:
        return DraftRefused(DraftProblem.NOT_YOURS)
    claimed = session.execute(
        update(Draft).where(Draft.id == draft_id, Draft.used_at.is_(None)).values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return DraftRefused(DraftProblem.USED)
    session.refresh(draft)
    return draft
