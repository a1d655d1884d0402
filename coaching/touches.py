"""Logging a touch: /logcall in one line, from the modal, or from a button that resolved a draft."""

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy.orm import Session

from coaching import crm_push, finding
from coaching.calendar import local_noon
from coaching.caller import Caller
from coaching.finding import DraftRefused, Resolved, WhichLead
from coaching.leads import BadName, LeadExists, create_lead, locked, refresh_progress
from coaching.parsing import (
    BadDate,
    DateWord,
    LeadMatch,
    MatchKind,
    TouchDetails,
    clean,
    read_touch_details,
)
from coaching.rules import (
    ATTEMPTS,
    TWO_WAY,
    Outcome,
    Rules,
    Stage,
    Status,
    TouchFact,
    is_past_sales_cycle,
    is_stalled,
    stage,
)
from coaching.snapshots import LeadSnapshot, lead_snapshot
from coaching.tips import Tip, TipFacts, choose_tip
from store import queries
from store.models import Lead

COMMAND = "logcall"


@dataclass(frozen=True)
class Reading:
    """How part of the rep's text was understood, so a wrong guess is easy to spot."""

    said: str
    meant: str | date


@dataclass(frozen=True)
class TouchLogged:
    lead: LeadSnapshot
    touch_id: int
    outcome: Outcome
    outcome_given: bool
    on: date
    today: date
    meeting_booked: date | None
    note: str
    removed_characters: int
    stage: Stage
    rules: Rules
    tip: Tip
    readings: tuple[Reading, ...]
    logged_by: str
    # The contact had already asked not to be contacted: the touch is stored, and the rep is warned.
    after_opt_out: bool = False
    note_cut: str = ""  # what the rep typed past NOTE_LIMIT: not stored, shown back to them
    same_day_try: bool = False  # a try on a day already tried: kept, but one attempt at the cadence

    @property
    def for_someone_else(self) -> bool:
        return self.lead.owner_id != self.logged_by


class Fix(StrEnum):
    """The rep's answer to a question about what they typed."""

    AS_MEETING = "as_meeting"  # a future date on something that isn't a meeting: book one
    AS_TODAY = "as_today"  # ...or it happened today
    AS_GUESSED = "as_guessed"  # a misspelt outcome: it was the one Baton guessed
    AS_NOTE = "as_note"  # ...or it was part of the note: a call with no outcome
    MONTH_FIRST = "month_first"  # "3/11": 11 March
    DAY_FIRST = "day_first"  # ...or 3 November


@dataclass(frozen=True)
class WhichOutcome:
    """A word that looks like a misspelt outcome: asked, never logged as something else."""

    draft_id: int
    lead: LeadSnapshot
    said: str
    guess: Outcome


@dataclass(frozen=True)
class WhichDate:
    """A date like 3/11 that reads two ways."""

    draft_id: int
    lead: LeadSnapshot
    said: str
    month_first: date
    day_first: date
    today: date


@dataclass(frozen=True)
class FutureDate:
    draft_id: int
    lead: LeadSnapshot
    outcome: Outcome
    on: date
    today: date


@dataclass(frozen=True)
class NotADate:
    said: str


@dataclass(frozen=True)
class BadNewLead:
    reason: str


LogResult = (
    TouchLogged | WhichLead | FutureDate | NotADate | DraftRefused | BadNewLead | WhichOutcome | WhichDate
)


def log_from_text(session: Session, caller: Caller, text: str) -> LogResult:
    cleaned = clean(text)
    found = finding.find_or_ask(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        command=COMMAND,
        text=cleaned.text,
        today=caller.today,
        now=caller.now,
        can_add=True,
    )
    if isinstance(found, WhichLead):
        return found
    readings = (Reading(found.match.lead_text, found.lead.name),) if found.guessed else ()
    return _log_details(session, caller, found, readings=readings, removed=cleaned.removed, fix=None)


def log_from_draft(
    session: Session, caller: Caller, *, draft_id: int, lead_id: int | None, fix: Fix | None
) -> LogResult:
    """Finish a parked /logcall: the rep picked the lead (`lead_id`), asked to add it, or chose a fix."""
    draft = finding.claim_draft(
        session, team_id=caller.team_id, user_id=caller.user_id, draft_id=draft_id, now=caller.now
    )
    if isinstance(draft, DraftRefused):
        return draft
    if lead_id is None:
        lead = _add_lead_for_draft(session, caller, draft.lead_text)
        if isinstance(lead, BadNewLead):
            return lead
    else:
        found_lead = queries.leads.lead(session, team_id=caller.team_id, lead_id=lead_id)
        if found_lead is None:
            return DraftRefused(finding.DraftProblem.MISSING)
        lead = found_lead
    match = LeadMatch(MatchKind.EXACT, (), draft.lead_text, draft.rest)
    return _log_details(session, caller, Resolved(lead, match), readings=(), removed=0, fix=fix)


