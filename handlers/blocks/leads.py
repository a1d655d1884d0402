"""Block Kit for /lead: a lead added or found, the lead card, status changes, contacts and help."""

from collections.abc import Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from coaching.lead_commands import Found
from coaching.leads import (
    Change,
    ContactRemoved,
    ContactSaved,
    LeadAdded,
    LeadDetail,
    LeadExists,
    NoChange,
    NotAllowed,
    StatusChanged,
)
from coaching.rules import Status
from coaching.snapshots import ContactSnapshot, HandoffLine, LeadSnapshot, TouchSnapshot
from handlers.blocks.base import (
    FIELD_TEXT,
    HEADER_TEXT,
    LIST_LINES,
    SECTION_TEXT,
    Message,
    button,
    context,
    lead_ref,
    mrkdwn,
    plain,
)
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.logcall import attempt_line, next_step_line
from handlers.blocks.text import (
    OUTCOME_ICON,
    OUTCOME_LABEL,
    STATUS_LABEL,
    calendar_days,
    clip,
    contact_text,
    day,
    days_ago,
    esc,
    inert,
    label,
    when,
    who,
)

NOTES_SHOWN = 1000  # the card is for a glance before a call; the export keeps the whole note


def lead_added(result: LeadAdded) -> Message:
    lead = result.lead
    text = (
        f":seedling: Added {lead_ref(lead.name)} to your pipeline. The first try is due today: "
        f"`/logcall {esc(clip(lead.name, 100))} …` when you've made it."
    )
    return Message(
        f"Added {lead.name} to your pipeline.",
        (
            mrkdwn(text),
            ActionsBlock(
                elements=[button("Log a touch", Action.LOGCALL_OPEN, button_value(lead.id), style="primary")]
            ),
        ),
    )


def lead_exists(result: LeadExists) -> Message:
    lead = result.lead
    text = f"{lead_ref(lead.name)} is already in the pipeline ({who(lead.owner_id)}'s, {STATUS_LABEL[lead.status]})."
    return Message(
        f"{lead.name} is already in the pipeline.",
        (mrkdwn(text), ActionsBlock(elements=[button("Show it", Action.LEAD_SHOW, button_value(lead.id))])),
    )


def talking_to_first(contacts: Sequence[ContactSnapshot]) -> list[ContactSnapshot]:
    """Who a rep talks to, the decision-maker first (the latest one named), then the newest contact."""
    deciders = [c for c in contacts if c.is_decision_maker][-1:]
    newest = [contacts[-1]] if contacts and not contacts[-1].is_decision_maker else []
    return deciders + newest


def lead_card(detail: LeadDetail, now: datetime) -> Message:
    lead = detail.lead
    today = detail.today
    talking = talking_to_first(detail.contacts)
    talking_to = "\n".join(contact_text(c) for c in talking)
    fields = [
        f"*Owner*\n{who(lead.owner_id)}",
        f"*Status*\n{STATUS_LABEL[lead.status].capitalize()}" + (" · opted out" if lead.opted_out_at else ""),
        f"*Talking to*\n{talking_to or '_nobody recorded yet_'}",
        f"*Attempts*\n{attempt_line(lead, detail.stage, detail.rules, now)}",
        f"*Last touch*\n{days_ago(lead.last_touch_at, now) if lead.last_touch_at else '_none yet_'}",
        f"*Coming up*\n{next_step_line(lead, detail.stage, today, detail.overdue_days)}",
        f"*Age*\n{calendar_days(lead.created_at, now)} days (sales cycle {detail.rules.sales_cycle_days})",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=label(lead.name, HEADER_TEXT))),
        SectionBlock(fields=[MarkdownTextObject(text=clip(f, FIELD_TEXT)) for f in fields]),
    ]
    warnings = []
    if detail.stalled:
        warnings.append(":hourglass: Stalled: contact was made, then silence. Add value rather than chase.")
    if detail.past_cycle:
        warnings.append(":hourglass_flowing_sand: Older than your sales cycle: is it still a real lead?")
    if lead.status is Status.LOST and lead.lost_reason:
        warnings.append(f"Lost: {inert(clip(lead.lost_reason, 500))}")
    if warnings:
        blocks.append(context(*warnings))
    others = [c for c in detail.contacts if c not in talking]  # each person once on the card
    if others:
        people = "\n".join(f"• {contact_text(c)}" for c in reversed(others[-LIST_LINES:]))
        blocks.append(mrkdwn(f"*Other contacts*\n{people}"))
    if detail.notes:
        blocks.append(mrkdwn(f"*Notes*\n{inert(clip(detail.notes, NOTES_SHOWN))}"))
    blocks.append(mrkdwn(_history(detail.history, detail.touch_total, today, now)))
    if detail.handoffs:
        blocks.append(mrkdwn(_handoff_history(detail.handoffs)))
    blocks.append(
        ActionsBlock(block_id=block_id_of(Action.LEAD_BLOCK, lead.id), elements=_lead_buttons(lead))
    )
    return Message(f"{lead.name}: {STATUS_LABEL[lead.status]}, owned by {lead.owner_id}", tuple(blocks))


