"""Block Kit for what the CRM sync tells people: a deal moved to another rep in the CRM. Pure."""

from slack_sdk.models.blocks import ActionsBlock, Block

from handlers.blocks.base import Message, button, lead_ref, mrkdwn
from handlers.blocks.ids import Action, button_value
from handlers.blocks.text import who_for


def owner_changed_in_crm(
    *, lead_id: int, lead_name: str, from_user: str, to_user: str, reader: str, crm: str
) -> Message:
    """The DM each rep gets when the CRM moves a deal between them, in their own terms, as a hand-off
    approved in Slack would tell them."""
    lead = lead_ref(lead_name)
    blocks: list[Block] = []
    if reader == to_user:
        text = (
            f":inbox_tray: You now own {lead} (from {who_for(from_user, reader)}, changed in {crm}). "
            "The first follow-up is due today."
        )
        blocks.append(mrkdwn(text))
        value = button_value(lead_id)
        blocks.append(
            ActionsBlock(
                elements=[
                    button("Show the lead", Action.LEAD_SHOW, value),
                    button("Log a touch", Action.LOGCALL_OPEN, value),
                ]
            )
        )
    else:
        text = f":outbox_tray: {lead} is now {who_for(to_user, reader)}'s lead (changed in {crm})."
        blocks.append(mrkdwn(text))
    return Message(f"Hand-off of {lead_name} in {crm}", tuple(blocks))
