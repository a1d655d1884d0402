"""Block Kit for /coach: help, the settings (as a message and as a form), who manages."""

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ChannelSelectElement,
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from coaching.coach import (
    CoachHelp,
    ManagersShown,
    MySettings,
    MyWorkdaysChanged,
    MyWorkdaysRefused,
    SettingsShown,
)
from coaching.settings import (
    MY_WORKDAYS,
    RULE_NAMES,
    SETTING_HELP,
    SETTING_NAMES,
    ManagersChanged,
    ManagersRefused,
    SettingsChanged,
    SettingsRefused,
)
from handlers.blocks.base import USAGE, Message, button, context, mrkdwn, plain
from handlers.blocks.ids import Action
from handlers.blocks.text import esc, who


def coach_help(problem: str | None = None) -> Message:
    lines = [f":warning: {problem}"] if problem else []
    lines += [
        "*Baton, in one screen*",
        "• `/logcall acme vm left a message` — log a call, voicemail, email, reply or meeting (alone: a form)",
        "• `/lead add Acme Corp` · `/lead show acme` · `/lead find acme` · `/lead won acme` · "
        "`/lead lost acme reason` · `/lead backburner acme` · `/lead reopen acme`",
        "• `/lead contact acme Jane Doe, CFO dm` — who you talk to (`dm`: the decision-maker) · "
        "`/lead optout acme` — they asked not to be contacted",
        "• `/pipeline` — your leads by what needs doing (managers: `/pipeline @rep`)",
        "• `/handoff acme @sam why` · `/handoff acme @me why` · `/handoff acme ops` · "
        "`/handoff acme contact Jane Doe CFO dm`",
        "• `/coach settings` — this workspace's coaching numbers and times; managers change them with "
        "`/coach set stall_days 21` (back to the default: `/coach reset stall_days`) or the form",
        "• `/coach managers` · `/coach managers add @jane` · `/coach managers remove @jane` — who approves "
        "hand-offs (managers and Slack admins)",
        "• `/coach me` · `/coach me workdays sun-thu` — your own working days, if they differ from the team's",
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
                elements=[button("Change settings…", Action.COACH_SETTINGS_OPEN, "settings", style="primary")]
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


def setting_value(name: str, value: str) -> str:
    """A setting's value as Slack should show it: a channel as its link, anything else as typed."""
    if name.endswith("channel") and value not in ("", "none"):
        return f"<#{value}>"
    return esc(value) or "default"


def settings_changed(result: SettingsChanged) -> Message:
    if not result.changes and result.already:
        [(name, value)] = result.already[:1]
        return plain(f"Nothing changed: *{name}* is already the default, {setting_value(name, value)}.")
    if not result.changes:
        return plain("Nothing changed: those are the current values.")
    lines = []
    for name, before, after in result.changes:
        line = f"• *{name}*: {setting_value(name, before)} → *{setting_value(name, after)}*"
        lines.append(line + (" (the default)" if name in result.to_default else ""))
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
        title = name.replace("_", " ").capitalize()
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
                label=title,
                element=element,
                hint=SETTING_HELP[name],
                optional=name.endswith("channel"),
            )
        )
    blocks.append(
        InputBlock(
            block_id=MY_WORKDAYS,
            label="Your own working days",
            element=PlainTextInputElement(
                action_id=MY_WORKDAYS, initial_value=shown.my_workdays or None, max_length=60
            ),
            hint="Only yours, if they differ from the team's (e.g. sun-thu); empty: the team's",
            optional=True,
        )
    )
    return View(
        type="modal",
        callback_id=Action.COACH_SETTINGS_MODAL,
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
        case MySettings():
            whose = "your own" if result.own else f"the team's (`{result.team_workdays}`)"
            return plain(
                f"*Your settings*\n• *workdays* `{result.workdays}` — {whose}: follow-ups land on these days, "
                f"overdue counts them, and your digest comes on them\n• *time zone* `{esc(result.tz)}` — from "
                "your Slack profile\nChange them with `/coach me workdays sun-thu`, or `/coach me workdays team`."
            )
        case MyWorkdaysChanged():
            whose = "your own" if result.own else "the team's again"
            return plain(
                f":white_check_mark: Your working days are now `{result.after}` ({whose}; were `{result.before}`). "
                "Follow-ups you log from now on land on them, and your digest comes on them."
            )
        case MyWorkdaysRefused():
            return plain(f":warning: {esc(result.problem)}")
    raise TypeError(f"no message for {type(result).__name__}")
