"""The try-out loop: pick a demo person, type slash commands, press buttons by number, fill in modals.

Longer than most modules: the loop, the forms it fills in and the buttons it presses are one
conversation with the person trying Baton out.
"""

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.app import create
from bot.config import Settings
from bot.crm_teams import CrmSyncers
from bot.localslack import Platform, Shown, SlackApi
from bot.server import LocalServer, wsgi
from bot.tryout import seed
from bot.tryout.hubspot import TryoutHubSpot
from bot.tryout.render import Pressable, Renderer
from handlers.deliveries import Deliveries
from store.db import open_database
from store.migrate import upgrade

TOKEN = "xoxb-tryout"
SECRET = "tryout-signing-secret"
COMMANDS = ("/logcall", "/lead", "/pipeline", "/handoff", "/coach")
EXAMPLES = (
    "/pipeline",
    "/logcall acme vm left a message about Q3 pricing",
    "/logcall globex connected spoke to Hank, wants a proposal",
    "/logcall stark meeting next tuesday pricing walkthrough",
    "/lead show initech",
    "/lead add Initrode",
    "/handoff wayne @sam Sam knows their CFO      (then `who morgan` to approve it)",
    "/logcall        (alone: opens the form)",
    "home            (opens Baton's Home tab: your pipeline at a glance; Morgan sees the team)",
)


@dataclass
class Session:
    user_id: str
    seen: dict[int, int]  # message id -> version this person has been shown
    # Every button shown so far, numbered in order: an older message's buttons stay pressable, as
    # they do in Slack (a manager can scroll back to a request and press "Reject with a reason…").
    pressables: list[Pressable] = field(default_factory=list)
    home_open: bool = False  # this person has opened the Home tab: show it again when it changes
    home: list[dict[str, Any]] | None = None  # its blocks as last shown


def working_clock(workdays: frozenset[int]) -> Callable[[], datetime]:
    """The real clock, moved on to the next working day when started on a day off (see seed.working_now)."""
    start = datetime.now(UTC)
    shift = seed.working_now(start, workdays) - start

    def now() -> datetime:
        return datetime.now(UTC) + shift

    return now


