"""`python -m bot import` and `export`: a CRM's CSV in, the pipeline's CSV out."""

import codecs
import csv
import io
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from slack_sdk import WebClient

from coaching import people
from coaching.crm_export import pipeline_rows, touch_rows
from coaching.crm_file import EXPORT_HEADERS, TOUCH_HEADERS, Problem, Row, StatusRead, read_csv, write_csv
from coaching.crm_import import Action, ImportPlan, import_rows
from coaching.crm_words import StatusHow, header_key
from coaching.parsing import name_key
from coaching.rules import Status
from coaching.settings import TeamConfig, team_config
from handlers.people import profiles_of, resolve_owners
from store import queries
from store.db import Database, between_turns

IMPORTED_BY = "import"  # recorded as who added the leads and contacts
# Leads written per transaction: a few tenths of a second of SQLite's write lock each.
IMPORT_CHUNK = 250


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
    default_owner: str | None = None,
    owners_file: Path | None = None,
    statuses_file: Path | None = None,
) -> int:
    """0 when imported (or a clean dry run), 1 when the file is refused: nothing is half-imported.

    `owners_file` maps CRM owners to Slack people; `default_owner` takes the rows whose owner is
    neither in it nor found in Slack (or blank).
    """
    maps: list[str] = []
    for source in (owners_file, statuses_file):
        try:
            maps.append(read_text(source) if source else "")
        except (OSError, ValueError) as error:
            print(f"Can't read {source}: {error}", file=out)
            return 1
    owners_text, statuses_text = maps
    mapping, map_problems = read_owner_map(owners_text, owners_file.name) if owners_file else ({}, [])
    status_map, status_problems = (
        read_status_map(statuses_text, statuses_file.name) if statuses_file else ({}, [])
    )
    try:
        with open_csv(path) as file:
            parsed = read_csv(
                file, day_first=day_first, default_owner=default_owner is not None, statuses=status_map
            )
    except (OSError, ValueError) as error:
        print(f"Can't read {path}: {error}", file=out)
        return 1
    with db.readers.begin() as session:
        # Names to match owners against without Slack.
        active = queries.people.rep_names(session, team_ids=[team_id], active_only=True)
        known = [(user, name) for (_, user), name in active.items()]
        names = {
            user: name for (_, user), name in queries.people.rep_names(session, team_ids=[team_id]).items()
        }
    written = {row.owner for row in parsed.rows}
    wanted = {w for w in written if w and name_key(w) not in mapping} | set(mapping.values())
    found, unknown = resolve_owners(client, wanted | ({default_owner} if default_owner else set()), known)
    assigned = assign_owners(
        written, mapping, found, unknown, default_owner, owners_file, slack=client is not None
    )
    problems_found = [*map_problems, *status_problems]
    if default_owner is not None and default_owner not in found:
        why = unknown.get(default_owner, "not someone in this Slack workspace")
        problems_found.append(Problem(0, f"--default-owner {default_owner!r}: {why}"))
    # Owners Baton hasn't met yet: named in the report, and remembered so the export can name them.
    profiles = profiles_of(client, {slack_id for slack_id, _ in assigned.values() if slack_id} - set(names))
    names.update({profile.user_id: profile.name for profile in profiles})
    now = now or datetime.now(UTC)
    owners = {w: slack_id for w, (slack_id, _) in assigned.items() if slack_id}
    why_not = {w: how for w, (slack_id, how) in assigned.items() if not slack_id}
    with db.readers.begin() as session:
        # The whole file is planned first, without the write lock: every problem is found before
        # anything is written (all or nothing, for a file with problems).
        config = team_config(session, team_id=team_id, defaults=defaults)
        total = 2 * len(parsed.rows)
        plan = import_rows(
            session,
            team_id=team_id,
            rows=parsed.rows,
            owners=owners,
            unknown=why_not,
            user_id=IMPORTED_BY,
            now=now,
            rules=config.rules,
            team_days=config.digest_days,
            write=False,
            progress=_share(progress, total, start=0, scale=1),
        )
    if plan.ok and not dry_run and not parsed.problems and not problems_found:
        imported = 0
        for chunk in in_chunks(parsed.rows):
            # Short write transactions, each re-reading its own leads: SQLite has one write lock,
            # and a command acknowledged meanwhile needs it within a second (issue 19: 60,000 rows
            # in one transaction held it 11 s). Running the same file again after a crash part-way
            # finishes it: rows already written are unchanged.
            started = time.monotonic()
            with db.sessions.begin() as session:
                import_rows(
                    session,
                    team_id=team_id,
                    rows=chunk,
                    owners=owners,
                    unknown=why_not,
                    user_id=IMPORTED_BY,
                    now=now,
                    rules=config.rules,
                    team_days=config.digest_days,
                    write=True,
                    # A chunk counts its rows twice (planned, written): half a step each here.
                    progress=_share(progress, total, start=len(parsed.rows) + imported, scale=0.5),
                )
                if imported == 0:
                    for profile in profiles:
                        people.remember(session, team_id=team_id, profile=profile, now=now)
            imported += len(chunk)
            between_turns(db, held=time.monotonic() - started)
    # All or nothing: with any problem, nothing was written and the file is refused whole.
    problems = sorted([*parsed.problems, *problems_found, *plan.problems], key=lambda p: (p.line, p.text))
    report(
        plan,
        problems,
        parsed.columns.understood(parsed.headers) if parsed.columns else [],
        parsed.columns.ignored if parsed.columns else (),
        path=path,
        team_id=team_id,
        dry_run=dry_run,
        out=out,
        names=names,
        owners=owner_lines(parsed.rows, assigned, names),
        statuses=parsed.statuses,
    )
    return 1 if problems else 0


