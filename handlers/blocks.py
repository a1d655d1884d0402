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
    ChannelSelectElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from coaching.coach import CoachHelp, ManagersShown, SettingsShown
from coaching.commands import Found, LeadHelp
from coaching.finding import DraftProblem, DraftRefused, LeadOption, WhichLead
from coaching.handoffs import (
    AlreadyDecided,
    Decided,
    HandedToContact,
    HandoffHelp,
    HandoffRefused,
    NotAManager,
    OpsHandedOff,
    OpsHandoffSnapshot,
    Refusal,
    TransferAsked,
    TransferSnapshot,
    TransferStatus,
)
from coaching.home import HomeView
from coaching.home import Team as HomeTeam
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
from coaching.nudges import Digest, Review, Section
from coaching.nudges import Item as NudgeItem
from coaching.pipeline import Item, Pipeline
from coaching.rules import Flag, GroundRule, Outcome, Rules, Stage, Status
from coaching.settings import (
    RULE_NAMES,
    SETTING_HELP,
    SETTING_NAMES,
    ManagersChanged,
    ManagersRefused,
    SettingsChanged,
    SettingsRefused,
)
from coaching.snapshots import HandoffLine, LeadSnapshot, TouchSnapshot
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


_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^<>]*)?>|<!subteam\^[^<>|]*(?:\|([^<>]*))?>")
_LINK = re.compile(r"<[@#]?([^<>|]*)(?:\|([^<>]*))?>")


def label(text: str, limit: int) -> str:
    """User text for plain_text (buttons, headers, options): Slack's encoded mentions shown as typed.

    plain_text isn't parsed for mentions, but the encoded forms must not reach Slack at all, and
    "@channel" reads better than "<!channel>" anyway.
    """
    text = _SPECIAL.sub(lambda m: "@" + (m.group(1) or (m.group(2) or "group").lstrip("@")), text)
    text = _LINK.sub(
        lambda m: ("@" if m.group(0).startswith("<@") else "") + (m.group(2) or m.group(1)), text
    )
    return clip(text, limit)


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


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label(text, BUTTON_TEXT), emoji=True),
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
        HeaderBlock(text=PlainTextObject(text=label(lead.name, HEADER_TEXT))),
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
    if detail.handoffs:
        blocks.append(mrkdwn(_handoff_history(detail.handoffs)))
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


def _handoff_history(lines: Sequence[HandoffLine]) -> str:
    shown = []
    for line in lines[:LIST_LINES]:
        text = f"• {who(line.from_owner)} → {who(line.to_user)}"
        if line.status == "pending":
            text += f" · waiting for a manager since {when(line.created_at)}"
        elif line.status == "moot":
            text += " · closed: the lead moved on first"
        else:
            verb = "approved" if line.status == "approved" else "not approved"
            at = when(line.decided_at) if line.decided_at else ""
            text += f" · {verb} by {who(line.decided_by or 'a manager')} {at}"
        if line.reason:
            text += f" — {esc(clip(line.reason.replace(chr(10), ' '), 120))}"
        shown.append(text)
    return clip("*Hand-offs*\n" + "\n".join(shown), SECTION_TEXT)


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
        "Everything else: `/coach help`",
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
    return Option(text=label(name, OPTION_TEXT), value=str(lead_id))


def logcall_modal(
    *,
    today: date,
    channel_id: str | None,
    lead: tuple[int, str] | None = None,
    refresh: tuple[str, str] | None = None,
    home: bool = False,
) -> View:
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
        # Where to show the result afterwards: the channel, a digest to refresh, or the Home tab.
        private_metadata=json.dumps(
            {"channel": channel_id, "refresh": list(refresh) if refresh else None, "home": home}
        ),
    )