def log_from_form(
    session: Session, caller: Caller, *, lead_id: int, outcome: Outcome, on: date, note: str
) -> TouchLogged | DraftRefused:
    lead = queries.leads.lead(session, team_id=caller.team_id, lead_id=lead_id)
    if lead is None:
        return DraftRefused(finding.DraftProblem.MISSING)
    cleaned = clean(note)
    return _log(
        session,
        caller,
        lead,
        outcome=outcome,
        outcome_given=True,
        on=on,
        note=cleaned.text,
        removed=cleaned.removed,
        readings=(),
    )


def form_problem(outcome: Outcome, on: date, today: date) -> str | None:
    """Checked before the modal closes, so the rep fixes it in place."""
    if on > today and outcome is not Outcome.MEETING:
        return "Only a meeting can be in the future. Pick today or earlier, or choose “meeting” to book one."
    return None


def _add_lead_for_draft(session: Session, caller: Caller, name: str) -> Lead | BadNewLead:
    created = create_lead(
        session, team_id=caller.team_id, owner_id=caller.user_id, name=name, now=caller.now, tz=caller.tz
    )
    if isinstance(created, BadName):
        return BadNewLead(created.reason)
    if isinstance(created, LeadExists):
        # Someone added it since Baton asked: log on that lead rather than fail.
        existing = queries.leads.lead(session, team_id=caller.team_id, lead_id=created.lead.id)
        assert existing is not None
        return existing
    return created


def _log_details(
    session: Session,
    caller: Caller,
    found: Resolved,
    *,
    readings: tuple[Reading, ...],
    removed: int,
    fix: Fix | None,
) -> LogResult:
    today = caller.today
    details = read_touch_details(found.match.rest, today)
    if isinstance(details, BadDate):
        return NotADate(details.said)
    # An answer to a question is written into the text, so the next question (if any) still sees it.
    rewritten = _answered(found.match.rest, details, fix)
    if rewritten is not None:
        match = replace(found.match, rest=rewritten)
        return _log_details(
            session, caller, Resolved(found.lead, match), readings=readings, removed=removed, fix=None
        )
    if details.maybe is not None:
        said, guess = details.maybe
        draft_id = _park(session, caller, found)
        return WhichOutcome(draft_id, lead_snapshot(found.lead), said, guess)
    if details.on is not None and details.on.other is not None:
        draft_id = _park(session, caller, found)
        return WhichDate(
            draft_id, lead_snapshot(found.lead), details.on.said, details.on.on, details.on.other, today
        )
    outcome = details.outcome or Outcome.CALL
    on = details.on.on if details.on else today
    if fix is Fix.AS_MEETING:
        outcome = Outcome.MEETING
    elif fix is Fix.AS_TODAY:
        on = today
    if on > today and outcome is not Outcome.MEETING:
        draft_id = finding.save_draft(
            session,
            team_id=caller.team_id,
            user_id=caller.user_id,
            command=COMMAND,
            match=found.match,
            now=caller.now,
        )
        return FutureDate(draft_id, lead_snapshot(found.lead), outcome, on, today)
    if isinstance(details.on, DateWord) and details.on.relative and fix is not Fix.AS_TODAY:
        readings = (*readings, Reading(details.on.said, on))
    return _log(
        session,
        caller,
        found.lead,
        outcome=outcome,
        outcome_given=details.outcome is not None or fix is Fix.AS_MEETING,
        on=on,
        note=details.note,
        removed=removed,
        readings=readings,
    )


def _park(session: Session, caller: Caller, found: Resolved) -> int:
    return finding.save_draft(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        command=COMMAND,
        match=found.match,
        now=caller.now,
    )


