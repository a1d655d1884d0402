"""The command line: `python -m bot` (or `baton`) and its subcommands."""

import argparse
import contextlib
import csv
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import load_dotenv

from bot import logs
from bot.cli_crm import cmd_crm_connect, cmd_crm_disconnect, cmd_crm_sync
from bot.cli_db import (
    cmd_db_current,
    cmd_db_prune,
    cmd_db_status,
    cmd_db_upgrade,
    cmd_secrets_new_key,
    cmd_secrets_rotate,
)
from bot.cli_support import (
    TEAM_HELP,
    WhichTeam,
    instant,
    migrate,
    missing_database,
    team_database,
    unreadable_secrets,
    workspace,
)
from bot.config import ConfigError, Mode, Settings, load_settings

if TYPE_CHECKING:
    from coaching.digest_records import Recipient
    from handlers.blocks.base import Message
    from handlers.review_delivery import Picture
    from store.db import Database

log = logging.getLogger("baton")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    env_file = Path(args.env_file)
    if env_file.exists():
        load_dotenv(env_file, override=False)  # the real environment wins over .env
    try:
        settings = load_settings(os.environ, serving=getattr(args, "serving", True))
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    logs.install(
        [
            settings.bot_token,
            settings.signing_secret,
            settings.app_token,
            settings.hubspot_token,
            settings.client_secret,
            *settings.secret_keys,
        ]
    )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # every migration step, every start
    handler = getattr(args, "run", start)
    result: int = handler(settings, args)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton",
        description=(
            "Baton, a sales coach in Slack. With no command: Socket Mode when SLACK_APP_TOKEN is set, "
            "the HTTP server when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are (or, installed in many "
            "workspaces, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET), the local try-out otherwise."
        ),
    )
    parser.add_argument(
        "--env-file", default=".env", help="read settings from this file first (default: .env)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve Slack's requests over HTTP (waitress) at POST /slack/events"
    )
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT or 3000)")
    serve.set_defaults(run=cmd_serve)

    tryout = commands.add_parser("tryout", help="the local try-out: the real app against a stand-in Slack")
    tryout.add_argument(
        "--db", default="baton-tryout.db", help="SQLite file for the demo team (default: %(default)s)"
    )
    tryout.add_argument("--reset", action="store_true", help="start again from a fresh demo team")
    tryout.add_argument(
        "--hubspot", action="store_true", help="run a stand-in HubSpot beside it, seeded with the demo team"
    )
    tryout.set_defaults(run=cmd_tryout)

    clock = commands.add_parser(
        "clock", help="run the scheduler: morning digests, weekly reviews, hand-off reminders (run one only)"
    )
    clock.set_defaults(run=cmd_clock)

    digest = commands.add_parser("digest", help="send every rep's digest now (or print them with --dry-run)")
    digest.add_argument("--at", type=instant, help="as of this ISO 8601 instant (without an offset: UTC)")
    digest.add_argument("--dry-run", action="store_true", help="print each digest instead of sending it")
    digest.add_argument("--force", action="store_true", help="send even to reps who already had today's")
    digest.add_argument(
        "--review", action="store_true", help="the managers' weekly review instead of digests"
    )
    digest.add_argument("--team", help=TEAM_HELP)
    digest.set_defaults(serving=False, run=cmd_digest)

    review = commands.add_parser(
        "review",
        help="the managers' weekly review now, printed here (--dry-run: the picture saved, nothing sent)",
    )
    review.add_argument("--at", type=instant, help="as of this ISO 8601 instant (without an offset: UTC)")
    review.add_argument(
        "--dry-run", action="store_true", help="print each review and save its picture here; send nothing"
    )
    review.add_argument("--force", action="store_true", help="send even to managers who already had today's")
    review.add_argument(
        "--manager", action="append", default=[], metavar="U…", help="only this manager (repeatable)"
    )
    review.add_argument("--team", help=TEAM_HELP)
    review.set_defaults(serving=False, run=cmd_review)

    importer = commands.add_parser(
        "import", help="import a CRM export (CSV): leads, owners, contacts, status"
    )
    importer.add_argument("file", type=Path, help="the CSV file (Salesforce, HubSpot or a spreadsheet)")
    importer.add_argument("--dry-run", action="store_true", help="show what would happen, write nothing")
    importer.add_argument("--team", help=TEAM_HELP)
    importer.add_argument("--day-first", action="store_true", help="read 03/04/2026 as 3 April, not March 4")
    importer.add_argument(
        "--default-owner",
        metavar="WHO",
        help="a Slack id, e-mail or name: owner of the rows whose owner isn't found in Slack (or is blank)",
    )
    importer.add_argument(
        "--owners",
        metavar="MAP.csv",
        type=Path,
        help="a two-column CSV: the owner as the CRM writes it, then their Slack id, e-mail or name",
    )
    importer.add_argument(
        "--statuses",
        metavar="MAP.csv",
        type=Path,
        help="a two-column CSV: a status as the CRM writes it, then open, won, lost or backburner",
    )
    importer.set_defaults(serving=False, run=cmd_import)

    exporter = commands.add_parser(
        "export", help="write the pipeline (or with --touches, the touch log) as CSV"
    )
    exporter.add_argument(
        "--touches", action="store_true", help="every logged touch instead of one row per lead"
    )
    exporter.add_argument("--output", type=Path, help="a file to write (default: standard output)")
    exporter.add_argument("--team", help=TEAM_HELP)
    exporter.set_defaults(serving=False, run=cmd_export)

    privacy = commands.add_parser("privacy", help="personal data: erase a person on request")
    privacy.set_defaults(serving=False)
    privacy_commands = privacy.add_subparsers(title="privacy commands", metavar="ACTION", required=True)
    erase = privacy_commands.add_parser(
        "erase",
        help="remove a person's name, e-mail, phone and the notes naming them; keep anonymised counts",
    )
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--email", help="every contact with this e-mail (in --team, or in every team)")
    target.add_argument("--contact", type=int, metavar="ID", help="one contact, by its id (see export)")
    target.add_argument(
        "--lead", metavar="NAME", help="a whole lead: its contacts, notes and name (needs --team)"
    )
    erase.add_argument("--team", help="Slack team id (required with --lead)")
    erase.set_defaults(run=cmd_privacy_erase)

    crm = commands.add_parser("crm", help="the CRM sync (HubSpot: HUBSPOT_TOKEN)")
    crm.set_defaults(serving=False)
    crm_commands = crm.add_subparsers(title="crm commands", metavar="ACTION", required=True)
    sync = crm_commands.add_parser(
        "sync", help="pull what changed in HubSpot, push what Baton owes it, report"
    )
    sync.add_argument("--full", action="store_true", help="read every record again, not only what changed")
    sync.add_argument(
        "--dry-run", action="store_true", help="report what would come in; save and send nothing"
    )
    sync.add_argument("--team", help=TEAM_HELP)
    sync.add_argument(
        "--default-owner", metavar="U…", help="Slack id taking records whose HubSpot owner isn't in Slack"
    )
    sync.set_defaults(run=cmd_crm_sync)
    connect = crm_commands.add_parser(
        "connect",
        help="store a team's own HubSpot token (sealed with BATON_SECRET_KEY): each workspace syncs with its own",
    )
    connect.add_argument("--team", required=True, help="the Slack team (workspace) id, T…")
    connect.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input (not asked for)"
    )
    connect.set_defaults(run=cmd_crm_connect)
    disconnect = crm_commands.add_parser("disconnect", help="forget a team's stored HubSpot token")
    disconnect.add_argument("--team", required=True, help="the Slack team (workspace) id, T…")
    disconnect.set_defaults(run=cmd_crm_disconnect)

    secrets = commands.add_parser(
        "secrets", help="the tokens Baton stores, sealed with BATON_SECRET_KEY: rotate the key"
    )
    secrets.set_defaults(serving=False)
    secrets_commands = secrets.add_subparsers(title="secrets commands", metavar="ACTION", required=True)
    secrets_commands.add_parser(
        "rotate",
        help="re-seal every stored secret under BATON_SECRET_KEY's first key (then drop the old keys)",
    ).set_defaults(run=cmd_secrets_rotate)
    secrets_commands.add_parser(
        "new-key", help="print a new key to put first in BATON_SECRET_KEY"
    ).set_defaults(run=cmd_secrets_new_key)

    db = commands.add_parser("db", help="database maintenance")
    db.set_defaults(serving=False)
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration").set_defaults(run=cmd_db_upgrade)
    db_commands.add_parser("current", help="show the database's migration revision").set_defaults(
        run=cmd_db_current
    )
    db_commands.add_parser(
        "status", help="what is waiting, unknown or dead in the inbox, the outbox and the deliveries"
    ).set_defaults(run=cmd_db_status)
    db_commands.add_parser(
        "prune", help="delete finished work past its keeping time now (web processes also do it)"
    ).set_defaults(run=cmd_db_prune)
    return parser


