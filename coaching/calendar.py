"""The calendar a coach keeps: working days, local dates and the send window. Standard library only.

Every rule that says "today", "due", "overdue", "N days ago" or "the day before" goes through
these functions, so a follow-up, a digest and a manager's view agree about what day it is. Days
are calendar days in a person's own time zone (never periods of 24 hours), and a set of working
days is weekday numbers, 0 = Monday, as `date.weekday()` gives them.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NUMBERS = {day[:3]: number for number, day in enumerate(WEEKDAYS)}
MON_FRI: frozenset[int] = frozenset(range(5))
EVERY_DAY: frozenset[int] = frozenset(range(7))

# A digest missed while the clock was down still goes out up to this long after its time, the
# same local day; a time later than LATEST_SEND_TIME would leave less than that before midnight.
SEND_WINDOW = timedelta(hours=4)
LATEST_SEND_TIME = time(20, 0)


class BadDays(ValueError):
    """Working days that can't be read, with a message a person can act on."""


# ---- reading and writing a set of working days ---------------------------------------------------------


def parse_workdays(raw: str) -> frozenset[int]:
    """`mon-fri`, `sun-thu` (a range may wrap past Sunday), `mon,wed,fri`, or a mix: `mon-wed,fri`."""
    days: set[int] = set()
    for part in raw.casefold().replace(" ", "").split(","):
        ends = part.split("-")
        if not part or len(ends) > 2 or any(end[:3] not in DAY_NUMBERS for end in ends):
            raise BadDays(f"must be days like mon-fri, sun-thu or mon,wed,fri, got {raw!r}")
        day, stop = DAY_NUMBERS[ends[0][:3]], DAY_NUMBERS[ends[-1][:3]]
        days.add(day)
        while day != stop:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def workdays_text(days: frozenset[int]) -> str:
    """As people write them: `mon-fri`, `sun-thu`, `mon,wed,fri` (parse_workdays reads it back)."""
    if len(days) == 7:
        return "mon-sun"
    parts = []
    for start in sorted(days):
        if (start - 1) % 7 in days:
            continue  # inside a run that starts earlier (runs may wrap past Sunday)
        end = start
        while (end + 1) % 7 in days:
            end = (end + 1) % 7
        first, last = WEEKDAYS[start][:3], WEEKDAYS[end][:3]
        length = (end - start) % 7 + 1
        parts.append(first if length == 1 else f"{first},{last}" if length == 2 else f"{first}-{last}")
    return ",".join(parts)


def _usable(workdays: frozenset[int]) -> frozenset[int]:
    # The parser never yields an empty week; if one arrives anyway, read it as every day rather
    # than searching forever for a working day that never comes.
    return workdays or EVERY_DAY


# ---- working days ------------------------------------------------------------------------------------


def is_working_day(day: date, workdays: frozenset[int]) -> bool:
    return day.weekday() in _usable(workdays)


def next_working_day(day: date, workdays: frozenset[int]) -> date:
    """`day` itself when it is a working day, otherwise the first working day after it."""
    usable = _usable(workdays)
    while day.weekday() not in usable:
        day += timedelta(days=1)
    return day


def last_working_day_before(day: date, workdays: frozenset[int]) -> date:
    """The working day a "day before" reminder belongs on: a Monday meeting is reminded on Friday."""
    usable = _usable(workdays)
    day -= timedelta(days=1)
    while day.weekday() not in usable:
        day -= timedelta(days=1)
    return day


def follow_up_day(touched_on: date, days: int, workdays: frozenset[int]) -> date:
    """The spacing counts calendar days (the client's clock, not ours); the date then moves off a day off."""
    return next_working_day(touched_on + timedelta(days=days), workdays)


def add_working_days(day: date, count: int, workdays: frozenset[int]) -> date:
    """The working day `count` working days after `day` (0: `day` itself, or the next working day)."""
    usable = _usable(workdays)
    day = next_working_day(day, usable)
    weeks, rest = divmod(count, len(usable))
    day += timedelta(weeks=weeks)
    while rest:
        day += timedelta(days=1)
        rest -= day.weekday() in usable
    return day


def working_days_between(start: date, end: date, workdays: frozenset[int]) -> int:
    """Working days after `start`, up to and including `end` (0 when `end` is not after `start`).

    "Overdue 1 working day" is a follow-up due Friday, looked at on Monday.
    """
    if end <= start:
        return 0
    usable = _usable(workdays)
    weeks, rest = divmod((end - start).days, 7)
    count = weeks * len(usable)
    for offset in range(1, rest + 1):
        count += (start.weekday() + offset) % 7 in usable
    return count


# ---- calendar days in a time zone ---------------------------------------------------------------------


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date an instant falls on where the person is."""
    return instant.astimezone(tz).date()


def calendar_days_between(earlier: datetime, later: datetime, tz: ZoneInfo) -> int:
    """Midnights crossed between two instants in `tz`: a Friday touch seen on Sunday is 2 days ago,
    whatever the hours. Negative when `earlier` is the later date."""
    return (_reference_date(later, tz) - local_date(earlier, tz)).days


@lru_cache(maxsize=256)
def _reference_date(instant: datetime, tz: ZoneInfo) -> date:
    """`local_date` of the instant everything is measured against (`now`): a morning's digests and
    reviews compare a million leads with the same few (now, zone) pairs, so each is worked out once."""
    return local_date(instant, tz)


def days_ago(instant: datetime, *, now: datetime, tz: ZoneInfo) -> int:
    """An age in calendar days, never negative (a touch dated later today is 0 days old)."""
    # `calendar_days_between` written out: a morning asks this a few million times.
    return max(0, (_reference_date(now, tz) - instant.astimezone(tz).date()).days)


def local_noon(day: date, tz: ZoneInfo) -> datetime:
    """The instant a touch typed with only a date is filed under: midday, so that date is the one
    shown in every time zone a colleague might read it from (noon is at most 14 hours from midnight)."""
    return datetime.combine(day, time(12, 0), tzinfo=tz).astimezone(UTC)


# ---- the send window ----------------------------------------------------------------------------------


def send_time_problem(at: time) -> str | None:
    """Why a digest time can't be kept, or None. Any time up to LATEST_SEND_TIME leaves a full
    window the same day for a clock that was down to catch up."""
    if at > LATEST_SEND_TIME:
        return (
            f"must be {LATEST_SEND_TIME:%H:%M} or earlier, so that a digest the clock missed "
            f"can still go out the same day (up to {SEND_WINDOW.seconds // 3600} hours late)"
        )
    return None


def in_send_window(local_now: datetime, *, at: time, workdays: frozenset[int]) -> bool:
    """Is it time for a message due at `at` on a working day: from `at` until SEND_WINDOW later,
    never past midnight (the claim per local day keeps it to one)."""
    if local_now.weekday() not in _usable(workdays):
        return False
    since = _minutes(local_now.time()) - _minutes(at)
    return 0 <= since < SEND_WINDOW.total_seconds() / 60


def _minutes(clock: time) -> float:
    return clock.hour * 60 + clock.minute + clock.second / 60
