"""Installations are kept in Baton's database: one per workspace, tokens through one seam, states used once."""

import time

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select

from bot import installations as module
from bot.installations import Installations
from store import installations as tables
from store.db import Database

CLIENT_ID = "111.222"


def installation(
    team_id: str, token: str, *, installer: str = "U0FIRST", at: float | None = None
) -> Installation:
    return Installation(
        app_id="A0BATON",
        enterprise_id=None,
        team_id=team_id,
        team_name=f"Team {team_id}",
        bot_token=token,
        bot_id="B0BATON",
        bot_user_id="UBATON0",
        bot_scopes="chat:write,commands",
        bot_refresh_token=f"xoxe-1-refresh-{team_id}",
        bot_token_expires_in=43200,
        user_id=installer,
        installed_at=at or time.time(),
    )


def test_each_workspace_finds_its_own_newest_bot_token(database: Database) -> None:
    kept = Installations(database, CLIENT_ID)
    kept.store.save(installation("T0AAA", "xoxb-aaa-1", at=1_700_000_000.0))
    kept.store.save(installation("T0BBB", "xoxb-bbb-1"))
    kept.store.save(installation("T0AAA", "xoxb-aaa-2", at=1_700_000_100.0))  # reinstalled: a new token

    assert kept.installed_teams() == ["T0AAA", "T0BBB"]
    bot = kept.bot("T0AAA")
    assert bot is not None and bot.bot_token == "xoxb-aaa-2"
    assert bot.bot_refresh_token == "xoxe-1-refresh-T0AAA" and bot.bot_token_expires_at is not None
    found = kept.store.find_installation(enterprise_id=None, team_id="T0BBB")
    assert found is not None and found.bot_token == "xoxb-bbb-1" and found.user_id == "U0FIRST"
    assert kept.is_installed("T0BBB") and not kept.is_installed("T0CCC")


def test_forgetting_a_workspace_deletes_its_rows_and_leaves_the_others(database: Database) -> None:
    kept = Installations(database, CLIENT_ID)
    kept.store.save(installation("T0AAA", "xoxb-aaa"))
    kept.store.save(installation("T0BBB", "xoxb-bbb"))

    assert kept.forget("T0AAA") == 2  # its installation row and its bot row
    assert kept.installed_teams() == ["T0BBB"]
    assert kept.bot("T0AAA") is None
    assert kept.store.find_installation(enterprise_id=None, team_id="T0AAA") is None


def test_every_token_is_sealed_on_the_way_in_and_opened_on_the_way_out(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seam encryption at rest plugs into: what is written is `_seal`'s, what is read is `_open`'s."""
    monkeypatch.setattr(module, "_seal", lambda token: None if token is None else "sealed:" + token[::-1])
    monkeypatch.setattr(module, "_open", lambda token: None if token is None else token[7:][::-1])
    kept = Installations(database, CLIENT_ID)
    kept.store.save(installation("T0AAA", "xoxb-aaa"))

    with database.readers.begin() as session:
        stored = {
            *session.execute(
                select(tables.installations.c.bot_token, tables.installations.c.bot_refresh_token)
            ),
            *session.execute(select(tables.bots.c.bot_token, tables.bots.c.bot_refresh_token)),
        }
    assert stored == {("sealed:aaa-bxox", "sealed:AAA0T-hserfer-1-exox")}  # sealed once, in both tables
    bot = kept.bot("T0AAA")
    assert bot is not None and (bot.bot_token, bot.bot_refresh_token) == ("xoxb-aaa", "xoxe-1-refresh-T0AAA")


def test_an_oauth_state_is_good_once(database: Database) -> None:
    states = Installations(database, CLIENT_ID).states
    state = states.issue()
    assert states.consume(state)
    assert not states.consume(state)  # replayed
    assert not states.consume("made-up-state")