def lead_options(leads: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [lead_option(lead_id, name).to_dict() for lead_id, name in list(leads)[:100]]


# ---- errors --------------------------------------------------------------------------------------


def something_went_wrong(typed: str | None) -> Message:
    text = ":face_with_head_bandage: Sorry, something went wrong on Baton's side. It has been logged; please try again in a minute."
    return Message(text, (mrkdwn(text), *you_typed(typed or "")))


def usage(command: str, problem: str) -> Message:
    text = f"{problem}\nUsage: {USAGE[command]} · more: `/coach help`"
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


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON a modal carries in `private_metadata`; empty when it isn't ours."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def read_ids(value: str | None, count: int) -> tuple[int, ...] | None:
    """The ids a button carries ("12" or "12:34"), or None when the value isn't one of ours."""
    parts = (value or "").split(":")
    if len(parts) != count or not all(part.isdigit() and len(part) < 19 for part in parts):
        return None
    return tuple(int(part) for part in parts)


# ---- /handoff ----------------------------------------------------------------------------------------

TRANSFER_APPROVE = "transfer.approve"  # value: transfer id
TRANSFER_REJECT = "transfer.reject"
TRANSFER_REJECT_WHY = "transfer.reject_why"  # opens the reason form
TRANSFER_REASON_MODAL = "transfer.reason"
OPS_CLAIM = "ops.claim"  # value: ops hand-off id
OPS_MODAL = "ops.form"
USAGE["handoff"] = (
    "`/handoff LEAD @person [why]` · `/handoff LEAD ops [notes]` · `/handoff LEAD contact PERSON [role] [dm]`"
)

GROUND_RULE_TEXT = {
    GroundRule.STEP_IN: "Contact was made but it has been stuck for months: work it *with* the owner before moving it; a new rep would start from scratch.",
    GroundRule.NOT_REACHED: "Nobody reached after the attempt limit: hand it on, and give the owner fresh leads in exchange.",
    GroundRule.CONNECTION: "Someone has a way in: handing it on usually helps everyone, the owner included.",
    GroundRule.SQUATTING: "Untouched for weeks: the owner may be sitting on it.",
    GroundRule.PASSING_ON: "The owner is passing it on.",
    GroundRule.JUDGEMENT: "No ground rule clearly applies: your call.",
}


def when(instant: datetime) -> str:
    """A moment shown in each reader's own time zone (Slack formats the date token per viewer)."""
    stamp = int(instant.timestamp())
    fallback = f"{instant:%a} {instant.day} {instant:%b} {instant:%H:%M} UTC"
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _transfer_headline(t: TransferSnapshot) -> str:
    lead = lead_ref(t.lead.name)
    if t.requested_by == t.from_owner:
        return f"{who(t.requested_by)} wants to hand {lead} to {who(t.to_user)}."
    if t.requested_by == t.to_user:
        return f"{who(t.requested_by)} asks to take over {lead} from {who(t.from_owner)}."
    return f"{who(t.requested_by)} proposes moving {lead} from {who(t.from_owner)} to {who(t.to_user)}."


def _transfer_facts(t: TransferSnapshot) -> list[Block]:
    lead, rules, now = t.lead, t.rules, t.now
    age = (now - lead.created_at).days
    if lead.ever_reached:
        contact = f"yes, last {days_ago(lead.last_contact_at, now)}" if lead.last_contact_at else "yes"
    else:
        contact = "never: still a prospect"
    attempts = (
        f"{lead.attempts} since the last conversation"
        if lead.reached
        else f"{lead.attempts} of {rules.attempts_limit} without reaching anyone"
    )
    fields = [
        f"*Lead age*\n{age} days (sales cycle {rules.sales_cycle_days})",
        f"*Attempts*\n{attempts}",
        f"*Contact made*\n{contact}",
        f"*Last touch*\n{days_ago(lead.last_touch_at, now) if lead.last_touch_at else 'never'}",
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
    blocks: list[Block] = [mrkdwn(f"*{title}*\n{_transfer_headline(t)}"), *_transfer_facts(t)]
    if reminder:
        blocks.append(
            context(f"Asked {when(t.created_at)}. Hand-offs that wait leave a lead with nobody working it.")
        )
    value = str(t.id)
    blocks.append(
        ActionsBlock(
            block_id=f"transfer:{t.id}",
            elements=[
                button("Approve", TRANSFER_APPROVE, value, style="primary"),
                button("Reject", TRANSFER_REJECT, value, style="danger"),
                button("Reject with a reason…", TRANSFER_REJECT_WHY, value),
            ],
        )
    )
    fallback = f"Hand-off request: {t.lead.name} from {t.from_owner} to {t.to_user}"
    return Message(fallback, tuple(blocks))


OUTCOME_LINE = {
    "approved": ":white_check_mark: *Approved* by {by} {at}",
    "rejected": ":x: *Not approved* by {by} {at}",
    "moot": ":heavy_minus_sign: *Closed*: the lead was won, lost or moved before a decision {at}",
}


def _outcome(t: TransferSnapshot) -> str:
    at = when(t.decided_at) if t.decided_at else ""
    line = OUTCOME_LINE[t.status.value].format(by=who(t.decided_by or "someone"), at=at)
    if t.note:
        line += f"\n{quote(t.note)}"
    return line


def transfer_decided(t: TransferSnapshot) -> Message:
    """Every manager's copy once decided: the outcome, who and when, and no buttons left to press."""
    blocks: list[Block] = [
        mrkdwn(f"*:handshake: Hand-off request*\n{_transfer_headline(t)}"),
        *_transfer_facts(t),
    ]
    blocks.append(mrkdwn(_outcome(t)))
    return Message(f"Hand-off of {t.lead.name}: {t.status.value}", tuple(blocks))


def transfer_asked(asked: TransferAsked) -> Message:
    t = asked.transfer
    where = (
        f"<#{asked.manager_channel}>" if asked.manager_channel else ", ".join(who(m) for m in asked.managers)
    )
    text = (
        f":outbox_tray: Asked {where} to move {lead_ref(t.lead.name)} to {who(t.to_user)}. "
        "You'll get a DM when they decide."
    )
    return Message(f"Hand-off of {t.lead.name} sent to the managers.", (mrkdwn(text),))


def transfer_news(t: TransferSnapshot, person: str) -> Message:
    """The DM each person involved gets after a decision, in their own terms."""
    lead, by = lead_ref(t.lead.name), who(t.decided_by or "a manager")
    blocks: list[Block] = []
    if t.status is TransferStatus.APPROVED:
        if person == t.to_user:
            text = f":inbox_tray: You now own {lead} (from {who(t.from_owner)}, approved by {by}). The first follow-up is due today."
        elif person == t.from_owner:
            text = f":outbox_tray: {lead} is now {who(t.to_user)}'s lead, approved by {by}."
        else:
            text = f":white_check_mark: {by} approved moving {lead} to {who(t.to_user)}."
    elif t.status is TransferStatus.REJECTED:
        text = f":x: {by} decided not to move {lead} to {who(t.to_user)}; it stays with {who(t.from_owner)}."
    else:
        text = f":heavy_minus_sign: The request to move {lead} was closed: the lead was won, lost or moved meanwhile."
    blocks.append(mrkdwn(text))
    if t.note:
        blocks.append(mrkdwn(quote(t.note)))
    if t.status is TransferStatus.APPROVED and person == t.to_user:
        value = str(t.lead.id)
        blocks.append(
            ActionsBlock(
                elements=[
                    button("Show the lead", LEAD_SHOW, value),
                    button("Log a touch", LOGCALL_OPEN, value),
                ]
            )
        )
    return Message(f"Hand-off of {t.lead.name}: {t.status.value}", tuple(blocks))


def transfer_done(t: TransferSnapshot) -> Message:
    """A manager's own hand-off, done at once."""
    told = " and ".join(who(p) for p in t.people if p != t.decided_by)
    text = (
        f":white_check_mark: Moved {lead_ref(t.lead.name)} to {who(t.to_user)}. {told} have been told."
        if told
        else ""
    )
    return Message(
        f"Moved {t.lead.name}", (mrkdwn(text or f":white_check_mark: Moved {lead_ref(t.lead.name)}."),)
    )


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
}


def handoff_refused(result: HandoffRefused) -> Message:
    text = REFUSAL_TEXT[result.refusal].format(
        lead=lead_ref(result.lead.name), person=who(result.person or "")
    )
    blocks: list[Block] = [mrkdwn(f":warning: {text} Nothing changed.")]
    if result.pending is not None:
        blocks.append(mrkdwn(_transfer_headline(result.pending)))
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
    text = f":busts_in_silhouette: {_contact_text(contact)} is now who you talk to at {lead_ref(lead.name)}. The attempt count starts afresh; the first try is due today."
    blocks: list[Block] = [mrkdwn(text), mrkdwn(f":bulb: {result.tip.text}")]
    notes = []
    if result.saved.words is not None and result.saved.words.role is None:
        notes.append("No role given. Knowing theirs helps: `/lead contact …, their role`.")
    if result.cleared_opt_out:
        notes.append("The previous contact's opt-out no longer stops Baton's nudges: this is a new person.")
    if notes:
        blocks.append(context(*notes))
    return Message(f"{contact.name} is the new contact at {lead.name}", tuple(blocks))


def ops_card(h: OpsHandoffSnapshot) -> Message:
    """The hand-off card in the operations channel; someone there claims it."""
    lead = h.lead
    deciders = [c for c in h.contacts if c.is_decision_maker]
    others = [c for c in h.contacts if not c.is_decision_maker]
    fields = [
        f"*Customer*\n{esc(clip(lead.name, 150))}",
        f"*Sales contact*\n{who(h.rep_id)} (stays the account's sales contact)",
        f"*Decision-maker*\n{', '.join(_contact_text(c) for c in deciders) if deciders else '_not recorded_'}",
        f"*Other contacts*\n{', '.join(_contact_text(c) for c in others[-5:]) if others else '_none recorded_'}",
        f"*What was sold*\n{esc(clip(h.sold, 500)) if h.sold else '_see the notes_'}",
        f"*Expected timeline*\n{esc(clip(h.timeline, 500)) if h.timeline else '_see the notes_'}",
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
                block_id=f"ops:{h.id}",
                elements=[button("I'll take it", OPS_CLAIM, str(h.id), style="primary")],
            )
        )
    return Message(f"New customer for operations: {lead.name}", tuple(blocks))


