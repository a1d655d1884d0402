"""Install from a link in two workspaces, and every workspace served apart with its own token.

The real app over HTTP in OAuth mode (SLACK_CLIENT_ID/SLACK_CLIENT_SECRET), against the stand-in
Slack with two workspaces: a person's browser follows /slack/install to the stand-in's authorize
page and back to /slack/oauth_redirect, as a browser does, cookies and all.
"""

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from bot.app import Baton, create
from bot.cli_support import WhichTeam, workspace
from bot.config import Settings
from bot.localslack import Platform, Shown, SlackApi, User, Workspace
from bot.scheduler import Jobs
from bot.server import LocalServer, wsgi
from coaching.settings import TeamConfig
from handlers import outbox
from handlers.blocks.base import plain
from store import installations
from store.db import Database
from store.models import Manager
from tests.conftest import SECRET, Clock, flatten

CLIENT_ID, CLIENT_SECRET = "1111.2222", "test-client-secret"
SEALING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
ACME, GLOBEX = "T0ACME", "T0GLOBEX"
ANA, BEN = "U0ANA", "U0BEN"  # Acme Sales: Ana installs Baton, Ben sells
GIL, HAL = "U0GIL", "U0HAL"  # Globex: Gil installs, Hal sells
LAST_MONDAY = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
MONDAY_MORNING_NY = datetime(2026, 11, 23, 13, 35, tzinfo=UTC)  # 08:35 in New York


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the browser below follows each redirect itself, to keep its cookies


@dataclass
class Browser:
    """One person's browser: cookies kept per host, redirects followed one by one."""

    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(NoRedirects)
    )

    def get(self, url: str) -> tuple[int, dict[str, str], str]:
        host = urlparse(url).netloc
        request = urllib.request.Request(url)
        jar = self.cookies.get(host, {})
        if jar:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
        try:
            with self.opener.open(request, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read().decode()
        for set_cookie in headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(set_cookie).items():
                self.cookies.setdefault(host, {})[name] = morsel.value
        return status, {k.lower(): v for k, v in headers.items()}, body

    def follow(self, url: str) -> tuple[int, str, list[str]]:
        """GET `url` and every redirect after it: (final status, final page, the URLs visited)."""
        visited = [url]
        status, headers, body = self.get(url)
        while status in (301, 302, 303, 307) and len(visited) < 10:
            visited.append(headers["location"])
            status, headers, body = self.get(headers["location"])
        return status, body, visited


@dataclass
class Workspaces:
    """Baton in OAuth mode, one stand-in Slack with two workspaces, a Platform for each."""

    api: SlackApi
    baton: Baton
    clock: Clock
    db: Database
    server: LocalServer
    slack: dict[str, Platform]
    sleeps: list[float]

    def install(self, team: str, installer: str, browser: Browser | None = None) -> tuple[int, str]:
        self.api.sign_in(team, installer)
        status, page, _ = (browser or Browser()).follow(self.server.url + "/slack/install")
        self.baton.pool.wait_idle()
        return status, page

    def command(self, team: str, user: str, command: str, text: str = "") -> Shown:
        before = {m.id: m.version for m in self.api.seen_by(user)}
        reply = self.slack[team].command(user, command, text)
        assert reply.status == 200, reply.body
        changed = [m for m in self.api.seen_by(user) if before.get(m.id) != m.version]
        assert changed, f"{user} saw nothing new"
        return changed[-1]

    def dms(self, user: str) -> list[Shown]:
        return [m for m in self.api.seen_by(user) if m.channel == "D" + user[1:]]

    def managers(self) -> set[tuple[str, str]]:
        with self.db.readers.begin() as session:
            return {(m.team_id, m.user_id) for m in session.scalars(select(Manager))}


def start(
    db: Database, *, rotation: bool = False, sleep: object = None, client_timeout: int = 10
) -> Workspaces:
    clock = Clock()
    acme = Workspace(
        team_id=ACME,
        team_name="Acme Sales",
        bot_user_id="UBATONA",
        users={ANA: User(ANA, "ana", "Ana Lima", is_admin=True), BEN: User(BEN, "ben", "Ben Cole")},
    )
    globex = Workspace(
        team_id=GLOBEX,
        team_name="Globex",
        bot_user_id="UBATONG",
        users={GIL: User(GIL, "gil", "Gil Park", is_admin=True), HAL: User(HAL, "hal", "Hal Diaz")},
    )
    api = SlackApi(acme, clock=lambda: clock.now.timestamp()).start()
    api.add_workspace(globex)
    settings = Settings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        signing_secret=SECRET,
        api_url=api.url,
        team=TeamConfig(),
        listener_threads=8,
        secret_keys=(SEALING_KEY,),  # each workspace's tokens sealed at rest, as OAuth mode requires
    )
    sleeps: list[float] = []
    baton = create(
        settings,
        db=db,
        clock=clock,
        sleep=sleep or sleeps.append,  # type: ignore[arg-type]
        client_timeout=client_timeout,
    )
    server = LocalServer(wsgi(baton)).start()
    api.register_app(
        CLIENT_ID, CLIENT_SECRET, redirect_uri=server.url + "/slack/oauth_redirect", rotation=rotation
    )
    slack = {
        team: Platform(api, server.url, SECRET, settle=baton.pool.wait_idle, workspace=ws)
        for team, ws in ((ACME, acme), (GLOBEX, globex))
    }
    return Workspaces(api, baton, clock, db, server, slack, sleeps)