def _share(
    progress: Callable[[int, int], None] | None, total: int, *, start: int, scale: float
) -> Callable[[int, int], None] | None:
    """One phase's progress (`done` of its own total) as a share of the whole import's."""
    if progress is None:
        return None
    return lambda done, _total: progress(min(total, start + int(done * scale)), total)


def in_chunks(rows: Sequence[Row]) -> Iterator[list[Row]]:
    """The rows, a few hundred leads at a time; every row of a lead in the same chunk."""
    by_lead: dict[str, list[Row]] = {}
    for row in rows:
        by_lead.setdefault(row.key, []).append(row)
    chunk: list[Row] = []
    leads = 0
    for lead_rows in by_lead.values():
        chunk.extend(lead_rows)
        leads += 1
        if leads == IMPORT_CHUNK:
            yield chunk
            chunk, leads = [], 0
    if chunk:
        yield chunk


def read_owner_map(text: str, name: str) -> tuple[dict[str, str], list[Problem]]:
    """`--owners MAP.csv`: the owner as the CRM writes it, then the Slack person (an id, an e-mail or a
    name); a header row is optional. Keys are compared as lead names are (case and spacing aside)."""
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for number, values in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [value.strip() for value in values]
        if not any(cells):
            continue
        if number == 1 and (
            name_key(cells[0]) in MAP_HEADERS or (len(cells) > 1 and name_key(cells[1]) in MAP_HEADERS)
        ):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            problems.append(
                Problem(
                    0,
                    f"{name} row {number}: write the CRM owner, a comma, then their Slack id, e-mail or name",
                )
            )
            continue
        mapping[name_key(cells[0])] = cells[1]
    return mapping, problems


def read_status_map(text: str, name: str) -> tuple[dict[str, Status], list[Problem]]:
    """`--statuses MAP.csv`: the status as the CRM writes it, then open, won, lost or backburner
    (a header row is optional). Keys are compared as header words are (case and punctuation aside)."""
    mapping: dict[str, Status] = {}
    problems: list[Problem] = []
    for number, values in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [value.strip() for value in values]
        if not any(cells):
            continue
        target = header_key(cells[1]) if len(cells) > 1 else ""
        if number == 1 and header_key(cells[0]) in STATUS_MAP_HEADERS:
            continue
        status = _BATON_STATUS.get(target)
        if not cells[0] or status is None:
            problems.append(
                Problem(
                    0,
                    f"{name} row {number}: write the CRM's status, a comma, then open, won, lost or backburner",
                )
            )
            continue
        mapping[header_key(cells[0])] = status
    return mapping, problems


STATUS_MAP_HEADERS = frozenset({"status", "crm status", "lead status", "stage", "deal stage", "crm"})
_BATON_STATUS = {
    **{status.value: status for status in Status},
    "back burner": Status.BACKBURNER,
    "closed won": Status.WON,
    "closed lost": Status.LOST,
}