def ops_handed_off(result: OpsHandedOff, *, posted_in: str | None, problem: str | None) -> Message:
    lead = result.handoff.lead
    won = f":trophy: {lead_ref(lead.name)} is marked won. " if result.newly_won else ""
    if posted_in:
        text = f"{won}:outbox_tray: Handed to operations in <#{posted_in}>. Baton will tell you who takes it."
        return Message(f"{lead.name} handed to operations.", (mrkdwn(text),))
    reason = (
        problem
        or "No operations channel is set up (an admin can set one with `/coach set ops_channel #ops`)."
    )
    text = f"{won}:warning: Couldn't post the hand-off: {reason} Here is the card to forward:"
    card = ops_card(result.handoff)
    blocks = [mrkdwn(text), *[b for b in card.blocks if not isinstance(b, ActionsBlock)]]
    return Message(f"{lead.name}: hand-off card to forward", tuple(blocks))


def ops_taken(h: OpsHandoffSnapshot) -> Message:
    text = f":handshake: {who(h.claimed_by or '')} took the operations hand-off for {lead_ref(h.lead.name)}."
    return Message(f"{h.lead.name} was taken by operations.", (mrkdwn(text),))


def ops_already_taken(h: OpsHandoffSnapshot) -> Message:
    return plain(f"{lead_ref(h.lead.name)} was already taken by {who(h.claimed_by or '')}. Nothing changed.")


