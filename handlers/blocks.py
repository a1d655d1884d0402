"""Every Block Kit payload Baton sends is built here, with every action and callback id.

Pure functions from the coaching layer's snapshots to `Message`s and views; no I/O. Text a person
typed is escaped here (`esc`) so `<!channel>` and friends never reach Slack from the bot, and is
clipped to Slack's limits; `slack_sdk.models` validates the rest when a payload is serialised.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from coaching.commands import Found, LeadHelp
from coaching.finding import DraftProblem, DraftRefused, LeadOption, WhichLead
from coaching.leads import (
    BadName,
    Change,
    ContactSaved,
    LeadAdded,
    LeadDetail,
    LeadExists,
    NoChange,
    NotAllowed,
    StatusChanged,
)
from coaching.pipeline import Item, Pipeline
from coaching.rules import Flag, Outcome, Rules, Stage, Status
from coaching.snapshots import LeadSnapshot, TouchSnapshot
from coaching.touches import BadNewLead, FutureDate, NotADate, Reading, TouchLogged

# ---- ids: every action_id, callback_id and options id the app listens for ------------------------
LOGCALL_MODAL = "logcall.modal"
LOGCALL_OPEN = "logcall.open"  # a button that opens the modal for one lead (value: lead id)
LEAD_SEARCH = "lead.search"  # the modal's lead picker (external select)
DRAFT_PICK = "draft.pick"  # value "draft_id:lead_id"
DRAFT_ADD = "draft.add"  # value "draft_id"
DRAFT_AS_MEETING = "draft.as_meeting"  # value "draft_id:lead_id"
DRAFT_AS_TODAY = "draft.as_today"  # value "draft_id:lead_id"
LEAD_SHOW = "lead.show"
LEAD_WON = "lead.won"
LEAD_LOST = "lead.lost"
LEAD_BACKBURNER = "lead.backburner"
LEAD_REOPEN = "lead.reopen"
LEAD_MENU = "lead.menu"  # overflow menu: option value "<action_id>:<lead id>"
LEAD_BUTTONS = (LEAD_SHOW, LEAD_WON, LEAD_LOST, LEAD_BACKBURNER, LEAD_REOPEN)

# ---- Slack's limits ---------------------------------------------------------------------------
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
OPTION_TEXT = 75
MESSAGE_TEXT = 40000
MODAL_NOTE = 3000
NOTE_SHOWN = 600  # a reply quotes this much of a long note; all of it is stored
LIST_LINES = 15

USAGE = {
    "logcall": "`/logcall LEAD [outcome] [date] [note…]` — e.g. `/logcall Acme Corp voicemail left a message`",
    "lead": "`/lead add|show|won|lost|backburner|reopen|contact|optout NAME …` — e.g. `/lead add Acme Corp`",
    "pipeline": "`/pipeline` — your open leads by what needs doing (managers: `/pipeline @rep`)",
}


@dataclass(frozen=True)
class Message:
    """A message's blocks and the fallback Slack shows in notifications and to screen readers.

    `text` is plain, unescaped text (lead names as typed). Slack parses the fallback for mentions
    too, so `payload()` escapes it: a lead called "<!here> Corp" pings nobody.
    """

    text: str
    blocks: tuple[Block, ...] = ()

    def payload(self) -> dict[str, Any]:
        if len(self.blocks) > MESSAGE_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks is over Slack's {MESSAGE_BLOCKS} per message")
        return {
            "text": clip(esc(self.text), MESSAGE_TEXT),
            "blocks": [block.to_dict() for block in self.blocks],
        }


# ---- text ---------------------------------------------------------------------------------------
_MENTION = re.compile(r"<([@#])([UWC][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_SLACK_ID = re.compile(r"^[UWBC][A-Z0-9]{2,}$")


def esc(text: str) -> str:
    """User text made safe for mrkdwn: keeps @user and #channel mentions, defuses everything else.

    Escaping `&`, `<` and `>` is what stops `<!channel>`, `<!here>`, `<!subteam^…>` and fake links.
    """
    out: list[str] = []
    last = 0
    for match in _MENTION.finditer(text):
        out.append(_escape(text[last : match.start()]))
        out.append(f"<{match.group(1)}{match.group(2)}>")
        last = match.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def who(user_id: str) -> str:
    return f"<@{user_id}>" if _SLACK_ID.match(user_id) else esc(user_id)


def day(d: date, today: date) -> str:
    offset = (d - today).days
    if offset == 0:
        return "today"
    if offset == 1:
        return "tomorrow"
    if offset == -1:
        return "yesterday"
    label = f"{d:%a} {d.day} {d:%b}"
    return label if d.year == today.year else f"{label} {d.year}"


def relative(d: date, today: date) -> str:
    offset = (d - today).days
    if offset == 0:
        return "due today"
    if offset < 0:
        return f"{-offset} day{'s' if offset < -1 else ''} overdue"
    return f"in {offset} day{'s' if offset > 1 else ''}"


def days_ago(instant: datetime, now: datetime) -> str:
    days = (now - instant).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


OUTCOME_LABEL = {
    Outcome.CALL: "call",
    Outcome.CONNECTED: "conversation",
    Outcome.VOICEMAIL: "voicemail",
    Outcome.NO_ANSWER: "call with no answer",
    Outcome.EMAIL: "email",
    Outcome.REPLIED: "reply",
    Outcome.MEETING: "meeting",
    Outcome.NOT_INTERESTED: "“not interested”",
    Outcome.OPT_OUT: "opt-out",
}
OUTCOME_ICON = {
    Outcome.CALL: ":telephone_receiver:",
    Outcome.CONNECTED: ":speech_balloon:",
    Outcome.VOICEMAIL: ":studio_microphone:",
    Outcome.NO_ANSWER: ":no_bell:",
    Outcome.EMAIL: ":email:",
    Outcome.REPLIED: ":incoming_envelope:",
    Outcome.MEETING: ":calendar:",
    Outcome.NOT_INTERESTED: ":raised_hand:",
    Outcome.OPT_OUT: ":no_entry:",
}
STATUS_LABEL = {
    Status.OPEN: "open",
    Status.BACKBURNER: "on the back-burner",
    Status.WON: "won",
    Status.LOST: "lost",
}


def mrkdwn(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT)))


def context(*parts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(part, FIELD_TEXT)) for part in parts[:10]])


def button(label: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(label, BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
    )


def quote(note: str) -> str:
    shown = clip(note, NOTE_SHOWN)
    lines = "\n".join("> " + line if line else ">" for line in esc(shown).split("\n"))
    if len(note) > NOTE_SHOWN:
        lines += f"\n_(the whole note — {len(note):,} characters — is saved)_"
    return lines


def lead_ref(name: str) -> str:
    return f"*{esc(clip(name, HEADER_TEXT))}*"


def plain(text: str) -> Message:
    """A one-section reply. `text` is mrkdwn with any user text already escaped by `esc`."""
    fallback = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Message(fallback, (mrkdwn(text),))


# ---- /logcall -------------------------------------------------------------------------------------


def attempt_line(lead: LeadSnapshot, stage: Stage, rules: Rules, now: datetime) -> str:
    if lead.opted_out_at is not None:
        return "Opted out: Baton won't nudge you about this lead again"
    if stage is Stage.REACHED:
        spoke = days_ago(lead.last_contact_at, now) if lead.last_contact_at else "recently"
        extra = f" · {lead.attempts} tr{'ies' if lead.attempts != 1 else 'y'} since" if lead.attempts else ""
        return f"In touch · last two-way contact {spoke}{extra}"
    if lead.attempts > rules.attempts_limit:
        return (
            f"Attempt {lead.attempts} · past the limit of {rules.attempts_limit} (cap {rules.attempts_cap})"
        )
    return f"Attempt {lead.attempts} of {rules.attempts_limit}"


def next_step_line(lead: LeadSnapshot, stage: Stage, today: date) -> str:
    if lead.meeting_on is not None and lead.meeting_on >= today:
        line = f"Meeting *{day(lead.meeting_on, today)}*"
        if lead.meeting_on > today:
            line += " — Baton will remind you the day before to send the client a reminder"
        return line
    if lead.next_follow_up is not None:
        return f"Next follow-up *{day(lead.next_follow_up, today)}* ({relative(lead.next_follow_up, today)})"
    if lead.status is not Status.OPEN:
        return f"No follow-up scheduled: the lead is {STATUS_LABEL[lead.status]}"
    if lead.opted_out_at is not None:
        return "No follow-up scheduled"
    if stage is Stage.CAP:
        return "No more follow-ups scheduled: that's the attempt cap"
    return "No follow-up scheduled until you decide what's next"


def _readings(readings: Sequence[Reading], today: date) -> list[str]:
    out = []
    for reading in readings:
        meant = day(reading.meant, today) if isinstance(reading.meant, date) else lead_ref(reading.meant)
        out.append(f"Read “{esc(clip(reading.said, 80))}” as {meant}")
    return out


def touch_logged(result: TouchLogged, now: datetime) -> Message:
    lead = result.lead
    when = "" if result.on == result.today else f" ({day(result.on, result.today)})"
    if result.meeting_booked:
        headline = f":calendar: Booked a *meeting* with {lead_ref(lead.name)} for *{day(result.meeting_booked, result.today)}*"
    else:
        label = OUTCOME_LABEL[result.outcome]
        headline = f":white_check_mark: Logged a *{label}* on {lead_ref(lead.name)}{when}"
    if result.for_someone_else:
        headline += f" — {who(lead.owner_id)}'s lead"
    blocks: list[Block] = [mrkdwn(headline)]
    if result.note:
        blocks.append(mrkdwn(quote(result.note)))
    status = attempt_line(lead, result.stage, result.rules, now)
    blocks.append(mrkdwn(f"{status}\n{next_step_line(lead, result.stage, result.today)}"))
    blocks.append(mrkdwn(f":bulb: {result.tip.text}"))
    notes = _readings(result.readings, result.today)
    if not result.outcome_given:
        notes.append(
            "No outcome given, so it's logged as a call attempt. Next time add one: `connected`, `vm`, `no-answer`, `email`…"
        )
    if result.removed_characters:
        notes.append(f"Removed {result.removed_characters} invisible control character(s) from the text.")
    if lead.status is not Status.OPEN:
        notes.append(f"This lead is {STATUS_LABEL[lead.status]}. `/lead reopen` puts it back in play.")
    if lead.opted_out_at is not None and result.outcome is not Outcome.OPT_OUT:
        notes.append(":warning: This contact asked not to be contacted.")
    if notes:
        blocks.append(context(*notes))
    actions = _next_actions(result)
    if actions:
        blocks.append(ActionsBlock(block_id=f"logged:{result.touch_id}", elements=actions))
    fallback = f"Logged a {OUTCOME_LABEL[result.outcome]} on {lead.name}. {status}."
    return Message(fallback, tuple(blocks))


def _next_actions(result: TouchLogged) -> list[ButtonElement]:
    lead_id = str(result.lead.id)
    if result.lead.status is not Status.OPEN:
        return []
    if result.outcome in (Outcome.NOT_INTERESTED, Outcome.OPT_OUT):
        return [
            button("Close as lost", LEAD_LOST, lead_id),
            button("Back-burner", LEAD_BACKBURNER, lead_id),
        ]
    if result.stage in (Stage.INSIST, Stage.CAP):
        return [button("Back-burner", LEAD_BACKBURNER, lead_id, style="primary")]
    return []


def which_lead(choice: WhichLead) -> Message:
    typed = f"“{esc(clip(choice.lead_text, 100))}”"
    buttons = [
        button(_option_label(option), DRAFT_PICK, f"{choice.draft_id}:{option.lead_id}")
        for option in choice.options
    ]
    if choice.unknown:
        if not choice.lead_text:
            return plain(f"Which lead? {USAGE.get(choice.command, USAGE['logcall'])}")
        headline = f":mag: I couldn't find a lead called {typed}."
        if buttons:
            headline += " Did you mean one of these?"
        if choice.can_add:
            buttons.append(button(f"Add “{choice.lead_text}” as a new lead", DRAFT_ADD, str(choice.draft_id)))
        hint = "Nothing is lost: pick an option and Baton finishes what you typed."
        if not buttons:
            hint = "Check the spelling, see your leads with `/pipeline`, or add one with `/lead add NAME`."
    else:
        headline = f":thinking_face: {typed} matches more than one lead. Which did you mean?"
        hint = "Nothing is lost: pick one and Baton finishes what you typed."
        if choice.more:
            hint = f"{choice.more} more match — type more of the name to narrow it down. " + hint
    blocks: list[Block] = [mrkdwn(headline)]
    if buttons:
        blocks.append(ActionsBlock(block_id=f"draft:{choice.draft_id}", elements=buttons))
    blocks.append(context(hint))
    names = ", ".join(option.name for option in choice.options)
    fallback = f"Which lead did you mean by {choice.lead_text!r}? {names}".strip()
    return Message(clip(fallback, 500), tuple(blocks))


def _option_label(option: LeadOption) -> str:
    if option.status is Status.OPEN:
        return option.name
    return f"{option.name} ({STATUS_LABEL[option.status]})"


def future_date(result: FutureDate) -> Message:
    today = result.today
    value = f"{result.draft_id}:{result.lead.id}"
    when = day(result.on, today)
    text = (
        f":calendar: *{when}* is in the future, and only a meeting can be. "
        f"What happened with {lead_ref(result.lead.name)}?"
    )
    return Message(
        f"{when} is in the future: book a meeting, or log it for today?",
        (
            mrkdwn(text),
            ActionsBlock(
                block_id=f"draft:{result.draft_id}",
                elements=[
                    button(f"Book a meeting for {when}", DRAFT_AS_MEETING, value, style="primary"),
                    button(f"It was a {OUTCOME_LABEL[result.outcome]} today", DRAFT_AS_TODAY, value),
                ],
            ),
            context("Nothing is lost: pick one and Baton logs your note with it."),
        ),
    )


def not_a_date(result: NotADate, typed: str) -> Message:
    return Message(
        f"{result.said} isn't a date Baton knows.",
        (
            mrkdwn(
                f":calendar: “{esc(clip(result.said, 40))}” isn't a date Baton knows. "
                "Use `today`, `yesterday`, a weekday (`tuesday`, `next friday`) or `YYYY-MM-DD`."
            ),
            *you_typed(typed),
        ),
    )


def you_typed(typed: str) -> tuple[Block, ...]:
    """Echo what the rep typed, so nothing needs retyping after a mistake."""
    if not typed.strip():
        return ()
    return (context("Nothing was saved. What you typed, to copy:"), mrkdwn(f"```{esc(clip(typed, 2900))}```"))


def draft_refused(result: DraftRefused) -> Message:
    text = {
        DraftProblem.MISSING: "That request has expired or belongs to another workspace. Nothing was changed.",
        DraftProblem.NOT_YOURS: "Those buttons belong to someone else's message. Nothing was changed.",
        DraftProblem.USED: "Already done: Baton doesn't log the same thing twice.",
    }[result.problem]
    return plain(text)


def bad_new_lead(result: BadNewLead) -> Message:
    return plain(f":warning: {result.reason}")


# ---- /lead --------------------------------------------------------------------------------------


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
            ActionsBlock(elements=[button("Log a touch", LOGCALL_OPEN, str(lead.id), style="primary")]),
        ),
    )


def lead_exists(result: LeadExists) -> Message:
    lead = result.lead
    text = f"{lead_ref(lead.name)} is already in the pipeline ({who(lead.owner_id)}'s, {STATUS_LABEL[lead.status]})."
    return Message(
        f"{lead.name} is already in the pipeline.",
        (mrkdwn(text), ActionsBlock(elements=[button("Show it", LEAD_SHOW, str(lead.id))])),
    )


def bad_name(result: BadName) -> Message:
    return plain(f":warning: {result.reason}")


def lead_card(detail: LeadDetail, now: datetime) -> Message:
    lead = detail.lead
    today = detail.today
    current = detail.contacts[-1] if detail.contacts else None
    fields = [
        f"*Owner*\n{who(lead.owner_id)}",
        f"*Status*\n{STATUS_LABEL[lead.status].capitalize()}" + (" · opted out" if lead.opted_out_at else ""),
        f"*Talking to*\n{_contact_text(current) if current else '_nobody recorded yet_'}",
        f"*Attempts*\n{attempt_line(lead, detail.stage, detail.rules, now)}",
        f"*Last touch*\n{days_ago(lead.last_touch_at, now) if lead.last_touch_at else '_none yet_'}",
        f"*Coming up*\n{next_step_line(lead, detail.stage, today)}",
        f"*Age*\n{(now - lead.created_at).days} days (sales cycle {detail.rules.sales_cycle_days})",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(lead.name, HEADER_TEXT))),
        SectionBlock(fields=[MarkdownTextObject(text=clip(f, FIELD_TEXT)) for f in fields]),
    ]
    warnings = []
    if detail.stalled:
        warnings.append(":hourglass: Stalled: contact was made, then silence. Add value rather than chase.")
    if detail.past_cycle:
        warnings.append(":hourglass_flowing_sand: Older than your sales cycle: is it still a real lead?")
    if lead.status is Status.LOST and lead.lost_reason:
        warnings.append(f"Lost: {esc(clip(lead.lost_reason, 500))}")
    if warnings:
        blocks.append(context(*warnings))
    if len(detail.contacts) > 1:
        people = "\n".join(f"• {_contact_text(c)}" for c in reversed(detail.contacts[-LIST_LINES:]))
        blocks.append(mrkdwn(f"*Contacts*\n{people}"))
    blocks.append(mrkdwn(_history(detail.history, detail.touch_total, today, now)))
    blocks.append(ActionsBlock(block_id=f"lead:{lead.id}", elements=_lead_buttons(lead)))
    return Message(f"{lead.name}: {STATUS_LABEL[lead.status]}, owned by {lead.owner_id}", tuple(blocks))


def _contact_text(contact: Any) -> str:
    text = esc(clip(contact.name, 100))
    if contact.role:
        text += f", {esc(clip(contact.role, 100))}"
    if contact.is_decision_maker:
        text += " · *decision-maker*"
    return text


def _history(history: Sequence[TouchSnapshot], total: int, today: date, now: datetime) -> str:
    if not history:
        return "*History*\n_No touches logged yet._"
    lines = []
    for touch in history:
        when = day(touch.on, today)
        line = (
            f"• {OUTCOME_ICON[touch.outcome]} {OUTCOME_LABEL[touch.outcome]} · {when} · {who(touch.user_id)}"
        )
        if touch.meeting_on and touch.meeting_on >= today:
            line += f" · meeting {day(touch.meeting_on, today)}"
        if touch.note:
            line += f" — {esc(clip(touch.note.replace(chr(10), ' '), 160))}"
        lines.append(line)
    text = f"*History* ({total} touch{'es' if total != 1 else ''})\n" + "\n".join(lines)
    if total > len(history):
        text += f"\n_…and {total - len(history)} earlier_"
    return clip(text, SECTION_TEXT)


def _lead_buttons(lead: LeadSnapshot) -> list[ButtonElement]:
    value = str(lead.id)
    if lead.status is Status.OPEN:
        return [
            button("Log a touch", LOGCALL_OPEN, value, style="primary"),
            button("Won", LEAD_WON, value),
            button("Lost", LEAD_LOST, value),
            button("Back-burner", LEAD_BACKBURNER, value),
        ]
    return [button("Log a touch", LOGCALL_OPEN, value), button("Reopen", LEAD_REOPEN, value)]


CHANGE_DONE = {
    Change.WON: ":trophy: {lead} is won. Nicely done! Hand the customer to operations cleanly so they stay happy.",
    Change.LOST: ":wave: {lead} is closed as lost.{reason} Leave the door open: things change.",
    Change.BACKBURNER: ":fire: {lead} is on the back-burner: no nudges until you reopen it.",
    Change.REOPEN: ":arrows_counterclockwise: {lead} is open again. A fresh round of attempts starts; the first is due today.",
    Change.OPT_OUT: ":no_entry: {lead} opted out. Baton will never nudge anyone about it again.",
}
CHANGE_VERB = {
    Change.WON: "mark it won",
    Change.LOST: "close it as lost",
    Change.BACKBURNER: "put it on the back-burner",
    Change.REOPEN: "reopen it",
    Change.OPT_OUT: "record an opt-out",
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
        blocks.append(ActionsBlock(elements=[button("Undo: reopen", LEAD_REOPEN, str(lead.id))]))
    return Message(f"{lead.name}: {STATUS_LABEL[lead.status]}", tuple(blocks))


def no_change(result: NoChange) -> Message:
    return plain(f"{lead_ref(result.lead.name)} {CHANGE_ALREADY[result.change]}. Nothing changed.")


def not_allowed(result: NotAllowed) -> Message:
    lead = result.lead
    return plain(
        f"{lead_ref(lead.name)} is {who(lead.owner_id)}'s lead: only they or a manager can "
        f"{CHANGE_VERB[result.change]}. Nothing changed."
    )


def contact_saved(result: ContactSaved) -> Message:
    words = result.words
    contact = result.contact
    verb = "Updated" if result.updated else "Saved"
    text = f":bust_in_silhouette: {verb} {_contact_text(contact)} on {lead_ref(result.lead.name)}."
    blocks: list[Block] = [mrkdwn(text)]
    if words is not None:
        read = f"Read as person “{esc(clip(words.person, 100))}”"
        read += f", role “{esc(clip(words.role, 100))}”" if words.role else ", no role"
        read += ", decision-maker" if words.decision_maker else ""
        blocks.append(context(read + ". Wrong split? Put a comma after the name: `Jane Doe, VP Sales`."))
    return Message(f"{verb} contact {contact.name} on {result.lead.name}", tuple(blocks))


def lead_help(problem: str | None = None) -> Message:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        "*/lead* keeps your pipeline straight:",
        "• `/lead add Acme Corp` — a new lead, owned by you",
        "• `/lead show acme` — everything about it (a unique start of the name is enough)",
        "• `/lead won acme` · `/lead lost acme went with a competitor` · `/lead backburner acme` · `/lead reopen acme`",
        "• `/lead contact acme Jane Doe CFO dm` — who you talk to (`dm` = decision-maker)",
        "• `/lead optout acme` — they asked not to be contacted: Baton never nudges about it again",
    ]
    return Message("How to use /lead", (mrkdwn("\n".join(lines)),))


# ---- /pipeline ----------------------------------------------------------------------------------

PIPELINE_ITEMS = 10  # leads shown with their own menu per group; the rest as a list


def pipeline(view: Pipeline, now: datetime, *, viewer: str) -> Message:
    today = view.today
    whose = "Your pipeline" if viewer == view.owner_id else f"{who(view.owner_id)}'s pipeline"
    if view.is_empty:
        text = f"{whose} is empty. Add a lead with `/lead add Acme Corp`."
        return Message("The pipeline is empty.", (mrkdwn(text),))
    counts = [f"*{view.open_count}* open"]
    if view.overdue:
        counts.append(f"*{len(view.overdue)}* overdue")
    if view.due_today:
        counts.append(f"*{len(view.due_today)}* due today")
    counts.append(f"*{len(view.upcoming)}* upcoming")
    if view.backburner:
        counts.append(f"*{len(view.backburner)}* on the back-burner")
    blocks: list[Block] = [
        mrkdwn(f"*{whose}* · {day(today, today).capitalize()}, {today:%a} {today.day} {today:%b}"),
        context(" · ".join(counts)),
    ]
    groups = (
        (":rotating_light: *Overdue*", view.overdue, True),
        (":dart: *Due today*", view.due_today, True),
        (":thinking_face: *Needs a decision* (nothing scheduled)", view.undecided, False),
        (":spiral_calendar_pad: *Upcoming*", view.upcoming, False),
        (":fire: *Back-burner*", view.backburner, False),
    )
    for title, leads, itemised in groups:
        if not leads:
            continue
        blocks.append(DividerBlock())
        if itemised:
            blocks.append(mrkdwn(f"{title} ({len(leads)})"))
            blocks.extend(_pipeline_item(item, view.rules, today, now) for item in leads[:PIPELINE_ITEMS])
            rest = leads[PIPELINE_ITEMS:]
            if rest:
                blocks.append(context(_more(rest, today)))
        else:
            blocks.append(mrkdwn(f"{title} ({len(leads)})\n" + _lines(leads, today, view.rules, now)))
    fallback = f"{whose.replace('*', '')}: {view.open_count} open, {len(view.overdue)} overdue, {len(view.due_today)} due today"
    return Message(fallback, tuple(blocks))


FLAG_LABEL = {
    Flag.AT_LIMIT: ":no_entry_sign: at the attempt limit",
    Flag.STALLED: ":hourglass: stalled",
    Flag.PAST_CYCLE: ":hourglass_flowing_sand: past the sales cycle",
    Flag.MEETING_TOMORROW: ":calendar: meeting tomorrow: send a reminder",
    Flag.SQUATTING: ":zzz: untouched for weeks",
    Flag.LAPSED: ":moneybag: lapsed customer",
    Flag.OPTED_OUT: ":no_entry: opted out",
}


def _summary(item: Item, today: date, rules: Rules, now: datetime) -> str:
    lead = item.lead
    parts = [lead_ref(lead.name)]
    if lead.status is Status.OPEN and lead.next_follow_up:
        parts.append(relative(lead.next_follow_up, today))
    if lead.meeting_on and lead.meeting_on >= today and Flag.MEETING_TOMORROW not in item.flags:
        parts.append(f":calendar: meeting {day(lead.meeting_on, today)}")
    if not lead.reached and lead.status is Status.OPEN:
        parts.append(f"attempt {lead.attempts}/{rules.attempts_limit}")
    if lead.last_touch_at:
        parts.append(f"last touch {days_ago(lead.last_touch_at, now)}")
    parts.extend(FLAG_LABEL[flag] for flag in sorted(item.flags))
    return " · ".join(parts)


def _pipeline_item(item: Item, rules: Rules, today: date, now: datetime) -> SectionBlock:
    lead = item.lead
    value = str(lead.id)
    menu = OverflowMenuElement(
        action_id=LEAD_MENU,
        options=[
            Option(text="Log a touch", value=f"{LOGCALL_OPEN}:{value}"),
            Option(text="Show the lead", value=f"{LEAD_SHOW}:{value}"),
            Option(text="Back-burner", value=f"{LEAD_BACKBURNER}:{value}"),
        ],
    )
    return SectionBlock(
        block_id=f"item:{lead.id}",
        text=MarkdownTextObject(text=_summary(item, today, rules, now)),
        accessory=menu,
    )


def _lines(items: Sequence[Item], today: date, rules: Rules, now: datetime) -> str:
    lines = [f"• {_summary(item, today, rules, now)}" for item in items[:LIST_LINES]]
    if len(items) > LIST_LINES:
        lines.append(f"_…and {len(items) - LIST_LINES} more_")
    return clip("\n".join(lines), SECTION_TEXT - 200)


def _more(items: Iterable[Item], today: date) -> str:
    names = [item.lead.name for item in items]
    shown = ", ".join(esc(clip(name, 60)) for name in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return f"Also: {shown}{more}"


# ---- the /logcall modal ----------------------------------------------------------------------------

OUTCOME_CHOICES = (
    (Outcome.CALL, "Call (outcome unknown)"),
    (Outcome.CONNECTED, "Connected: we spoke"),
    (Outcome.VOICEMAIL, "Left a voicemail"),
    (Outcome.NO_ANSWER, "No answer"),
    (Outcome.EMAIL, "Sent an email"),
    (Outcome.REPLIED, "They replied"),
    (Outcome.MEETING, "Meeting (held, or booked for a future date)"),
    (Outcome.NOT_INTERESTED, "Not interested"),
    (Outcome.OPT_OUT, "Asked not to be contacted"),
)


def lead_option(lead_id: int, name: str) -> Option:
    return Option(text=clip(name, OPTION_TEXT), value=str(lead_id))


def logcall_modal(*, today: date, channel_id: str | None, lead: tuple[int, str] | None = None) -> View:
    picker = ExternalDataSelectElement(
        action_id=LEAD_SEARCH,
        placeholder="Type part of the lead's name",
        min_query_length=0,
        initial_option=lead_option(*lead) if lead else None,
    )
    outcomes = [Option(text=label, value=outcome.value) for outcome, label in OUTCOME_CHOICES]
    blocks: list[Block] = [
        InputBlock(block_id="lead", label="Lead", element=picker),
        InputBlock(
            block_id="outcome",
            label="What happened?",
            element=StaticSelectElement(action_id="outcome", options=outcomes, initial_option=outcomes[0]),
        ),
        InputBlock(
            block_id="on",
            label="When",
            element=DatePickerElement(action_id="on", initial_date=today.isoformat()),
            hint="A future date books a meeting.",
        ),
        InputBlock(
            block_id="note",
            label="Note",
            optional=True,
            element=PlainTextInputElement(action_id="note", multiline=True, max_length=MODAL_NOTE),
        ),
    ]
    return View(
        type="modal",
        callback_id=LOGCALL_MODAL,
        title="Log a touch",
        submit="Log it",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"channel": channel_id}),
    )


def lead_options(leads: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [lead_option(lead_id, name).to_dict() for lead_id, name in list(leads)[:100]]


# ---- errors --------------------------------------------------------------------------------------


def something_went_wrong(typed: str | None) -> Message:
    text = ":face_with_head_bandage: Sorry, something went wrong on Baton's side. It has been logged; please try again in a minute."
    return Message(text, (mrkdwn(text), *you_typed(typed or "")))


def usage(command: str, problem: str) -> Message:
    text = f"{problem}\nUsage: {USAGE[command]}"
    return Message(problem, (mrkdwn(text),))


# ---- one entry point from any use-case result to the message that answers it -------------------


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
        case Found():
            return found(result)
        case LeadHelp():
            return lead_help(result.problem)
    raise TypeError(f"no message for {type(result).__name__}")


def found(result: Found) -> Message:
    if not result.leads:
        return plain(
            f"No lead's name contains “{esc(clip(result.query, 100))}”. Add one with `/lead add NAME`."
        )
    lines = [f"• {lead_ref(o.name)} — {who(o.owner_id)}, {STATUS_LABEL[o.status]}" for o in result.leads]
    if result.more:
        lines.append("_…and more: type more of the name to narrow it down_")
    buttons = [button(f"Show {o.name}", LEAD_SHOW, str(o.lead_id)) for o in result.leads[:5]]
    return Message(
        f"{len(result.leads)} leads match {result.query!r}",
        (mrkdwn("\n".join(lines)), ActionsBlock(elements=buttons)),
    )


def stale_button() -> Message:
    return plain("That button is out of date or wasn't made by Baton. Nothing was changed.")


def read_ids(value: str | None, count: int) -> tuple[int, ...] | None:
    """The ids a button carries ("12" or "12:34"), or None when the value isn't one of ours."""
    parts = (value or "").split(":")
    if len(parts) != count or not all(part.isdigit() and len(part) < 19 for part in parts):
        return None
    return tuple(int(part) for part in parts)