class Tryout:
    def __init__(
        self,
        db_path: Path,
        *,
        settings: Settings,
        read: Callable[[str], str] = input,
        out: TextIO = sys.stdout,
        clock: Callable[[], datetime] | None = None,
        color: bool | None = None,
        hubspot: bool = False,
    ) -> None:
        self.db_path = db_path
        self.defaults = settings
        self.read = read
        self.out = out
        self.clock = clock or working_clock(settings.team.digest_days)
        self.color = out.isatty() if color is None else color
        self.seen: dict[str, dict[int, int]] = {}
        # Each person's buttons, kept across `who`: coming back to Dana, her older buttons still work.
        self.pressables: dict[str, list[Pressable]] = {}
        self.hinted: dict[str, set[tuple[int, int]]] = {}  # person -> messages already mentioned
        self.with_hubspot = hubspot
        self.crm: TryoutHubSpot | None = None  # the stand-in HubSpot, with --hubspot

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> int:
        if self.read is input and sys.stdin.isatty():
            # Line editing through readline lifts the terminal's own line limit (4,095 characters
            # in canonical mode), so a long pasted note arrives whole.
            import readline  # noqa: F401
        for noisy in ("baton", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # Pictures Baton uploads (the weekly review's chart) are kept beside the demo database.
        files = self.db_path.parent / f"{self.db_path.stem}-files"
        files.mkdir(exist_ok=True)
        # The stand-in keeps the try-out's time (moved to a working day when started on a day off).
        clock = self.clock
        api = SlackApi(
            seed.workspace(), token=TOKEN, files_dir=files, clock=lambda: clock().timestamp()
        ).start()
        db = open_database(f"sqlite:///{self.db_path}")
        upgrade(db.engine)
        seed.seed(db, now=self.clock(), rules=self.defaults.rules)
        if self.with_hubspot:
            self.crm = TryoutHubSpot(clock=self.clock, say=self.say).start()
        settings = Settings(
            bot_token=TOKEN,
            signing_secret=SECRET,
            api_url=api.url,
            database_url=f"sqlite:///{self.db_path}",
            team=replace(
                self.defaults.team,
                manager_ids=self.defaults.manager_ids | seed.MANAGERS,
                # The demo team hands customers to #ops, so `/handoff acme ops` works as the README shows.
                ops_channel=self.defaults.team.ops_channel or seed.OPS_CHANNEL,
            ),
            listener_threads=8,
            # With --hubspot, the real sync against the stand-in: `crm sync` runs it.
            hubspot_token=self.crm.token if self.crm else None,
            hubspot_api_url=self.crm.url if self.crm else "https://api.hubapi.com",
        )
        baton = create(settings, db=db, clock=self.clock)
        server = LocalServer(wsgi(baton)).start()
        self.baton = baton
        self.api = api
        self.slack = Platform(api, server.url, SECRET, settle=baton.pool.wait_idle)
        users, channels = api.workspace.users, api.workspace.channels
        self.render = Renderer(
            lambda uid: users[uid].name if uid in users else uid, color=self.color, channels=channels.get
        )
        try:
            return self._loop()
        finally:
            server.stop()
            api.stop()
            if self.crm is not None:
                self.crm.stop()
            db.engine.dispose()

    def _crm_sync(self) -> list[str]:
        """`crm sync`: one pull and push, as `python -m bot crm sync` does; its report's lines."""
        crm = self.baton.crm
        syncer = crm.for_team(seed.TEAM_ID) if isinstance(crm, CrmSyncers) else None
        if crm is None or syncer is None:
            return ["This Baton has no HubSpot token."]
        lines = syncer.sync(seed.TEAM_ID).lines()
        self.baton.recover()  # what the sync owes people (a deal moved to another rep) is sent
        crm.wait_for_push()
        return lines

    # ---- the loop ------------------------------------------------------------------------------
    def _loop(self) -> int:
        bold = self.render.style.bold
        self.say(
            bold("Baton try-out") + " · the real app, a stand-in for Slack on this machine, a demo team."
        )
        self.say(
            "Nothing leaves this computer. Put Slack credentials in .env to run Baton for real (see README)."
        )
        self.say(
            f"Demo data lives in {self.db_path} (delete it, or run `python -m bot tryout --reset`, to start over)."
        )
        session = self._pick_person()
        if session is None:
            return 0
        self._help()
        while True:
            name = self.api.workspace.users[session.user_id].name
            try:
                line = self.read(f"\n{name} ▸ ").strip()
                if line in ("quit", "exit", "q"):
                    return 0
                session = self._handle(session, line)
            except (EOFError, KeyboardInterrupt):
                self.say()
                return 0

    def _handle(self, session: Session, line: str) -> Session:
        """One line typed at the prompt; returns who is at the keyboard afterwards."""
        if not line:
            return session
        if line in ("help", "?"):
            self._help()
        elif line.startswith(("who", "as ")):
            picked = self._pick_person(line.split()[1] if len(line.split()) > 1 else None)
            session = picked or session
            self._show_new(session)
        elif line.isdigit():
            self._press(session, int(line))
        elif line in ("digest", "review"):
            self._deliver(session, line)
        elif line == "home":
            session.home_open, session.home = True, None
            self.slack.event({"type": "app_home_opened", "user": session.user_id, "tab": "home"})
            self._after(session)
        elif line.split()[0] in COMMANDS:
            command, _, text = line.partition(" ")
            reply = self.slack.command(session.user_id, command, text.strip())
            if reply.status != 200:
                self.say(f"  (Slack would show an error: the app answered HTTP {reply.status})")
            self._after(session)
        elif line.split()[0] == "crm":
            if self.crm is None:
                self.say("  HubSpot isn't running: start the try-out with `python -m bot tryout --hubspot`.")
            else:
                self.crm.handle(line.split()[1:], sync=self._crm_sync)
                self._show_new(session)
        elif line.startswith("/"):
            self.say(f"  Baton has no {line.split()[0]} command. Try {', '.join(COMMANDS)}.")
        else:
            self.say("  Type a slash command (try /pipeline), a button number, `who`, `help` or `quit`.")
        return session

    def _pick_person(self, choice: str | None = None) -> Session | None:
        people = list(seed.PEOPLE)
        if choice is None:
            self.say("\nWho are you?")
            for index, person in enumerate(people, 1):
                self.say(f"  {index}  {person.real_name:<12} {self.render.style.dim(seed.ROLES[person.id])}")
            try:
                choice = self.read(f"Pick 1-{len(people)} [1]: ").strip() or "1"
            except (EOFError, KeyboardInterrupt):
                return None
        chosen = next(
            (p for i, p in enumerate(people, 1) if choice in (str(i), p.name, p.real_name.lower())), None
        )
        if chosen is None:
            self.say(f"  No one called {choice!r} here; pick a number from the list.")
            return None
        self.say(f"\nYou're {chosen.real_name} ({seed.ROLES[chosen.id]}).")
        session = Session(
            chosen.id, self.seen.setdefault(chosen.id, {}), self.pressables.setdefault(chosen.id, [])
        )
        self.render.tz = ZoneInfo(chosen.tz)
        # Messages that arrived before this person "opened Slack" count as new.
        return session

    def _help(self) -> None:
        self.say("\nType slash commands as you would in Slack, for example:")
        for example in EXAMPLES:
            self.say("  " + self.render.style.bold(example))
        self.say(
            "Press a button by typing its number. `who` switches person, `help` shows this, `quit` leaves."
        )
        self.say(
            "`digest` sends each rep today's digest now (the clock does it at 08:30 their time; "
            "once a day each, so typing it again sends nobody a second one); "
            "`review` sends the managers' weekly review."
        )

    def _deliver(self, session: Session, what: str) -> None:
        """What the clock does each morning (and on Mondays, for managers), on demand."""
        deliveries = Deliveries(self.baton.deps, self.baton.client)
        run = deliveries.reviews if what == "review" else deliveries.digests
        # As the clock would: one digest per rep per local day (and one review a week), so typing
        # `digest` twice, or as someone else, sends nobody a second one.
        report = run(at=self.clock(), everyone=True, force=False)
        self.baton.pool.wait_idle()
        self.say(self.render.style.dim(f"  ({what}: {report})"))
        self._show_new(session)
        self._mention_others(session)

    # ---- showing what arrived ---------------------------------------------------------------------
    def _after(self, session: Session) -> None:
        if self.slack.open_modal(session.user_id):
            try:
                self._fill_modal(session)
            except (EOFError, KeyboardInterrupt):
                self.api.open_modals[session.user_id].clear()
                raise
        self._show_new(session)
        self._mention_others(session)

    def _show_new(self, session: Session) -> None:
        fresh = [m for m in self.api.seen_by(session.user_id) if session.seen.get(m.id) != m.version]
        home = self._home_if_changed(session)
        for message in fresh:
            session.seen[message.id] = message.version
            self._show(message, session.pressables)
        if home is not None:
            self.say("\n" + self.render.style.dim("── Baton · Home tab " + "─" * 21))
            for line in self.render.blocks(home, session.pressables, on_home=True):
                self.say(line)

    def _home_if_changed(self, session: Session) -> list[dict[str, Any]] | None:
        """The Home tab's blocks when Baton has published something new there since it was shown."""
        view = self.api.views.get(f"VHOME{session.user_id}")
        if not session.home_open or view is None or view.get("blocks") == session.home:
            return None
        session.home = view.get("blocks") or []
        return session.home

    def _show(self, message: Shown, pressables: list[Pressable]) -> None:
        where = self._where(message)
        self.say("\n" + self.render.style.dim(f"── {where} " + "─" * max(0, 40 - len(where))))
        lines = self.render.blocks(message.blocks, pressables, message_id=message.id)
        for line in lines or (
            [self.render.mrkdwn(message.text)] if message.text or not message.files else []
        ):
            self.say(line)
        for file_id in message.files:  # a terminal can't show a picture: say where it was saved
            upload = self.api.files[file_id]
            self.say(f"  🖼  {upload.title} — saved to {upload.saved_to}")
            self.say(self.render.style.dim(f"     {upload.alt_txt}"))

    def _where(self, message: Shown) -> str:
        if message.channel.startswith("D"):
            return "Baton, in your DMs"
        channel = self.api.workspace.channels.get(message.channel, message.channel)
        return f"Baton, only visible to you in #{channel}" if message.ephemeral else f"Baton in #{channel}"

    def _mention_others(self, session: Session) -> None:
        """Say when someone else has something new, once per new thing (not after every command)."""
        for person in seed.PEOPLE:
            if person.id == session.user_id:
                continue
            seen = self.seen.get(person.id, {})
            waiting = {
                (m.id, m.version)
                for m in self.api.seen_by(person.id)
                if m.user_id == person.id and seen.get(m.id) != m.version
            }
            hinted = self.hinted.setdefault(person.id, set())
            if waiting - hinted:
                count = len(waiting)
                self.say(
                    self.render.style.dim(
                        f"  ({person.real_name} has {count} new message{'s' if count != 1 else ''}: "
                        f"`who {person.name}` to see)"
                    )
                )
            hinted |= waiting

    def _press(self, session: Session, number: int) -> None:
        if not 1 <= number <= len(session.pressables):
            self.say("  No button with that number on screen.")
            return
        pressed = session.pressables[number - 1]
        selected_user = None
        if pressed.kind == "users_select":
            selected_user = self._pick_user(pressed.label)
            if selected_user in (None, "cancel"):
                return
        where = " on the Home tab" if pressed.on_home else ""
        try:
            if pressed.on_home:
                self.slack.home_click(
                    session.user_id,
                    pressed.action_id,
                    value=pressed.value,
                    option_value=pressed.option_value,
                    block_id=pressed.block_id,
                    selected_user=selected_user,
                )
            else:
                message = self.api.message(pressed.message_id or 0)
                self.slack.click(
                    session.user_id,
                    message,
                    pressed.action_id,
                    value=pressed.value,
                    option_value=pressed.option_value,
                    block_id=pressed.block_id,
                    selected_user=selected_user,
                )
        except (LookupError, StopIteration, KeyError):
            self.say(
                f"  That button is no longer there{where}: what it was on has changed since. "
                "Press one on the newest copy."
            )
            return
        self.say(self.render.style.dim(f"  (you pressed “{pressed.label}”{where})"))
        self._after(session)

    def _pick_user(self, label: str, *, initial: str | None = None) -> str | None:
        """A person picker: a number or a name; `cancel` gives "cancel", nothing picked gives None."""
        people = list(self.api.workspace.users.values())
        for index, user in enumerate(people, 1):
            self.say(f"│   {index}. {user.real_name or user.name} (@{user.name})")
        default = (
            f" [@{self.api.workspace.users[initial].name}]" if initial in self.api.workspace.users else ""
        )
        typed = self.read(f"│ {label} (a number or a name){default}: ").strip().casefold()
        if not typed:
            return initial
        if typed == "cancel":
            return "cancel"
        for index, user in enumerate(people, 1):
            if typed.lstrip("@") in (str(index), user.name.casefold(), (user.real_name or "").casefold()):
                return user.id
        self.say("│   (nobody by that name)")
        return None

    # ---- modals ------------------------------------------------------------------------------------
    def _fill_modal(self, session: Session) -> None:
        """Fill in the open modal field by field, submit it, and follow what the app answers:
        problems shown in place are asked again, a view it swaps in is shown (and filled in, if
        it asks for more), and a view with nothing to submit is read and closed."""
        view = self.slack.open_modal(session.user_id)
        while view is not None:
            self.say(
                "\n"
                + self.render.style.bold(f"┌─ {view['title']['text']} ")
                + self.render.style.dim("(type `cancel` to close)")
            )
            inputs = [block for block in view["blocks"] if block.get("type") == "input"]
            if not inputs or not view.get("submit"):
                for line in self.render.blocks(view["blocks"], []):
                    self.say("│" + line)
                self.slack.close_modal(session.user_id)
                self.say(self.render.style.dim("└─ closed"))
                return
            for line in self.render.blocks([b for b in view["blocks"] if b.get("type") != "input"], []):
                self.say("│" + line)
            values: dict[str, dict[str, Any]] = {}
            for block in inputs:
                state = self._ask(session, block)
                if state is None:
                    self._cancel(session)
                    return
                values[block["block_id"]] = {block["element"]["action_id"]: state}
            while True:
                reply = self.slack.submit(session.user_id, view, values)
                answer = reply.json
                errors = answer.get("errors") if answer.get("response_action") == "errors" else None
                if not errors:
                    break
                for block_id, message in errors.items():
                    self.say(f"  ⚠️  {message}")
                    block = next((b for b in inputs if b.get("block_id") == block_id), None)
                    if block is None:
                        continue
                    state = self._ask(session, block)
                    if state is None:
                        self._cancel(session)
                        return
                    values[block_id] = {block["element"]["action_id"]: state}
            self.say(self.render.style.dim("└─ submitted"))
            swapped = answer.get("response_action") in ("update", "push")
            view = self.slack.open_modal(session.user_id) if swapped else None

    def _cancel(self, session: Session) -> None:
        self.api.open_modals[session.user_id].clear()
        self.say(self.render.style.dim("└─ closed"))

    def _ask(self, session: Session, block: dict[str, Any]) -> dict[str, Any] | None:
        """One field, as Slack would show it: its current value is the default (Enter keeps it)."""
        element = block["element"]
        label = block["label"]["text"]
        kind = element["type"]
        optional = bool(block.get("optional"))
        while True:
            if kind == "external_select":
                initial = element.get("initial_option")
                hint = (
                    f" [{initial['text']['text']}]"
                    if initial
                    else " (part of the name, Enter for your leads)"
                )
                typed = self.read(f"│ {label}{hint}: ").strip()
                if typed == "cancel":
                    return None
                if not typed and initial:
                    return {"type": kind, "selected_option": initial}
                picked = self._search(session, block, element["action_id"], typed)
                if picked == "cancel":
                    return None
                if isinstance(picked, dict):
                    return {"type": kind, "selected_option": picked}
            elif kind == "static_select":
                options = element["options"]
                initial = element.get("initial_option")
                for index, option in enumerate(options, 1):
                    self.say(f"│   {index}. {option['text']['text']}")
                default = options.index(initial) + 1 if initial in options else 1
                typed = self.read(f"│ {label} [{default}]: ").strip() or str(default)
                if typed == "cancel":
                    return None
                if typed.isdigit() and 1 <= int(typed) <= len(options):
                    return {"type": kind, "selected_option": options[int(typed) - 1]}
            elif kind == "datepicker":
                initial = element.get("initial_date")
                typed = (
                    self.read(f"│ {label} (YYYY-MM-DD, today, yesterday) [{initial}]: ").strip() or initial
                )
                if typed == "cancel":
                    return None
                picked_date = _date(typed, date.fromisoformat(initial))
                if picked_date:
                    return {"type": kind, "selected_date": picked_date.isoformat()}
            elif kind == "timepicker":
                initial = element.get("initial_time")
                typed = self.read(f"│ {label} (HH:MM) [{initial or ''}]: ").strip() or initial or ""
                if typed == "cancel":
                    return None
                if _clock(typed):
                    return {"type": kind, "selected_time": _clock(typed)}
            elif kind == "number_input":
                initial = element.get("initial_value")
                typed = self.read(f"│ {label} [{initial or ''}]: ").strip() or initial or ""
                if typed == "cancel":
                    return None
                if typed.isdigit() or (optional and not typed):
                    return {"type": kind, "value": typed or None}
            elif kind == "plain_text_input":
                initial = element.get("initial_value")
                shown = f" [{initial}]" if initial else " (optional)" if optional else ""
                typed = self.read(f"│ {label}{shown}: ")
                if typed.strip() == "cancel":
                    return None
                value = typed if typed.strip() else initial
                if value or optional:
                    return {"type": kind, "value": value or None}
            elif kind == "users_select":
                picked_user = self._pick_user(label, initial=element.get("initial_user"))
                if picked_user == "cancel":
                    return None
                if picked_user or optional:
                    return {"type": kind, "selected_user": picked_user}
            elif kind == "channels_select":
                picked_channel = self._pick_channel(label, initial=element.get("initial_channel"))
                if picked_channel != "cancel":
                    return {"type": kind, "selected_channel": picked_channel}
                return None
            else:
                return {"type": kind}
            self.say("│   (that didn't work; try again, or `cancel`)")

    def _pick_channel(self, label: str, *, initial: str | None) -> str | None:
        """A channel picker: a number or a name, `none` to leave it empty, Enter keeps what it shows."""
        channels = [(cid, name) for cid, name in self.api.workspace.channels.items() if cid.startswith("C")]
        for index, (_, name) in enumerate(channels, 1):
            self.say(f"│   {index}. #{name}")
        current = f"#{self.api.workspace.channels.get(initial, initial)}" if initial else "none"
        while True:
            typed = self.read(f"│ {label} (a number, a name or `none`) [{current}]: ").strip()
            if not typed:
                return initial
            if typed in ("cancel", "none"):
                return None if typed == "none" else "cancel"
            for index, (cid, name) in enumerate(channels, 1):
                if typed.lstrip("#").casefold() in (str(index), name.casefold()):
                    return cid
            self.say("│   (no such channel; try again)")

    def _search(
        self, session: Session, block: dict[str, Any], action_id: str, typed: str
    ) -> dict[str, Any] | str | None:
        """Ask the app for options as Slack does; a number picks one, other text searches again."""
        view = self.slack.open_modal(session.user_id)
        assert view is not None
        while True:
            _, options = self.slack.suggest(session.user_id, view, action_id, typed)
            if not options:
                self.say("│   No lead matches that.")
                return None
            for index, option in enumerate(options[:15], 1):
                self.say(f"│   {index}. {option['text']['text']}")
            answer = self.read("│   pick a number (or type to search again): ").strip()
            if answer == "cancel":
                return "cancel"
            if answer.isdigit() and 1 <= int(answer) <= min(15, len(options)):
                return options[int(answer) - 1]
            if not answer:
                return None
            typed = answer


def _clock(typed: str) -> str | None:
    """ "8:30" or "08:30" as Slack's time picker gives it ("08:30"), or None."""
    hours, _, minutes = typed.partition(":")
    if hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2:
        return f"{int(hours):02d}:{minutes}"
    return None


def _date(typed: str, today: date) -> date | None:
    if typed == "today":
        return today
    if typed == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None