def ops_modal(lead: LeadSnapshot, *, channel_id: str | None) -> View:
    def text_input(block_id: str, label: str, hint: str, *, multiline: bool, optional: bool) -> InputBlock:
        element = PlainTextInputElement(action_id=block_id, multiline=multiline, max_length=MODAL_NOTE)
        return InputBlock(block_id=block_id, label=label, hint=hint, element=element, optional=optional)

    blocks: list[Block] = [
        mrkdwn(
            f"Handing {lead_ref(lead.name)} to operations marks it won. You stay the account's sales contact."
        ),
        text_input(
            "sold",
            "What was sold",
            "Product, seats, term: what operations must deliver",
            multiline=True,
            optional=False,
        ),
        text_input(
            "timeline",
            "Expected timeline",
            "Start date, go-live, anything promised",
            multiline=False,
            optional=True,
        ),
        text_input(
            "notes",
            "Notes for operations",
            "Who to talk to, sensitivities, what the client expects next",
            multiline=True,
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=OPS_MODAL,
        title="Hand to operations",
        submit="Hand it over",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"lead": lead.id, "channel": channel_id}),
    )


def reject_reason_modal(transfer_id: int) -> View:
    element = PlainTextInputElement(action_id="reason", multiline=True, max_length=MODAL_NOTE)
    return View(
        type="modal",
        callback_id=TRANSFER_REASON_MODAL,
        title="Reject the hand-off",
        submit="Reject",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="reason",
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


# ---- the morning digest, the weekly review, orphaned leads --------------------------------------------

DIGEST_SNOOZE = "digest.snooze"  # value: lead id
DIGEST_BACKBURNER = "digest.backburner"
HANDOFF_OPEN = "handoff.open"  # opens the hand-off form for a lead (value: lead id)
HANDOFF_MODAL = "handoff.form"
ORPHAN_REASSIGN = "orphan.reassign"  # a user picker; its block_id is "orphan:<lead id>"

SECTION_TITLE = {
    Section.MEETING: ":calendar: *Meetings tomorrow*: send each client a short reminder today",
    Section.AT_LIMIT: ":no_entry_sign: *At the attempt limit*: back-burner them or hand them on",
    Section.STALLED: ":hourglass: *Gone quiet after a conversation*: send something useful, not a chase",
    Section.FOLLOW_UP: ":dart: *Follow-ups due*",
    Section.STALE: ":hourglass_flowing_sand: *Older than your sales cycle*: still real, and the right person?",
    Section.LAPSED: ":moneybag: *Customers due a hello*: what else could you do for them?",
    Section.SQUATTING: ":zzz: *Untouched for weeks*: work them or let a colleague try",
}
SECTION_SHORT = {
    Section.MEETING: "meeting tomorrow",
    Section.AT_LIMIT: "at the attempt limit",
    Section.STALLED: "gone quiet",
    Section.FOLLOW_UP: "follow-up due",
    Section.STALE: "past the sales cycle",
    Section.LAPSED: "customer due a hello",
    Section.SQUATTING: "untouched for weeks",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _item_line(item: NudgeItem, rules: Rules, today: date) -> str:
    name = lead_ref(item.name)
    if item.section is Section.MEETING and item.meeting_on:
        return f"{name} · meeting {day(item.meeting_on, today)}"
    if item.section is Section.AT_LIMIT:
        return f"{name} · {_plural(item.attempts, 'attempt')}, nobody reached (limit {rules.attempts_limit})"
    if item.section is Section.STALLED:
        return f"{name} · quiet for {item.quiet_days or item.idle_days} days since your last conversation"
    if item.section is Section.FOLLOW_UP:
        due = f"{_plural(item.overdue_days, 'day')} overdue" if item.overdue_days else "due today"
        return f"{name} · {due} · last touch {days_ago_count(item.idle_days)}"
    if item.section is Section.STALE:
        return (
            f"{name} · no touch for {item.idle_days} days, open past the {rules.sales_cycle_days}-day cycle"
        )
    if item.section is Section.LAPSED:
        return f"{name} · a customer nobody has touched for {item.idle_days} days"
    return f"{name} · untouched for {item.idle_days} days"


def days_ago_count(days: int) -> str:
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def _digest_buttons(item: NudgeItem) -> ActionsBlock:
    value = str(item.lead_id)
    elements = [
        button("Log a touch", LOGCALL_OPEN, value, style="primary"),
        button("Snooze 2 days", DIGEST_SNOOZE, value),
    ]
    if item.section is not Section.LAPSED:
        elements += [
            button("Back-burner", DIGEST_BACKBURNER, value),
            button("Hand off…", HANDOFF_OPEN, value),
        ]
    return ActionsBlock(block_id=f"nudge:{item.lead_id}", elements=elements)


def digest(d: Digest, rules: Rules, *, name: str | None = None) -> Message:
    """The morning DM: only what needs action today, each lead once, with the buttons to act."""
    if d.is_empty:
        text = ":sparkles: Nothing needs you today: every lead is on track."
        return Message("Nothing needs you today.", (mrkdwn(text),))
    greeting = f"Good morning, {esc(name)}" if name else "Good morning"
    blocks: list[Block] = [
        mrkdwn(
            f":sunrise: *{greeting}.* {_plural(d.total, 'thing')} need{'s' if d.total == 1 else ''} you today."
        )
    ]
    counts = []
    for section, items, more in d.sections:
        blocks.append(mrkdwn(SECTION_TITLE[section]))
        for item in items:
            blocks.append(
                SectionBlock(
                    block_id=f"item:{item.lead_id}",
                    text=MarkdownTextObject(text=_item_line(item, rules, d.today)),
                )
            )
            blocks.append(_digest_buttons(item))
        if more:
            blocks.append(context(f"…and {more} more. `/pipeline` shows them all."))
        counts.append(f"{len(items) + more} {SECTION_SHORT[section]}")
    blocks.append(context("Snoozed leads come back in two days. Leads that opted out are never listed."))
    return Message(f"Good morning: {', '.join(counts)}.", tuple(blocks))


def with_note(message: Message, note: str) -> Message:
    """The same message with a line on top saying what just happened (after a button)."""
    return Message(message.text, (context(f":white_check_mark: {esc(note)}"), *message.blocks))


def replace_block(posted: list[dict[str, Any]], block_id: str, block: Block) -> list[dict[str, Any]] | None:
    """A posted message's blocks (as Slack sent them back) with one block swapped, or None if it's gone."""
    if not any(b.get("block_id") == block_id for b in posted):
        return None
    return [block.to_dict() if b.get("block_id") == block_id else b for b in posted]


def digest_done() -> Message:
    return plain(":tada: That's everything for today. Nice work.")


def fit(blocks: list[Block], limit: int, more: str) -> list[Block]:
    """Keep within Slack's block limit, saying what was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(more)]


def review(r: Review) -> Message:
    """The managers' weekly pipeline review: per rep, what to raise; and leads left without an owner."""
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=f"Weekly pipeline review · {r.today:%a} {r.today.day} {r.today:%b}")
        ),
    ]
    if r.is_empty:
        blocks.append(mrkdwn("No open leads on the team yet."))
    for line in r.reps:
        facts = [f"*{line.open}* open"]
        if line.overdue:
            facts.append(f"*{line.overdue}* overdue")
        if line.at_limit:
            facts.append(f"*{line.at_limit}* at the attempt limit")
        if line.stale:
            facts.append(f"*{line.stale}* past the sales cycle")
        blocks.append(mrkdwn(f"{who(line.owner_id)} · " + " · ".join(facts)))
        for item in line.squatting:
            blocks.append(
                SectionBlock(
                    block_id=f"squat:{item.lead_id}",
                    text=MarkdownTextObject(
                        text=f"    :zzz: {lead_ref(item.name)} untouched for {item.idle_days} days"
                    ),
                    accessory=button("Propose transfer", HANDOFF_OPEN, str(item.lead_id)),
                )
            )
    for departed, items, more in r.orphaned:
        blocks.append(DividerBlock())
        blocks.extend(
            _orphan_blocks(
                departed,
                items,
                more,
                intro=f":ghost: {who(departed)} left: their open leads need a new owner.",
            )
        )
    blocks = fit(blocks, MESSAGE_BLOCKS, "…more than fits here: `/pipeline @rep` shows each rep's pipeline.")
    people = len(r.reps)
    orphaned = sum(len(items) + more for _, items, more in r.orphaned)
    fallback = f"Weekly pipeline review: {_plural(people, 'rep')}" + (
        f", {orphaned} orphaned leads" if orphaned else ""
    )
    return Message(fallback, tuple(blocks))


