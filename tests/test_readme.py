"""Every command the README shows runs as written against the real app, and gets a sensible answer.

The examples are read out of README.md itself (inline code and the try-out transcript), so an
example that stops working, or a new one that never did, fails here. Each runs on its own copy of
the try-out's demo team (with Jane, whom the README's manager examples name, and an operations
channel), typed by the person it is written for.
"""

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.localslack import SlackApi, User
from bot.tryout import seed
from coaching.leads import create_lead
from coaching.rules import DEFAULT_RULES
from coaching.settings import TeamConfig
from store.db import open_database
from store.migrate import upgrade
from tests.conftest import Clock, flatten, start_harness

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # the Monday the README's dates are written around
COMMANDS = ("/logcall", "/lead", "/pipeline", "/handoff", "/coach")
# Words the README uses for "put yours here": a line with one is a pattern, not an example.
PLACEHOLDER = re.compile(r"\b(LEAD|OUTCOME|DATE|NOTE|NAME|VALUE|TEXT|PERSON|WHO)\b|[\[…]|@rep\b|@yourself\b")
# Signs of a reply that failed the person: an error, a refusal, a question back.
TROUBLE = (
    ":warning:",
    "Sorry, something went wrong",
    "isn't something",
    "couldn't find a lead",
    "matches more than one lead",
    "Which lead?",
    "Nothing was saved",
    "Nothing changed",
    "Only managers",
    "isn't a date",
)
JANE = User("U0JANE", "jane", "Jane Park", tz="America/Denver")


def readme_commands() -> list[str]:
    """Every slash command in the README, in order, once each, whitespace as a person would type it."""
    text = (ROOT / "README.md").read_text()
    found = re.findall(r"`(/[a-z]+\b[^`]*)`", text)
    found += re.findall(r"^\w+ ▸ (/[a-z]+\b.*?)(?:\s{2,}\(.*)?$", text, flags=re.M)
    found += re.findall(r"^(/[a-z]+\b.*)$", text, flags=re.M)
    commands: list[str] = []
    for raw in found:
        typed = " ".join(raw.split())
        if typed.split()[0] in COMMANDS and typed not in commands:
            commands.append(typed)
    return commands


EXAMPLES = [c for c in readme_commands() if not PLACEHOLDER.search(c)]
# Named in passing ("`/lead show` lists a lead's hand-offs"): typed bare, each answers with its help.
MENTIONS = frozenset({"/lead", "/lead show", "/handoff", "/coach", "/coach set"})


def typed_by(command: str) -> str:
    """Who the README has in mind: managers change settings and managers; `@me` asks for Sam's lead."""
    if command.startswith(("/coach set", "/coach reset", "/coach managers add", "/coach managers remove")):
        return seed.MORGAN
    if command.startswith("/pipeline @"):
        return seed.MORGAN
    if "@me" in command.split():
        return seed.SAM
    return seed.DANA


@pytest.fixture(scope="module")
def demo_team(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readme") / "demo.db"
    db = open_database(f"sqlite:///{path}", pool_size=1)
    upgrade(db.engine)
    seed.seed(db, now=NOW, rules=DEFAULT_RULES)
    with db.sessions.begin() as session:  # the lead the README's front-door example logs on
        create_lead(
            session, team_id=seed.TEAM_ID, owner_id=seed.DANA, name="Specs Inc", now=NOW, tz=ZoneInfo("UTC")
        )
    db.engine.dispose()
    return path


@pytest.fixture
def copy_of(demo_team: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_team, path)
    yield path


def test_the_readme_has_examples_to_run() -> None:
    assert len(EXAMPLES) >= 25, EXAMPLES
    assert "/handoff Acme Corp @me I used to work with their COO" in EXAMPLES
    assert "/coach set manager_channel #sales-managers" in EXAMPLES
    assert "/logcall globex connected spoke to Hank, wants a proposal" in EXAMPLES


@pytest.mark.parametrize("command", EXAMPLES)
def test_every_readme_command_gets_a_sensible_answer(command: str, copy_of: Path) -> None:
    workspace = seed.workspace()
    workspace.users[JANE.id] = JANE
    api = SlackApi(workspace, token="xoxb-test-token").start()
    db = open_database(f"sqlite:///{copy_of}", pool_size=5)
    config = TeamConfig(manager_ids=seed.MANAGERS, ops_channel=seed.OPS_CHANNEL)
    h = start_harness(db, clock=Clock(NOW), config=config, api=api)
    try:
        name, _, text = command.partition(" ")
        user = typed_by(command)
        before = {m.id: m.version for m in api.seen_by(user)}
        reply = h.slack.command(user, name, text)
        assert reply.status == 200, reply.body
        shown = [m for m in api.seen_by(user) if before.get(m.id) != m.version]
        modal = h.slack.open_modal(user)
        assert shown or modal, f"{command}: nothing came back"
        if modal is not None and not shown:
            return  # a form opened, as the README says it does
        answer = flatten(shown[-1].blocks) or shown[-1].text
        if command in MENTIONS:
            assert "/coach help" in answer or "Usage" in answer or "*Baton" in answer, answer
            return
        assert not [sign for sign in TROUBLE if sign in answer], f"{command}\n{answer}"
        assert api.problems == [], api.problems
    finally:
        h.stop()
        db.engine.dispose()
