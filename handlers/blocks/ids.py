"""Every id Baton puts in a payload and reads back, and the format of the values its buttons carry.

The building side (the feature modules beside this one) and the reading side (the listeners,
handlers/payloads.py) both use `Action` and the encode/decode pairs below, so a renamed id or a
changed value format can't leave one side behind. Slack matches a listener by these strings, and
buttons in messages already posted keep the old ones: change a value only with a way to read both.
"""

from enum import StrEnum


class Action(StrEnum):
    # ---- /logcall and its drafts -------------------------------------------------------------
    LOGCALL_MODAL = "logcall.modal"  # callback id of the /logcall form
    LOGCALL_OPEN = "logcall.open"  # a button that opens the form for one lead (value: lead id)
    LEAD_SEARCH = "lead.search"  # the form's lead picker (external select)
    DRAFT_PICK = "draft.pick"  # value "draft_id:lead_id"
    DRAFT_ADD = "draft.add"  # value "draft_id"
    DRAFT_AS_MEETING = "draft.as_meeting"  # value "draft_id:lead_id"
    DRAFT_AS_TODAY = "draft.as_today"  # value "draft_id:lead_id"
    DRAFT_AS_GUESSED = "draft.as_guessed"  # a misspelt outcome was the one guessed; value "draft_id:lead_id"
    DRAFT_AS_NOTE = "draft.as_note"  # ...it was part of the note
    DRAFT_MONTH_FIRST = "draft.month_first"  # "3/11" is 11 March; value "draft_id:lead_id"
    DRAFT_DAY_FIRST = "draft.day_first"  # ...3 November
    # ---- /lead -----------------------------------------------------------------------------------
    LEAD_SHOW = "lead.show"  # value: lead id (as are the four below)
    LEAD_WON = "lead.won"
    LEAD_LOST = "lead.lost"
    LEAD_BACKBURNER = "lead.backburner"
    LEAD_REOPEN = "lead.reopen"
    LEAD_MENU = "lead.menu"  # the pipeline's overflow menu: option value "<action id>:<lead id>"
    # ---- /handoff, the managers' decision, operations ----------------------------------------------
    TRANSFER_APPROVE = "transfer.approve"  # value: transfer id
    TRANSFER_REJECT = "transfer.reject"
    TRANSFER_REJECT_WHY = "transfer.reject_why"  # opens the reason form
    TRANSFER_REASON_MODAL = "transfer.reason"
    OPS_CLAIM = "ops.claim"  # value: ops hand-off id
    OPS_MODAL = "ops.form"
    HANDOFF_OPEN = "handoff.open"  # opens the hand-off form for a lead (value: lead id)
    HANDOFF_MODAL = "handoff.form"
    # ---- the digest, the weekly review, orphaned leads -------------------------------------------
    DIGEST_SNOOZE = "digest.snooze"  # value: lead id
    DIGEST_BACKBURNER = "digest.backburner"
    ORPHAN_REASSIGN = "orphan.reassign"  # a user picker; its block id is ORPHAN_BLOCK + lead id
    REVIEW_SET_LIMIT = "review.set_limit"  # the review's "Set the limit to N" (value: N)
    # ---- the Home tab and /coach -------------------------------------------------------------------
    HOME_LOGCALL = "home.logcall"  # the Home tab's "Log a touch": the form, no lead picked yet
    COACH_SETTINGS_OPEN = "coach.settings"  # opens the settings form (managers)
    COACH_SETTINGS_MODAL = "coach.settings_form"

    # ---- block-id prefixes: a block's id is the prefix and the ids it concerns ("nudge:12") ---------
    NUDGE_BLOCK = "nudge:"  # a digest item's buttons (the /logcall form refreshes that digest)
    ORPHAN_BLOCK = "orphan:"  # an orphaned lead's row; the reassign picker reads the lead id here
    ITEM_BLOCK = "item:"  # a lead's line in the digest, the Home tab and /pipeline
    LOGGED_BLOCK = "logged:"  # the buttons under a logged touch (touch id)
    DRAFT_BLOCK = "draft:"  # the buttons answering a draft's question (draft id)
    LEAD_BLOCK = "lead:"  # a lead card's buttons (lead id)
    TRANSFER_BLOCK = "transfer:"  # a hand-off request's buttons (transfer id)
    OPS_BLOCK = "ops:"  # the operations card's button (ops hand-off id)
    SQUAT_BLOCK = "squat:"  # the weekly review's "Propose transfer" row (lead id)
    REVIEW_LIMIT_BLOCK = "limit:"  # the weekly review's "Set the limit to N" button (N)
    HOME_ACTIONS_BLOCK = "home:actions"  # the Home tab's top row of buttons (a whole id, not a prefix)

    # ---- modal inputs: block id and action id share the name --------------------------------------
    FIELD_LEAD = "lead"  # /logcall form; its element is LEAD_SEARCH
    FIELD_OUTCOME = "outcome"
    FIELD_ON = "on"
    FIELD_NOTE = "note"
    FIELD_TO = "to"  # hand-off form
    FIELD_WHY = "why"
    FIELD_SOLD = "sold"  # operations form
    FIELD_TIMELINE = "timeline"
    FIELD_NOTES = "notes"
    FIELD_REASON = "reason"  # reject-with-a-reason form


# The lead buttons one listener handles (Show, Won, Lost, Back-burner, Reopen).
LEAD_BUTTONS = (
    Action.LEAD_SHOW,
    Action.LEAD_WON,
    Action.LEAD_LOST,
    Action.LEAD_BACKBURNER,
    Action.LEAD_REOPEN,
)


def button_value(*ids: int) -> str:
    """What a button carries: its database ids, "12" or "12:34"."""
    return ":".join(str(i) for i in ids)


def read_ids(value: str | None, count: int) -> tuple[int, ...] | None:
    """The ids a button carries ("12" or "12:34"), or None when the value isn't one of ours."""
    parts = (value or "").split(":")
    if len(parts) != count or not all(part.isdigit() and len(part) < 19 for part in parts):
        return None
    return tuple(int(part) for part in parts)


def block_id_of(prefix: Action, *ids: int) -> str:
    """A block's id: its prefix and the ids it concerns ("orphan:12")."""
    return f"{prefix}{button_value(*ids)}"


def read_block_ids(block: str, prefix: Action, count: int) -> tuple[int, ...] | None:
    """The ids in a block id built by `block_id_of`, or None when it isn't one of ours."""
    return read_ids(block.removeprefix(prefix), count)


def menu_value(action: Action, lead_id: int) -> str:
    """An overflow-menu option: which action, on which lead ("logcall.open:12")."""
    return f"{action}:{lead_id}"


def read_menu_value(value: str) -> tuple[str, str]:
    """(action id, the rest) from a menu option's value; the rest is read with `read_ids`."""
    action_id, _, rest = value.rpartition(":")
    return action_id, rest
