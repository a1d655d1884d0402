"""Secrets at rest: the tokens Baton keeps in its database, sealed with Fernet keys from the environment.

`BATON_SECRET_KEY` holds one or more Fernet keys, comma-separated. The first seals every new
secret; all of them open stored ones. That is the rotation: put a new key first and keep the old
one after it, run `python -m bot secrets rotate` (every stored secret re-sealed under the new key),
then drop the old key. A database copied without its key holds nothing usable.

The columns that hold sealed secrets are listed in `SEALED`: slack-sdk's installation tables
(`bot/installations.py` seals what it saves and opens what it finds through a `Keyring`). Tables
not created yet (a single-workspace Baton has no installations) are skipped.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import TableClause, column, inspect, select, table, update
from sqlalchemy.engine import Engine

from store.db import Database

log = logging.getLogger(__name__)
ENV = "BATON_SECRET_KEY"
BATCH = 200  # rows re-sealed per transaction: short, so SQLite's write lock is never held long
PLAIN_PREFIXES = ("xox", "pat-")  # a Slack or HubSpot token stored unsealed: readable, so `rotate` seals it


class SecretsError(Exception):
    """A stored secret Baton can't open: it refuses to start rather than fail on the first request.
    The message names the table, the column and the row, never the value."""


@dataclass(frozen=True)
class SealedColumns:
    """One table's columns holding sealed secrets, found by the table's integer primary key `id`."""

    table: str
    columns: tuple[str, ...]

    def core(self) -> TableClause:
        # A lightweight table: Baton does not own slack-sdk's models, only these columns.
        return table(self.table, column("id"), *(column(name) for name in self.columns))


SEALED: tuple[SealedColumns, ...] = (
    SealedColumns(
        "slack_installations", ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
    ),
    SealedColumns("slack_bots", ("bot_token", "bot_refresh_token")),
    SealedColumns("crm_connection", ("token",)),  # each team's CRM token (`python -m bot crm connect`)
)


def parse_keys(value: str | None) -> tuple[list[str], list[str]]:
    """The keys in `BATON_SECRET_KEY`, and what is wrong with them (never quoting a key)."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    problems = []
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(
                f"{ENV}: key {number} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -m bot secrets new-key`)"
            )
    return keys, problems


def new_key() -> str:
    return Fernet.generate_key().decode()


class Keyring:
    """Seals with the first key, opens with any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError(f"a keyring needs at least one key ({ENV})")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; SecretsError if none of the keys sealed it (or it isn't sealed at all)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretsError(f"a stored secret can't be opened with any key in {ENV}") from None

    def reseal(self, stored: str) -> str:
        """`stored` sealed under the first key: a sealed value re-sealed, a plain token sealed."""
        if stored.startswith(PLAIN_PREFIXES):
            return self.seal(stored)
        try:
            return self._fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            raise SecretsError(f"a stored secret can't be opened with any key in {ENV}") from None


def keyring(keys: Sequence[str]) -> Keyring | None:
    return Keyring(keys) if keys else None


def _present(engine: Engine, sealed: Iterable[SealedColumns]) -> list[SealedColumns]:
    names = set(inspect(engine).get_table_names())
    return [s for s in sealed if s.table in names]


def check_stored(db: Database, keys: Keyring | None, *, sealed: Iterable[SealedColumns] = SEALED) -> int:
    """Open every stored secret once, at start-up; how many there are. Raises SecretsError naming
    what can't be opened (a key missing from BATON_SECRET_KEY, a token stored unsealed), so Baton
    refuses to start instead of failing each workspace's requests one by one."""
    unreadable: list[str] = []
    plain: list[str] = []
    count = 0
    for where in _present(db.engine, sealed):
        core = where.core()
        with db.readers.begin() as session:
            rows = session.execute(select(*core.c).order_by(core.c.id)).all()
        for row in rows:
            for name in where.columns:
                stored = getattr(row, name)
                if not stored:
                    continue
                count += 1
                place = f"{where.table}.{name} (row {row.id})"
                if stored.startswith(PLAIN_PREFIXES):
                    plain.append(place)
                    continue
                try:
                    if keys is None:
                        raise SecretsError
                    keys.open(stored)
                except SecretsError:
                    unreadable.append(place)
    problems = []
    if unreadable and keys is None:
        problems.append(
            f"{len(unreadable)} stored secret(s) are sealed but {ENV} is not set: set it to the key they were "
            f"sealed with ({_few(unreadable)})"
        )
    elif unreadable:
        problems.append(
            f"{len(unreadable)} stored secret(s) can't be opened with any key in {ENV} ({_few(unreadable)}): "
            "put the key they were sealed with after the new one (new,old), start again, run "
            "`python -m bot secrets rotate`, then drop the old key"
        )
    if plain:
        problems.append(
            f"{len(plain)} token(s) are stored unsealed ({_few(plain)}): set {ENV} and run "
            "`python -m bot secrets rotate` to seal them"
        )
    if problems:
        raise SecretsError("Baton can't start: " + "; ".join(problems) + ".")
    return count


def rotate(db: Database, keys: Keyring, *, sealed: Iterable[SealedColumns] = SEALED) -> int:
    """Re-seal every stored secret under the first key (and seal any stored in the clear), a batch
    per short transaction; how many. Safe to run twice, or to resume after a failure."""
    resealed = 0
    for where in _present(db.engine, sealed):
        core = where.core()
        after = None
        while True:
            with db.sessions.begin() as session:
                query = select(*core.c).order_by(core.c.id).limit(BATCH)
                if after is not None:
                    query = query.where(core.c.id > after)
                rows = session.execute(query).all()
                for row in rows:
                    values = {
                        name: keys.reseal(getattr(row, name)) for name in where.columns if getattr(row, name)
                    }
                    if values:
                        session.execute(update(core).where(core.c.id == row.id).values(**values))
                        resealed += len(values)
            if len(rows) < BATCH:
                break
            after = rows[-1].id
    log.info("Re-sealed %d stored secrets under the first key of %s", resealed, ENV)
    return resealed


def _few(places: list[str]) -> str:
    shown = ", ".join(places[:3])
    return shown + (f" and {len(places) - 3} more" if len(places) > 3 else "")