def _orphan_blocks(departed: str, items: Sequence[NudgeItem], more: int, *, intro: str) -> list[Block]:
    blocks: list[Block] = [mrkdwn(intro)]
    for item in items:
        picker = UserSelectElement(action_id=ORPHAN_REASSIGN, placeholder="Reassign to…")
        blocks.append(
            SectionBlock(
                block_id=f"orphan:{item.lead_id}",
                text=MarkdownTextObject(
                    text=f"{lead_ref(item.name)} · last touch {days_ago_count(item.idle_days)}"
                ),
                accessory=picker,
            )
        )
    if more:
        blocks.append(context(f"…and {more} more: the weekly review lists them until they're reassigned."))
    return blocks


ORPHAN_ALERT_SHOWN = 20


def orphan_alert(departed: str, items: Sequence[NudgeItem]) -> Message:
    """Sent to managers the moment Baton sees an owner's account deactivated."""
    intro = f":ghost: {who(departed)}'s Slack account was deactivated. {_plural(len(items), 'open lead')} no longer have an owner; pick someone for each:"
    blocks = _orphan_blocks(
        departed, items[:ORPHAN_ALERT_SHOWN], max(0, len(items) - ORPHAN_ALERT_SHOWN), intro=intro
    )
    return Message(
        f"{len(items)} leads lost their owner",
        tuple(fit(blocks, MESSAGE_BLOCKS, "…and more in the weekly review.")),
    )


