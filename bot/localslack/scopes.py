"""Which OAuth scopes each Web API method needs (Slack's method reference), and the scopes Baton's
manifest.yml asks for: the stand-in refuses a method the installed scopes don't cover, as Slack does.

A method missing from `METHOD_SCOPES` is one the stand-in doesn't know: a new call in Baton's code
fails the scan in tests/slack/test_fidelity.py until its scope is written down here and asked for
in manifest.yml.
"""

from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

# Any one of the scopes listed suffices; an empty tuple needs none beyond the bot token.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "auth.revoke": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "conversations.open": ("im:write", "mpim:write", "channels:manage", "groups:write"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
}


def history_scope(channel: str, private: set[str]) -> str:
    """conversations.history needs the scope of the conversation's kind."""
    if channel.startswith("D"):
        return "im:history"
    if channel.startswith("G") or channel in private:
        return "groups:history"
    return "channels:history"


def needed(method: str, args: dict[str, Any], private: set[str], dm_of: str) -> tuple[str, ...] | None:
    """The scopes `method` needs for these arguments (any one will do); None for an unknown method.
    `dm_of`: the DM channel a user id names (chat.postMessage and friends accept a user id)."""
    if method not in METHOD_SCOPES:
        return None
    if method == "conversations.history":
        return (history_scope(dm_of or str(args.get("channel") or ""), private),)
    return METHOD_SCOPES[method]


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes manifest.yml asks for (what a workspace grants when it installs Baton).

    Read without a YAML library (the try-out runs on the runtime dependencies alone): the list
    under `oauth_config: scopes: bot:`, one `- scope # why` a line, as manifest.yml writes it;
    tests/slack/test_fidelity.py checks this reading against PyYAML's."""
    scopes: list[str] = []
    path_so_far: list[tuple[int, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        content = line.split("#", 1)[0].rstrip()
        if not content.strip():
            continue
        indent = len(content) - len(content.lstrip())
        item = content.strip()
        if item.startswith("- "):
            if [key for _, key in path_so_far] == ["oauth_config", "scopes", "bot"]:
                scopes.append(item[2:].strip().strip("\"'"))
            continue
        while path_so_far and path_so_far[-1][0] >= indent:
            path_so_far.pop()
        path_so_far.append((indent, item.split(":", 1)[0]))
    return frozenset(scopes)
