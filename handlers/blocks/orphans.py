"""Block Kit for leads whose owner left: the managers' alert and the reassign pickers."""

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    SectionBlock,
    UserSelectElement,
)

from coaching.digest_contents import Item as NudgeItem
from handlers.blocks.base import MESSAGE_BLOCKS, Message, context, fit, lead_ref, mrkdwn
from handlers.blocks.ids import Action, block_id_of
from handlers.blocks.text import last_touch, plural, who


def orphan_blocks(departed: str, items: Sequence[NudgeItem], more: int, *, intro: str) -> list[Block]:
    blocks: list[Block] = [mrkdwn(intro)]
    for item in items:
        picker = UserSelectElement(action_id=Action.ORPHAN_REASSIGN, placeholder="Reassign to…")
        blocks.append(
            SectionBlock(
                block_id=block_id_of(Action.ORPHAN_BLOCK, item.lead_id),
                text=MarkdownTextObject(text=f"{lead_ref(item.name)} · {last_touch(item.touched_days)}"),
                accessory=picker,
            )
        )
    if more:
        blocks.append(context(f"…and {more} more: the weekly review lists them until they're reassigned."))
    return blocks


ORPHAN_ALERT_SHOWN = 20


def orphan_alert(departed: str, items: Sequence[NudgeItem]) -> Message:
    """Sent to managers the moment Baton sees an owner's account deactivated."""
    intro = f":ghost: {who(departed)}'s Slack account was deactivated. {plural(len(items), 'open lead')} no longer have an owner; pick someone for each:"
    blocks = orphan_blocks(
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