def reassigned(block_id: str, lead_name: str, to_user: str, by: str) -> SectionBlock:
    """Replaces an orphaned lead's picker once someone has taken it."""
    text = f":white_check_mark: {lead_ref(lead_name)} → {who(to_user)} (by {who(by)})"
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def handoff_modal(
    lead_id: int, lead_name: str, *, manager: bool, channel_id: str | None, home: bool = False
) -> View:
    picker = UserSelectElement(action_id="to", placeholder="A colleague")
    why = PlainTextInputElement(action_id="why", multiline=True, max_length=MODAL_NOTE)
    return View(
        type="modal",
        callback_id=HANDOFF_MODAL,
        title="Hand off a lead",
        submit="Hand it over" if manager else "Ask a manager",
        close="Cancel",
        blocks=[
            mrkdwn(
                f"Who should take {lead_ref(lead_name)}?"
                + ("" if manager else " A manager approves hand-offs.")
            ),
            InputBlock(block_id="to", label="Hand it to", element=picker),
            InputBlock(
                block_id="why",
                label="Why",
                optional=True,
                element=why,
                hint="They know someone there, territory, capacity…",
            ),
        ],
        private_metadata=json.dumps({"lead": lead_id, "channel": channel_id, "home": home}),
    )


# ---- App Home --------------------------------------------------------------------------------------------

HOME_LOGCALL = "home.logcall"  # the Home tab's "Log a touch": the form, no lead picked yet
HOME_ITEMS = 10  # today's items shown with their buttons (two blocks each)