MAP_HEADERS = frozenset(
    {
        "crm owner",
        "owner",
        "lead owner",
        "from",
        "crm",
        "slack",
        "slack person",
        "slack user",
        "slack id",
        "to",
    }
)


def assign_owners(
    written: set[str],
    mapping: dict[str, str],
    found: dict[str, str],
    unknown: dict[str, str],
    default_owner: str | None,
    owners_file: Path | None,
    *,
    slack: bool = True,
) -> dict[str, tuple[str | None, str]]:
    """Each owner as the file writes it → (Slack id, how it was decided) or (None, why not).

    Without Slack (no token) ids are taken as written and names matched against known reps.
    """
    default_id = found.get(default_owner) if default_owner else None
    assigned: dict[str, tuple[str | None, str]] = {}
    for owner in written:
        target = mapping.get(name_key(owner)) if owner else None
        if target is not None:
            assert owners_file is not None
            if target in found:
                assigned[owner] = (found[target], f"from {owners_file.name}")
            else:
                why = unknown.get(target, "not someone in this Slack workspace")
                assigned[owner] = (None, f"{owners_file.name} gives {target!r}: {why}")
        elif owner and owner in found:
            assigned[owner] = (
                found[owner],
                "found in Slack" if slack else "as written (no Slack token to check)",
            )
        elif default_id is not None:
            assigned[owner] = (
                default_id,
                "--default-owner" + (" (not found)" if owner else " (none given)"),
            )
        else:
            assigned[owner] = (None, unknown.get(owner, "not someone in this Slack workspace"))
    return assigned


