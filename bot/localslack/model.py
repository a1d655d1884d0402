"""What the stand-in Slack knows: people, channels, messages as each person sees them, files, faults."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
SPECIAL_MENTION = re.compile(r"<!(channel|here|everyone|subteam\^[^>]*)(\|[^>]*)?>")


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    tz: str = "America/New_York"
    email: str = ""
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False

    def to_slack(self, team_id: str) -> dict[str, Any]:
        offset = 0
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "tz": self.tz,
            "tz_offset": offset,
            "profile": {
                "display_name": self.name,
                "real_name": self.real_name or self.name,
                "email": self.email or f"{self.name.lower()}@example.com",
            },
        }


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int
    body: dict[str, Any]
    team: str = ""  # the workspace whose token made the call ("" when no token named one)


@dataclass
class Shown:
    """One message as a person sees it. `replace_original` and `chat.update` change it in place."""

    id: int
    user_id: str | None  # None: visible to everyone in the channel
    channel: str
    ts: str | None  # None for ephemeral messages
    text: str
    blocks: list[dict[str, Any]]
    ephemeral: bool
    source: str  # "response_url", "chat.postMessage", "chat.postEphemeral"
    version: int = 1
    metadata: dict[str, Any] | None = None  # chat.postMessage's `metadata`, as Slack keeps it
    files: list[str] = field(default_factory=list)  # ids of files shared here (files.completeUploadExternal)


@dataclass
class UploadedFile:
    """A file given to the stand-in with files_upload_v2, and where it was shared."""

    id: str
    filename: str
    length: int
    alt_txt: str
    data: bytes = b""
    title: str = ""
    channels: list[str] = field(default_factory=list)
    saved_to: Path | None = None  # the try-out keeps uploads on disk so a person can open them


@dataclass
class Fault:
    method: str
    status: int
    error: str
    retry_after: int | None
    times: int
    team: str | None = None  # only calls made with this workspace's token fail


@dataclass
class LostAnswer:
    """Slack did the work but its answer never arrived: "drop" closes the connection after
    posting; "late" answers only after the client has given up waiting."""

    method: str
    how: str  # "drop" | "late"
    times: int
    team: str | None = None  # only calls made with this workspace's token


@dataclass
class ResponseTarget:
    user_id: str
    channel: str
    message_id: int | None  # the message a click came from: replace_original acts on it


@dataclass
class Workspace:
    team_id: str = "T0DEMO"
    team_name: str = "Demo Team"
    bot_user_id: str = "UBATON0"
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=lambda: {"C0GENERAL": "general", "C0SALES": "sales"})
    # channels Baton isn't a member of: ephemeral posts there fail like Slack's do
    closed_channels: set[str] = field(default_factory=set)
    private_channels: set[str] = field(default_factory=set)  # their history needs groups:history

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]


def iter_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every interactive element in `blocks`, with the block it sits in."""
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield block, element
        elif block.get("accessory"):
            yield block, block["accessory"]
