"""Everything Baton reads from what Slack sends: button values, block ids, menu choices, forms, metadata.

Each reader returns plain values, or None when the payload isn't one Baton built (an old button,
a forged request): the ids and value formats come from handlers/blocks/ids.py, where the
building side gets them too.
"""

import json
from datetime import date
from typing import Any

from coaching.parsing import scrub
from coaching.rules import Outcome
from coaching.settings import MY_WORKDAYS, SETTING_NAMES
from handlers.blocks.ids import Action, read_block_ids, read_ids, read_menu_value


def clicked_ids(action: dict[str, Any], count: int) -> tuple[int, ...] | None:
    """The ids the pressed button carries, or None when its value isn't one of ours."""
    return read_ids(action.get("value"), count)


def block_ids(action: dict[str, Any], prefix: Action) -> tuple[int, ...] | None:
    """The id in the block the element sits in ("orphan:12" → (12,)), or None when it isn't ours."""
    return read_block_ids(str(action.get("block_id") or ""), prefix, 1)


def in_block(action: dict[str, Any], prefix: Action) -> bool:
    """Was the element pressed inside a block whose id starts with `prefix`?"""
    return str(action.get("block_id") or "").startswith(prefix)


def menu_choice(action: dict[str, Any]) -> tuple[str, str]:
    """(action id, the value it applies to) chosen from an overflow menu."""
    chosen = (action.get("selected_option") or {}).get("value") or ""
    return read_menu_value(chosen)


def from_home(body: dict[str, Any]) -> bool:
    """Was this pressed on the Home tab (which has no response_url to answer through)?"""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get(
        "type"
    ) == "home"


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON a modal carries in `private_metadata`; empty when it isn't ours."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def field(view: dict[str, Any], name: str) -> str:
    """A text input's value from a submitted modal (block id and action id share the name)."""
    values = view.get("state", {}).get("values", {})
    return scrub(str(((values.get(name) or {}).get(name) or {}).get("value") or ""))


def selected_user(view: dict[str, Any], name: str) -> str | None:
    """The person picked in a user select of a submitted modal (block id and action id share the name)."""
    values = view.get("state", {}).get("values", {})
    user = ((values.get(name) or {}).get(name) or {}).get("selected_user")
    return str(user) if user else None


def read_form(view: dict[str, Any]) -> tuple[int, Outcome, date, str] | None:
    """The /logcall form: (lead id, outcome, date, note), or None when no lead was picked."""
    values = view.get("state", {}).get("values", {})
    try:
        lead = values[Action.FIELD_LEAD][Action.LEAD_SEARCH]["selected_option"]["value"]
        outcome = Outcome(values[Action.FIELD_OUTCOME][Action.FIELD_OUTCOME]["selected_option"]["value"])
        on = date.fromisoformat(values[Action.FIELD_ON][Action.FIELD_ON]["selected_date"])
    except (KeyError, TypeError, ValueError):
        return None
    note = scrub((values.get(Action.FIELD_NOTE, {}).get(Action.FIELD_NOTE) or {}).get("value") or "")
    ids = read_ids(lead, 1)
    return (ids[0], outcome, on, note) if ids else None


def read_settings(view: dict[str, Any]) -> dict[str, str]:
    """The settings form's values as text, the way `/coach set` would receive them."""
    state = view.get("state", {}).get("values", {})
    values: dict[str, str] = {}
    for name in (*SETTING_NAMES, MY_WORKDAYS):
        element = (state.get(name) or {}).get(name) or {}
        if "selected_time" in element:
            values[name] = element.get("selected_time") or ""
        elif "selected_channel" in element or element.get("type") == "channels_select":
            values[name] = element.get("selected_channel") or "none"
        elif "value" in element:
            values[name] = element.get("value") or ""
    return values


def form_answers(view: dict[str, Any]) -> list[tuple[str, str]]:
    """Everything typed or picked in a submitted modal, as (label, value) in the form's order:
    what a rep gets back by DM when the form's work failed."""
    labels = {
        str(b.get("block_id")): str((b.get("label") or {}).get("text") or b.get("block_id"))
        for b in view.get("blocks") or []
        if b.get("type") == "input"
    }
    values = view.get("state", {}).get("values", {})
    order = list(labels) + [block_id for block_id in values if block_id not in labels]
    answers = []
    for block_id in order:
        for state in (values.get(block_id) or {}).values():
            value = _shown(state if isinstance(state, dict) else {})
            if value:
                answers.append((labels.get(str(block_id), str(block_id)), scrub(value)))
    return answers


def _shown(state: dict[str, Any]) -> str:
    """One input's value as the person saw it."""
    if state.get("value"):
        return str(state["value"])
    option = state.get("selected_option") or {}
    if option:
        return str((option.get("text") or {}).get("text") or option.get("value") or "")
    for key in ("selected_date", "selected_time", "selected_conversation", "selected_channel"):
        if state.get(key):
            return str(state[key])
    if state.get("selected_user"):
        return f"<@{state['selected_user']}>"
    many = state.get("selected_users") or state.get("selected_options") or []
    return ", ".join(
        f"<@{item}>" if isinstance(item, str) else str((item.get("text") or {}).get("text") or "")
        for item in many
    )
