"""Block Kit for hand-offs: /handoff's replies, the managers' request and decision, the operations card, the forms."""

import json
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from coaching.handoff_results import (
    AlreadyDecided,
    Decided,
    HandedToContact,
    HandoffHelp,
    HandoffRefused,
    MovedOn,
    NotAManager,
    OpsHandedOff,
    OpsHandoffSnapshot,
    Refusal,
    TransferAsked,
    TransferSnapshot,
    TransferStatus,
)
from coaching.leads import (
    NotAllowed,
)
from coaching.rules import GroundRule
from coaching.snapshots import LeadSnapshot
from handlers.blocks.base import (
    FIELD_TEXT,
    HEADER_TEXT,
    MODAL_NOTE,
    Message,
    button,
    context,
    lead_ref,
    mrkdwn,
    plain,
    quote,
)
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.leads import not_allowed
from handlers.blocks.replies import reply
from handlers.blocks.text import (
    and_list,
    calendar_days,
    clip,
    contact_text,
    day,
    inert,
    label,
    on_day,
    when,
    who,
    who_for,
)

GROUND_RULE_TEXT = {
    GroundRule.STEP_IN: "Contact was made but it has been stuck for months: work it *with* the owner before moving it; a new rep would start from scratch.",
    GroundRule.NOT_REACHED: "Nobody reached after the attempt limit: hand it on, and give the owner fresh leads in exchange.",
    GroundRule.CONNECTION: "Someone has a way in: handing it on usually helps everyone, the owner included.",
    GroundRule.SQUATTING: "Untouched for weeks: the owner may be sitting on it.",
    GroundRule.PASSING_ON: "The owner is passing it on.",
    GroundRule.JUDGEMENT: "No ground rule clearly applies: your call.",
}


def transfer_headline(t: TransferSnapshot) -> str:
    lead = lead_ref(t.lead.name)
    if t.requested_by == t.from_owner:
        return f"{who(t.requested_by)} wants to hand {lead} to {who(t.to_user)}."
    if t.requested_by == t.to_user:
        return f"{who(t.requested_by)} asks to take over {lead} from {who(t.from_owner)}."
    return f"{who(t.requested_by)} proposes moving {lead} from {who(t.from_owner)} to {who(t.to_user)}."


def _transfer_facts(t: TransferSnapshot) -> list[Block]:
    """The lead as the managers weigh it; once decided, as it was at the decision.

    Days are shown as dates Slack renders in each reader's own calendar ("Yesterday", "Fri 4 Dec"):
    the same card sits in several managers' DMs or a channel, each reader in their own time zone.
    """
    lead, rules = t.facts, t.rules
    age = calendar_days(lead.created_at, t.decided_at or t.now)
    if lead.ever_reached:
        contact = f"yes, last {on_day(lead.last_contact_at)}" if lead.last_contact_at else "yes"
    else:
        contact = "never: still a prospect"
    if lead.reached:
        attempts = f"{lead.attempts} since the last conversation"
    elif lead.ever_reached:
        # A fresh round (a new owner or a new contact) after earlier conversations.
        attempts = f"{lead.attempts} of {rules.attempts_limit} since the fresh start"
    else:
        attempts = f"{lead.attempts} of {rules.attempts_limit} without reaching anyone"
    fields = [
        f"*Lead age*\n{age} days (sales cycle {rules.sales_cycle_days})",
        f"*Attempts*\n{attempts}",
        f"*Contact made*\n{contact}",
        f"*Last touch*\n{on_day(lead.last_touch_at) if lead.last_touch_at else 'never'}",
    ]
    blocks: list[Block] = [
        SectionBlock(fields=[MarkdownTextObject(text=clip(f, FIELD_TEXT)) for f in fields])
    ]
    if t.reason:
        blocks.append(mrkdwn("*Why:*\n" + quote(t.reason)))
    blocks.append(context(f":scales: *Ground rule:* {GROUND_RULE_TEXT[t.rule]}"))
    return blocks


