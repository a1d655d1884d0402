"""Moving a team's pipeline to another workspace the way a team would: export, import, export again.

For tests that want the step (the fortnight, the round-trip tests): `move_pipeline(h, to_team)`
runs `python -m bot export`, then `import` into `to_team`, through the same functions the command
line calls, with owners looked up in the stand-in Slack; it returns both exports so a test can
compare them (they must be equal) and the import's report.
"""

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.crm import run_export, run_import
from bot.slack import make_client
from coaching.settings import TeamConfig
from tests.conftest import TEAM, TOKEN, Harness

OTHER_TEAM = "T0OTHER"


@dataclass(frozen=True)
class Moved:
    exported: str  # the pipeline CSV of the team it came from
    report: str  # what `import` printed
    code: int  # `import`'s exit code
    again: str  # the pipeline CSV of the team it went to, exported after the import


def export_pipeline(h: Harness, team: str) -> str:
    out = io.StringIO()
    assert run_export(h.db, team_id=team, touches=False, out=out, client=make_client(TOKEN, h.api.url)) == 0
    return out.getvalue()


def move_pipeline(h: Harness, to_team: str = OTHER_TEAM, *, from_team: str = TEAM) -> Moved:
    exported = export_pipeline(h, from_team)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.csv"
        path.write_text(exported, encoding="utf-8")
        out = io.StringIO()
        code = run_import(
            h.db,
            make_client(TOKEN, h.api.url),
            path,
            team_id=to_team,
            defaults=TeamConfig(),
            dry_run=False,
            day_first=False,
            out=out,
            now=h.clock(),
        )
    return Moved(exported, out.getvalue(), code, export_pipeline(h, to_team))
