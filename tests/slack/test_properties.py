"""Any text at all, typed after /logcall, /lead or /handoff: a 200, one sensible private reply, nothing broken.

Hypothesis generates the text; every example goes through the whole stack (signature, Bolt, the
handlers, the database, Block Kit) against the stand-in Slack, which also checks that no reply
breaks Slack's contract (limits, text fallback, special mentions).
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from store.db import Database, open_database
from store.models import Base
from tests.conftest import DANA, PG_URL, Harness, flatten, start_harness

LEAD_WORDS = [
    "acme",
    "Acme Corp",
    '"Acme Corp"',
    "ACME corp",
    "glob",
    "Globex",
    "initech",
    "Nobody Inc",
    '"',
    "@sam",
    "@channel",
]
KEYWORDS = [
    "vm",
    "connected",
    "no-answer",
    "no answer",
    "email",
    "replied",
    "meeting",
    "not interested",
    "opt-out",
    "yesterday",
    "today",
    "tomorrow",
    "friday",
    "next monday",
    "2026-11-18",
    "2026-12-02",
    "2026-02-30",
    "9999-99-99",
    "ops",
    "contact",
    "add",
    "show",
    "won",
    "lost",
    "reopen",
    "find",
    "optout",
    "backburner",
    "@sam",
    "@dana",
    "@channel",
    "<@U0SAM|sam>",
    "<!here>",
    "&amp;",
    "%s",
    "'; DROP TABLE lead; --",
]
free_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
phrases = st.lists(st.one_of(st.sampled_from(LEAD_WORDS + KEYWORDS), free_text), max_size=6).map(" ".join)
anything = st.one_of(free_text, phrases)


def _backends() -> list[object]:
    return [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="no TEST_DATABASE_URL")),
    ]


@pytest.fixture(scope="module", params=_backends())
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One app for every example (Hypothesis runs many examples per test)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("properties") / "baton.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), Path(path))
        db: Database = open_database(f"sqlite:///{path}", pool_size=20)
    else:
        db = open_database(request.getfixturevalue("postgres_ready"), pool_size=20)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    h = start_harness(db)
    for name in ("Acme Corp", "Acme Logistics", "Globex", "The Initech Company"):
        h.command(DANA, "/lead", f"add {name}")
    yield h
    h.stop()
    db.engine.dispose()


def answered_sensibly(h: Harness, command: str, typed: str) -> None:
    before = {m.id: m.version for m in h.api.seen_by(DANA)}
    reply = h.slack.command(DANA, command, typed)
    assert reply.status == 200
    changed = [m for m in h.api.seen_by(DANA) if before.get(m.id) != m.version]
    if not changed:
        # /logcall and /handoff may open a form instead of replying
        assert h.slack.open_modal(DANA) is not None
        h.api.open_modals[DANA].clear()
        return
    shown = "\n".join(flatten(m.blocks) or m.text for m in changed)
    assert "something went wrong" not in shown, shown
    assert "Traceback" not in shown
    assert all(m.text.strip() for m in changed)
    assert h.api.problems == [], (command, typed)


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(anything)
def test_any_logcall_text_gets_a_sensible_reply(shared: Harness, typed: str) -> None:
    answered_sensibly(shared, "/logcall", typed)


@SETTINGS
@given(anything)
def test_any_lead_text_gets_a_sensible_reply(shared: Harness, typed: str) -> None:
    answered_sensibly(shared, "/lead", typed)


@SETTINGS
@given(anything)
def test_any_handoff_text_gets_a_sensible_reply(shared: Harness, typed: str) -> None:
    answered_sensibly(shared, "/handoff", typed)