def transfer_request(t: TransferSnapshot, *, reminder: bool = False) -> Message:
    """The manager's copy: everything needed to decide, and the buttons to do it."""
    title = ":hourglass: Still waiting for a decision" if reminder else ":handshake: Hand-off request"
    blocks: list[Block] = [mrkdwn(f"*{title}*\n{transfer_headline(t)}"), *_transfer_facts(t)]
    if reminder:
        blocks.append(
            context(f"Asked {when(t.created_at)}. Hand-offs that wait leave a lead with nobody working it.")
        )
    value = button_value(t.id)
    blocks.append(
        ActionsBlock(
            block_id=block_id_of(Action.TRANSFER_BLOCK, t.id),
            elements=[
                button("Approve", Action.TRANSFER_APPROVE, value, style="primary"),
                button("Reject", Action.TRANSFER_REJECT, value, style="danger"),
                button("Reject with a reason…", Action.TRANSFER_REJECT_WHY, value),
            ],
        )
    )
    fallback = f"Hand-off request: {label(t.lead.name, 150)} from {t.from_owner} to {t.to_user}"
    return Message(fallback, tuple(blocks))


OUTCOME_LINE = {
    "approved": ":white_check_mark: *Approved* by {by} {at}",
    "rejected": ":x: *Not approved* by {by} {at}",
    "moot": ":heavy_minus_sign: *Closed* {at}: {why} before a decision",
}


def moved_on(t: TransferSnapshot, reader: str | None = None) -> str:
    """What happened to the lead that made the request moot, in the reader's terms."""
    lead = t.lead
    return {
        MovedOn.WON: "the lead was won",
        MovedOn.LOST: "the lead was lost",
        MovedOn.MOVED: f"the lead moved to {who_for(lead.owner_id, reader or '')}",
        MovedOn.CLOSED: "the lead changed hands",
    }[t.moved_on]


def _outcome(t: TransferSnapshot) -> str:
    at = when(t.decided_at) if t.decided_at else ""
    why = moved_on(t) if t.status is TransferStatus.MOOT else ""
    line = OUTCOME_LINE[t.status.value].format(by=who(t.decided_by or "someone"), at=at, why=why)
    if t.note:
        line += f"\n{quote(t.note)}"
    return line


def transfer_decided(t: TransferSnapshot) -> Message:
    """Every manager's copy once decided: the outcome, who and when, and no buttons left to press."""
    blocks: list[Block] = [
        mrkdwn(f"*:handshake: Hand-off request*\n{transfer_headline(t)}"),
        *_transfer_facts(t),
    ]
    blocks.append(mrkdwn(_outcome(t)))
    return Message(f"Hand-off of {label(t.lead.name, 150)}: {t.status.value}", tuple(blocks))


def transfer_asked(asked: TransferAsked) -> Message:
    t = asked.transfer
    where = (
        f"<#{asked.manager_channel}>" if asked.manager_channel else and_list([who(m) for m in asked.managers])
    )
    lead = lead_ref(t.lead.name)
    if t.to_user == t.requested_by:
        what = f"to let you take over {lead} from {who(t.from_owner)}"
    else:
        what = f"to move {lead} to {who(t.to_user)}"
    text = f":outbox_tray: Asked {where} {what}. You'll get a DM when they decide."
    return Message(f"Hand-off of {label(t.lead.name, 150)} sent to the managers.", (mrkdwn(text),))


def transfer_news(t: TransferSnapshot, person: str) -> Message:
    """The DM each person involved gets after a decision, in their own terms ("you", not their name).

    A manager's own move is worded as a move, not an approval; whoever did not ask is told why.
    """
    lead, by = lead_ref(t.lead.name), who(t.decided_by or "a manager")
    to, owner = who_for(t.to_user, person), who_for(t.from_owner, person)
    direct = t.decided_by == t.requested_by
    blocks: list[Block] = []
    if t.status is TransferStatus.APPROVED:
        if person == t.to_user:
            how = f"moved to you by {by}" if direct else f"approved by {by}"
            text = f":inbox_tray: You now own {lead} (from {owner}, {how})."
            if t.lead.next_follow_up is not None:
                text += f" Your first try is due {day(t.lead.next_follow_up, t.to_user_today)}."
        elif person == t.from_owner:
            how = f"{by} moved it" if direct else f"approved by {by}"
            text = f":outbox_tray: {lead} is now {to}'s lead, {how}."
        else:
            text = f":white_check_mark: {by} approved moving {lead} to {to}."
    elif t.status is TransferStatus.REJECTED:
        if person == t.to_user:
            text = f":x: {by} decided not to move {lead} to you; it stays with {owner}."
        elif person == t.from_owner:
            text = f":x: {by} decided not to move {lead} to {to}; it stays with you."
        else:
            text = f":x: {by} decided not to move {lead} to {to}; it stays with {owner}."
    else:
        text = f":heavy_minus_sign: The request to move {lead} to {to} was closed: {moved_on(t, person)} meanwhile."
    blocks.append(mrkdwn(text))
    if t.reason and person != t.requested_by and t.status is not TransferStatus.MOOT:
        why = "Why" if direct else f"Why {who_for(t.requested_by, person)} asked"
        blocks.append(mrkdwn(f"*{why}:*\n{quote(t.reason)}"))
    if t.note:
        blocks.append(mrkdwn(quote(t.note)))
    if t.status is TransferStatus.APPROVED and person == t.to_user:
        value = button_value(t.lead.id)
        blocks.append(
            ActionsBlock(
                elements=[
                    button("Show the lead", Action.LEAD_SHOW, value),
                    button("Log a touch", Action.LOGCALL_OPEN, value),
                ]
            )
        )
    return Message(f"Hand-off of {label(t.lead.name, 150)}: {t.status.value}", tuple(blocks))


