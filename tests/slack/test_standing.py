"""A team's settings and managers are kept per process for a few seconds (coaching/standing.py):
a change is seen at once where it was made, within seconds everywhere else, and a /logcall's
write transaction no longer reads them."""

from typing import Any

from sqlalchemy import event

from tests.conftest import DANA, MORGAN, SAM, Harness, flatten, start_harness


def test_a_setting_changed_through_another_process_takes_effect_within_seconds(harness: Harness) -> None:
    other = start_harness(harness.db, api=harness.api, clock=harness.clock)  # a second web process
    try:
        harness.command(DANA, "/lead", "add Acme Corp")
        assert "in 4 days" in flatten(harness.command(DANA, "/logcall", "acme vm").blocks)
        assert "*follow_up_days*: 4 → *2*" in flatten(
            other.command(MORGAN, "/coach", "set follow_up_days 2").blocks
        )
        harness.clock.advance(seconds=6)
        assert "in 2 days" in flatten(harness.command(DANA, "/logcall", "acme vm").blocks)
    finally:
        other.stop()


def test_a_manager_added_through_another_process_may_decide_within_seconds(harness: Harness) -> None:
    other = start_harness(harness.db, api=harness.api, clock=harness.clock)
    try:
        refused = flatten(harness.command(SAM, "/coach", "set stall_days 21").blocks)
        assert "Only managers" in refused
        other.command(MORGAN, "/coach", "managers add @sam")
        harness.clock.advance(seconds=6)
        assert "*stall_days*: 14 → *21*" in flatten(
            harness.command(SAM, "/coach", "set stall_days 21").blocks
        )
    finally:
        other.stop()


def test_a_logcall_reads_no_settings_while_it_writes(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/logcall", "acme vm")  # the team's standing is read once, then held
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(harness.db.engine, "before_cursor_execute", record)
    try:
        assert "Logged" in flatten(harness.command(DANA, "/logcall", "acme email sent the deck").blocks)
    finally:
        event.remove(harness.db.engine, "before_cursor_execute", record)
    assert any("INSERT INTO touch" in s for s in statements)
    assert not [s for s in statements if "team_setting" in s or "FROM manager" in s or "rep.workdays" in s]
