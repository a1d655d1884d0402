"""One entry point from any /logcall, /lead or draft result to the message that answers it."""

from datetime import datetime

from coaching.finding import DraftRefused, WhichLead
from coaching.lead_commands import Found, LeadHelp
from coaching.leads import (
    BadName,
    ContactRemoved,
    ContactSaved,
    LeadAdded,
    LeadDetail,
    LeadExists,
    NoChange,
    NotAllowed,
    StatusChanged,
)
from coaching.touches import BadNewLead, FutureDate, NotADate, TouchLogged, WhichDate, WhichOutcome
from handlers.blocks.base import Message, mrkdwn, you_typed
from handlers.blocks.leads import (
    contact_removed,
    contact_saved,
    found,
    lead_added,
    lead_card,
    lead_exists,
    lead_help,
    no_change,
    not_allowed,
    status_changed,
)
from handlers.blocks.logcall import (
    bad_new_lead,
    draft_refused,
    future_date,
    not_a_date,
    touch_logged,
    which_date,
    which_lead,
    which_outcome,
)


def reply(result: object, now: datetime, *, typed: str = "") -> Message:
    """The message for any result of a /logcall, /lead or draft use case."""
    match result:
        case TouchLogged():
            return touch_logged(result, now)
        case WhichLead():
            return which_lead(result)
        case FutureDate():
            return future_date(result)
        case NotADate():
            return not_a_date(result, typed)
        case WhichOutcome():
            return which_outcome(result)
        case WhichDate():
            return which_date(result)
        case DraftRefused():
            return draft_refused(result)
        case BadNewLead():
            return bad_new_lead(result)
        case LeadAdded():
            return lead_added(result)
        case LeadExists():
            return lead_exists(result)
        case BadName():
            return Message(result.reason, (mrkdwn(f":warning: {result.reason}"), *you_typed(typed)))
        case LeadDetail():
            return lead_card(result, now)
        case StatusChanged():
            return status_changed(result)
        case NoChange():
            return no_change(result)
        case NotAllowed():
            return not_allowed(result)
        case ContactSaved():
            return contact_saved(result)
        case ContactRemoved():
            return contact_removed(result)
        case Found():
            return found(result)
        case LeadHelp():
            return lead_help(result.problem)
    raise TypeError(f"no message for {type(result).__name__}")