def _history(history: Sequence[TouchSnapshot], total: int, today: date, now: datetime) -> str:
    if not history:
        return "*History*\n_No touches logged yet._"
    lines = []
    for touch in history:
        on_day = day(touch.on, today)
        line = f"• {OUTCOME_ICON[touch.outcome]} {OUTCOME_LABEL[touch.outcome]} · {on_day} · {who(touch.user_id)}"
        if touch.meeting_on and touch.meeting_on >= today:
            line += f" · meeting {day(touch.meeting_on, today)}"
        if touch.note:
            line += f" — {inert(clip(touch.note.replace(chr(10), ' '), 160))}"
        lines.append(line)
    text = f"*History* ({total} touch{'es' if total != 1 else ''})\n" + "\n".join(lines)
    if total > len(history):
        text += f"\n_…and {total - len(history)} earlier_"
    return clip(text, SECTION_TEXT)


def _handoff_history(lines: Sequence[HandoffLine]) -> str:
    shown = []
    for line in lines[:LIST_LINES]:
        text = f"• {who(line.from_owner)} → {who(line.to_user)}"
        if line.status == "pending":
            text += f" · waiting for a manager since {when(line.created_at)}"
        elif line.status == "moot":
            text += " · closed: the lead moved on first"
        else:
            direct = line.status == "approved" and line.decided_by == line.requested_by
            verb = "moved" if direct else "approved" if line.status == "approved" else "not approved"
            at = when(line.decided_at) if line.decided_at else ""
            text += f" · {verb} by {who(line.decided_by or 'a manager')} {at}"
        if line.reason:
            text += f" — {inert(clip(line.reason.replace(chr(10), ' '), 120))}"
        shown.append(text)
    return clip("*Hand-offs*\n" + "\n".join(shown), SECTION_TEXT)


def _lead_buttons(lead: LeadSnapshot) -> list[ButtonElement]:
    value = button_value(lead.id)
    if lead.status is Status.OPEN:
        return [
            button("Log a touch", Action.LOGCALL_OPEN, value, style="primary"),
            button("Won", Action.LEAD_WON, value),
            button("Lost", Action.LEAD_LOST, value),
            button("Back-burner", Action.LEAD_BACKBURNER, value),
        ]
    return [button("Log a touch", Action.LOGCALL_OPEN, value), button("Reopen", Action.LEAD_REOPEN, value)]


CHANGE_DONE = {
    Change.WON: ":trophy: {lead} is won. Nicely done! Hand the customer to operations cleanly so they stay happy.",
    Change.LOST: ":wave: {lead} is closed as lost.{reason} Leave the door open: things change.",
    Change.BACKBURNER: ":fire: {lead} is on the back-burner: no nudges until you reopen it.",
    Change.REOPEN: ":arrows_counterclockwise: {lead} is open again. A fresh round of attempts starts; the first is due today.",
    Change.OPT_OUT: (
        ":no_entry: {lead} opted out: this contact asked not to be contacted, and Baton won't nudge anyone "
        "about it again. If someone new there takes over, `/handoff LEAD contact NAME` records them and "
        "starts afresh with that person (the opt-out was this contact's)."
    ),
}


CHANGE_VERB = {
    Change.WON: "mark it won",
    Change.LOST: "close it as lost",
    Change.BACKBURNER: "put it on the back-burner",
    Change.REOPEN: "reopen it",
    Change.OPT_OUT: "record an opt-out",
    Change.NEW_CONTACT: "hand it to a new contact (which clears an opt-out and restarts the attempts)",
    Change.SNOOZE: "snooze it",
}