def transfer_done(t: TransferSnapshot) -> Message:
    """A manager's own hand-off, done at once (told to that manager)."""
    manager = t.decided_by or ""
    told = [who(p) for p in t.people if p != manager]
    text = f":white_check_mark: Moved {lead_ref(t.lead.name)} to {who_for(t.to_user, manager)}."
    if told:
        text += f" {and_list(told)} {'has' if len(told) == 1 else 'have'} been told."
    return Message(f"Moved {label(t.lead.name, 150)}", (mrkdwn(text),))


def transfer_not_yours(result: NotAManager) -> Message:
    return plain("Only managers can approve or reject hand-offs. Nothing changed.")


def transfer_already(result: AlreadyDecided) -> Message:
    t = result.transfer
    return Message(
        f"Already decided: {t.status.value}", (mrkdwn("Already decided, nothing changed.\n" + _outcome(t)),)
    )


def unknown_request() -> Message:
    return plain(
        "Baton doesn't know that request in this workspace (it may be from another team). Nothing changed."
    )


REFUSAL_TEXT = {
    Refusal.SAME_OWNER: "{lead} is already {person}'s lead.",
    Refusal.CLOSED: "{lead} is closed. Reopen it first (`/lead reopen …`), or hand a customer to operations with `/handoff … ops`.",
    Refusal.NO_MANAGERS: "No manager is set up to approve hand-offs yet. Ask an admin to add one (`/coach managers add @name`) or to set COACH_MANAGER_IDS.",
    Refusal.NOT_A_COLLEAGUE: "{person} can't take leads: Baton can't find an active person by that name in this workspace.",
    Refusal.PENDING: "A request for {lead} is already waiting for a manager.",
    Refusal.NO_OPS_CHANNEL: "No operations channel is set up, so there is nowhere to hand {lead} to yet. An admin can set one with `/coach set ops_channel #ops`; meanwhile `/lead won …` marks it won.",
}


def handoff_refused(result: HandoffRefused) -> Message:
    text = REFUSAL_TEXT[result.refusal].format(
        lead=lead_ref(result.lead.name), person=who(result.person or "")
    )
    blocks: list[Block] = [mrkdwn(f":warning: {text} Nothing changed.")]
    if result.pending is not None:
        blocks.append(mrkdwn(transfer_headline(result.pending)))
    return Message(text.replace("*", ""), tuple(blocks))


def handoff_help(problem: str | None = None) -> Message:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        "*/handoff* passes the baton cleanly:",
        "• `/handoff Acme Corp @sam they know the CTO` — a lead to a colleague; a manager approves (managers' own hand-offs happen at once)",
        "• `/handoff Acme Corp @me I used to work with their COO` — ask to take over a lead",
        "• `/handoff Acme Corp ops` — a signed customer to operations (a form asks what was sold and when)",
        "• `/handoff Acme Corp contact Jane Doe COO dm` — the client handed you to someone new",
        "Everything else: `/coach help`",
    ]
    return Message("How to use /handoff", (mrkdwn("\n".join(lines)),))


