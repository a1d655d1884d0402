"""Tokens at rest: sealed with BATON_SECRET_KEY, the key rotated without losing one, and a start-up
that refuses what it can't open, saying where without saying what."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from bot import installations
from bot.config import ConfigError, load_settings
from bot.installations import Installations
from bot.secrets import Keyring, SealedColumns, SecretsError, check_stored, new_key, rotate
from store import installations as tables
from store.db import Database, open_database
from store.migrate import upgrade
from tests.store.test_installations import CLIENT_ID, installation
from tests.test_entry_points import baton

OLD, NEW = new_key(), new_key()
TOKENS = [f"xoxb-{n}-{n * 7}-sealed-token-{n:04d}" for n in range(1, 451)]  # more than a batch of 200
VAULT = SealedColumns("test_vault", ("bot_token", "refresh_token"))


@pytest.fixture
def vault(database: Database) -> Iterator[Table]:
    """A table shaped like slack-sdk's installation tables: secrets in columns, an integer `id`."""
    metadata = MetaData()
    table = Table(
        "test_vault",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("bot_token", String(400)),
        Column("refresh_token", String(400), nullable=True),
    )
    metadata.create_all(database.engine)
    yield table
    metadata.drop_all(database.engine)


def stored(database: Database, table: Table) -> list[tuple[str, str | None]]:
    with database.readers.begin() as session:
        return [(r.bot_token, r.refresh_token) for r in session.execute(select(table).order_by(table.c.id))]


def test_a_sealed_token_reads_back_and_is_not_the_token() -> None:
    keys = Keyring([NEW])
    sealed = keys.seal(TOKENS[0])
    assert TOKENS[0] not in sealed and keys.open(sealed) == TOKENS[0]
    with pytest.raises(SecretsError) as refused:
        Keyring([OLD]).open(sealed)
    assert sealed not in str(refused.value)


def test_rotation_moves_every_secret_to_the_new_key_and_the_old_key_can_go(
    database: Database, vault: Table, caplog: pytest.LogCaptureFixture
) -> None:
    old = Keyring([OLD])
    with database.sessions.begin() as session:
        session.execute(
            insert(vault),
            [
                {"bot_token": old.seal(t), "refresh_token": old.seal(t[::-1]) if n % 2 else None}
                for n, t in enumerate(TOKENS)
            ],
        )
    assert check_stored(database, old, sealed=[VAULT]) == len(TOKENS) + len(TOKENS) // 2

    # The new key first, the old one kept after it: both still read, the new one seals.
    with caplog.at_level(logging.DEBUG):
        resealed = rotate(database, Keyring([NEW, OLD]), sealed=[VAULT])
    assert resealed == len(TOKENS) + len(TOKENS) // 2
    assert not any(token in caplog.text for token in TOKENS) and NEW not in caplog.text

    # The old key removed: everything still opens, under the new key alone.
    new = Keyring([NEW])
    opened = [
        (new.open(bot), new.open(refresh) if refresh else None) for bot, refresh in stored(database, vault)
    ]
    assert opened == [(t, t[::-1] if n % 2 else None) for n, t in enumerate(TOKENS)]
    assert check_stored(database, new, sealed=[VAULT]) == resealed
    with pytest.raises(SecretsError):
        check_stored(database, old, sealed=[VAULT])


def test_a_start_up_without_the_key_a_secret_was_sealed_with_is_refused_by_place_never_by_value(
    database: Database, vault: Table
) -> None:
    with database.sessions.begin() as session:
        session.execute(insert(vault), [{"bot_token": Keyring([OLD]).seal(TOKENS[0]), "refresh_token": None}])
        session.execute(insert(vault), [{"bot_token": TOKENS[1], "refresh_token": None}])  # never sealed
    with pytest.raises(SecretsError) as refused:
        check_stored(database, Keyring([NEW]), sealed=[VAULT])
    said = str(refused.value)
    assert said.startswith(
        "Baton can't start: 1 stored secret(s) can't be opened with any key in BATON_SECRET_KEY"
    )
    assert "test_vault.bot_token (row 1)" in said and "test_vault.bot_token (row 2)" in said
    assert "python -m bot secrets rotate" in said
    assert TOKENS[0] not in said and TOKENS[1] not in said and OLD not in said and NEW not in said
    with pytest.raises(SecretsError) as keyless:
        check_stored(database, None, sealed=[VAULT])
    assert "BATON_SECRET_KEY is not set" in str(keyless.value)

    # `rotate` seals what was stored in the clear; then the start-up check is content.
    rotate(database, Keyring([NEW, OLD]), sealed=[VAULT])
    assert [Keyring([NEW]).open(bot) for bot, _ in stored(database, vault)] == TOKENS[:2]
    assert TOKENS[1] not in str(stored(database, vault))