def owner_lines(
    rows: Sequence[Row], assigned: dict[str, tuple[str | None, str]], names: dict[str, str]
) -> list[str]:
    """Who got what: each owner in the file, the Slack person their leads go to, and why."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.owner] = counts.get(row.owner, 0) + 1
    lines = []
    for owner in sorted(counts, key=lambda o: (-counts[o], o)):
        slack_id, how = assigned.get(owner, (None, ""))
        if slack_id is None:
            continue  # listed under the problems
        rows_text = f"{counts[owner]} row{'' if counts[owner] == 1 else 's'}"
        person = f"{names[slack_id]} ({slack_id})" if names.get(slack_id) else slack_id
        lines.append(f"  {repr(owner) if owner else '(no owner)'} → {person}: {rows_text}, {how}")
    return lines


def read_text(path: Path) -> str:
    """A small file read whole (the --owners and --statuses maps), after the same checks as the export."""
    with open_csv(path) as file:
        return file.read()


_CHUNK = 1024 * 1024


def open_csv(path: Path) -> TextIO:
    """The file opened for reading a line at a time, once it is known to be a regular file of text.

    A pipe or a device is refused before it is opened (opening a FIFO waits for a writer; /dev/zero
    never ends). The bytes are checked first in chunks, so memory stays flat whatever the size:
    a workbook or any NUL byte is not a CSV, and text that isn't UTF-8 is Excel's Windows-1252.
    """
    if not stat.S_ISREG(path.stat().st_mode):  # OSError when missing or unreadable: the caller says so
        raise ValueError("it isn't a regular file (a pipe, a device or a folder): save the export to a file")
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig"
    offset = 0
    with path.open("rb") as raw:
        while chunk := raw.read(_CHUNK):
            if offset == 0 and (chunk.startswith(b"PK\x03\x04") or b"\x00" in chunk[:4096]):
                raise ValueError(
                    "it looks like a spreadsheet workbook: save it as CSV (File → Save as → CSV UTF-8)"
                )
            if (nul := chunk.find(b"\x00")) >= 0:
                raise ValueError(
                    f"it holds binary data (a NUL byte at byte {offset + nul:,}), not text: "
                    "export it from the CRM again as CSV"
                )
            if encoding == "utf-8-sig":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    # Excel's plain "CSV (Comma delimited)" on Windows writes Windows-1252, not UTF-8.
                    encoding = "cp1252"
            offset += len(chunk)
    if encoding == "utf-8-sig":
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "cp1252"
    return path.open(encoding=encoding, errors="replace", newline="")


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
    names: dict[str, str] | None = None,
    owners: list[str] | None = None,
    statuses: Sequence[StatusRead] = (),
) -> None:
    refused = bool(problems)
    names = names or {}
    mode = "dry run: nothing is written" if dry_run else "nothing was written" if refused else "imported"
    print(f"{path.name} → team {team_id} ({mode})", file=out)
    if understood:
        print(f"Columns read as: {'; '.join(understood)}", file=out)
    if owners:
        print("Owners:", file=out)
        for line in owners:
            print(line, file=out)
    if plan.erased:
        print(f"{plan.erased} row(s) name someone erased on request: they stay out of Baton.", file=out)
    if statuses:
        print("Statuses:", file=out)
        for line in status_lines(statuses):
            print(line, file=out)
    # Owner and status are what the lead has after the import: Baton's own where it keeps them.
    print(
        f"  {'row':>5}  {'action':<10} {_fit('lead', LEAD_WIDTH)} {_fit('owner', OWNER_WIDTH)} "
        f"{'status':<11} {_fit('contact', CONTACT_WIDTH)} notes",
        file=out,
    )
    for row in plan.rows:
        notes = [", ".join(row.changes)] if row.changes else []
        if row.kept:
            why = (
                "no date in the file and Baton has logged on it since"
                if row.why_kept == "undated"
                else "Baton's is newer"
            )
            notes.append(f"{why}: keeps its {', '.join(row.kept)}")
        owner = names.get(row.owner) or row.owner
        print(
            f"  {row.line:>5}  {row.action.value:<10} {_fit(row.lead, LEAD_WIDTH)} {_fit(owner, OWNER_WIDTH)} "
            f"{row.status.value:<11} {_fit(row.person or '', CONTACT_WIDTH)} {'; '.join(notes)}".rstrip(),
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
    counts = summary(plan)
    problem_count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    if refused:
        print(f"Refused, nothing written: {problem_count} (the rest: {counts or 'no rows'}).", file=out)
    elif dry_run:
        print(f"Dry run, would import: {counts or 'no rows'}; no problems.", file=out)
    else:
        print(f"Imported: {counts or 'no rows'}; no problems.", file=out)


LEAD_WIDTH, OWNER_WIDTH, CONTACT_WIDTH = 32, 20, 24


def status_lines(statuses: Sequence[StatusRead]) -> list[str]:
    """Each status word in the file, what Baton read it as and why: most rows first."""
    lines = []
    for read in sorted(statuses, key=lambda r: (-r.rows, r.word)):
        rows_text = f"{read.rows} row{'' if read.rows == 1 else 's'}"
        how = {
            StatusHow.KNOWN: "",
            StatusHow.TELLING: f", {read.how.value}",
            StatusHow.MAPPED: f", {read.how.value}",
            StatusHow.UNKNOWN: (
                ": a status Baton doesn't know, imported as open (to read it otherwise, "
                "map it in a file given with --statuses MAP.csv)"
            ),
        }[read.how]
        lines.append(f"  {read.word!r} → {read.status.value}: {rows_text}{how}")
    return lines


def summary(plan: ImportPlan) -> str:
    """Leads by what happened to them, then contacts: "2 new leads, 1 unchanged, 3 contacts added"."""
    parts = []
    for action, one, many in _LABELS:
        count = plan.leads(action)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    for done in ("added", "updated"):
        count = plan.contacts(done)
        if count:
            parts.append(f"{count} contact{'' if count == 1 else 's'} {done}")
    return ", ".join(parts)


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


_LABELS = (
    (Action.ADD, "new lead", "new leads"),
    (Action.UPDATE, "updated", "updated"),
    (Action.UNCHANGED, "unchanged", "unchanged"),
)


def run_export(
    db: Database, *, team_id: str, touches: bool, out: TextIO, client: WebClient | None = None
) -> int:
    """The pipeline (or the touch log) as CSV, each person's name beside their Slack id."""
    with db.readers.begin() as session:
        names = {
            user: name for (_, user), name in queries.people.rep_names(session, team_ids=[team_id]).items()
        }
        unnamed = set(queries.crm.people_in_pipeline(session, team_id=team_id)) - {
            i for i, name in names.items() if name
        }
    names.update({profile.user_id: profile.name for profile in profiles_of(client, unnamed)})
    with db.readers.begin() as session:
        if touches:
            rows = touch_rows(session, team_id=team_id, names=names)
        else:
            rows = pipeline_rows(session, team_id=team_id, names=names)
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
        teams = sorted(
            set(queries.people.known_teams(session)) | set(queries.digests.teams_with_leads(session))
        )
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
