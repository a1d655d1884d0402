"""The inbox's contract, by construction: every request Baton keeps is done by a durable listener,
ends (done, refused, unhandled or dead-lettered, never left to run for ever), and is done once."""

import ast
import re
from pathlib import Path
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy import event, select

from handlers.blocks.ids import Action
from handlers.registration import is_durable
from store.models import Inbox, TeamSetting
from tests.conftest import DANA, MORGAN, Harness, flatten

ROOT = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """The process stopped mid-work (kill -9 as seen from inside): nothing after this line ran."""


def probes() -> list[dict[str, Any]]:
    """One request of every kind the inbox keeps, for every command, id and event Baton knows."""
    manifest = (ROOT / "manifest.yml").read_text()
    commands = re.findall(r"command: (/\w+)", manifest)
    events = re.findall(r"^\s+- (\w+)", manifest.split("bot_events:")[1].split("interactivity")[0], re.M)
    assert commands and events
    bodies: list[dict[str, Any]] = [{"command": c, "team_id": "T0TEST"} for c in commands]
    bodies += [{"type": "event_callback", "event": {"type": e}} for e in events]
    for action_id in Action:
        bodies.append({"type": "block_actions", "actions": [{"action_id": str(action_id), "block_id": "b"}]})
        bodies.append({"type": "view_submission", "view": {"type": "modal", "callback_id": str(action_id)}})
    return bodies


def test_every_route_of_a_kept_request_is_durable(harness: Harness) -> None:
    listeners = harness.baton.app._listeners  # Bolt keeps no public list of its routes
    odd = []
    for body in probes():
        request = BoltRequest(body=body, mode="socket_mode")
        matching = [lis for lis in listeners if lis.matches(req=request, resp=BoltResponse(status=200))]
        assert matching, f"nothing answers {body}"  # the last listener closes what nothing else takes
        odd += [(body, lis.ack_function.__name__) for lis in matching if not is_durable(lis)]
    assert odd == []


def test_every_write_in_handlers_goes_through_deps() -> None:
    allowed = {
        "deps.py",  # acting / working / bookkeeping: the one place transactions are opened
        "inbox.py",  # the inbox's own rows: received before the acknowledgement, taken, closed
        "directory.py",  # its cache of profiles from users.info, built before Deps exists
    }
    found = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        if path.name not in allowed
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "sessions.begin(" in line
    ]
    assert found == []


def settings_values(view: dict[str, Any], **changes: str) -> dict[str, dict[str, dict[str, Any]]]:
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view["blocks"]:
        element, name = block["element"], block["block_id"]
        if element["type"] == "timepicker":
            value = {"type": "timepicker", "selected_time": changes.get(name, element["initial_time"])}
        elif element["type"] == "channels_select":
            value = {"type": "channels_select", "selected_channel": changes.get(name)}
        else:
            value = {"type": element["type"], "value": changes.get(name, element.get("initial_value"))}
        state[name] = {name: value}
    return state


def test_a_setting_saved_by_form_is_not_saved_again_by_recovery(harness: Harness) -> None:
    shown = harness.command(MORGAN, "/coach", "settings")
    harness.slack.click(MORGAN, shown, Action.COACH_SETTINGS_OPEN)
    view = harness.slack.open_modal(MORGAN)
    assert view is not None
    saved = harness.slack.submit(MORGAN, view, settings_values(view, digest_time="07:45"))
    assert saved.json["response_action"] == "update"
    harness.command(MORGAN, "/coach", "set digest_time 09:15")
    harness.clock.advance(minutes=5)
    harness.baton.recover()  # what every serving process does every few seconds
    harness.baton.pool.wait_idle()
    assert "*digest_time* `09:15`" in flatten(harness.command(DANA, "/coach", "settings").blocks)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(TeamSetting.value).where(TeamSetting.name == "digest_time")).all() == [
            "09:15"
        ]
        assert session.scalars(select(Inbox).where(Inbox.done_at.is_(None))).all() == []


def test_a_request_no_listener_handles_is_acknowledged_and_closed_at_once(harness: Harness) -> None:
    reply = harness.slack.event({"type": "channel_created", "channel": {"id": "C0NEW"}})
    assert reply.status == 200  # not 404: Slack would retry it three times
    body = harness.slack.block_actions(DANA, harness.command(DANA, "/coach", "help"), [])
    body["actions"] = [{"action_id": "retired.button", "block_id": "b", "type": "button", "value": "1"}]
    assert harness.slack._interaction(body).status == 200
    harness.baton.pool.wait_idle()
    with harness.db.readers.begin() as session:
        kept = session.scalars(select(Inbox).order_by(Inbox.id)).all()
    assert [(r.kind, r.outcome) for r in kept if r.kind != "command"] == [
        ("event_callback", "unhandled"),
        ("block_actions", "unhandled"),
    ]


