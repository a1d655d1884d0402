"""The try-out as a person types into it: the real app, the stand-in Slack, the terminal rendering.

Each test scripts what a person types (a button is pressed by the number the screen shows beside
its label) and reads the screen back.
"""

import io
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.tryout.repl import Tryout
from coaching.touches import NOTE_LIMIT
from store.db import open_database
from store.models import Touch
from tests.test_entry_points import env

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday morning in New York

Typed = str | Callable[[str], str]


def press(label: str, occurrence: int = -1) -> Callable[[str], str]:
    """The number shown beside `label` (its last showing, or the n-th), as a person reads it off."""

    def number(screen: str) -> str:
        found = re.findall(r"(?: |\[)(\d+) " + re.escape(label) + r"(?: |\])", screen)
        assert found, f"no “{label}” on screen"
        return found[occurrence]

    return number


class Screen:
    """A person at the keyboard: types the script line by line; the screen is everything printed."""

    def __init__(self, script: list[Typed]) -> None:
        self.script = list(script)
        self.out = io.StringIO()

    def __call__(self, prompt: str) -> str:
        self.out.write(prompt)
        if not self.script:
            raise EOFError
        item = self.script.pop(0)
        line = item(self.out.getvalue()) if callable(item) else item
        self.out.write(line + "\n")
        return line

    def after(self, marker: str) -> str:
        """What was printed after the last time `marker` was."""
        text = self.out.getvalue()
        return text[text.rindex(marker) + len(marker) :]


@pytest.fixture
def tryout(tmp_path: Path) -> Iterator[Callable[..., Screen]]:
    def run(*script: Typed) -> Screen:
        screen = Screen(list(script))
        Tryout(
            tmp_path / "tryout.db",
            settings=Settings(),
            read=screen,
            out=screen.out,
            clock=lambda: NOW,
            color=False,
        ).run()
        return screen

    yield run


def test_a_button_on_any_lead_in_the_pipeline_reaches_that_lead(tryout: Callable[..., Screen]) -> None:
    screen = tryout("1", "/pipeline", press("Show the lead", 1))  # the second lead's menu
    shown = screen.after("(you pressed “Show the lead”)")
    assert "INITECH" in shown and "HOOLI" not in shown


def test_an_older_messages_buttons_still_work(tryout: Callable[..., Screen]) -> None:
    screen = tryout(
        "1",
        "/handoff wayne @sam Sam knows their CFO",
        "who morgan",
        press("Reject with a reason…"),  # remembered from the request card...
        "cancel",
        "/pipeline @dana",  # ...a newer message with buttons of its own...
        press("Reject with a reason…"),  # ...and the request's button still opens the form
        "Not while the renewal is open",
        "who dana",
    )
    assert screen.out.getvalue().count("┌─ Reject the hand-off") == 2
    assert "That button is no longer there" not in screen.out.getvalue()
    assert "│ Not while the renewal is open" in screen.after("You're Dana Reyes")


def test_a_button_whose_message_has_changed_says_so(tryout: Callable[..., Screen]) -> None:
    screen = tryout(
        "1",
        "/handoff wayne @sam Sam knows their CFO",
        "who morgan",
        press("Approve"),
        press("Reject", 0),  # the card now shows the decision: its buttons are gone
    )
    assert "That button is no longer there" in screen.after("(you pressed “Approve”)")


def test_someone_elses_new_messages_are_mentioned_once(tryout: Callable[..., Screen]) -> None:
    screen = tryout("1", "/handoff wayne @sam Sam knows their CFO", "/pipeline", "/lead show acme")
    assert screen.out.getvalue().count("(Morgan Lee has 1 new message: `who morgan` to see)") == 1


def test_hand_off_from_the_digest_asks_to_whom_and_why_then_asks_a_manager(
    tryout: Callable[..., Screen],
) -> None:
    screen = tryout("1", "digest", press("Hand off…"), "sam", "Sam knows their CFO", "who morgan")
    form = screen.after("(you pressed “Hand off…”)")
    assert "│ Hand it to (a number or a name): sam" in form
    assert "│ Why (optional): Sam knows their CFO" in form
    assert "Asked @morgan to move Acme Corp to @sam. You'll get a DM when they decide." in form
    card = screen.after("You're Morgan Lee")
    assert "@dana wants to hand Acme Corp to @sam." in card and "│ Sam knows their CFO" in card


