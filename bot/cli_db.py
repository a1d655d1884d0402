"""`python -m bot db …` and `python -m bot secrets …`: the schema, what the database holds, and the
keys stored secrets are sealed with."""

import argparse
import sys

from bot.cli_support import migrate
from bot.config import Settings
from bot.secrets import SecretsError


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    migrate(settings)
    print("Database is up to date.")
    return 0


def cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    from store.db import make_engine
    from store.migrate import current_revision, head_revision

    engine = make_engine(settings.database_url, pool_size=1)
    current, head = current_revision(engine), head_revision(engine)
    state = "up to date" if current == head else f"behind: run `python -m bot db upgrade` to reach {head}"
    print(f"{current or 'empty'} ({state})")
    return 0


def cmd_db_status(settings: Settings, args: argparse.Namespace) -> int:
    from store.db import open_database
    from store.retention import counts
    from store.workspaces import stopped_list

    db = open_database(settings.database_url, pool_size=1)
    try:
        with db.readers.begin() as session:
            held = counts(session)
            stopped = stopped_list(session)
    finally:
        db.engine.dispose()
    keep = settings.retention
    print(
        f"inbox       waiting {held.inbox_waiting:,} · dead {held.inbox_dead:,} · done {held.inbox_done:,}\n"
        f"outbox      pending {held.outbox_pending:,} · unknown {held.outbox_unknown:,}"
        f" · dead {held.outbox_dead:,} · sent {held.outbox_sent:,}\n"
        f"deliveries  under way {held.deliveries_open:,} · dead {held.deliveries_dead:,}"
        f" · done {held.deliveries_done:,}\n"
        f"Finished work is kept {keep.done_days} days, dead letters {keep.dead_days}"
        " (BATON_KEEP_DONE_DAYS, BATON_KEEP_DEAD_DAYS)."
    )
    for team in stopped:
        print(
            f"Workspace {team.team_id} uninstalled Baton on {team.uninstalled_at:%Y-%m-%d}: its data is "
            f"deleted after {team.delete_after:%Y-%m-%d %H:%M} UTC unless it installs Baton again."
        )
    return 0


def cmd_db_prune(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import utc_now
    from bot.retention import Tidy
    from store.db import open_database

    db = open_database(settings.database_url, pool_size=1)
    try:
        done = Tidy(db, utc_now, settings.retention).tidy(most_batches=1_000_000)
    finally:
        db.engine.dispose()
    print(done)
    return 0


def cmd_secrets_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.secrets import ENV, Keyring, rotate
    from store.db import open_database

    if not settings.secret_keys:
        print(f"Rotating needs {ENV}: the new key first, then the old ones (new,old).", file=sys.stderr)
        return 2
    migrate(settings)
    db = open_database(settings.database_url, pool_size=1)
    try:
        resealed = rotate(db, Keyring(settings.secret_keys))
    except SecretsError as error:
        print(
            f"Nothing more re-sealed: {error}. Add the key it was sealed with after the new one.",
            file=sys.stderr,
        )
        return 1
    finally:
        db.engine.dispose()
    old = len(settings.secret_keys) - 1
    print(
        f"Re-sealed {resealed:,} stored secret{'' if resealed == 1 else 's'} under the first key of {ENV}."
        + (f" The other {old} key{'' if old == 1 else 's'} can now be removed from it." if old else "")
    )
    return 0


def cmd_secrets_new_key(settings: Settings, args: argparse.Namespace) -> int:
    from bot.secrets import new_key

    print(new_key())
    return 0
