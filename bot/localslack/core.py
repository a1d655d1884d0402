"""The stand-in's shared state and the checks Slack makes on every message; each Web API family's
methods (chat.py, conversations.py, …) build on it, and api.py puts them together behind HTTP."""

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.localslack.model import (
    MESSAGE_BLOCK_LIMIT,
    SPECIAL_MENTION,
    Call,
    Fault,
    LostAnswer,
    ResponseTarget,
    Shown,
    UploadedFile,
    Workspace,
)
from bot.localslack.scopes import manifest_scopes


class Core:
    """State every method family reads and writes, guarded by one lock."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        token: str | None = None,
        files_dir: Path | None = None,
        scopes: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.home = workspace or Workspace()
        # Every workspace the stand-in knows, by team id: the home one, and those a test adds
        # (bot/localslack/oauth.py); a call speaks for the workspace its token was issued in.
        self.workspaces: dict[str, Workspace] = {self.home.team_id: self.home}
        self._speaking = threading.local()
        self.token = token
        # What the workspace granted at install: manifest.yml's scopes unless a test says otherwise.
        self.scopes = frozenset(manifest_scopes() if scopes is None else scopes)
        self.clock = clock  # Slack's clock: message timestamps and rate-limit windows follow it
        self.history_calls: dict[str, float] = {}  # channel -> when conversations.history last read it
        self.files: dict[str, UploadedFile] = {}  # files_upload_v2's uploads, by file id
        self.files_dir = files_dir  # when set, each shared file is written here too
        self.calls: list[Call] = []
        self.problems: list[str] = []  # contract violations Baton committed
        self.shown: list[Shown] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view (modals and App Home)
        self.open_modals: dict[str, list[str]] = {}  # user id -> stack of modal view ids
        self._faults: list[Fault] = []
        self._lost: list[LostAnswer] = []
        self._targets: dict[str, ResponseTarget] = {}
        self._used_triggers: set[str] = set()
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)

    @property
    def base(self) -> str:
        """Where the stand-in answers (upload and response URLs point here); api.py's server knows."""
        raise NotImplementedError

    @property
    def workspace(self) -> Workspace:
        """The workspace of the call being answered on this thread; the home workspace otherwise."""
        speaking: Workspace | None = getattr(self._speaking, "workspace", None)
        return speaking or self.home

    def message(self, message_id: int) -> Shown:
        with self._lock:
            return next(m for m in self.shown if m.id == message_id)

    def _record(self, call: Call) -> None:
        with self._arrived:
            self.calls.append(call)
            self._arrived.notify_all()

    # ---- contract checks ---------------------------------------------------------------------------
    def _check_message(
        self, method: str, args: dict[str, Any], limit: int = MESSAGE_BLOCK_LIMIT
    ) -> str | None:
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            self.problems.append(f"{method} sent metadata without event_type and event_payload")
            return "invalid_metadata"
        blocks = args.get("blocks") or []
        if blocks and not (args.get("text") or "").strip():
            self.problems.append(f"{method} sent blocks without a text fallback")
        if len(blocks) > limit:
            self.problems.append(f"{method} sent {len(blocks)} blocks (limit {limit})")
            return "invalid_blocks"
        if len(args.get("text") or "") > 40000:
            return "msg_too_long"
        self._check_mentions(method, args)
        return None

    def _check_mentions(self, method: str, payload: Any) -> None:
        dumped = json.dumps(payload, ensure_ascii=False)
        found = SPECIAL_MENTION.search(dumped)
        if found:
            # Where it was, so a failure found once by a generated example can be traced to its text.
            around = dumped[max(0, found.start() - 80) : found.end() + 80]
            self.problems.append(f"{method} would ping {found.group(0)} in …{around}…")

    # ---- shared by the method families ----------------------------------------------------------------------------
    def _next_ts(self) -> str:
        """Slack's message ids: the second it was posted, then a sequence (unique, in order)."""
        return f"{int(self.clock())}.{next(self._ts) % 1_000_000:06d}"

    def _resolve_channel(self, channel: str) -> str:
        return self.workspace.dm_channel(channel) if channel[:1] in ("U", "W") else channel

    def _audience(self, channel: str) -> str | None:
        """Who sees a message in `channel`: one person in a DM with Baton, everyone elsewhere."""
        if channel.startswith("D"):
            return "U" + channel[1:]
        return None

    def _show(
        self,
        user_id: str | None,
        channel: str,
        ts: str | None,
        args: dict[str, Any],
        *,
        ephemeral: bool,
        source: str,
    ) -> Shown:
        message = Shown(
            id=next(self._ids),
            user_id=user_id,
            channel=channel,
            ts=ts,
            text=str(args.get("text") or ""),
            blocks=list(args.get("blocks") or []),
            ephemeral=ephemeral,
            source=source,
        )
        self.shown.append(message)
        return message
