"""What every Block Kit payload shares: `Message`, Slack's limits, the fallback text, the small parts.

Text a person typed is escaped (handlers/blocks/text.py) and clipped to Slack's limits here;
`slack_sdk.models` validates the rest when a payload is serialised.
"""

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.blocks.text import clip, esc, inert, label

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
    "lead": "`/lead add|show|find|won|lost|backburner|reopen|contact|optout NAME …` — e.g. `/lead add Acme Corp`",
    "pipeline": "`/pipeline` — your open leads by what needs doing (managers: `/pipeline @rep`)",
    "handoff": (
        "`/handoff LEAD @person [why]` · `/handoff LEAD ops [notes]` · `/handoff LEAD contact PERSON [role] [dm]`"
    ),
    "coach": (
        "`/coach help` · `/coach settings` · `/coach set NAME VALUE` · `/coach reset NAME` · "
        "`/coach managers add|remove @name` · `/coach me workdays sun-thu`"
    ),
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
    lines = "\n".join("> " + line if line else ">" for line in inert(shown).split("\n"))
    if len(note) > NOTE_SHOWN:
        lines += f"\n_(the whole note — {len(note):,} characters — is saved)_"
    return lines


def lead_ref(name: str) -> str:
    return f"*{inert(clip(name, HEADER_TEXT))}*"


def plain(text: str) -> Message:
    """A one-section reply. `text` is mrkdwn with any user text already escaped by `esc`."""
    fallback = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Message(fallback, (mrkdwn(text),))


def you_typed(typed: str) -> tuple[Block, ...]:
    """Echo what the rep typed, so nothing needs retyping after a mistake."""
    if not typed.strip():
        return ()
    return (context("Nothing was saved. What you typed, to copy:"), mrkdwn(f"```{esc(clip(typed, 2900))}```"))


def something_went_wrong(typed: str | None) -> Message:
    text = ":face_with_head_bandage: Sorry, something went wrong on Baton's side. It has been logged; please try again in a minute."
    return Message(text, (mrkdwn(text), *you_typed(typed or "")))


def too_busy_to_keep(command: str, typed: str | None) -> Message:
    """The database couldn't take the request in time to acknowledge it: nothing was kept, and the
    rep is told so at once, with the command to send again (Slack never retries a command)."""
    text = (
        ":hourglass_flowing_sand: Baton is too busy to take this right now, so nothing was saved. "
        "Please send it again in a minute."
    )
    return Message(text, (mrkdwn(text), *you_typed(f"{command} {typed or ''}".strip())))


def saved_without_reply(kind: str) -> Message:
    """The work was committed, then the reply failed: say it was saved, so nobody logs it twice."""
    what = f"Your `{kind}`" if kind.startswith("/") else "What you did"
    text = (
        f":floppy_disk: {what} was saved, but Baton couldn't show the result just now. "
        "There's no need to send it again; `/pipeline` or `/lead show` shows where things stand."
    )
    return Message(text, (mrkdwn(text),))


def form_not_done(answers: list[tuple[str, str]], *, saved: bool) -> Message:
    """A form whose work failed after it closed: everything typed in it, by DM (a form has no reply)."""
    if saved:
        text = (
            ":floppy_disk: Your form was saved, but Baton couldn't show the result just now. "
            "There's no need to send it again."
        )
    else:
        text = (
            ":face_with_head_bandage: Sorry, the form you sent couldn't be saved; something went wrong "
            "on Baton's side. Nothing was saved. Here is everything you typed, to send it again:"
        )
    lines = "\n".join(f"*{esc(name)}:* {esc(value)}" for name, value in answers if value.strip())
    shown = (mrkdwn(text), *((mrkdwn(clip(lines, SECTION_TEXT)),) if lines and not saved else ()))
    return Message(text, shown)


def usage(command: str, problem: str) -> Message:
    text = f"{problem}\nUsage: {USAGE[command]} · more: `/coach help`"
    return Message(problem, (mrkdwn(text),))


def stale_button() -> Message:
    return plain("That button is out of date or wasn't made by Baton. Nothing was changed.")


def with_note(message: Message, note: str) -> Message:
    """The same message with a line on top saying what just happened (after a button)."""
    return Message(message.text, (context(f":white_check_mark: {esc(note)}"), *message.blocks))


@dataclass(frozen=True)
class Reshown(Message):
    """A message as Slack sent it back with a click, one block changed (`replace_block`): its
    fallback text and blocks are in Slack's own form already."""

    shown: tuple[dict[str, Any], ...] = ()

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [dict(block) for block in self.shown]}


def replace_block(posted: list[dict[str, Any]], block_id: str, block: Block) -> list[dict[str, Any]] | None:
    """A posted message's blocks (as Slack sent them back) with one block swapped, or None if it's gone."""
    if not any(b.get("block_id") == block_id for b in posted):
        return None
    return [block.to_dict() if b.get("block_id") == block_id else b for b in posted]


def reshown(message: dict[str, Any], block_id: str, block: Block, *, fallback: str) -> Reshown | None:
    """The message clicked (`body["message"]`) with the block `block_id` swapped for `block`, or
    None if that block is gone."""
    updated = replace_block(message.get("blocks") or [], block_id, block)
    if updated is None:
        return None
    return Reshown(text=str(message.get("text") or fallback), shown=tuple(updated))


def fit(blocks: list[Block], limit: int, more: str) -> list[Block]:
    """Keep within Slack's block limit, saying what was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(more)]


def not_done(
    *,
    tries: int,
    typed: str | None = None,
    form: list[tuple[str, str]] | None = None,
    pressed: str | None = None,
) -> Message:
    """A request Baton gave up on after `tries` tries: what was not done, and what was sent, to send again."""
    if form is not None:
        text = (
            f":warning: Baton couldn't save the form you sent after {tries} tries (its database kept "
            "failing). Nothing was saved. Here is everything you typed, to send it again:"
        )
        lines = "\n".join(f"*{esc(name)}:* {esc(value)}" for name, value in form if value.strip())
        return Message(text, (mrkdwn(text), *((mrkdwn(clip(lines, SECTION_TEXT)),) if lines else ())))
    if pressed is not None:
        text = (
            f":warning: Baton couldn't do what you pressed (*{esc(clip(pressed, 75))}*) after {tries} "
            "tries (its database kept failing). Nothing was changed; please press it again."
        )
        return Message(text, (mrkdwn(text),))
    command = (typed or "").split(" ", 1)[0]
    text = (
        f":warning: Baton couldn't do your `{esc(command)}` after {tries} tries (its database kept "
        "failing). Nothing was saved; please send it again."
    )
    return Message(text, (mrkdwn(text), *you_typed(typed or "")))