def home(view: HomeView, rules: Rules, now: datetime, *, note: str | None = None) -> View:
    """The Home tab: what needs doing today, what's coming, wins; and the team, for managers."""
    pipe = view.pipeline
    today = pipe.today
    counts = [
        f"*{pipe.open_count}* open",
        f"*{len(pipe.overdue)}* overdue",
        f"*{len(pipe.due_today)}* due today",
    ]
    counts += [f"*{len(pipe.upcoming)}* upcoming", f"*{len(pipe.backburner)}* on the back-burner"]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Your pipeline")),
        context(f"{today:%A} {today.day} {today:%B} · " + " · ".join(counts)),
        ActionsBlock(
            block_id="home:actions", elements=[button("Log a touch", HOME_LOGCALL, "home", style="primary")]
        ),
    ]
    if note:
        blocks.append(context(f":white_check_mark: {esc(note)}"))
    blocks.append(DividerBlock())
    digest_today = view.today
    if digest_today.is_empty:
        blocks.append(mrkdwn(":sparkles: *Nothing needs you today.* Every lead is on track."))
    else:
        blocks.append(mrkdwn(f"*Needs you today* ({digest_today.total})"))
        shown = 0
        for section, items, more in digest_today.sections:
            blocks.append(mrkdwn(SECTION_TITLE[section]))
            for item in items:
                if shown == HOME_ITEMS:
                    break
                blocks.append(
                    SectionBlock(
                        block_id=f"item:{item.lead_id}",
                        text=MarkdownTextObject(text=_item_line(item, rules, today)),
                    )
                )
                blocks.append(_digest_buttons(item))
                shown += 1
            left = more + max(0, len(items) - shown) if shown == HOME_ITEMS else more
            if left:
                blocks.append(context(f"…and {left} more: `/pipeline`"))
    if pipe.upcoming:
        blocks.append(DividerBlock())
        blocks.append(
            mrkdwn(
                f":spiral_calendar_pad: *Upcoming* ({len(pipe.upcoming)})\n"
                + _lines(pipe.upcoming, today, rules, now)
            )
        )
    if pipe.backburner:
        blocks.append(
            mrkdwn(
                f":fire: *Back-burner* ({len(pipe.backburner)})\n"
                + _lines(pipe.backburner, today, rules, now)
            )
        )
    if view.wins:
        wins = "\n".join(
            f"• {lead_ref(lead.name)} · won {days_ago(lead.closed_at, now) if lead.closed_at else ''}"
            for lead in view.wins
        )
        blocks.append(mrkdwn(f":trophy: *Recent wins*\n{wins}"))
    if view.team is not None:
        blocks.extend(_team(view.team))
    blocks.append(
        context(
            "`/logcall acme vm …` logs a touch · `/lead show acme` · `/handoff acme @sam` · `/coach help`"
        )
    )
    blocks = fit(blocks, VIEW_BLOCKS, "…more than fits here: `/pipeline` has it all.")
    return View(type="home", blocks=blocks)


def _team(team: HomeTeam) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Your team"))]
    if team.reps:
        lines = []
        for rep in team.reps[:LIST_LINES]:
            facts = [f"*{rep.open}* open"]
            facts += [f"*{rep.overdue}* overdue"] if rep.overdue else []
            facts += [f"*{rep.at_limit}* at the limit"] if rep.at_limit else []
            facts += [f"*{rep.stale}* past the cycle"] if rep.stale else []
            lines.append(f"• {who(rep.owner_id)} · " + " · ".join(facts))
        if len(team.reps) > LIST_LINES:
            lines.append(f"_…and {len(team.reps) - LIST_LINES} more reps_")
        blocks.append(mrkdwn("\n".join(lines)))
    if team.waiting:
        blocks.append(mrkdwn(f":handshake: *Hand-offs waiting for a decision* ({len(team.waiting)})"))
        for transfer in team.waiting:
            blocks.append(mrkdwn(_transfer_headline(transfer) + f"\n{context_line(transfer)}"))
            value = str(transfer.id)
            blocks.append(
                ActionsBlock(
                    block_id=f"transfer:{transfer.id}",
                    elements=[
                        button("Approve", TRANSFER_APPROVE, value, style="primary"),
                        button("Reject", TRANSFER_REJECT, value, style="danger"),
                    ],
                )
            )
    if team.orphaned:
        blocks.append(mrkdwn(":ghost: *Leads whose owner left*: pick someone for each"))
        for departed, item in team.orphaned:
            picker = UserSelectElement(action_id=ORPHAN_REASSIGN, placeholder="Reassign to…")
            text = (
                f"{lead_ref(item.name)} · was {who(departed)}'s · last touch {days_ago_count(item.idle_days)}"
            )
            blocks.append(
                SectionBlock(
                    block_id=f"orphan:{item.lead_id}", text=MarkdownTextObject(text=text), accessory=picker
                )
            )
    return blocks


def context_line(transfer: TransferSnapshot) -> str:
    reason = f" — {esc(clip(transfer.reason, 120))}" if transfer.reason else ""
    return f"_{GROUND_RULE_TEXT[transfer.rule]}_{reason}"


# ---- /coach ------------------------------------------------------------------------------------------------

COACH_SETTINGS_OPEN = "coach.settings"  # opens the settings form (managers)
COACH_SETTINGS_MODAL = "coach.settings_form"
USAGE["coach"] = (
    "`/coach help` · `/coach settings` · `/coach set NAME VALUE` · `/coach managers add|remove @name`"
)


def coach_help(problem: str | None = None) -> Message:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        "*Baton, in one screen*",
        "• `/logcall acme vm left a message` — log a call, voicemail, email, reply or meeting (alone: a form)",
        "• `/lead add Acme Corp` · `/lead show acme` · `/lead won acme` · `/lead lost acme reason` · `/lead backburner acme`",
        "• `/pipeline` — your leads by what needs doing (managers: `/pipeline @rep`)",
        "• `/handoff acme @sam why` · `/handoff acme ops` · `/handoff acme contact Jane Doe CFO dm`",
        "• `/coach settings` — this workspace's coaching numbers and times; managers change them with "
        "`/coach set stall_days 21` or the form",
        "• `/coach managers` · `/coach managers add @jane` — who approves hand-offs (managers and Slack admins)",
        "Every morning Baton DMs each rep what needs action today; the Home tab shows your pipeline.",
    ]
    return Message("How to use Baton", (mrkdwn("\n".join(lines)),))