def _answered(rest: str, details: TouchDetails, fix: Fix | None) -> str | None:
    """The typed text with the rep's answer written in, or None when `fix` answers no question here."""
    if fix in (Fix.AS_GUESSED, Fix.AS_NOTE) and details.maybe is not None:
        said, guess = details.maybe
        if fix is Fix.AS_NOTE:
            return f"{Outcome.CALL.value} {rest}"  # an attempt with no outcome; the words stay in the note
        return rest.replace(said, guess.value, 1)
    if fix in (Fix.MONTH_FIRST, Fix.DAY_FIRST) and details.on is not None and details.on.other is not None:
        chosen = details.on.on if fix is Fix.MONTH_FIRST else details.on.other
        return rest.replace(details.on.said, chosen.isoformat(), 1)
    return None


# The longest note a touch keeps: what a Slack form's note field takes (handlers/blocks/base.py
# MODAL_NOTE), and the text of one section of a Slack message. Twenty 1 MiB notes grew the
# database by 45 MB (issue 16); a call note is a few lines.
NOTE_LIMIT = 3000


def _log(
    session: Session,
    caller: Caller,
    lead: Lead,
    *,
    outcome: Outcome,
    outcome_given: bool,
    on: date,
    note: str,
    removed: int,
    readings: tuple[Reading, ...],
) -> TouchLogged:
    lead = locked(session, lead)
    note, note_cut = note[:NOTE_LIMIT], note[NOTE_LIMIT:]
    now, tz, rules, today = caller.now, caller.tz, caller.rules, caller.today
    was_stalled = is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules, tz=tz)
    after_opt_out = lead.opted_out_at is not None and outcome is not Outcome.OPT_OUT
    last_tip = queries.history.last_tip(session, team_id=lead.team_id, lead_id=lead.id)
    booked = on if outcome is Outcome.MEETING and on > today else None
    attempts_before, reached_before = lead.attempts, lead.reached
    # A touch "today" happened now; a back-dated one is filed at local noon of that day.
    # A meeting booked for later was agreed now, so it too is a touch of today.
    at = now if on >= today else local_noon(on, tz)
    meeting_on = booked or (on if outcome is Outcome.MEETING else None)
    # the follow-up this touch does (as it was before it): the weekly review counts it done on time or late
    due_on = lead.next_follow_up if lead.status == Status.OPEN else None
    if outcome is Outcome.OPT_OUT and lead.opted_out_at is None:
        lead.opted_out_at = now
    # The progress and the tip first, counting the touch about to be written: it is then written
    # once, with its tip (issue 19: no UPDATE of its tip after, no count of the log read again).
    touches_logged = refresh_progress(
        session,
        lead,
        tz=tz,
        rules=rules,
        today=today,
        team_days=caller.config.digest_days,
        owner_days=caller.workdays_of(lead.owner_id),
        logging=TouchFact(at, outcome, meeting_on),
    )
    current = stage(lead.attempts, reached=lead.reached, rules=rules)
    # Another try on a day already tried: it is in the history, but the cadence counts the day once.
    same_day_try = (
        outcome in ATTEMPTS
        and not lead.reached
        and not reached_before
        and attempts_before > 0
        and lead.attempts == attempts_before
    )
    facts = TipFacts(
        outcome=outcome,
        stage=current,
        attempts=lead.attempts,
        meeting_booked=booked is not None,
        meeting_ahead=lead.meeting_on is not None and lead.meeting_on > today,
        in_conversation=lead.ever_reached,
        first_touch=touches_logged == 1,
        was_stalled=was_stalled and outcome not in TWO_WAY,
        past_cycle=lead.status == Status.OPEN
        and is_past_sales_cycle(lead.created_at, now=now, rules=rules, tz=tz),
        last_tip=last_tip,
        opted_out=lead.opted_out_at is not None,
    )
    given = choose_tip(facts, seed=lead.id + touches_logged)
    touch_id = queries.history.add_touch(
        session,
        team_id=lead.team_id,
        lead_id=lead.id,
        user_id=caller.user_id,
        outcome=outcome.value,
        at=at,
        meeting_on=meeting_on,
        note=note,
        logged_at=now,
        tip=given.key,
        due_on=due_on,
    )
    crm_push.owe_touch(session, lead, touch_id, now=now)  # the CRM's engagement, owed with the touch
    return TouchLogged(
        lead=lead_snapshot(lead),
        touch_id=touch_id,
        outcome=outcome,
        outcome_given=outcome_given,
        on=on,
        today=today,
        meeting_booked=booked,
        note=note,
        removed_characters=removed,
        stage=current,
        rules=rules,
        tip=given,
        readings=readings,
        logged_by=caller.user_id,
        after_opt_out=after_opt_out,
        note_cut=note_cut,
        same_day_try=same_day_try,
    )
