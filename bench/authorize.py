"""The cost of choosing a workspace's bot token for a request, with OAuth installs. A benchmark, not a test.

    python bench/authorize.py [--workspaces 50] [--requests 2000] [--database-url URL]

Bolt's `authorize` runs on the request thread before every acknowledgement. With `--workspaces`
installations in a migrated database, it times `--requests` authorizations spread over them
(TeamAuthorize, which keeps each workspace's bot for 30 s), then as many reads of a bot straight
from the installation store (what every request would cost without the keeping). Prints CPU and
wall milliseconds per call; CPU is the figure to compare on a busy machine.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sdk.oauth.installation_store.models.installation import Installation  # noqa: E402

from bot.installations import Installations  # noqa: E402
from bot.workspaces import Installed, TeamAuthorize  # noqa: E402
from store.db import open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/authorize.db"
    db = open_database(url, pool_size=2)
    upgrade(db.engine)
    kept = Installations(db, "bench.client")
    teams = [f"T0BENCH{i}" for i in range(args.workspaces)]
    for team in teams:
        kept.forget(team)
        kept.store.save(
            Installation(
                app_id="A0BENCH",
                enterprise_id=None,
                team_id=team,
                team_name=team,
                bot_token=f"xoxb-{team}",
                bot_id="B0BENCH",
                bot_user_id="U0BENCH",
                bot_scopes="chat:write",
                user_id="U0INSTALLER",
                installed_at=time.time(),
            )
        )
    installed = Installed(
        kept, api_url="http://127.0.0.1:9/api/", client_secret="s", clock=lambda: datetime.now(UTC)
    )
    authorize = TeamAuthorize(installed)

    def timed(name: str, call: object) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(args.requests):
            assert call(teams[n % len(teams)]) is not None  # type: ignore[operator]
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{name:<44} {1e3 * cpu / args.requests:7.3f} ms CPU {1e3 * wall / args.requests:7.3f} ms wall")

    print(f"{url.split(':')[0]}, {args.workspaces} workspaces, {args.requests} calls each way")
    timed(
        "authorize (a workspace's bot kept 30 s)",
        lambda team: authorize(context=None, enterprise_id=None, team_id=team, user_id="U0REP"),  # type: ignore[arg-type]
    )
    timed("a bot read from the installation store", kept.bot)
    for team in teams:
        kept.forget(team)
    db.engine.dispose()


if __name__ == "__main__":
    main()