def test_the_settings_form_shows_every_setting_keeps_what_it_doesnt_change_and_says_saved(
    tryout: Callable[..., Screen],
) -> None:
    fields = 14  # the team's 13 settings and the manager's own working days
    screen = tryout(
        "3",  # Morgan, a manager
        "/coach set ops_channel #sales",
        "/coach settings",
        press("Change settings…"),
        *[""] * 7,  # Enter keeps each value shown...
        "30",  # ...lapse_days
        *[""] * (fields - 8),
        "/coach settings",
    )
    form = screen.after("(you pressed “Change settings…”)")
    assert len(re.findall(r"^│ [A-Z][a-z ]+ .*: ", form, flags=re.M)) == fields
    assert "✅ Saved.\n│  • lapse_days: 120 → 30\n└─ closed" in form
    after = screen.after("morgan ▸ /coach settings")
    assert "• lapse_days 30 —" in after and "• ops_channel #sales —" in after
    assert "┌─" not in after  # no form left open to swallow the command


def test_a_long_line_typed_at_a_terminal_arrives_whole(tmp_path: Path) -> None:
    """At a real terminal the line discipline stops at 4,095 characters unless readline edits the line."""
    note = "word " * 1200
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "tryout", "--db", str(tmp_path / "t.db")],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env={**env(), "TERM": "dumb"},
        close_fds=True,
    )
    os.close(follower)
    screen = b""

    def wait_for(prompt: bytes) -> None:
        nonlocal screen
        deadline = time.monotonic() + 60
        while prompt not in screen:
            assert time.monotonic() < deadline, screen[-500:]
            try:
                screen += os.read(leader, 65536)
            except OSError:
                break

    try:
        wait_for(b"Pick 1-3")
        os.write(leader, b"1\r")
        wait_for("dana ▸ ".encode())
        screen = b""
        line = f"/logcall acme vm {note}".encode()
        for start in range(0, len(line), 512):  # as a paste arrives: in chunks
            os.write(leader, line[start : start + 512])
        os.write(leader, b"\r")
        # The whole line arrived: the reply counts all of it (a touch keeps the first 3,000).
        wait_for(f"Your note was {len(note.strip()):,} characters".encode())
        os.write(leader, b"quit\r")
        process.wait(timeout=60)
    finally:
        process.kill()
        os.close(leader)
    db = open_database(f"sqlite:///{tmp_path / 't.db'}")
    with db.readers.begin() as session:
        stored = session.scalars(select(Touch.note).order_by(Touch.id.desc()).limit(1)).one()
    db.engine.dispose()
    assert stored == note.strip()[:NOTE_LIMIT]


# ---- how the terminal shows Slack's mrkdwn (issue 17 item 16) ----------------------------------------------


def test_every_emoji_baton_sends_is_shown_as_an_emoji_and_italics_may_hold_underscores() -> None:
    from bot.tryout.render import EMOJI, Renderer

    root = Path(__file__).resolve().parents[1]
    used: set[str] = set()
    for path in [*(root / "handlers").rglob("*.py"), *(root / "coaching").rglob("*.py")]:
        used |= set(re.findall(r"(?<![\w:]):([a-z][a-z0-9_+-]*):(?!\w)", path.read_text()))
    assert sorted(used - set(EMOJI)) == []
    render = Renderer(lambda user: user, color=False, width=40)
    assert render.mrkdwn(":wastebasket: _(set in COACH_MANAGER_IDS)_") == "🗑️ (set in COACH_MANAGER_IDS)"
    lines = render.blocks(
        [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Marcus Whitfield-Oyelaran-Montgomery follow-up today"},
            }
        ],
        [],
    )
    assert all(not line.rstrip().endswith("-") for line in lines), lines


def test_digest_typed_twice_or_by_someone_else_sends_each_rep_one_a_day(
    tryout: Callable[..., Screen],
) -> None:
    screen = tryout("2", "digest", "digest", "who dana", "digest")
    text = screen.out.getvalue()
    assert text.count("Good morning, Sam") + text.count("Good afternoon, Sam") == 1
    runs = re.findall(r"\(digest: (\d+) due, (\d+) sent", text)
    assert [int(sent) for _, sent in runs][1:] == [0, 0]  # the clock's rule: one per rep per local day


def test_a_persons_buttons_keep_their_numbers_after_switching_away_and_back(
    tryout: Callable[..., Screen],
) -> None:
    screen = tryout("1", "/pipeline", "who sam", "/pipeline", "who dana", "1")
    assert "No button with that number" not in screen.out.getvalue()
    assert "(you pressed" in screen.after("dana ▸ 1")
