"""The /handoff command: a lead to another owner, a customer to operations, the rep to a new contact.

What follows the lead's name decides the kind; the kinds live beside this module: transfers.py
(a manager decides), ops_handoffs.py, handoff_sweep.py (requests still waiting), handoff_results.py.
"""

from sqlalchemy.orm import Session

from coaching import finding
from coaching.caller import Caller
from coaching.finding import WhichLead
from coaching.handoff_results import (
    HandedToContact,
    HandoffHelp,
    HandoffRefused,
    HandoffResult,
    OpsForm,
    Refusal,
)
from coaching.leads import (
    BadName,
    Change,
    ContactSaved,
    NotAllowed,
    locked,
    may_change,
    refresh_progress,
    save_contact,
)
from coaching.ops_handoffs import hand_to_ops
from coaching.parsing import ContactWords, clean, read_contact, read_mention, words
from coaching.snapshots import lead_snapshot
from coaching.tips import Situation, tip
from coaching.transfers import request_transfer
from store.models import Lead

COMMAND = "handoff"
OPS_WORDS = ("ops", "operations", "operation")
SELF_WORDS = ("@me", "me", "@myself", "myself")


def handoff_command(session: Session, caller: Caller, text: str) -> HandoffResult:
    cleaned = clean(text).text
    if not words(cleaned) or cleaned.casefold() == "help":
        return HandoffHelp()
    found = finding.find_or_ask(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        command=COMMAND,
        text=cleaned,
        today=caller.today,
        now=caller.now,
    )
    if isinstance(found, WhichLead):
        return found
    return handoff(session, caller, lead=found.lead, rest=found.match.rest)


def handoff(session: Session, caller: Caller, *, lead: Lead, rest: str) -> HandoffResult:
    """What follows the lead's name decides the kind: `@person`, `ops`, or `contact`."""
    target = read_mention(rest)
    if target is not None:
        to_user, reason = target
        return request_transfer(session, caller, lead=lead, to_user=to_user, reason=reason)
    ws = words(rest)
    first = ws[0].text.casefold() if ws else ""
    after = rest[ws[0].end :].strip() if ws else ""
    if first in SELF_WORDS:
        # `@me` names the rep typing (Slack links only real names, so it arrives as typed).
        return request_transfer(session, caller, lead=lead, to_user=caller.user_id, reason=after)
    if first in OPS_WORDS:
        if caller.config.ops_channel is None:
            return HandoffRefused(Refusal.NO_OPS_CHANNEL, lead_snapshot(lead))
        if not after:
            return OpsForm(lead_snapshot(lead))
        return hand_to_ops(session, caller, lead=lead, sold="", timeline="", notes=after)
    if first == "contact":
        return hand_to_contact(session, caller, lead=lead, words_read=read_contact(after))
    return HandoffHelp(f"Who should *{lead.name}* go to? Mention them: `/handoff {lead.name} @jane why`.")


# ---- the client handed the rep to someone new -----------------------------------------------------------


def hand_to_contact(
    session: Session, caller: Caller, *, lead: Lead, words_read: ContactWords
) -> HandoffResult:
    lead = locked(session, lead)
    if not may_change(lead, user_id=caller.user_id, is_manager=caller.is_manager):
        return NotAllowed(lead_snapshot(lead), Change.NEW_CONTACT)
    saved = save_contact(
        session,
        lead=lead,
        user_id=caller.user_id,
        person=words_read.person,
        role=words_read.role,
        decision_maker=words_read.decision_maker,
        now=caller.now,
    )
    if isinstance(saved, BadName):
        return saved
    # A new person: a fresh round of attempts, due now. An opt-out was the previous person's.
    cleared = lead.opted_out_at is not None
    lead.opted_out_at = None
    lead.counting_since = caller.now
    lead.attempt_baseline = 0
    refresh_progress(
        session,
        lead,
        tz=caller.tz,
        rules=caller.rules,
        today=caller.today,
        team_days=caller.config.digest_days,
    )
    return HandedToContact(
        ContactSaved(lead_snapshot(lead), saved.contact, saved.updated, words_read),
        lead_snapshot(lead),
        cleared_opt_out=cleared,
        tip=tip(Situation.HANDED_TO_NEW_CONTACT, seed=lead.id),
    )