def start(settings: Settings, args: argparse.Namespace) -> int:
    if settings.mode is Mode.TRYOUT:
        args.db, args.reset, args.hubspot = "baton-tryout.db", False, False
        return cmd_tryout(settings, args)
    if settings.mode in (Mode.HTTP, Mode.OAUTH):
        args.port = None
        return cmd_serve(settings, args)
    return cmd_socket(settings, args)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if not (settings.bot_token or settings.client_id) or not settings.signing_secret:
        print(
            "baton serve needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET for installs in many workspaces (see README). "
            "Without Slack credentials, `python -m bot` starts the local try-out.",
            file=sys.stderr,
        )
        return 2
    from bot.server import serve

    migrate(settings)
    if refused := unreadable_secrets(settings):
        print(refused, file=sys.stderr)
        return 2
    return serve(settings, port=args.port or settings.port)


def cmd_socket(settings: Settings, args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create
    from bot.scheduler import build

    migrate(settings)
    if refused := unreadable_secrets(settings):
        print(refused, file=sys.stderr)
        return 2
    baton = create(settings)
    baton.keep_recovering()  # requests acknowledged before a restart are finished
    build(baton, blocking=False).start()  # one process for a small team: the clock runs alongside
    log.info("Baton is connecting to Slack over Socket Mode (the scheduler runs in this process)")
    handler = SocketModeHandler(baton.app, settings.app_token)
    handler.start()  # type: ignore[no-untyped-call]
    return 0


def cmd_clock(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.bot_token and settings.mode is not Mode.OAUTH:
        print(
            "baton clock needs SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) to send "
            "digests (see README).",
            file=sys.stderr,
        )
        return 2
    from bot.app import create
    from bot.scheduler import build

    migrate(settings)
    if refused := unreadable_secrets(settings):
        print(refused, file=sys.stderr)
        return 2
    baton = create(settings)
    log.info(
        "Baton's clock is running: digests at %s local time", settings.team.digest_time.strftime("%H:%M")
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        build(baton, blocking=True).start()
    return 0


def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import deps_for
    from handlers.deliveries import Deliveries
    from store.db import open_database

    if not args.dry_run and not settings.bot_token and settings.mode is not Mode.OAUTH:
        print("Sending digests needs SLACK_BOT_TOKEN; --dry-run prints them without Slack.", file=sys.stderr)
        return 2
    if missing := missing_database(settings):
        print(missing, file=sys.stderr)
        return 2
    at = args.at or datetime.now(UTC)
    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    deps = deps_for(settings, db)
    try:
        team, client = workspace(settings, db, args.team)
    except WhichTeam as which:
        print(which, file=sys.stderr)
        return 2
    if not args.dry_run:
        try:  # who works where, and who has left, before deciding whose morning it is
            Deliveries(deps, client).refresh_directory(team or str(client.auth_test()["team_id"]))
        except Exception as error:
            log.warning("Couldn't refresh the people list from Slack (%s); using what Baton knows", error)
    deliveries = Deliveries(deps, client, team_id=team)
    run = deliveries.reviews if args.review else deliveries.digests
    show = printer(db, digests=not args.review) if args.dry_run else None
    report = run(at=at, everyone=True, force=args.force, dry_run=args.dry_run, show=show)
    print(("Reviews: " if args.review else "Digests: ") + str(report))
    return 1 if report.failed else 0


def cmd_review(settings: Settings, args: argparse.Namespace) -> int:
    """Every manager's weekly review (or those named), printed; sent unless --dry-run."""
    from bot.app import deps_for
    from handlers.deliveries import Deliveries
    from handlers.review_delivery import save_picture
    from store.db import open_database

    if not args.dry_run and not settings.bot_token and settings.mode is not Mode.OAUTH:
        print("Sending reviews needs SLACK_BOT_TOKEN; --dry-run prints them without Slack.", file=sys.stderr)
        return 2
    if missing := missing_database(settings):
        print(missing, file=sys.stderr)
        return 2
    at = args.at or datetime.now(UTC)
    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    deps = deps_for(settings, db)
    try:
        team, client = workspace(settings, db, args.team)
    except WhichTeam as which:
        print(which, file=sys.stderr)
        return 2
    if not args.dry_run:
        try:  # who manages, where they are, and who has left
            Deliveries(deps, client).refresh_directory(team or str(client.auth_test()["team_id"]))
        except Exception as error:
            log.warning("Couldn't refresh the people list from Slack (%s); using what Baton knows", error)
    show = printer(db)
    folder = Path.cwd()

    def show_picture(recipient: "Recipient", message: "Message", picture: "Picture | None") -> None:
        show(recipient, message)
        if picture is None:
            return
        if args.dry_run:
            print(f"\n🖼  The picture: saved to {save_picture(picture, folder)}")
        else:
            print(f"\n🖼  The picture ({picture.filename}) is uploaded to the manager's DM after the message.")
        print(f"   In words: {picture.alt}")

    report = Deliveries(deps, client, team_id=team).reviews(
        at=at,
        everyone=True,
        force=args.force,
        dry_run=args.dry_run,
        managers=args.manager,
        show_picture=show_picture,
    )
    print("\nReviews: " + str(report))
    return 1 if report.failed else 0


def printer(db: "Database", *, digests: bool = False) -> "Callable[[Recipient, Message], None]":
    """Print a digest (or review) the way the person would read it, for --dry-run. With `digests`, a
    rep whose day off it is gets a line saying so instead of an empty digest."""
    from bot.tryout.render import Renderer
    from coaching.calendar import next_working_day
    from coaching.people import zone
    from store import queries

    with db.readers.begin() as session:
        names = {
            user: name
            for (_, user), name in queries.people.rep_names(
                session, team_ids=queries.people.known_teams(session)
            ).items()
        }
    renderer = Renderer(lambda user: names.get(user) or user, color=sys.stdout.isatty())

    def show(recipient: "Recipient", message: "Message") -> None:
        renderer.tz = zone(recipient.tz)
        who = names.get(recipient.user_id) or recipient.user_id
        day = f"{recipient.local_date:%a} {recipient.local_date.day} {recipient.local_date:%b}"
        print(f"\n── {who} ({recipient.user_id}) · {recipient.tz} · {day} " + "─" * 20)
        if digests and recipient.local_date.weekday() not in recipient.workdays:
            # Nothing is due on a day off, so the digest would read "nothing needs you": say why instead.
            after = next_working_day(recipient.local_date + timedelta(days=1), recipient.workdays)
            print(
                f"{day} is not one of {who}'s working days: nothing is sent today. "
                f"The next goes out on {after:%a} {after.day} {after:%b}."
            )
            return
        for line in renderer.blocks(message.payload()["blocks"], []):
            print(line)

    return show


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.crm import progress_bar, run_import

    try:
        db, client, team = team_database(settings, args.team)
    except WhichTeam as which:
        print(which, file=sys.stderr)
        return 2
    return run_import(
        db,
        client,
        args.file,
        team_id=team,
        defaults=settings.team,
        dry_run=args.dry_run,
        day_first=args.day_first,
        progress=progress_bar(),
        default_owner=args.default_owner,
        owners_file=args.owners,
        statuses_file=args.statuses,
    )


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.crm import run_export

    if missing := missing_database(settings):
        print(missing, file=sys.stderr)
        return 2
    try:
        db, client, team = team_database(settings, args.team)
    except WhichTeam as which:
        print(which, file=sys.stderr)
        return 2
    if args.output is None:
        return run_export(db, team_id=team, touches=args.touches, out=sys.stdout, client=client)
    with args.output.open("w", newline="", encoding="utf-8") as out:
        code = run_export(db, team_id=team, touches=args.touches, out=out, client=client)
    # The file holds the CSV; the person at the terminal is told what went into it and where.
    with args.output.open(newline="", encoding="utf-8") as written:
        rows = sum(1 for _ in csv.reader(written)) - 1
    what = "touch" if args.touches else "row"
    print(
        f"Wrote {rows} {what}{'' if rows == 1 else 'es' if args.touches else 's'} of team {team} "
        f"to {args.output} ({'the touch log' if args.touches else 'one row per contact'}).",
        file=sys.stderr,
    )
    return code


def cmd_privacy_erase(settings: Settings, args: argparse.Namespace) -> int:
    from coaching.privacy import NothingToErase, erase
    from store.db import open_database

    if args.lead is not None and not args.team:
        print("Erasing a lead needs its team: add --team T0123ABCD.", file=sys.stderr)
        return 2
    migrate(settings)
    db = open_database(settings.database_url, pool_size=2)
    try:
        with db.sessions.begin() as session:
            report = erase(
                session,
                now=datetime.now(UTC),
                team_id=args.team,
                email=args.email,
                contact_id=args.contact,
                lead_name=args.lead,
            )
    except NothingToErase as error:
        print(f"Nothing erased: {error}.", file=sys.stderr)
        return 1
    finally:
        db.engine.dispose()
    for line in report.lines():
        print(line)
    return 0


def cmd_tryout(settings: Settings, args: argparse.Namespace) -> int:
    from bot.tryout.repl import Tryout

    path = Path(args.db)
    if args.reset:
        existed = path.exists()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(
            f"Starting over: {path} {'removed' if existed else 'was not there'}; a fresh demo team is seeded."
        )
    return Tryout(path, settings=settings, hubspot=args.hubspot).run()


if __name__ == "__main__":
    sys.exit(main())
