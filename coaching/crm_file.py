"""Reading a CRM export (Salesforce, HubSpot, a spreadsheet) into rows Baton can import. Pure: text in, rows out.

A Baton lead is the company a rep sells to (what they type after /logcall); a CRM "lead" row is
often a person at a company. So the lead's name comes from the Company column when there is one,
and the person becomes the lead's contact; several rows for one company make one lead. What the
headers and status words mean is in crm_words.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from coaching.crm_words import NO, YES, Columns, header_key, match_headers, read_reached, read_status
from coaching.parsing import MAX_EMAIL, MAX_LEAD_NAME, MAX_PHONE, name_key
from coaching.rules import Status


@dataclass(frozen=True)
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

    @property
    def key(self) -> str:
        return name_key(self.lead)


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


def read_csv(text: str, *, day_first: bool = False, default_owner: bool = False) -> Parsed:
    """Every row read, or the reason it can't be; nothing about Slack or the database yet.

    With `default_owner`, a row (or a whole file) without an owner is not a problem: the import
    gives it to the default owner.
    """
    parsed = Parsed()
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))  # Excel's UTF-8 files start with a BOM
    if not lines:
        parsed.problems.append(Problem(0, "The file is empty."))
        return parsed
    parsed.headers = lines[0]
    if len(lines[0]) == 1 and _one_field_record(lines[0][0]):
        parsed.problems.append(Problem(0, _quoted_line("The header row", lines[0][0])))
        return parsed
    columns = match_headers(lines[0])
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
        return parsed
    for number, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines at the end of a spreadsheet
        if len(values) == 1 and len(lines[0]) > 1 and _one_field_record(values[0]):
            parsed.problems.append(Problem(number, _quoted_line("This line", values[0])))
            continue
        row = _row(number, values, found, day_first, default_owner, parsed.problems)
        if row is not None:
            parsed.rows.append(row)
    return parsed


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
) -> Row | None:
    def all_of(name: str) -> list[str]:
        return [
            unformula(values[i].strip()) for i in found.get(name, ()) if i < len(values) and values[i].strip()
        ]

    def get(name: str) -> str:
        return next(iter(all_of(name)), "")

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
    status = read_status(all_of("status"))
    if status is None:
        words = " / ".join(all_of("status"))
        wrong.append(
            f"unknown status {words!r} (Baton reads e.g. New, Working, Nurture, Closed Won, Closed Lost)"
        )
    dates: dict[str, datetime | None] = {}
    for name in ("created", "last_activity", "last_contacted"):
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
    assert status is not None
    return Row(
        line=line,
        lead=" ".join(lead.split()),
        owner=owner,
        status=status,
        created=dates["created"],
        last_activity=dates["last_activity"],
        attempts=attempts,
        person=" ".join(person.split()) if person else None,
        role=get("title") or None,
        decision_maker=decides in YES,
        reached=reached_text in YES or read_reached(all_of("status")),
        last_contacted=dates["last_contacted"],
        email=email,
        phone=phone,
        notes=get("notes") or None,
        opted_out=opted_out,
        opted_out_at=opted_out_at,
        lost_reason=get("lost_reason") or None,
    )


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
