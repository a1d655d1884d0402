"""/coach: help for every command, the workspace's settings, and who manages."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from coaching.calendar import BadDays, parse_workdays, workdays_text
from coaching.caller import Caller
from coaching.parsing import clean, mentioned, words
from coaching.people import managers
from coaching.settings import (
    MY_WORKDAYS,
    ManagersChanged,
    ManagersRefused,
    SettingLine,
    SettingsChanged,
    SettingsRefused,
    change_managers,
    change_settings,
    describe,
    reset_setting,
    setting_name,
)
from store import queries


@dataclass(frozen=True)
class CoachHelp:
    problem: str | None = None


@dataclass(frozen=True)
class SettingsShown:
    lines: tuple[SettingLine, ...]
    can_change: bool
    my_workdays: str = ""  # the viewer's own working days, empty when they follow the team's


@dataclass(frozen=True)
class ManagersShown:
    managers: tuple[str, ...]
    configured: frozenset[str]
    can_change: bool


@dataclass(frozen=True)
class MySettings:
    """`/coach me`: the settings that are one person's own."""

    workdays: str  # as written, e.g. sun-thu
    own: bool  # their own, rather than the team's
    team_workdays: str
    tz: str


@dataclass(frozen=True)
class MyWorkdaysChanged:
    before: str
    after: str
    own: bool  # False: back to the team's


@dataclass(frozen=True)
class MyWorkdaysRefused:
    problem: str


CoachResult = (
    CoachHelp
    | MySettings
    | MyWorkdaysChanged
    | MyWorkdaysRefused
    | SettingsShown
    | SettingsChanged
    | SettingsRefused
    | ManagersShown
    | ManagersChanged
    | ManagersRefused
)


def coach_command(session: Session, caller: Caller, text: str, *, is_admin: bool) -> CoachResult:
    typed = clean(text).text
    ws = words(typed)
    verb = ws[0].text.casefold() if ws else "help"
    rest = typed[ws[0].end :].strip() if ws else ""
    if verb in ("help", "?"):
        return CoachHelp()
    if verb in ("settings", "show", "config"):
        return show_settings(session, caller)
    if verb in ("set", "reset"):
        return _set(session, caller, rest, reset=verb == "reset")
    if verb == "managers":
        return _managers(session, caller, rest, is_admin=is_admin)
    if verb in ("me", "my", "mine"):
        return _me(session, caller, rest)
    return CoachHelp(f"“{ws[0].text}” isn't something /coach does.")


ME_HELP = "Try `/coach me workdays sun-thu`, or `/coach me workdays team` to follow the team's."


def my_settings(caller: Caller) -> MySettings:
    return MySettings(
        workdays_text(caller.workdays),
        caller.own_workdays is not None,
        workdays_text(caller.config.digest_days),
        caller.tz.key,
    )


def _me(session: Session, caller: Caller, rest: str) -> CoachResult:
    """`/coach me` shows; `/coach me workdays sun-thu` sets; `/coach me workdays team` clears."""
    ws = words(rest)
    if not ws:
        return my_settings(caller)
    if ws[0].text.casefold().replace("_", "") not in ("workdays", "workingdays", "days"):
        return MyWorkdaysRefused(f"“{ws[0].text}” isn't one of your own settings. {ME_HELP}")
    return set_my_workdays(session, caller, rest[ws[0].end :].strip())


def set_my_workdays(session: Session, caller: Caller, typed: str) -> MyWorkdaysChanged | MyWorkdaysRefused:
    """A rep's own working days: every rule reads them (follow-ups, due, overdue, digest days)."""
    before = workdays_text(caller.workdays)
    if typed.casefold() in ("team", "default", "reset", "none", ""):
        if not typed:
            return MyWorkdaysRefused(f"Which days? {ME_HELP}")
        stored: str | None = None
        after = workdays_text(caller.config.digest_days)
    else:
        try:
            after = workdays_text(parse_workdays(typed))
        except BadDays as error:
            return MyWorkdaysRefused(f"Working days {error}.")
        stored = after
    if not queries.people.set_own_workdays(
        session, team_id=caller.team_id, user_id=caller.user_id, workdays=stored
    ):
        return MyWorkdaysRefused("Baton doesn't know you yet in this workspace; try again in a minute.")
    return MyWorkdaysChanged(before, after, own=stored is not None)