def handed_to_contact(result: HandedToContact) -> Message:
    contact, lead = result.saved.contact, result.lead
    text = f":busts_in_silhouette: {contact_text(contact)} is now who you talk to at {lead_ref(lead.name)}. The attempt count starts afresh; the first try is due today."
    blocks: list[Block] = [mrkdwn(text), mrkdwn(f":bulb: {result.tip.text}")]
    notes = []
    if result.saved.words is not None and result.saved.words.role is None:
        notes.append("No role given. Knowing theirs helps: `/lead contact …, their role`.")
    if result.cleared_opt_out:
        notes.append("The previous contact's opt-out no longer stops Baton's nudges: this is a new person.")
    if notes:
        blocks.append(context(*notes))
    return Message(f"{label(contact.name, 100)} is the new contact at {label(lead.name, 150)}", tuple(blocks))


def ops_card(h: OpsHandoffSnapshot) -> Message:
    """The hand-off card in the operations channel; someone there claims it."""
    lead = h.lead
    deciders = [c for c in h.contacts if c.is_decision_maker]
    others = [c for c in h.contacts if not c.is_decision_maker]
    fields = [
        f"*Customer*\n{inert(clip(lead.name, 150))}",
        f"*Sales contact*\n{who(h.rep_id)} (stays the account's sales contact)",
        f"*Decision-maker*\n{', '.join(contact_text(c) for c in deciders) if deciders else '_not recorded_'}",
        f"*Other contacts*\n{', '.join(contact_text(c) for c in others[-5:]) if others else '_none recorded_'}",
        f"*What was sold*\n{inert(clip(h.sold, 500)) if h.sold else '_see the notes_'}",
        f"*Expected timeline*\n{inert(clip(h.timeline, 500)) if h.timeline else '_see the notes_'}",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=label(f"New customer: {lead.name}", HEADER_TEXT))),
        SectionBlock(fields=[MarkdownTextObject(text=clip(f, FIELD_TEXT)) for f in fields]),
    ]
    if h.notes:
        blocks.append(mrkdwn("*Notes from sales*\n" + quote(h.notes)))
    if h.claimed_by:
        claimed = when(h.claimed_at) if h.claimed_at else ""
        blocks.append(mrkdwn(f":white_check_mark: Taken by {who(h.claimed_by)} {claimed}"))
    else:
        blocks.append(
            context(
                "Set expectations with the customer early: who their contact is now, and what happens next."
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=block_id_of(Action.OPS_BLOCK, h.id),
                elements=[button("I'll take it", Action.OPS_CLAIM, button_value(h.id), style="primary")],
            )
        )
    return Message(f"New customer for operations: {label(lead.name, 150)}", tuple(blocks))


def ops_handed_off(result: OpsHandedOff, *, posted_in: str | None, problem: str | None) -> Message:
    lead = result.handoff.lead
    won = f":trophy: {lead_ref(lead.name)} is marked won. " if result.newly_won else ""
    if posted_in:
        text = f"{won}:outbox_tray: Handed to operations in <#{posted_in}>. Baton will tell you who takes it."
        return Message(f"{label(lead.name, 150)} handed to operations.", (mrkdwn(text),))
    reason = (
        problem
        or "No operations channel is set up (an admin can set one with `/coach set ops_channel #ops`)."
    )
    text = f"{won}:warning: Couldn't post the hand-off: {reason} Here is the card to forward:"
    card = ops_card(result.handoff)
    blocks = [mrkdwn(text), *[b for b in card.blocks if not isinstance(b, ActionsBlock)]]
    return Message(f"{label(lead.name, 150)}: hand-off card to forward", tuple(blocks))


def ops_taken(h: OpsHandoffSnapshot) -> Message:
    """Told to the rep who handed the customer over."""
    taker = h.claimed_by or ""
    if taker == h.rep_id:
        text = f":handshake: You took the operations hand-off for {lead_ref(h.lead.name)} yourself."
    else:
        text = f":handshake: {who(taker)} took the operations hand-off for {lead_ref(h.lead.name)}."
    return Message(f"{label(h.lead.name, 150)} was taken by operations.", (mrkdwn(text),))


def ops_already_taken(h: OpsHandoffSnapshot) -> Message:
    return plain(f"{lead_ref(h.lead.name)} was already taken by {who(h.claimed_by or '')}. Nothing changed.")


