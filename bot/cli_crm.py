"""`python -m bot crm sync|connect|disconnect`: a team's HubSpot sync run now, and its token stored sealed or forgotten."""

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot import logs
from bot.cli_support import WhichTeam, migrate, team_database
from bot.config import Settings
from bot.secrets import SecretsError

if TYPE_CHECKING:
    from store.db import Database


def cmd_crm_sync(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when done; 1 with one line when HubSpot refuses (a bad token, a missing scope) or is
    unreachable; 2 when it can't start (no token, no team)."""
    from bot.app import deps_for
    from bot.crm_sync import CrmSyncer
    from bot.hubspot import HubSpotCrm
    from bot.hubspot_client import HubSpotRefused, HubSpotUnavailable

    try:
        db, client, team = team_database(settings, args.team)
    except WhichTeam as which:
        print(which, file=sys.stderr)
        return 2
    try:
        token = stored_crm_token(settings, db, team) or settings.hubspot_token
    except SecretsError as error:
        print(f"baton crm sync: {error}", file=sys.stderr)
        return 2
    if not token:
        print(
            f"baton crm sync needs a HubSpot private app's access token: `python -m bot crm connect --team {team}` "
            "stores one for the team, or set HUBSPOT_TOKEN (one workspace; see README).",
            file=sys.stderr,
        )
        return 2
    port = HubSpotCrm(token, api_url=settings.hubspot_api_url)
    syncer = CrmSyncer(deps_for(settings, db), port, slack=client)
    try:
        report = syncer.sync(
            team,
            full=args.full,
            dry_run=args.dry_run,
            default_owner=args.default_owner or settings.hubspot_default_owner,
        )
    except (HubSpotRefused, HubSpotUnavailable) as error:
        print(f"baton crm sync: {error}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


def stored_crm_token(settings: Settings, db: "Database", team: str) -> str | None:
    """The team's own HubSpot token, opened; None when it stored none. SecretsError when it is
    sealed and BATON_SECRET_KEY can't open it."""
    from bot.secrets import keyring
    from store import crm_sync as rows

    with db.readers.begin() as session:
        stored = rows.connection(session, team_id=team, crm="hubspot")
        sealed = stored.token if stored is not None else None
    if sealed is None:
        return None
    keys = keyring(settings.secret_keys)
    if keys is None:
        raise SecretsError(
            "the team's HubSpot token is stored sealed: set BATON_SECRET_KEY to the key it was sealed with"
        )
    return keys.open(sealed)


def cmd_crm_connect(settings: Settings, args: argparse.Namespace) -> int:
    """Check the token with HubSpot, then store it sealed. Exit 0 when stored, 1 when HubSpot
    refuses it, 2 when it can't be stored (no BATON_SECRET_KEY, no token given)."""
    import getpass

    from bot.hubspot import HubSpotCrm
    from bot.hubspot_client import HubSpotRefused, HubSpotUnavailable
    from bot.secrets import keyring
    from store import crm_sync as rows
    from store.db import open_database

    keys = keyring(settings.secret_keys)
    if keys is None:
        print(
            "baton crm connect stores the token sealed: set BATON_SECRET_KEY first "
            "(make one with `python -m bot secrets new-key`).",
            file=sys.stderr,
        )
        return 2
    token = (
        sys.stdin.readline() if args.token_stdin else getpass.getpass("HubSpot private app token: ")
    ).strip()
    if not token:
        print("baton crm connect: no token given; nothing stored.", file=sys.stderr)
        return 2
    logs.install([token])  # never in a log line, whatever happens next
    try:
        owners = HubSpotCrm(token, api_url=settings.hubspot_api_url).owners()
    except (HubSpotRefused, HubSpotUnavailable) as error:
        print(f"baton crm connect: {error}; nothing stored.", file=sys.stderr)
        return 1
    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    try:
        with db.sessions.begin() as session:
            new = rows.connect(
                session, team_id=args.team, crm="hubspot", token=keys.seal(token), now=datetime.now(UTC)
            )
    finally:
        db.engine.dispose()
    print(
        f"{'Connected' if new else 'Reconnected'} team {args.team} to HubSpot ({len(owners)} owners seen); the token "
        f"is stored sealed. The clock syncs it every 5 minutes; `python -m bot crm sync --team {args.team}` syncs now."
    )
    return 0


def cmd_crm_disconnect(settings: Settings, args: argparse.Namespace) -> int:
    from store import crm_sync as rows
    from store.db import open_database

    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    try:
        with db.sessions.begin() as session:
            gone = rows.disconnect(session, team_id=args.team, crm="hubspot")
    finally:
        db.engine.dispose()
    if not gone:
        print(f"Team {args.team} had no HubSpot token stored; nothing changed.")
        return 0
    print(
        f"Forgot team {args.team}'s HubSpot token: nothing more goes to HubSpot for it. What it is still "
        "owed is kept and goes out if the team connects again."
    )
    return 0