CHANGE_ALREADY = {
    Change.WON: "is already won",
    Change.LOST: "is already closed as lost",
    Change.BACKBURNER: "is already on the back-burner",
    Change.REOPEN: "is already open",
    Change.OPT_OUT: "has already opted out",
}


def status_changed(result: StatusChanged) -> Message:
    lead = result.lead
    reason = f" Reason: {esc(clip(lead.lost_reason, 500))}." if lead.lost_reason else ""
    text = CHANGE_DONE[result.change].format(lead=lead_ref(lead.name), reason=reason)
    blocks: list[Block] = [mrkdwn(text)]
    if result.change is not Change.REOPEN and result.change is not Change.OPT_OUT:
        blocks.append(
            ActionsBlock(elements=[button("Undo: reopen", Action.LEAD_REOPEN, button_value(lead.id))])
        )
    return Message(f"{lead.name}: {STATUS_LABEL[lead.status]}", tuple(blocks))


def no_change(result: NoChange) -> Message:
    return plain(f"{lead_ref(result.lead.name)} {CHANGE_ALREADY[result.change]}. Nothing changed.")


def not_allowed(result: NotAllowed) -> Message:
    lead = result.lead
    return plain(
        f"{lead_ref(lead.name)} is {who(lead.owner_id)}'s lead: only they or a manager can "
        f"{CHANGE_VERB[result.change]}. Nothing changed."
    )


def contact_removed(result: ContactRemoved) -> Message:
    return plain(
        f":wastebasket: Removed {inert(result.name)} from {lead_ref(result.lead.name)}'s contacts. "
        "Touches logged with them stay in the history."
    )


def contact_saved(result: ContactSaved) -> Message:
    words = result.words
    contact = result.contact
    verb = "Updated" if result.updated else "Saved"
    text = f":bust_in_silhouette: {verb} {contact_text(contact)} on {lead_ref(result.lead.name)}."
    blocks: list[Block] = [mrkdwn(text)]
    if words is not None:
        read = f"Read as person “{esc(clip(words.person, 100))}”"
        read += f", role “{esc(clip(words.role, 100))}”" if words.role else ", no role"
        read += ", decision-maker" if words.decision_maker else ""
        read += f", e-mail {esc(clip(words.email, 100))}" if words.email else ""
        read += f", phone {esc(clip(words.phone, 100))}" if words.phone else ""
        if not words.split_given:  # Baton guessed where the name ends: say how to put it right
            read += ". Wrong split? Put a comma after the name: `Jane Doe, VP Sales`"
        blocks.append(context(read + "."))
    return Message(f"{verb} contact {contact.name} on {result.lead.name}", tuple(blocks))


def lead_help(problem: str | None = None) -> Message:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        "*/lead* keeps your pipeline straight:",
        "• `/lead add Acme Corp` — a new lead, owned by you",
        "• `/lead show acme` — everything about it (a unique start of the name is enough)",
        "• `/lead find acme` — every lead whose name contains it, whoever owns it",
        "• `/lead won acme` · `/lead lost acme went with a competitor` · `/lead backburner acme` · `/lead reopen acme`",
        "• `/lead contact acme Jane Doe, CFO jane@acme.com +1 555 0100 dm` — who you talk to and how to"
        " reach them (`dm` = decision-maker)",
        "• `/lead uncontact acme Jane Doe` — remove a contact saved wrong (then add it again as it should be)\n"
        "• `/lead optout acme` — they asked not to be contacted: Baton stops nudging about it "
        "(until `/handoff acme contact NAME` names someone new there)",
        "Everything else: `/coach help`",
    ]
    return Message("How to use /lead", (mrkdwn("\n".join(lines)),))


def found(result: Found) -> Message:
    if not result.leads:
        return plain(
            f"No lead's name contains “{esc(clip(result.query, 100))}”. Add one with `/lead add NAME`."
        )
    lines = [f"• {lead_ref(o.name)} — {who(o.owner_id)}, {STATUS_LABEL[o.status]}" for o in result.leads]
    if result.more:
        lines.append("_…and more: type more of the name to narrow it down_")
    buttons = [button(f"Show {o.name}", Action.LEAD_SHOW, button_value(o.lead_id)) for o in result.leads[:5]]
    return Message(
        f"{len(result.leads)} leads match {result.query!r}",
        (mrkdwn("\n".join(lines)), ActionsBlock(elements=buttons)),
    )