def ops_form_opened(lead: LeadSnapshot) -> Message:
    return plain(f":outbox_tray: Handing {lead_ref(lead.name)} to operations: the form asks what was sold.")


def ops_modal(lead: LeadSnapshot, *, channel_id: str | None) -> View:
    def text_input(block_id: str, title: str, hint: str, *, multiline: bool, optional: bool) -> InputBlock:
        element = PlainTextInputElement(action_id=block_id, multiline=multiline, max_length=MODAL_NOTE)
        return InputBlock(block_id=block_id, label=title, hint=hint, element=element, optional=optional)

    blocks: list[Block] = [
        mrkdwn(
            f"Handing {lead_ref(lead.name)} to operations marks it won. You stay the account's sales contact."
        ),
        text_input(
            Action.FIELD_SOLD,
            "What was sold",
            "Product, seats, term: what operations must deliver",
            multiline=True,
            optional=False,
        ),
        text_input(
            Action.FIELD_TIMELINE,
            "Expected timeline",
            "Start date, go-live, anything promised",
            multiline=False,
            optional=True,
        ),
        text_input(
            Action.FIELD_NOTES,
            "Notes for operations",
            "Who to talk to, sensitivities, what the client expects next",
            multiline=True,
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=Action.OPS_MODAL,
        title="Hand to operations",
        submit="Hand it over",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"lead": lead.id, "channel": channel_id}),
    )


def reject_reason_modal(transfer_id: int) -> View:
    element = PlainTextInputElement(action_id=Action.FIELD_REASON, multiline=True, max_length=MODAL_NOTE)
    return View(
        type="modal",
        callback_id=Action.TRANSFER_REASON_MODAL,
        title="Reject the hand-off",
        submit="Reject",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=Action.FIELD_REASON,
                label="Why not?",
                hint="The requester, the owner and the proposed owner will read this.",
                element=element,
            )
        ],
        private_metadata=json.dumps({"transfer": transfer_id}),
    )


def handoff_reply(result: object, now: datetime, *, typed: str = "") -> Message:
    """The private reply to /handoff for results that need no posting elsewhere."""
    match result:
        case HandoffRefused():
            return handoff_refused(result)
        case HandoffHelp():
            return handoff_help(result.problem)
        case HandedToContact():
            return handed_to_contact(result)
        case TransferAsked():
            return transfer_asked(result)
        case Decided():
            return transfer_done(result.transfer)
        case NotAllowed():
            return not_allowed(result)
    return reply(result, now, typed=typed)


def handoff_modal(
    lead_id: int,
    lead_name: str,
    *,
    manager: bool,
    channel_id: str | None,
    home: bool = False,
    owner_id: str | None = None,
) -> View:
    """Slack's people picker can't leave anyone out, so the owner is named here and refused in
    place if picked (see `owner_picked`), rather than answered twice after the form closes."""
    picker = UserSelectElement(action_id=Action.FIELD_TO, placeholder="A colleague")
    why = PlainTextInputElement(action_id=Action.FIELD_WHY, multiline=True, max_length=MODAL_NOTE)
    return View(
        type="modal",
        callback_id=Action.HANDOFF_MODAL,
        title="Hand off a lead",
        submit="Hand it over" if manager else "Ask a manager",
        close="Cancel",
        blocks=[
            mrkdwn(
                f"Who should take {lead_ref(lead_name)}"
                + (f" from {who(owner_id)}?" if owner_id else "?")
                + ("" if manager else " A manager approves hand-offs.")
            ),
            InputBlock(block_id=Action.FIELD_TO, label="Hand it to", element=picker),
            InputBlock(
                block_id=Action.FIELD_WHY,
                label="Why",
                optional=True,
                element=why,
                hint="They know someone there, territory, capacity…",
            ),
        ],
        private_metadata=json.dumps(
            {"lead": lead_id, "channel": channel_id, "home": home, "owner": owner_id}
        ),
    )


def owner_picked() -> dict[str, str]:
    """The form's answer, in place, when the person picked already owns the lead."""
    return {Action.FIELD_TO: "That's who owns it now. Pick the colleague who should take it."}


def context_line(transfer: TransferSnapshot) -> str:
    reason = f" — {inert(clip(transfer.reason, 120))}" if transfer.reason else ""
    return f"_{GROUND_RULE_TEXT[transfer.rule]}_{reason}"
