"""Text in Slack's words: escaping what people typed, and dates, moments, people and outcomes in words."""

import re
from datetime import UTC, date, datetime
from typing import Any

from coaching.rules import Flag, Outcome, Status

_MENTION = re.compile(r"<([@#])([UWC][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_SLACK_ID = re.compile(r"^[UWBC][A-Z0-9]{2,}$")


def esc(text: str) -> str:
    """User text made safe for mrkdwn: keeps @user and #channel mentions, defuses everything else.

    Escaping `&`, `<` and `>` is what stops `<!channel>`, `<!here>`, `<!subteam^…>` and fake links.
    Special mentions as Slack encodes them are shown as the person typed them ("@here"): as plain
    text they ping nobody, and a raw "<!here>" would only puzzle the reader.
    """
    out: list[str] = []
    last = 0
    for match in _MENTION.finditer(text):
        out.append(_defuse(text[last : match.start()]))
        out.append(f"<{match.group(1)}{match.group(2)}>")
        last = match.end()
    out.append(_defuse(text[last:]))
    return "".join(out)


def inert(text: str) -> str:
    """Text someone else typed or a file brought in (a lead's or contact's name, a note, a reason, a
    display name), for mrkdwn: like `esc`, and its user and channel mentions shown as typed too
    ("<@U0SAM|sam>" as "@sam", an id alone as "@U0SAM"). Baton posts these in the managers' and
    operations channels and in other people's DMs, where a live mention would notify someone who
    never asked; Baton names people itself, with `who()`, where it means to."""
    return _escape(_ANY_MENTION.sub(_mention_as_typed, _SPECIAL.sub(_as_typed, text)))


_ANY_MENTION = re.compile(r"<([@#])([^<>|]+)(?:\|([^<>]*))?>")


def _mention_as_typed(match: re.Match[str]) -> str:
    return match.group(1) + (match.group(3) or match.group(2))


def _defuse(text: str) -> str:
    return _escape(_SPECIAL.sub(_as_typed, text))


def _as_typed(match: re.Match[str]) -> str:
    return "@" + (match.group(1) or (match.group(2) or "group").lstrip("@"))


_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^<>]*)?>|<!subteam\^[^<>|]*(?:\|([^<>]*))?>")
_LINK = re.compile(r"<[@#]?([^<>|]*)(?:\|([^<>]*))?>")


def label(text: str, limit: int) -> str:
    """User text for plain_text (buttons, headers, options): Slack's encoded mentions shown as typed.

    plain_text isn't parsed for mentions, but the encoded forms must not reach Slack at all, and
    "@channel" reads better than "<!channel>" anyway.
    """
    text = _SPECIAL.sub(_as_typed, text)
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


def who_for(user_id: str, reader: str) -> str:
    """A person as `reader` should read it: "you" for themselves, a mention for anyone else."""
    return "you" if user_id == reader else who(user_id)


def and_list(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


def day(d: date, today: date) -> str:
    offset = (d - today).days
    if offset == 0:
        return "today"
    if offset == 1:
        return "tomorrow"
    if offset == -1:
        return "yesterday"
    shown = f"{d:%a} {d.day} {d:%b}"
    return shown if d.year == today.year else f"{shown} {d.year}"


def overdue_text(working_days: int) -> str:
    """Overdue is counted in working days: a Friday follow-up seen on Monday is 1 working day overdue."""
    return f"{working_days} working day{'s' if working_days != 1 else ''} overdue"


def relative(d: date, today: date) -> str:
    offset = (d - today).days
    if offset == 0:
        return "due today"
    if offset < 0:
        return f"{-offset} day{'s' if offset < -1 else ''} overdue"
    return f"in {offset} day{'s' if offset > 1 else ''}"


def calendar_days(instant: datetime, now: datetime) -> int:
    """Calendar days between the two, read in `now`'s time zone (handlers pass the viewer's local
    now): a Friday touch seen on Sunday is 2 days ago whatever the hours; never negative."""
    zone = now.tzinfo or UTC
    return max(0, (now.date() - instant.astimezone(zone).date()).days)


def days_ago(instant: datetime, now: datetime) -> str:
    return days_ago_count(calendar_days(instant, now))


def a_or_an(phrase: str) -> str:
    """The phrase with its article: "an email", "an opt-out", "a voicemail"."""
    first = phrase.lstrip("“\"'*_").casefold()[:1]
    return f"{'an' if first in ('a', 'e', 'i', 'o', 'u') else 'a'} {phrase}"


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


def contact_text(contact: Any) -> str:
    text = inert(clip(contact.name, 100))
    if contact.role:
        text += f", {inert(clip(contact.role, 100))}"
    if contact.is_decision_maker:
        text += " · *decision-maker*"
    # How to reach them, right where the rep looks before a call (Slack links the address itself).
    reach = [inert(clip(value, 100)) for value in (contact.phone, contact.email) if value]
    if reach:
        text += " · " + " · ".join(reach)
    return text


def when(instant: datetime) -> str:
    """A moment shown in each reader's own time zone (Slack formats the date token per viewer)."""
    stamp = int(instant.timestamp())
    fallback = f"{instant:%a} {instant.day} {instant:%b} {instant:%H:%M} UTC"
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback}>"


def on_day(instant: datetime) -> str:
    """The day of a moment in each reader's own calendar ("Yesterday", "Fri, Dec 4"): for messages
    several people read, where no one time zone is right (Slack renders the token per viewer)."""
    stamp = int(instant.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}}|{instant:%a} {instant.day} {instant:%b}>"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def days_ago_count(days: int) -> str:
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def last_touch(touched_days: int | None) -> str:
    """Nothing invented: a lead nobody has touched says so."""
    return "no touch yet" if touched_days is None else f"last touch {days_ago_count(touched_days)}"


FLAG_LABEL = {
    Flag.AT_LIMIT: ":no_entry_sign: at the attempt limit",
    Flag.STALLED: ":hourglass: stalled",
    Flag.PAST_CYCLE: ":hourglass_flowing_sand: past the sales cycle",
    Flag.MEETING_REMINDER: ":calendar: meeting coming up: send a reminder today",
    Flag.SQUATTING: ":zzz: untouched for weeks",
    Flag.LAPSED: ":moneybag: lapsed customer",
    Flag.DECLINED: ":wave: said not interested: close it or park it",
    Flag.OPTED_OUT: ":no_entry: opted out",
}