@pytest.fixture
def both(database: Database) -> Iterator[Workspaces]:
    w = start(database)
    yield w
    w.server.stop()
    w.api.stop()
    w.baton.pool.shutdown(wait=True)
    assert w.api.problems == [], w.api.problems


def teams_of_calls_about(api: SlackApi, user: str) -> set[str]:
    """The workspaces whose tokens made the calls that reached `user` (their DM, or them by id)."""
    return {
        call.team
        for call in api.calls
        if user
        in (call.args.get("channel"), call.args.get("user"), call.args.get("user_id"), call.args.get("users"))
        or call.args.get("channel") == "D" + user[1:]
    }


def test_two_workspaces_install_from_the_link_and_each_is_answered_with_its_own_token(
    both: Workspaces,
) -> None:
    assert both.install(ACME, ANA)[0] == 200
    status, page = both.install(GLOBEX, GIL)
    assert status == 200 and "Baton is installed" in page and "Globex" in page
    # Each installer is their workspace's first manager, and was welcomed by DM saying what's next.
    assert both.managers() == {(ACME, ANA), (GLOBEX, GIL)}
    [welcome] = both.dms(ANA)
    assert "first manager" in flatten(welcome.blocks) and "/logcall" in welcome.text
    assert len(both.dms(GIL)) == 1

    acme_lead = both.command(ACME, BEN, "/lead", "add Initech Renewal")
    globex_lead = both.command(GLOBEX, HAL, "/lead", "add Umbrella Pilot")
    assert "Initech Renewal" in acme_lead.text + flatten(acme_lead.blocks)
    assert "Umbrella Pilot" in globex_lead.text + flatten(globex_lead.blocks)
    bens = flatten(both.command(ACME, BEN, "/pipeline").blocks)
    assert "Initech Renewal" in bens and "Umbrella Pilot" not in bens
    # Every call about a person was made with their own workspace's token.
    assert teams_of_calls_about(both.api, BEN) == {ACME}
    assert teams_of_calls_about(both.api, HAL) == {GLOBEX}
    assert teams_of_calls_about(both.api, GIL) == {GLOBEX}
    with both.db.readers.begin() as session:  # no token is kept readable in the database
        stored = set(session.scalars(select(installations.bots.c.bot_token)))
    assert len(stored) == 2 and not any(token.startswith("xox") for token in stored)