def test_a_departure_and_its_alert_to_managers_survive_a_kill_between_them(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    killed = []

    def kill_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX") and not killed:
            killed.append(statement)
            raise Killed()

    user = harness.api.workspace.users[DANA].to_slack("T0TEST")
    event.listen(harness.db.engine, "before_cursor_execute", kill_once)
    try:
        assert harness.slack.event({"type": "user_change", "user": {**user, "deleted": True}}).status == 200
        harness.baton.pool.wait_idle()
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", kill_once)
    assert killed  # the process "died" writing the alert...
    assert not [m for m in harness.dms(MORGAN) if "was deactivated" in flatten(m.blocks)]
    harness.clock.advance(minutes=5)
    harness.baton.recover()  # ...and the restarted one finishes the request
    harness.baton.pool.wait_idle()
    alerts = [m for m in harness.dms(MORGAN) if "was deactivated" in flatten(m.blocks)]
    assert len(alerts) == 1 and "*Acme Corp*" in flatten(alerts[0].blocks)


# ---- every answer owed: no listener answers after its commit ------------------------------------

# What tells a person something straight away, not through the outbox.
DIRECT = {"respond", "say", "answer", "tell_privately"}
DIRECT_METHODS = {"chat_postMessage", "chat_postEphemeral", "chat_update", "chat_delete"}
# The outbox itself (owing in outbox.py, sending in courier.py), what answers a click that wrote
# nothing (say.py), and the apology for a listener that failed (registration.py: its work did not
# commit, or it says it was saved).
NOT_LISTENERS = {"outbox.py", "courier.py", "say.py", "registration.py", "answers.py"}


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _writes(node: ast.AST) -> bool:
    """A writing transaction of a request's own work: `deps.acting(...)` (not `write=False`) or `deps.working()`."""
    if not isinstance(node, ast.Call) or _name(node) not in ("acting", "working"):
        return False
    return not any(
        k.arg == "write" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in node.keywords
    )


def _answers(call: ast.Call) -> bool:
    name = _name(call)
    return (isinstance(call.func, ast.Name) and name in DIRECT) or (
        isinstance(call.func, ast.Attribute) and (name in DIRECT_METHODS or name == "respond")
    )


def answered_after_commit(source: str) -> list[str]:
    """Functions that answer someone directly after a transaction of theirs (or a helper's) that
    wrote: killed in between, the person never hears. Helpers are followed within the module."""
    tree = ast.parse(source)
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}

    def calls(function: ast.FunctionDef) -> list[ast.Call]:
        return [c for c in ast.walk(function) if isinstance(c, ast.Call)]

    def helper(call: ast.Call) -> ast.FunctionDef | None:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            return functions.get(func.attr)
        return functions.get(func.id) if isinstance(func, ast.Name) else None

    def writes(function: ast.FunctionDef, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            _writes(c)
            or ((h := helper(c)) is not None and h.name not in seen and writes(h, seen | {function.name}))
            for c in calls(function)
        )

    def answers(function: ast.FunctionDef, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            _answers(c)
            or ((h := helper(c)) is not None and h.name not in seen and answers(h, seen | {function.name}))
            for c in calls(function)
        )

    found = []
    for function in functions.values():
        committed: list[int] = []  # lines from which a write has committed
        for node in ast.walk(function):
            if isinstance(node, ast.With) and any(_writes(item.context_expr) for item in node.items):
                committed.append(node.end_lineno or node.lineno)
            elif isinstance(node, ast.Call) and (h := helper(node)) is not None and writes(h):
                committed.append(node.lineno)
        if not committed:
            continue
        first = min(committed)
        late = [
            c.lineno
            for c in calls(function)
            if c.lineno > first and (_answers(c) or ((h := helper(c)) is not None and answers(h)))
        ]
        if late:
            found.append(f"{function.name}:{late[0]}")
    return found


def test_no_listener_answers_after_its_work_committed() -> None:
    found = [
        f"{path.name}:{where}"
        for path in sorted((ROOT / "handlers").glob("*.py"))
        if path.name not in NOT_LISTENERS
        for where in answered_after_commit(path.read_text())
    ]
    assert found == []


def test_the_contract_catches_an_answer_after_the_commit() -> None:
    listener = """
class Buttons:
    def click(self, body, respond, client, context):
        if not body:
            respond(text="That button is old.")  # before anything was written: fine
            return
        with self.deps.acting(client, "T", "U") as (session, caller):
            done = snooze(session)
        self.tell(respond, done)

    def tell(self, respond, done):
        respond(text=f"Snoozed {done}.")

    def read_only(self, respond, client):
        with self.deps.acting(client, "T", "U", write=False) as (session, caller):
            shown = pipeline(session)
        respond(text=shown)
"""
    assert answered_after_commit(listener) == ["click:9"]
