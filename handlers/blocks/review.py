"""Block Kit for the managers' weekly pipeline review."""

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from coaching.digest_contents import Review
from handlers.blocks.base import MESSAGE_BLOCKS, Message, button, fit, lead_ref, mrkdwn
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.orphans import orphan_blocks
from handlers.blocks.text import plural, who


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
                    block_id=block_id_of(Action.SQUAT_BLOCK, item.lead_id),
                    text=MarkdownTextObject(
                        text=f"    :zzz: {lead_ref(item.name)} untouched for {item.idle_days} days"
                    ),
                    accessory=button("Propose transfer", Action.HANDOFF_OPEN, button_value(item.lead_id)),
                )
            )
    for departed, items, more in r.orphaned:
        blocks.append(DividerBlock())
        blocks.extend(
            orphan_blocks(
                departed,
                items,
                more,
                intro=f":ghost: {who(departed)} left: their open leads need a new owner.",
            )
        )
    blocks = fit(blocks, MESSAGE_BLOCKS, "…more than fits here: `/pipeline @rep` shows each rep's pipeline.")
    people = len(r.reps)
    orphaned = sum(len(items) + more for _, items, more in r.orphaned)
    fallback = f"Weekly pipeline review: {plural(people, 'rep')}" + (
        f", {orphaned} orphaned leads" if orphaned else ""
    )
    return Message(fallback, tuple(blocks))