def seed_leads(w: Workspaces) -> None:
    w.install(ACME, ANA)
    w.install(GLOBEX, GIL)
    w.clock.now = LAST_MONDAY
    for team, rep, lead in ((ACME, BEN, "Initech"), (GLOBEX, HAL, "Umbrella")):
        w.command(team, rep, "/lead", f"add {lead}")
        w.command(team, rep, "/logcall", f"{lead.lower()} vm")


def digests(w: Workspaces, user: str) -> list[Shown]:
    return [m for m in w.dms(user) if "need" in m.text or m.text.startswith("Good ")]


def test_each_workspace_gets_its_digests_and_a_revoked_one_holds_up_nobody(both: Workspaces) -> None:
    seed_leads(both)
    both.clock.now = MONDAY_MORNING_NY
    Jobs(both.baton).tick()
    assert len(digests(both, BEN)) == 1 and len(digests(both, HAL)) == 1
    assert teams_of_calls_about(both.api, HAL) == {GLOBEX}

    both.api.revoke(ACME)  # Acme's admin pulled Baton's token
    both.clock.now = datetime(2026, 11, 24, 13, 35, tzinfo=UTC)  # Tuesday morning in New York
    Jobs(both.baton).tick()
    assert len(digests(both, HAL)) == 2  # Globex's digest went out as usual
    assert len(digests(both, BEN)) == 1  # Acme's could not, and nothing else broke


def test_one_workspace_waiting_out_a_rate_limit_never_delays_anothers_digests(database: Database) -> None:
    released, waiting = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:  # Acme's sender waits out Slack's Retry-After, for real
        waiting.set()
        released.wait(20)

    w = start(database, sleep=sleep)
    try:
        seed_leads(w)
        w.clock.now = MONDAY_MORNING_NY
        w.api.fail("chat.postMessage", status=429, retry_after=30, times=1, team=ACME)
        ticking = threading.Thread(target=Jobs(w.baton).tick)
        ticking.start()
        assert waiting.wait(10)
        # Globex's digest arrives while Acme's sender is still waiting out its 429.
        assert w.api.wait_for_shown(
            lambda m: m.channel == "D" + HAL[1:] and ("need" in m.text or m.text.startswith("Good ")),
            timeout=10,
        )
        assert not released.is_set() and digests(w, BEN) == []
        released.set()
        ticking.join(timeout=30)
        assert len(digests(w, BEN)) == 1 and len(digests(w, HAL)) == 1
    finally:
        released.set()
        w.server.stop()
        w.api.stop()
        w.baton.pool.shutdown(wait=True)


def test_one_workspace_whose_slack_is_slow_never_holds_up_anothers_messages(database: Database) -> None:
    w = start(database, client_timeout=15)
    try:
        w.install(ACME, ANA)
        w.install(GLOBEX, GIL)
        deps = w.baton.deps
        with deps.bookkeeping() as session:  # owed by changes made elsewhere, Acme's first
            outbox.post(session, ACME, BEN, plain("Initech moved to you"), deps=deps)
            outbox.post(session, GLOBEX, HAL, plain("Umbrella moved to you"), deps=deps)
        # Acme's Slack takes the post but answers only after Baton has stopped waiting.
        w.api.lose_answer("chat.postMessage", how="late", team=ACME)
        sweeping = threading.Thread(target=Jobs(w.baton).outbox)
        sweeping.start()
        assert w.api.wait_for_shown(lambda m: "Umbrella moved" in m.text, timeout=10)
        assert sweeping.is_alive()  # Globex's message went while Acme's post was still in doubt
        sweeping.join(timeout=60)
        assert [m.text for m in w.dms(BEN)] == ["Initech moved to you"]  # posted once, in doubt
    finally:
        w.server.stop()
        w.api.stop()
        w.baton.pool.shutdown(wait=True)