def test_without_installations_there_is_nothing_to_check(database: Database) -> None:
    assert check_stored(database, None) == 0  # a single-workspace Baton stores no token


def test_oauth_needs_a_key_and_a_malformed_key_is_refused_without_being_quoted() -> None:
    with pytest.raises(ConfigError) as keyless:
        load_settings({"SLACK_CLIENT_ID": "111.222"})
    assert "BATON_SECRET_KEY is missing (needed with SLACK_CLIENT_ID" in str(keyless.value)
    with pytest.raises(ConfigError) as refused:
        load_settings({"BATON_SECRET_KEY": f"{NEW}, not-a-key-at-all"})
    assert "BATON_SECRET_KEY: key 2 of 2 is not a Fernet key" in str(refused.value)
    assert "not-a-key-at-all" not in str(refused.value) and NEW not in str(refused.value)
    assert load_settings({"BATON_SECRET_KEY": f" {NEW} , {OLD} "}).secret_keys == (NEW, OLD)


def test_the_command_line_makes_a_key_and_rotates_with_it(tmp_path: Path) -> None:
    made = baton("secrets", "new-key", cwd=tmp_path)
    assert made.returncode == 0 and Keyring([made.stdout.strip()]).seal("x")
    needs = baton("secrets", "rotate", cwd=tmp_path, DATABASE_URL="sqlite:///baton.db")
    assert needs.returncode == 2 and "Rotating needs BATON_SECRET_KEY" in needs.stderr
    rotated = baton(
        "secrets", "rotate", cwd=tmp_path, DATABASE_URL="sqlite:///baton.db", BATON_SECRET_KEY=f"{NEW},{OLD}"
    )
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout == (
        "Re-sealed 0 stored secrets under the first key of BATON_SECRET_KEY. "
        "The other 1 key can now be removed from it.\n"
    )


def test_serve_refuses_to_start_when_a_stored_token_cannot_be_opened(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'baton.db'}", pool_size=1)
    upgrade(db.engine)
    installations.use_keys(Keyring([OLD]))
    try:
        Installations(db, CLIENT_ID).store.save(installation("T0AAA", TOKENS[0]))
    finally:
        installations.use_keys(None)
    db.engine.dispose()
    slack = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s" * 32,
        "DATABASE_URL": "sqlite:///baton.db",
    }
    refused = baton("serve", "--port", "0", cwd=tmp_path, BATON_SECRET_KEY=NEW, **slack)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "Baton can't start: 4 stored secret(s) can't be opened with any key in BATON_SECRET_KEY "
        "(slack_installations.bot_token (row 1), slack_installations.bot_refresh_token (row 1), "
        "slack_bots.bot_token (row 1) and 1 more): put the key they were sealed with after the new one "
        "(new,old), start again, run `python -m bot secrets rotate`, then drop the old key."
    ]
    assert TOKENS[0] not in refused.stderr and NEW not in refused.stderr


def test_an_installations_tokens_are_sealed_at_rest_and_survive_a_key_rotation(database: Database) -> None:
    kept = Installations(database, CLIENT_ID)
    installations.use_keys(Keyring([OLD]))
    try:
        kept.store.save(installation("T0AAA", TOKENS[0]))
        with database.readers.begin() as session:
            stored = session.execute(select(tables.bots.c.bot_token, tables.bots.c.bot_refresh_token)).one()
        assert TOKENS[0] not in stored and "xoxe-1-refresh-T0AAA" not in stored
        assert rotate(database, Keyring([NEW, OLD])) == 4  # the installation's two tokens, the bot's two
        installations.use_keys(Keyring([NEW]))  # the old key gone
        bot = kept.bot("T0AAA")
        assert bot is not None and (bot.bot_token, bot.bot_refresh_token) == (
            TOKENS[0],
            "xoxe-1-refresh-T0AAA",
        )
        assert check_stored(database, Keyring([NEW])) == 4
    finally:
        installations.use_keys(None)


def test_the_secret_keys_never_reach_a_log_line_even_at_debug(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import create
    from bot.config import Settings

    baton_app = create(
        Settings(bot_token="xoxb-logs-1", signing_secret="s" * 32, secret_keys=(NEW, OLD)),
        db=database,
        verify_token=False,
    )
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("baton").debug("keys %s and %s, sealed %s", NEW, OLD, Keyring([NEW]).seal("x"))
    finally:
        baton_app.pool.shutdown(wait=True)
    assert "keys [redacted] and [redacted]" in caplog.text
    assert NEW not in caplog.text and OLD not in caplog.text
