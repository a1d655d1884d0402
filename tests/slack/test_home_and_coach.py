"""The Home tab and /coach, as reps, managers and Slack admins use them."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from handlers.blocks.ids import Action
from store.models import Lead, Manager, TeamSetting
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, flatten


def open_home(h: Harness, user: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    assert h.slack.event(event).status == 200
    return h.api.views[f"VHOME{user}"]


def home_text(h: Harness, user: str) -> str:
    return flatten(h.api.views[f"VHOME{user}"]["blocks"])


def overdue_leads(h: Harness, user: str, names: list[str]) -> None:
    h.clock.now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    for name in names:
        h.command(user, "/lead", f"add {name}")
        h.command(user, "/logcall", f'"{name}" vm')
    h.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


# ---- App Home ----------------------------------------------------------------------------------------


def test_opening_home_shows_what_needs_doing_today_with_the_digests_buttons(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp", "Globex"])
    view = open_home(harness, DANA)
    text = flatten(view["blocks"])
    assert "Your pipeline" in text and "Needs you today" in text and "*Acme Corp*" in text
    actions = {e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {
        Action.LOGCALL_OPEN,
        Action.DIGEST_SNOOZE,
        Action.DIGEST_BACKBURNER,
        Action.HANDOFF_OPEN,
    } <= actions
    assert "Your team" not in text  # reps don't see the team


def test_the_messages_tab_publishes_nothing(harness: Harness) -> None:
    harness.slack.event({"type": "app_home_opened", "user": DANA, "tab": "messages"})
    assert harness.api.calls_to("views.publish") == []


def test_home_refreshes_after_a_button_with_a_note_of_what_happened(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp", "Globex"])
    open_home(harness, DANA)
    acme = _lead_id(harness, "Acme Corp")
    harness.slack.home_click(DANA, Action.DIGEST_SNOOZE, value=str(acme))
    text = home_text(harness, DANA)
    assert "Snoozed Acme Corp until" in text
    assert "*Acme Corp* ·" not in text.split("Needs you today")[1].split("Upcoming")[0]
    harness.slack.home_click(DANA, Action.DIGEST_BACKBURNER, value=str(_lead_id(harness, "Globex")))
    assert "Globex is on the back-burner" in home_text(harness, DANA)


def test_logging_a_touch_from_home_refreshes_it(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp"])
    open_home(harness, DANA)
    harness.slack.home_click(DANA, Action.HOME_LOGCALL, value="home")
    view = harness.slack.open_modal(DANA)
    assert view is not None
    _, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acme")
    harness.slack.submit(
        DANA,
        view,
        {
            "lead": {Action.LEAD_SEARCH: {"type": "external_select", "selected_option": options[0]}},
            "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "connected"}}},
            "on": {"on": {"type": "datepicker", "selected_date": "2026-11-23"}},
            "note": {"note": {"type": "plain_text_input", "value": None}},
        },
    )
    assert "Logged a touch on Acme Corp" in home_text(harness, DANA)
    assert "Nothing needs you today" in home_text(harness, DANA)


def test_a_huge_pipeline_fits_the_home_tabs_hundred_blocks(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    for index in range(120):
        harness.command(DANA, "/lead", f"add Lead {index:03d} " + "x" * 120)
    harness.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    view = open_home(harness, DANA)
    assert len(view["blocks"]) <= 100  # the stand-in refuses more; the harness checks it refused nothing
    assert "…and" in flatten(view["blocks"])


def test_a_manager_sees_the_team_waiting_hand_offs_and_orphaned_leads(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp"])
    overdue_leads(harness, SAM, ["Globex"])
    harness.command(SAM, "/handoff", "globex @dana she knows them")
    departed = harness.api.workspace.users[KENJI].to_slack("T0TEST")
    harness.command(KENJI, "/lead", "add Initech")
    harness.slack.event({"type": "user_change", "user": {**departed, "deleted": True}})
    text = flatten(open_home(harness, MORGAN)["blocks"])
    assert "Your team" in text and "<@U0DANA> · *1* open · *1* overdue" in text
    assert "Hand-offs waiting for a decision" in text and "<@U0SAM>" in text
    assert "Leads whose owner left" in text and "*Initech*" in text
    harness.slack.home_click(MORGAN, Action.TRANSFER_APPROVE)
    assert "Globex: approved" in home_text(harness, MORGAN)
    assert _owner(harness, "Globex") == DANA
    block_id = f"orphan:{_lead_id(harness, 'Initech')}"
    harness.slack.home_click(MORGAN, Action.ORPHAN_REASSIGN, block_id=block_id, selected_user=SAM)
    assert _owner(harness, "Initech") == SAM
    assert "Initech now belongs to <@U0SAM>" in home_text(harness, MORGAN)


def _lead_id(h: Harness, name: str) -> int:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.id).where(Lead.name == name)).one()


def _owner(h: Harness, name: str) -> str:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.owner_id).where(Lead.name == name)).one()


# ---- /coach -------------------------------------------------------------------------------------------


def test_coach_help_lists_every_command(harness: Harness) -> None:
    text = flatten(harness.command(DANA, "/coach").blocks)
    for command in ("/logcall", "/lead", "/pipeline", "/handoff", "/coach settings"):
        assert command in text


def test_everyone_sees_the_settings_and_only_managers_may_change_them(harness: Harness) -> None:
    shown = flatten(harness.command(DANA, "/coach", "settings").blocks)
    assert "*follow_up_days* `4` _(default)_" in shown and "*digest_time* `08:30`" in shown
    assert "Change settings" not in shown
    refused = flatten(harness.command(DANA, "/coach", "set stall_days 21").blocks)
    assert "Only managers" in refused
    done = flatten(harness.command(MORGAN, "/coach", "set stall days 21").blocks)
    assert "*stall_days*: 14 → *21*" in done
    assert "*stall_days* `21` —" in flatten(harness.command(DANA, "/coach", "settings").blocks)


def test_bad_values_are_refused_with_a_clear_reason_and_nothing_saved(harness: Harness) -> None:
    for typed, expected in [
        ("set stall_days two weeks", "must be a whole number of at least 1"),
        ("set digest_time 25:00", "must be a 24-hour time"),
        ("set digest_days weekdays", "must be days like mon-fri"),
        ("set attempts_limit 20", "must rise in that order (now 6, 20, 12)"),
        ("set ops_channel #ops", "must be a channel"),
        ("set colour blue", "Which setting?"),
    ]:
        assert expected in flatten(harness.command(MORGAN, "/coach", typed).blocks), typed
    with harness.db.readers.begin() as session:
        assert session.scalars(select(TeamSetting)).all() == []


def test_a_changed_setting_takes_effect_and_reset_brings_the_default_back(harness: Harness) -> None:
    harness.command(MORGAN, "/coach", "set follow_up_days 2")
    harness.command(DANA, "/lead", "add Acme Corp")
    assert "in 2 days" in flatten(harness.command(DANA, "/logcall", "acme vm").blocks)
    harness.command(MORGAN, "/coach", "reset follow_up_days")
    harness.clock.advance(days=2)
    # Four days on is a Sunday: the follow-up moves to the next working day.
    assert "*Mon 30 Nov* (in 5 days)" in flatten(harness.command(DANA, "/logcall", "acme vm").blocks)


def test_channels_can_be_set_the_way_slack_sends_them(harness: Harness) -> None:
    harness.api.workspace.channels["C0OPS"] = "ops"
    harness.command(MORGAN, "/coach", "set ops_channel <#C0OPS|ops>")
    assert "*ops_channel* <#C0OPS>" in flatten(harness.command(DANA, "/coach", "settings").blocks)


def test_the_settings_form_saves_everything_at_once_and_shows_problems_in_place(harness: Harness) -> None:
    shown = harness.command(MORGAN, "/coach", "settings")
    harness.slack.click(MORGAN, shown, Action.COACH_SETTINGS_OPEN)
    view = harness.slack.open_modal(MORGAN)
    assert view is not None and len(view["blocks"]) == 14  # the team's 13, and the manager's own working days

    def values(**changes: str) -> dict[str, dict[str, dict[str, Any]]]:
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for block in view["blocks"]:
            element = block["element"]
            name = block["block_id"]
            if element["type"] == "timepicker":
                state[name] = {
                    name: {"type": "timepicker", "selected_time": changes.get(name, element["initial_time"])}
                }
            elif element["type"] == "channels_select":
                state[name] = {name: {"type": "channels_select", "selected_channel": changes.get(name)}}
            else:
                state[name] = {
                    name: {"type": element["type"], "value": changes.get(name, element.get("initial_value"))}
                }
        return state

    bad = harness.slack.submit(MORGAN, view, values(attempts_cap="3"))
    assert bad.json["response_action"] == "errors" and "attempts_cap" in bad.json["errors"]
    good = harness.slack.submit(MORGAN, view, values(digest_time="07:45", review_day="fri"))
    assert good.json["response_action"] == "update"
    assert "digest_time" in str(good.json["view"]) and "07:45" in str(good.json["view"])
    text = flatten(harness.command(DANA, "/coach", "settings").blocks)
    assert "*digest_time* `07:45`" in text and "*review_day* `fri`" in text
    wrong = harness.slack.submit(MORGAN, view, values(my_workdays="someday"))
    assert wrong.json["response_action"] == "errors" and "mon-fri" in wrong.json["errors"]["my_workdays"]
    own = harness.slack.submit(MORGAN, view, values(my_workdays="sun-thu"))
    assert own.json["response_action"] == "update"
    assert "`sun-thu` — your own" in flatten(harness.command(MORGAN, "/coach", "me").blocks)


def test_managers_are_added_by_a_manager_or_a_slack_admin_and_listed(harness: Harness) -> None:
    refused = flatten(harness.command(DANA, "/coach", "managers add @dana").blocks)
    assert "Only a manager or a Slack workspace admin" in refused
    harness.api.workspace.users[KENJI].is_admin = True  # a Slack admin who isn't a manager
    added = flatten(harness.command(KENJI, "/coach", "managers add @sam").blocks)
    assert "<@U0SAM> is now a manager" in added
    listed = flatten(harness.command(DANA, "/coach", "managers").blocks)
    assert "<@U0MORGAN> _(set in COACH_MANAGER_IDS)_" in listed and "<@U0SAM>" in listed
    assert "set in COACH_MANAGER_IDS" in flatten(
        harness.command(SAM, "/coach", "managers remove @morgan").blocks
    )
    harness.command(SAM, "/handoff", "help")  # Sam can now decide hand-offs
    harness.command(MORGAN, "/coach", "managers remove @sam")
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Manager)).all() == []


def test_the_review_and_digest_follow_changed_times(harness: Harness) -> None:
    from handlers.deliveries import Deliveries

    harness.command(MORGAN, "/coach", "set digest_time 07:00")
    overdue_leads(harness, DANA, ["Acme Corp"])
    at = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)  # 07:05 in New York
    harness.clock.now = at
    Deliveries(harness.baton.deps, harness.baton.client).digests(at=at)
    assert any("Good morning" in m.text for m in harness.dms(DANA))


def test_home_lists_the_leads_it_counts_as_to_decide_and_pipeline_adds_up(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp", "Globex"])
    harness.command(DANA, "/lead", "optout globex")  # open, nothing scheduled: Dana decides what next
    text = flatten(open_home(harness, DANA)["blocks"])
    assert "*1* to decide" in text
    assert "*To decide* (1)" in text and "*Globex*" in text.split("*To decide* (1)")[1]
    header = flatten(harness.command(DANA, "/pipeline").blocks).split("\n")[1]
    assert header == "*2* open · *1* overdue · *0* upcoming · *1* to decide"