def test_a_rotating_token_is_refreshed_when_it_expires_and_work_continues(database: Database) -> None:
    w = start(database, rotation=True)
    try:
        w.install(ACME, ANA)
        [first] = w.api.tokens_of(ACME)
        w.command(ACME, BEN, "/lead", "add Initech")
        w.clock.advance(hours=13)  # Slack's twelve hours are up: the first token no longer works
        assert w.api.tokens_of(ACME) == []
        answer = w.command(ACME, BEN, "/lead", "add Hooli")
        assert "Hooli" in answer.text + flatten(answer.blocks)
        refreshes = [
            c for c in w.api.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"
        ]
        assert len(refreshes) == 1 and refreshes[0].body["ok"]
        [second] = w.api.tokens_of(ACME)
        assert second != first
        assert not [c for c in w.api.calls if c.body.get("error") == "token_expired"]
        w.clock.now = w.clock.now.replace(hour=13, minute=35)  # and the digests go out with it
        Jobs(w.baton).tick()
        assert w.api.problems == []
    finally:
        w.server.stop()
        w.api.stop()
        w.baton.pool.shutdown(wait=True)


def test_a_forged_or_replayed_state_is_refused_with_a_clear_page(both: Workspaces) -> None:
    browser = Browser()
    both.api.sign_in(ACME, ANA)
    status, _, visited = browser.follow(both.server.url + "/slack/install")
    assert status == 200
    redirect = visited[-1]
    assert parse_qs(urlparse(redirect).query)["state"]

    again, page, _ = browser.follow(redirect)  # the same redirect, replayed
    assert again == 401 and "already used" in page
    forged = redirect.replace("state=", "state=0", 1)
    status, page, _ = browser.follow(forged)
    assert status == 400 and "another browser" in page  # not the state this browser was given
    status, page, _ = Browser().follow(redirect)  # someone else's browser, with the real link
    assert status == 400 and "another browser" in page
    assert both.baton.installations is not None
    assert both.baton.installations.installed_teams() == [ACME]


def test_a_cancelled_install_says_so_and_installs_nothing(both: Workspaces) -> None:
    both.api.sign_in(GLOBEX, GIL, approves=False)
    status, page, _ = Browser().follow(both.server.url + "/slack/install")
    assert status == 200 and "Install cancelled" in page
    assert both.baton.installations is not None and both.baton.installations.installed_teams() == []
    assert both.dms(GIL) == []


def test_an_org_wide_install_is_refused_with_a_page_saying_why(both: Workspaces) -> None:
    both.api.sign_in(GLOBEX, GIL, enterprise_id="E0GLOBEX")
    status, page, _ = Browser().follow(both.server.url + "/slack/install")
    assert status == 403 and "per workspace" in page
    assert both.baton.installations is not None and both.baton.installations.installed_teams() == []
    revoked = both.api.calls_to("auth.revoke")
    assert len(revoked) == 1 and revoked[0].body["ok"]  # the token Slack issued no longer works
    assert both.api.tokens_of(GLOBEX) == []


def test_only_a_get_of_the_install_pages_passes_unsigned(both: Workspaces) -> None:
    request = urllib.request.Request(both.server.url + "/slack/install", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    unsigned = urllib.request.Request(both.server.url + "/slack/events", data=b"command=/lead", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)
    assert refused.value.code == 401


def test_a_command_line_job_must_be_told_which_workspace_once_there_are_two(both: Workspaces) -> None:
    settings = both.baton.settings
    assert settings is not None
    both.install(ACME, ANA)
    team, client = workspace(settings, both.db, None)  # installed in one: that one
    assert team == ACME and client.auth_test()["team_id"] == ACME
    both.install(GLOBEX, GIL)
    with pytest.raises(WhichTeam, match="pass --team T… \\(installed in: T0ACME, T0GLOBEX\\)"):
        workspace(settings, both.db, None)
    with pytest.raises(WhichTeam, match="isn't installed in workspace T0NOPE"):
        workspace(settings, both.db, "T0NOPE")
    team, client = workspace(settings, both.db, GLOBEX)
    assert team == GLOBEX and client.auth_test()["team_id"] == GLOBEX
