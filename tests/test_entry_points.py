"""The front door: `python -m bot` as a person runs it (try-out, serve, db, --help, bad settings)."""

import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select, text

from bot.localslack import Platform, SlackApi, User, Workspace
from store.db import open_database
from store.migrate import current_revision, head_revision
from store.models import Delivery, Lead
from tests.conftest import PG_URL, Harness

ROOT = Path(__file__).resolve().parents[1]
SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL")


def env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: none of Baton's settings, except those given."""
    clean = {k: v for k, v in os.environ.items() if k not in SLACK_VARS and not k.startswith("COACH_")}
    return {**clean, "PYTHONPATH": str(ROOT), **extra}


def baton(*args: str, cwd: Path, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env(**extra),
        timeout=120,
    )


def test_help_lists_every_command(tmp_path: Path) -> None:
    shown = baton("--help", cwd=tmp_path)
    assert shown.returncode == 0
    for command in ("serve", "tryout", "db"):
        assert command in shown.stdout
    for sub in (["serve", "--help"], ["tryout", "--help"], ["db", "--help"], ["db", "upgrade", "--help"]):
        assert baton(*sub, cwd=tmp_path).returncode == 0


def test_a_malformed_setting_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    result = baton(cwd=tmp_path, COACH_STALL_DAYS="a fortnight", SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "COACH_STALL_DAYS" in lines[0] and "SLACK_SIGNING_SECRET" in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("COACH_ATTEMPTS_CAP=3\n")  # contradicts the limit of 8
    result = baton(cwd=tmp_path)
    assert result.returncode == 2 and "must rise in that order (now 6, 8, 3)" in result.stderr


def test_without_credentials_baton_starts_the_try_out_on_a_demo_team(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "1",  # Dana
            "/pipeline",
            "/logcall acme vm left a message about Q3 pricing",
            "/lead show acme",
            "home",
            "who morgan",
            "/pipeline @dana",
            "home",
            "quit",
            "",
        ]
    )
    result = baton(cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Baton try-out" in out and "Who are you?" in out
    assert "Your pipeline" in out and "Overdue" in out
    assert "Logged a voicemail on Acme Corp" in out
    assert "ACME CORP" in out  # the card's header
    assert "dana's pipeline" in out
    assert "── Baton · Home tab" in out and "Needs you today" in out
    assert "YOUR TEAM" in out and "@dana · 7 open" in out  # Morgan's Home tab
    assert "Traceback" not in out + result.stderr
    assert (tmp_path / "baton-tryout.db").exists()
    again = baton("tryout", "--reset", cwd=tmp_path, stdin="1\nquit\n")
    assert again.returncode == 0
    assert again.stdout.startswith("Starting over: baton-tryout.db removed; a fresh demo team is seeded.\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_migrates_an_empty_database_and_answers_signed_requests_through_waitress(
    tmp_path: Path,
) -> None:
    api = SlackApi(
        Workspace(team_id="T0SERVE", users={"U0DANA": User("U0DANA", "dana")}), token="xoxb-serve"
    ).start()
    port = free_port()
    database = tmp_path / "served.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env(
            SLACK_BOT_TOKEN="xoxb-serve",
            SLACK_SIGNING_SECRET="serve-secret",
            SLACK_API_URL=api.url,
            DATABASE_URL=f"sqlite:///{database}",
            WEB_CONCURRENCY="2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started = _wait_for_line(process, "Baton is serving Slack", seconds=60)
        # WEB_CONCURRENCY=2 on SQLite: one web process, and the log says why.
        assert "on SQLite Baton serves with one" in started
        health = _get(f"http://127.0.0.1:{port}/healthz")
        assert json.loads(health) == {"ok": True}
        slack = Platform(api, f"http://127.0.0.1:{port}", "serve-secret")
        reply = slack.command("U0DANA", "/lead", "add Served Inc")
        assert reply.status == 200
        forged = slack.send(
            slack.command_body("U0DANA", "/lead", "add Forged"),
            "application/x-www-form-urlencoded",
            signature="v0=00",
        )
        assert forged.status == 401
        assert api.wait_for("response_url")  # the reply comes after the listener's commit
        assert "Added *Served Inc*" in json.dumps(api.calls_to("response_url")[0].args)
        db = open_database(f"sqlite:///{database}", pool_size=1)
        assert current_revision(db.engine) == head_revision(db.engine)
        with db.readers.begin() as session:
            assert session.scalars(select(Lead.name)).all() == ["Served Inc"]
        db.engine.dispose()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        api.stop()


@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")
def test_serve_on_postgresql_runs_web_concurrency_processes_and_a_deploy_loses_no_acknowledged_work(
    postgres_ready: str, tmp_path: Path
) -> None:
    api = SlackApi(
        Workspace(team_id="T0SERVE", users={"U0DANA": User("U0DANA", "dana")}), token="xoxb-serve"
    ).start()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env(
            SLACK_BOT_TOKEN="xoxb-serve",
            SLACK_SIGNING_SECRET="serve-secret",
            SLACK_API_URL=api.url,
            DATABASE_URL=postgres_ready,
            WEB_CONCURRENCY="2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    db = open_database(postgres_ready, pool_size=1)
    try:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM lead WHERE team_id = 'T0SERVE'"))
        first = _wait_for_line(process, "Baton is serving Slack", seconds=60)
        second = _wait_for_line(process, "Baton is serving Slack", seconds=60)
        assert "serves with one" not in first + second
        slack = Platform(api, f"http://127.0.0.1:{port}", "serve-secret")
        for index in range(6):
            assert slack.command("U0DANA", "/lead", f"add Served {index}").status == 200
    finally:
        process.send_signal(signal.SIGTERM)  # a deploy: right after the acknowledgements
        code = process.wait(timeout=60)
        api.stop()
    try:
        assert code == 0
        with db.readers.begin() as session:
            stored = session.scalars(select(Lead.name).where(Lead.team_id == "T0SERVE")).all()
        assert sorted(stored) == [f"Served {index}" for index in range(6)]
    finally:
        db.engine.dispose()


def _wait_for_line(process: subprocess.Popen[str], needle: str, *, seconds: float) -> str:
    """Read the server's log until it says it is up (no fixed sleeps: the process tells us)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        if selector.select(timeout=deadline - time.monotonic()):
            line = process.stdout.readline()
            seen.append(line)
            if needle in line:
                return "".join(seen)
            if not line and process.poll() is not None:
                break
    raise AssertionError("the server did not start:\n" + "".join(seen))


def _get(url: str) -> str:
    # The port is bound before the app is built: a request meanwhile waits in the backlog.
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


# ---- the Slack app manifest -------------------------------------------------------------------------


def test_every_command_in_the_manifest_is_escaped_and_answered_by_the_app(harness: Harness) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = manifest["features"]["slash_commands"]
    assert {c["command"] for c in commands} >= {"/logcall", "/lead", "/pipeline", "/handoff"}
    for command in commands:
        assert command["should_escape"] is True
        assert command["url"].endswith("/slack/events")
        reply = harness.slack.command("U0DANA", command["command"], "help")
        assert reply.status == 200, command["command"]
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["message_menu_options_url"].endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read"} <= scopes


# ---- python -m bot digest ----------------------------------------------------------------------------


def demo_database(tmp_path: Path) -> Path:
    """The try-out's demo team (seeded as of now, or the next working day on a day off), which has
    something due for Dana and Sam."""
    assert baton("tryout", "--db", "demo.db", cwd=tmp_path, stdin="quit\n").returncode == 0
    return tmp_path / "demo.db"


def demo_morning() -> datetime:
    """The instant the demo team's digests are run at: the try-out's own working day."""
    from bot.tryout.seed import working_now

    return working_now(datetime.now(UTC), frozenset(range(5)))


def test_digest_dry_run_prints_each_reps_digest_and_sends_nothing(tmp_path: Path) -> None:
    database = demo_database(tmp_path)
    result = baton(
        "digest",
        "--dry-run",
        "--at",
        demo_morning().isoformat(),
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{database}",
    )
    assert result.returncode == 0, result.stderr
    assert "Dana Reyes (U0DANA) · America/New_York" in result.stdout
    # Run at the machine's time: the greeting is for Dana's hour ("Good evening" after 18:00 in New York).
    assert (
        re.search(r"Good (morning|afternoon|evening), Dana", result.stdout)
        and "Wayne Enterprises" in result.stdout
    )
    assert "0 sent" in result.stdout
    db = open_database(f"sqlite:///{database}", pool_size=1)
    with db.readers.begin() as session:
        assert session.scalars(select(Delivery)).all() == []
    db.engine.dispose()


def test_a_dry_run_on_a_day_off_says_it_is_one_rather_than_that_nothing_is_due(tmp_path: Path) -> None:
    database = demo_database(tmp_path)
    morning = demo_morning()
    day = morning.date() + timedelta(days=(5 - morning.weekday()) % 7 or 7)
    saturday = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)  # 10:00 in New York
    result = baton(
        "digest",
        "--dry-run",
        "--at",
        saturday.isoformat(),
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{database}",
    )
    assert result.returncode == 0, result.stderr
    day = saturday.astimezone(ZoneInfo("America/New_York"))
    monday = day + timedelta(days=2)
    assert (
        f"{day:%a} {day.day} {day:%b} is not one of Dana Reyes's working days: nothing is sent today. "
        f"The next goes out on {monday:%a} {monday.day} {monday:%b}."
    ) in result.stdout
    assert "every lead is on track" not in result.stdout


def test_digest_sends_once_a_day_unless_forced(tmp_path: Path) -> None:
    from bot.tryout.seed import workspace

    database = demo_database(tmp_path)
    api = SlackApi(workspace(), token="xoxb-cli").start()
    settings = {
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_API_URL": api.url,
        "SLACK_SIGNING_SECRET": "cli-secret",  # the clock shares the web process's environment
        "COACH_MANAGER_IDS": "U0MORGAN",
    }
    try:
        at = demo_morning()
        first = baton("digest", "--at", at.isoformat(), cwd=tmp_path, **settings)
        assert first.returncode == 0, first.stderr
        assert "2 sent" in first.stdout
        again = baton("digest", "--at", at.isoformat(), cwd=tmp_path, **settings)
        assert "0 sent" in again.stdout and "2 already delivered today" in again.stdout
        later = (at + timedelta(minutes=1)).isoformat()
        forced = baton("digest", "--force", "--at", later, cwd=tmp_path, **settings)
        assert "2 sent" in forced.stdout
        assert len(api.calls_to("chat.postMessage")) == 4
        review = baton("digest", "--review", cwd=tmp_path, **settings)
        assert review.returncode == 0 and "Reviews: 1 due, 1 sent" in review.stdout
    finally:
        api.stop()


def test_digest_explains_what_it_needs(tmp_path: Path) -> None:
    no_token = baton("digest", cwd=tmp_path)
    assert no_token.returncode == 2 and "--dry-run" in no_token.stderr
    bad_instant = baton("digest", "--dry-run", "--at", "next tuesday", cwd=tmp_path)
    assert bad_instant.returncode == 2 and "not an ISO 8601 date and time" in bad_instant.stderr
    assert baton("clock", "--help", cwd=tmp_path).returncode == 0


def test_import_then_export_from_the_command_line(tmp_path: Path) -> None:
    data = ROOT / "tests" / "data"
    api = SlackApi(
        Workspace(team_id="T0CRM", users={"U0DANA": User("U0DANA", "dana"), "U0SAM": User("U0SAM", "sam")}),
        token="xoxb-crm",
    ).start()
    slack = {"SLACK_BOT_TOKEN": "xoxb-crm", "SLACK_API_URL": api.url, "DATABASE_URL": "sqlite:///crm.db"}
    try:
        imported = baton("import", str(data / "salesforce_leads.csv"), cwd=tmp_path, **slack)
        assert imported.returncode == 0, imported.stderr
        assert "salesforce_leads.csv → team T0CRM (imported)" in imported.stdout
        exported = baton("export", "--output", "pipeline.csv", cwd=tmp_path, **slack)
        assert exported.returncode == 0, exported.stderr
        assert exported.stderr == "Wrote 6 rows of team T0CRM to pipeline.csv (one row per contact).\n"
        pipeline = (tmp_path / "pipeline.csv").read_text().splitlines()
        assert len(pipeline) == 7  # a row per contact: Acme Corp has two
        assert pipeline[1].startswith("Acme Corp,U0DANA,dana,open,")
        touches = baton("export", "--touches", cwd=tmp_path, **slack)
        assert touches.stdout.splitlines() == ["Company,Date,Outcome,Logged By,Logged By Name,Note"]
        # The export is itself an importable file: without Slack, ids are taken as they are.
        offline = {"DATABASE_URL": "sqlite:///crm.db"}
        again = baton("import", "pipeline.csv", "--team", "T0CRM", cwd=tmp_path, **offline)
        assert again.returncode == 0 and "Imported: 5 unchanged; no problems." in again.stdout
    finally:
        api.stop()
    refused = baton("import", str(data / "salesforce_leads.csv"), "--team", "T0CRM", cwd=tmp_path, **offline)
    assert refused.returncode == 1 and "set SLACK_BOT_TOKEN" in refused.stdout
    which = baton("import", "pipeline.csv", cwd=tmp_path, DATABASE_URL="sqlite:///other.db")
    assert which.returncode == 2 and "--team" in which.stderr


def test_reading_commands_without_a_database_say_so_instead_of_creating_an_empty_one(tmp_path: Path) -> None:
    for command in (["review", "--dry-run"], ["digest", "--dry-run"], ["export", "--team", "T0DEMO"]):
        refused = baton(*command, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout
        assert refused.stderr.startswith("There is no database at baton.db (sqlite:///baton.db)")
        assert "sqlite:///baton-tryout.db" in refused.stderr
    assert list(tmp_path.iterdir()) == []  # no empty baton.db left behind


def test_the_review_against_the_try_outs_database_finds_its_manager_without_coach_manager_ids(
    tmp_path: Path,
) -> None:
    database = demo_database(tmp_path)
    dry = baton("review", "--dry-run", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert dry.returncode == 0, dry.stderr
    assert "Morgan Lee (U0MORGAN)" in dry.stdout and "Reviews: 1 due" in dry.stdout


def test_review_dry_run_prints_the_review_saves_its_picture_here_and_sends_nothing(tmp_path: Path) -> None:
    from bot.tryout.seed import workspace

    database = demo_database(tmp_path)
    api = SlackApi(workspace(), token="xoxb-cli").start()
    settings = {
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_API_URL": api.url,
        "COACH_MANAGER_IDS": "U0MORGAN",
    }
    try:
        dry = baton("review", "--dry-run", "--manager", "U0MORGAN", cwd=tmp_path, **settings)
        assert dry.returncode == 0, dry.stderr
        assert "Morgan Lee (U0MORGAN)" in dry.stdout and "weekly review" in dry.stdout.lower()
        assert "The attempt curve" in dry.stdout and "The picture: saved to" in dry.stdout
        assert "Reviews: 1 due, 1 printed, 1 picture drawn; nothing sent (dry run)" in dry.stdout
        [png] = tmp_path.glob("weekly-review-*.png")
        assert png.read_bytes().startswith(b"\x89PNG")
        assert api.calls_to("chat.postMessage") == [] and api.calls_to("files.completeUploadExternal") == []
        sent = baton("review", "--manager", "U0MORGAN", cwd=tmp_path, **settings)
        assert sent.returncode == 0, sent.stderr
        assert "Reviews: 1 due, 1 sent, 1 pictures" in sent.stdout
        assert [c.args["channel_id"] for c in api.calls_to("files.completeUploadExternal")] == ["D0MORGAN"]
    finally:
        api.stop()
