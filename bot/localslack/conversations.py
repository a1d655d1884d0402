"""conversations.*: a channel's history (with metadata) and opening a DM."""

from typing import Any

from bot.localslack.core import Core


class ConversationsMethods(Core):
    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Messages posted in a channel, newest first; metadata only with `include_all_metadata`."""
        channel = self._resolve_channel(str(args.get("channel") or ""))
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        found = [
            m
            for m in reversed(self.shown)
            if m.channel == channel and m.ts is not None and not m.ephemeral and float(m.ts) > oldest
        ]
        messages = []
        for m in found[:limit]:
            message: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks}
            if with_metadata and m.metadata is not None:
                message["metadata"] = m.metadata
            messages.append(message)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "").split(",")
        if len(users) != 1 or users[0] not in self.workspace.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.workspace.dm_channel(users[0])}}