def coach_settings(shown: SettingsShown) -> Message:
    lines = []
    for line in shown.lines:
        value = (
            f"<#{line.value}>"
            if line.name.endswith("channel") and line.value != "none"
            else f"`{line.value}`"
        )
        marker = "" if line.overridden else " _(default)_"
        lines.append(f"• *{line.name}* {value}{marker} — {SETTING_HELP[line.name]}")
    blocks: list[Block] = [mrkdwn("*This workspace's coaching settings*\n" + "\n".join(lines))]
    if shown.can_change:
        blocks.append(
            ActionsBlock(
                elements=[button("Change settings…", COACH_SETTINGS_OPEN, "settings", style="primary")]
            )
        )
        blocks.append(
            context(
                "Or one at a time: `/coach set stall_days 21` · back to the default: `/coach reset stall_days`"
            )
        )
    else:
        blocks.append(context("Managers can change these."))
    return Message("Baton's settings for this workspace", tuple(blocks))


def settings_changed(result: SettingsChanged) -> Message:
    if not result.changes:
        return plain("Nothing changed: those are the current values.")
    lines = [
        f"• *{name}*: {esc(before) or 'default'} → *{esc(after)}*" for name, before, after in result.changes
    ]
    return Message("Settings saved", (mrkdwn(":white_check_mark: Saved.\n" + "\n".join(lines)),))


def settings_refused(result: SettingsRefused) -> Message:
    lines = [f"• {esc(problem)}" for problem in result.problems.values()]
    text = ":warning: Nothing was saved:\n" + "\n".join(lines) + f"\nUsage: {USAGE['coach']}"
    return Message("Nothing was saved", (mrkdwn(text),))


def managers_shown(shown: ManagersShown) -> Message:
    if not shown.managers:
        text = "No managers yet. A Slack admin can add one: `/coach managers add @jane`."
    else:
        names = [
            who(m) + (" _(set in COACH_MANAGER_IDS)_" if m in shown.configured else "")
            for m in shown.managers
        ]
        text = "*Managers* (they approve hand-offs and get the weekly review)\n" + "\n".join(
            f"• {n}" for n in names
        )
    return Message("Managers", (mrkdwn(text),))


MANAGER_REFUSALS = {
    "not_allowed": "Only a manager or a Slack workspace admin can change who manages.",
    "configured": "That manager is set in COACH_MANAGER_IDS: remove them there.",
    "unchanged": "Nothing to change: that's already so.",
}


def managers_changed(result: ManagersChanged) -> Message:
    verb = "is now a manager" if result.added else "is no longer a manager"
    return plain(
        f":white_check_mark: {who(result.user_id)} {verb}. Managers: "
        + ", ".join(who(m) for m in result.managers)
    )


def settings_modal(shown: SettingsShown) -> View:
    values = {line.name: line.value for line in shown.lines}
    blocks: list[Block] = []
    for name in SETTING_NAMES:
        label = name.replace("_", " ").capitalize()
        if name in RULE_NAMES:
            element: Any = NumberInputElement(
                action_id=name, is_decimal_allowed=False, initial_value=values[name], min_value="1"
            )
        elif name == "digest_time":
            element = TimePickerElement(action_id=name, initial_time=values[name])
        elif name in ("digest_days", "review_day"):
            element = PlainTextInputElement(action_id=name, initial_value=values[name], max_length=60)
        else:
            initial = None if values[name] == "none" else values[name]
            element = ChannelSelectElement(action_id=name, initial_channel=initial, placeholder="None")
        blocks.append(
            InputBlock(
                block_id=name,
                label=label,
                element=element,
                hint=SETTING_HELP[name],
                optional=name.endswith("channel"),
            )
        )
    return View(
        type="modal",
        callback_id=COACH_SETTINGS_MODAL,
        title="Baton settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def settings_saved_view(result: SettingsChanged) -> View:
    message = settings_changed(result)
    return View(type="modal", title="Baton settings", close="Done", blocks=list(message.blocks))


def coach_reply(result: object) -> Message:
    match result:
        case CoachHelp():
            return coach_help(result.problem)
        case SettingsShown():
            return coach_settings(result)
        case SettingsChanged():
            return settings_changed(result)
        case SettingsRefused():
            return settings_refused(result)
        case ManagersShown():
            return managers_shown(result)
        case ManagersChanged():
            return managers_changed(result)
        case ManagersRefused():
            return plain(f":warning: {MANAGER_REFUSALS.get(result.reason, 'Nothing changed.')}")
    raise TypeError(f"no message for {type(result).__name__}")
