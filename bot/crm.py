"""`python -m bot import` and `export`: a CRM's CSV in, the pipeline's CSV out."""

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from slack_sdk import WebClient

from coaching.crm_export import pipeline_rows, touch_rows
from coaching.crm_file import EXPORT_HEADERS, TOUCH_HEADERS, Problem, read_csv, write_csv
from coaching.crm_import import Action, ImportPlan, import_rows
from coaching.settings import TeamConfig, team_config
from handlers.people import resolve_owners
from store import queries
from store.db import Database

IMPORTED_BY = "import"  # recorded as who added the leads and contacts


def run_import(
    db: Database,
    client: WebClient | None,
    path: Path,
    *,
    team_id: str,
    defaults: TeamConfig,
    dry_run: bool,
    day_first: bool,
    out: TextIO = sys.stdout,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """0 when imported (or a clean dry run), 1 when the file is refused: nothing is half-imported."""
    try:
        text = read_text(path)
    except (OSError, ValueError) as error:
        print(f"Can't read {path}: {error}", file=out)
        return 1
    parsed = read_csv(text, day_first=day_first)
    with db.readers.begin() as session:
        known = queries.rep_names_of(session, team_id)  # names to match owners against without Slack
    owners, unknown = resolve_owners(client, {row.owner for row in parsed.rows}, known)
    now = now or datetime.now(UTC)
    with db.sessions.begin() as session:
        rules = team_config(session, team_id=team_id, defaults=defaults).rules
        plan = import_rows(
            session,
            team_id=team_id,
            rows=parsed.rows,
            owners=owners,
            unknown=unknown,
            user_id=IMPORTED_BY,
            now=now,
            rules=rules,
            write=not dry_run and not parsed.problems,
            progress=progress,
        )
        # All or nothing: with any problem, import_rows wrote nothing and the file is refused whole.
        problems = sorted([*parsed.problems, *plan.problems], key=lambda p: (p.line, p.text))
    report(
        plan,
        problems,
        parsed.columns.understood(parsed.headers) if parsed.columns else [],
        parsed.columns.ignored if parsed.columns else (),
        path=path,
        team_id=team_id,
        dry_run=dry_run,
        out=out,
    )
    return 1 if problems else 0


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise ValueError("it looks like a spreadsheet workbook: save it as CSV (File → Save as → CSV UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV (Comma delimited)" on Windows writes Windows-1252, not UTF-8.
        return data.decode("cp1252", errors="replace")


def report(
    plan: ImportPlan,
    problems: list[Problem],
    understood: list[str],
    ignored: tuple[str, ...],
    *,
    path: Path,
    team_id: str,
    dry_run: bool,
    out: TextIO,
) -> None:
    refused = bool(problems)
    mode = "dry run: nothing is written" if dry_run else "nothing was written" if refused else "imported"
    print(f"{path.name} → team {team_id} ({mode})", file=out)
    if understood:
        print(f"Columns read as: {'; '.join(understood)}", file=out)
    print(
        f"  {'row':>5}  {'action':<10} {'lead':<32} {'owner':<12} {'status':<11} {'contact':<24} notes",
        file=out,
    )
    for row in plan.rows:
        notes = [f"changes {', '.join(row.changes)}"] if row.changes else []
        notes += [f"Baton's is newer: keeps its {', '.join(row.kept)}"] if row.kept else []
        print(
            f"  {row.line:>5}  {row.action.value:<10} {_fit(row.lead, 32)} {row.owner:<12} "
            f"{row.status.value:<11} {_fit(row.person or '', 24)} {'; '.join(notes)}".rstrip(),
            file=out,
        )
    if ignored:
        print(f"Columns Baton doesn't use (left out): {', '.join(ignored)}", file=out)
    if problems:
        print(
            "Problems: fix these rows (or the file) and run it again; the whole file waits for them:",
            file=out,
        )
        for problem in problems:
            where = f"row {problem.line}" if problem.line else "the file"
            print(f"  {where}: {problem.text}", file=out)
    counts = ", ".join(
        f"{plan.count(action)} {one if plan.count(action) == 1 else many}"
        for action, one, many in _LABELS
        if plan.count(action)
    )
    problem_count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    if refused:
        print(f"Refused, nothing written: {problem_count} (the rest: {counts or 'no rows'}).", file=out)
    elif dry_run:
        print(f"Dry run, would import: {counts or 'no rows'}; no problems.", file=out)
    else:
        print(f"Imported: {counts or 'no rows'}; no problems.", file=out)


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


_LABELS = (
    (Action.ADD, "new lead", "new leads"),
    (Action.UPDATE, "updated", "updated"),
    (Action.UNCHANGED, "unchanged", "unchanged"),
    (Action.CONTACT, "extra contact", "extra contacts"),
)


def run_export(db: Database, *, team_id: str, touches: bool, out: TextIO) -> int:
    with db.readers.begin() as session:
        rows = touch_rows(session, team_id=team_id) if touches else pipeline_rows(session, team_id=team_id)
        for line in write_csv(TOUCH_HEADERS if touches else EXPORT_HEADERS, rows):
            out.write(line)
    return 0


def pick_team(db: Database, client: WebClient | None, given: str | None) -> str | None:
    """The team to import into: --team, the bot token's own, or the only one in the database."""
    if given:
        return given
    if client is not None:
        return str(client.auth_test()["team_id"])
    with db.readers.begin() as session:
        teams = sorted(set(queries.known_teams(session)) | set(queries.teams_with_leads(session)))
    return teams[0] if len(teams) == 1 else None


def progress_bar(stream: TextIO = sys.stderr) -> Callable[[int, int], None] | None:
    """A progress bar on a terminal, nothing in a pipe or a log."""
    if not stream.isatty():
        return None

    shown = [-1]

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if total < 500 or percent == shown[0]:
            return  # a short file is done before a bar could help; redraw only when it moves
        shown[0] = percent
        filled = 30 * percent // 100
        stream.write(f"\r  importing [{'#' * filled}{'.' * (30 - filled)}] {percent:>3}%")
        if percent == 100:
            stream.write("\n")
        stream.flush()

    return show