def show_settings(session: Session, caller: Caller) -> SettingsShown:
    stored = queries.settings.team_settings(session, team_id=caller.team_id)
    own = workdays_text(caller.own_workdays) if caller.own_workdays else ""
    return SettingsShown(describe(caller.config, stored), can_change=caller.is_manager, my_workdays=own)


def _set(session: Session, caller: Caller, rest: str, *, reset: bool) -> CoachResult:
    ws = words(rest)
    for width in (1, 2, 3):  # "stall_days 21", "stall days 21", "sales cycle days 60"
        if len(ws) < width:
            break
        name = setting_name(rest[: ws[width - 1].end])
        if name is None:
            continue
        if not caller.is_manager:
            return SettingsRefused({name: "Only managers can change Baton's settings."})
        if reset:
            return reset_setting(session, team_id=caller.team_id, name=name, defaults=caller.defaults)
        value = rest[ws[width - 1].end :].strip()
        if not value:
            return SettingsRefused({name: f"Give {name} a value, e.g. `/coach set {name} …`."})
        return change_settings(
            session,
            team_id=caller.team_id,
            user_id=caller.user_id,
            values={name: value},
            defaults=caller.config,
            now=caller.now,
        )
    return CoachHelp("Which setting? `/coach settings` lists them, e.g. `/coach set stall_days 21`.")


def save_form(session: Session, caller: Caller, values: dict[str, str]) -> SettingsChanged | SettingsRefused:
    """The settings form, all fields at once: the team's, and the manager's own working days."""
    if not caller.is_manager:
        return SettingsRefused({"follow_up_days": "Only managers can change Baton's settings."})
    team_values = {name: value for name, value in values.items() if name != MY_WORKDAYS}
    own = values.get(MY_WORKDAYS)
    before = workdays_text(caller.own_workdays) if caller.own_workdays else ""
    if own is not None and own.strip() and own.strip() != before:
        try:
            parse_workdays(own)
        except BadDays as error:
            return SettingsRefused({MY_WORKDAYS: f"Your working days {error}."})
    changed = change_settings(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        values=team_values,
        defaults=caller.config,
        now=caller.now,
    )
    if isinstance(changed, SettingsRefused) or own is None or own.strip() == before:
        return changed
    mine = set_my_workdays(session, caller, own.strip() or "team")
    if isinstance(mine, MyWorkdaysRefused):
        return SettingsRefused({MY_WORKDAYS: mine.problem})
    after = mine.after if mine.own else f"the team's ({mine.after})"
    return SettingsChanged((*changed.changes, ("your workdays", mine.before, after)))


def _managers(session: Session, caller: Caller, rest: str, *, is_admin: bool) -> CoachResult:
    configured = caller.config.manager_ids
    ws = words(rest)
    action = ws[0].text.casefold() if ws else ""
    people = mentioned(rest)
    if action in ("add", "remove") and len(people) == 1:
        return change_managers(
            session,
            team_id=caller.team_id,
            by=caller.user_id,
            allowed=caller.is_manager or is_admin,
            user_id=people[0],
            add=action == "add",
            configured=configured,
            now=caller.now,
        )
    if action in ("add", "remove"):
        return CoachHelp(f"Mention one person: `/coach managers {action} @jane`.")
    listed = tuple(managers(session, team_id=caller.team_id, configured=configured))
    return ManagersShown(listed, configured, can_change=caller.is_manager or is_admin)
