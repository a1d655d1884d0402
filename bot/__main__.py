"""The command line: `python -m bot` (or `baton`) and its subcommands."""

import argparse
import logging
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

from bot.config import ConfigError, Mode, Settings, load_settings

log = logging.getLogger("baton")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    env_file = Path(args.env_file)
    if env_file.exists():
        load_dotenv(env_file, override=False)  # the real environment wins over .env
    try:
        settings = load_settings(os.environ)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    handler = getattr(args, "run", start)
    result: int = handler(settings, args)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton",
        description=(
            "Baton, a sales coach in Slack. With no command: Socket Mode when SLACK_APP_TOKEN is set, "
            "the HTTP server when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are, the local try-out otherwise."
        ),
    )
    parser.add_argument(
        "--env-file", default=".env", help="read settings from this file first (default: .env)"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="serve Slack's requests over HTTP (gunicorn) at POST /slack/events"
    )
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT or 3000)")
    serve.set_defaults(run=cmd_serve)

    tryout = commands.add_parser("tryout", help="the local try-out: the real app against a stand-in Slack")
    tryout.add_argument(
        "--db", default="baton-tryout.db", help="SQLite file for the demo team (default: %(default)s)"
    )
    tryout.add_argument("--reset", action="store_true", help="start again from a fresh demo team")
    tryout.set_defaults(run=cmd_tryout)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration").set_defaults(run=cmd_db_upgrade)
    db_commands.add_parser("current", help="show the database's migration revision").set_defaults(
        run=cmd_db_current
    )
    return parser


def start(settings: Settings, args: argparse.Namespace) -> int:
    if settings.mode is Mode.TRYOUT:
        args.db, args.reset = "baton-tryout.db", False
        return cmd_tryout(settings, args)
    if settings.mode is Mode.HTTP:
        args.port = None
        return cmd_serve(settings, args)
    return cmd_socket(settings, args)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.bot_token or not settings.signing_secret:
        print(
            "baton serve needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README). "
            "Without Slack credentials, `python -m bot` starts the local try-out.",
            file=sys.stderr,
        )
        return 2
    from bot.server import run_gunicorn

    migrate(settings)
    run_gunicorn(settings, port=args.port or settings.port)
    return 0


def cmd_socket(settings: Settings, args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create

    migrate(settings)
    baton = create(settings)
    log.info("Baton is connecting to Slack over Socket Mode")
    handler = SocketModeHandler(baton.app, settings.app_token)
    handler.start()  # type: ignore[no-untyped-call]
    return 0


def cmd_tryout(settings: Settings, args: argparse.Namespace) -> int:
    from bot.tryout.repl import Tryout

    path = Path(args.db)
    if args.reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Tryout(path, settings=settings).run()


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


def migrate(settings: Settings) -> None:
    from store.db import make_engine
    from store.migrate import upgrade

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
