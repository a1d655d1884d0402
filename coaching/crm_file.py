"""Reading a CRM export (Salesforce, HubSpot, a spreadsheet) into rows Baton can import. Pure: text in, rows out.

A Baton lead is the company a rep sells to (what they type after /logcall); a CRM "lead" row is
often a person at a company. So the lead's name comes from the Company column when there is one,
and the person becomes the lead's contact; several rows for one company make one lead. What the
headers and status words mean is in crm_words.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TextIO

from coaching.crm_words import (
    NO,
    YES,
    Columns,
    StatusHow,
    header_key,
    match_headers,
    most_final,
    read_reached,
    read_status_word,
)
from coaching.parsing import MAX_EMAIL, MAX_LEAD_NAME, MAX_PHONE, name_key
from coaching.rules import Status


@dataclass(frozen=True, slots=True)  # slots: a 400,000-row file keeps 400,000 of these
class Row:
    line: int  # as a spreadsheet numbers it: the header is line 1
    lead: str
    owner: str  # a Slack user id, an e-mail or a name, as written
    status: Status
    created: datetime | None
    last_activity: datetime | None
    attempts: int
    person: str | None
    role: str | None
    decision_maker: bool
    reached: bool = False  # the status (or a Reached column) says someone has talked with them
    last_contacted: datetime | None = None
    email: str | None = None
    phone: str | None = None
    notes: str | None = None
    opted_out: bool = False
    opted_out_at: datetime | None = None  # when the file says so; otherwise the import's time
    lost_reason: str | None = None
    # The file's Reached column as written (None: no such column, or blank). Baton's export writes
    # "no" for a lead whose current round of tries hasn't reached anyone, with the earlier
    # conversation still under Last Contacted (a hand-off starts a new round).
    said_reached: bool | None = None
    next_follow_up: date | None = None
    meeting_on: date | None = None
    snoozed_until: date | None = None
    key: str = ""  # the lead's name as lookups compare it (worked out when not given)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", name_key(self.lead))


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the file as a whole
    text: str


@dataclass
class Parsed:
    headers: list[str] = field(default_factory=list)
    columns: Columns | None = None
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    statuses: "list[StatusRead]" = field(default_factory=list)  # each status word met, as read


_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
)
_DAY_FIRST = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d.%m.%Y", "%d/%m/%y")


@lru_cache(maxsize=4096)  # exports repeat their dates: read each once, and share the one datetime
def read_date(text: str, *, day_first: bool) -> datetime | None:
    """A date as CRMs write it (ISO, US month/day, or day/month with `day_first`), in UTC.

    A date without a time is taken at noon UTC, as a back-dated touch is: that instant falls on the
    same day in every working time zone, so "18 Nov" is never the 17th for a rep in New York.
    """
    value = text.strip().replace("T", " ").removesuffix("Z")
    if not value:
        return None
    with suppress(ValueError):  # not ISO: try the formats CRMs write below
        moment = datetime.fromisoformat(value)
        if len(value) == len("2026-11-02"):
            return moment.replace(hour=12, tzinfo=UTC)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    formats = _DAY_FIRST + _FORMATS if day_first else _FORMATS + _DAY_FIRST
    for pattern in formats:
        try:
            moment = datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
        return moment if "%H" in pattern or "%I" in pattern else moment.replace(hour=12)
    raise ValueError(text)


# A value longer than this is not a lead, a name or a note: it is a quote that never closed, or not a
# CSV at all. Python's csv module refuses one at 128 KiB; a physical line is capped too, so a file
# without line breaks can't be read into memory whole before the first value is even looked at.
MAX_FIELD = 128 * 1024
MAX_LINE = 1024 * 1024


class _Lines:
    """The file's lines for csv.reader, a line at a time, keeping only the current record's own lines:
    enough to say where a quote opened that never closed, never the whole file."""

    def __init__(self, source: Iterable[str] | TextIO) -> None:
        self.source = source
        self.record: list[str] = []  # the physical lines of the record being read
        self.too_long = 0  # the line number of a line over MAX_LINE, once met
        self.row = 1  # the last record read, as a spreadsheet numbers it (the header is 1)

    def __iter__(self) -> Iterator[str]:
        read = getattr(self.source, "readline", None)
        lines = iter(self.source) if read is None else iter(lambda: read(MAX_LINE + 1), "")
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_LINE:
                self.too_long = number
                return
            self.record.append(line)
            yield line


@dataclass(frozen=True, slots=True)
class StatusRead:
    """How one status word in the file was read, and how many rows say it."""

    word: str  # as the file first writes it
    status: Status
    how: StatusHow
    rows: int


def read_csv(
    source: str | Iterable[str] | TextIO,
    *,
    day_first: bool = False,
    default_owner: bool = False,
    statuses: Mapping[str, Status] | None = None,
) -> Parsed:
    """Every row read, or the reason it can't be; nothing about Slack or the database yet.

    `source` is the text, or better an open file: it is read a line at a time, so memory follows
    the rows kept, not the size of the file. With `default_owner`, a row (or a whole file) without
    an owner is not a problem: the import gives it to the default owner. `statuses` maps a CRM's
    own status words (keyed as `header_key` makes them) to Baton's.
    """
    parsed = Parsed()
    lines = _Lines(io.StringIO(source) if isinstance(source, str) else source)
    reader = csv.reader(lines)
    seen: dict[str, tuple[str, Status, StatusHow]] = {}  # status key -> (word, status, how)
    counts: Counter[str] = Counter()
    try:
        header = next(reader, None)
        if header and header[0].startswith("\ufeff"):  # Excel's UTF-8 files start with a BOM
            header[0] = header[0][1:]
        if not header:
            parsed.problems.append(
                Problem(0, _too_long(lines.too_long) if lines.too_long else "The file is empty.")
            )
            return parsed
        _read_rows(parsed, header, reader, lines, day_first, default_owner, statuses or {}, seen, counts)
    except csv.Error as error:
        parsed.problems.append(_broken(error, lines))
    if lines.too_long:
        parsed.problems.append(Problem(lines.row + 1, _too_long(lines.too_long)))
    parsed.statuses = [
        StatusRead(word, status, how, counts[key]) for key, (word, status, how) in seen.items()
    ]
    return parsed


def _too_long(line: int) -> str:
    return (
        f"line {line} runs over {MAX_LINE // (1024 * 1024)} MB without a line break: "
        "this is not a CSV export Baton can read (save the sheet as CSV UTF-8)."
    )


def _broken(error: csv.Error, lines: _Lines) -> Problem:
    """A csv module error in words: where the record started, and the likely cause."""
    start = lines.row + 1
    if "field larger" in str(error):
        return Problem(
            start,
            f'a value here runs over {MAX_FIELD // 1024} KiB: usually a quote (") that opens and never '
            "closes, so everything after it reads as one value. Check the quotes on this line.",
        )
    return Problem(start, f"this line can't be read as CSV ({error}): check its quotes.")


def _read_rows(
    parsed: Parsed,
    header: list[str],
    reader: Iterator[list[str]],
    lines: _Lines,
    day_first: bool,
    default_owner: bool,
    statuses: Mapping[str, Status],
    seen: dict[str, tuple[str, Status, StatusHow]],
    counts: Counter[str],
) -> None:
    parsed.headers = header
    if len(header) == 1 and _one_field_record(header[0]):
        parsed.problems.append(Problem(0, _quoted_line("The header row", header[0])))
        return
    columns = match_headers(header)
    parsed.columns = columns
    found = columns.found
    if "company" not in found and "name" not in found:
        parsed.problems.append(Problem(0, "No column names the lead: add one called Company (or Lead Name)."))
    if "owner" not in found and "owner_email" not in found and not default_owner:
        parsed.problems.append(
            Problem(
                0,
                "No column names the owner: add Lead Owner (a Slack id or name) or Owner Email, "
                "or run with --default-owner.",
            )
        )
    if parsed.problems:
        return
    talked: dict[str, bool] = {}  # status key -> whether it says they've talked
    shared = _Shared()
    lines.record.clear()
    for values in reader:
        lines.row = number = lines.row + 1
        # A record whose quoted value ran on to the end of the file: its quote never closed.
        if _unclosed(lines.record):
            parsed.problems.append(
                Problem(
                    number,
                    'a quote (") opens on this line and never closes, so the rest of the file reads as one '
                    "value: close the quote (or remove it) and run the import again.",
                )
            )
            return
        lines.record.clear()
        if not any(v.strip() for v in values):
            continue  # blank lines at the end of a spreadsheet
        if len(values) == 1 and len(header) > 1 and _one_field_record(values[0]):
            parsed.problems.append(Problem(number, _quoted_line("This line", values[0])))
            continue
        row = _row(
            number,
            values,
            found,
            day_first,
            default_owner,
            parsed.problems,
            statuses,
            seen,
            counts,
            talked,
            shared,
        )
        if row is not None:
            parsed.rows.append(row)


class _Shared:
    """One string for text many rows repeat (owners, roles, a company's name and its key): a large
    export keeps a row per line, and that row needn't carry its own copy of each."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.keys: dict[str, str] = {}

    def text(self, value: str) -> str:
        return self.texts.setdefault(value, value)

    def key(self, lead: str) -> str:
        key = self.keys.get(lead)
        if key is None:
            key = self.keys[lead] = name_key(lead)
        return key


def _unclosed(record: list[str]) -> bool:
    """Whether a record's lines end inside a quoted value: read again strictly, which refuses that."""
    if len(record) < 2:
        return False
    try:
        list(csv.reader(record, strict=True))
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _one_field_record(value: str) -> bool:
    """A whole record in one field: what a spreadsheet writes when each line was pasted into one cell."""
    return "," in value or ";" in value or "\t" in value


def _quoted_line(what: str, value: str) -> str:
    shown = value if len(value) <= 60 else value[:59] + "…"
    separator = next(s for s in (",", ";", "\t") if s in value)
    named = {",": "commas", ";": "semicolons", "\t": "tabs"}[separator]
    if separator != ",":
        return (
            f"{what} is one field holding a whole record separated by {named} ({shown!r}): "
            "Baton reads comma-separated files. Save it again as CSV (comma delimited)."
        )
    return (
        f"{what} is one quoted field holding a whole record ({shown!r}): the quotes around the line "
        "make it a single value. Remove the quote at the start and end of each line (or save the "
        "sheet again as CSV, with each value in its own column) and run the import again."
    )


def _row(
    line: int,
    values: list[str],
    found: dict[str, tuple[int, ...]],
    day_first: bool,
    default_owner: bool,
    problems: list[Problem],
    statuses: Mapping[str, Status],
    seen: dict[str, tuple[str, Status, StatusHow]],
    counts: Counter[str],
    talked: dict[str, bool],
    shared: "_Shared",
) -> Row | None:
    # Each field's non-empty values, read once per row (a file of 400,000 rows asks for 16 fields each).
    width = len(values)
    fields: dict[str, list[str]] = {}
    for name, indexes in found.items():
        texts = [text for i in indexes if i < width and (text := values[i].strip())]
        if texts:
            fields[name] = [unformula(text) for text in texts]

    def all_of(name: str) -> list[str]:
        return fields.get(name, [])

    def get(name: str) -> str:
        texts = fields.get(name)
        return texts[0] if texts else ""

    wrong: list[str] = []
    first_last = " ".join(part for part in (get("first_name"), get("last_name")) if part)
    person = first_last or get("contact") or (get("name") if "company" in found else "") or None
    lead = get("company") or get("name")
    if not lead:
        wrong.append("no lead name")
    elif len(lead) > MAX_LEAD_NAME:
        wrong.append(f"the lead name is over {MAX_LEAD_NAME} characters")
    owner = get("owner_email") or get("owner")
    if not owner and not default_owner:
        wrong.append("no owner (or run with --default-owner)")
    read: list[Status] = []
    reached = False
    for word in all_of("status"):
        key = header_key(word)
        if key not in seen:
            seen[key] = (word, *read_status_word(word, statuses))
            talked[key] = read_reached([word])
        counts[key] += 1
        read.append(seen[key][1])
        reached = reached or talked[key]
    status = most_final(read)
    dates: dict[str, datetime | None] = {}
    for name in ("created", "last_activity", "last_contacted", "next_follow_up", "meeting", "snoozed"):
        try:
            dates[name] = read_date(get(name), day_first=day_first)
        except ValueError:
            wrong.append(f"{get(name)!r} isn't a date Baton can read")
            dates[name] = None
    attempts_text = get("attempts").replace(",", "")
    attempts = 0
    if attempts_text:
        try:
            attempts = int(float(attempts_text))
            if attempts < 0:
                raise ValueError
        except ValueError:
            wrong.append(f"attempts {get('attempts')!r} isn't a number")
    decides = header_key(get("decision_maker"))
    if decides not in YES and decides not in NO:
        wrong.append(f"decision-maker {get('decision_maker')!r} should be yes or no")
    reached_text = header_key(get("reached"))
    if reached_text not in YES and reached_text not in NO:
        wrong.append(f"reached {get('reached')!r} should be yes or no")
    opted_out, opted_out_at = _opt_out(all_of("opt_out"), day_first, wrong)
    email, phone = get("email") or None, " ".join(get("phone").split()) or None
    if email and len(email) > MAX_EMAIL:
        wrong.append(f"the e-mail is over {MAX_EMAIL} characters")
    if phone and len(phone) > MAX_PHONE:
        wrong.append(f"the phone number is over {MAX_PHONE} characters")
    if wrong:
        problems.append(Problem(line, "; ".join(wrong)))
        return None
    return Row(
        line=line,
        lead=shared.text(lead := " ".join(lead.split())),  # a company's rows share its name
        key=shared.key(lead),
        owner=shared.text(owner),  # a few owners on many rows: one string each
        status=status,
        created=dates["created"],
        last_activity=dates["last_activity"],
        attempts=attempts,
        person=" ".join(person.split()) if person else None,
        role=shared.text(role) if (role := get("title")) else None,
        decision_maker=decides in YES,
        reached=reached_text in YES or reached,
        last_contacted=dates["last_contacted"],
        email=email,
        phone=phone,
        notes=get("notes") or None,
        opted_out=opted_out,
        opted_out_at=opted_out_at,
        lost_reason=get("lost_reason") or None,
        said_reached=None if not reached_text else reached_text in YES,
        next_follow_up=_day(dates["next_follow_up"]),
        meeting_on=_day(dates["meeting"]),
        snoozed_until=_day(dates["snoozed"]),
    )


def _day(moment: datetime | None) -> date | None:
    """A calendar date the file gives (a follow-up, a meeting): read at noon UTC, so its own day."""
    return moment.date() if moment is not None else None


def _opt_out(values: list[str], day_first: bool, wrong: list[str]) -> tuple[bool, datetime | None]:
    """Opted out when any opt-out column says so: yes, true, 1, "Opted out", or the date it happened."""
    for value in values:
        key = header_key(value)
        if key in NO or key in ("opted in", "subscribed"):
            continue
        if key in YES or key in ("opted out", "unsubscribed", "do not call"):
            return True, None
        try:
            return True, read_date(value, day_first=day_first)
        except ValueError:
            wrong.append(f"opted out {value!r} should be yes, no or a date")
    return False, None


EXPORT_HEADERS = (
    "Company",
    "Lead Owner",
    "Lead Owner Name",
    "Lead Status",
    "Lost Reason",
    "Opted Out",
    "Created Date",
    "Last Activity Date",
    "Last Contacted",
    "Reached",
    "Attempts",
    "Contact Name",
    "Title",
    "Decision Maker",
    "Email",
    "Phone",
    "Next Follow-up",
    "Meeting",
    "Snoozed Until",
    "Notes",
)
TOUCH_HEADERS = ("Company", "Date", "Outcome", "Logged By", "Logged By Name", "Note")


# A cell a spreadsheet would run as a formula ("=HYPERLINK(…)" typed as a lead's name or a note).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """Text that opens in Excel or Sheets as text: OWASP's advice, a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def unformula(value: str) -> str:
    """The value formula_safe guarded, so an export imports back as it was."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()  # to the second: what a CRM or a sheet reads
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return formula_safe(value)
    return value


def write_csv(headers: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> Iterator[str]:
    """CSV text, a line at a time, so a large pipeline streams rather than piles up in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[object]) -> str:
        writer.writerow([_cell(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(headers)
    for values in rows:
        yield line(values)
