"""conversations.*: a channel's history (with metadata) and opening a DM."""

import math
from typing import Any

from bot.localslack.core import Core

HISTORY_LIMIT = 15  # messages a call, at most, for apps outside the Slack Marketplace (since 2025)
HISTORY_INTERVAL = 60.0  # seconds between calls per channel, for the same apps


class ConversationsMethods(Core):
    def _history_wait(self, args: dict[str, Any]) -> int | None:
        """Seconds until this channel's history may be read again (None: now, and the call counts)."""
        channel = self._resolve_channel(str(args.get("channel") or ""))
        now = self.clock()
        last = self.history_calls.get(channel)
        if last is not None and now - last < HISTORY_INTERVAL:
            return max(1, math.ceil(HISTORY_INTERVAL - (now - last)))
        self.history_calls[channel] = now
        return None

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Messages posted in a channel, newest first, between `oldest` and `latest` (exclusive
        unless `inclusive`); metadata only with `include_all_metadata`. As for apps outside the
        Marketplace: at most 15 messages a call (a larger `limit` is cut to 15) and one call a
        minute per channel (the 429 comes from `_history_wait`)."""
        channel = self._resolve_channel(str(args.get("channel") or ""))
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        inclusive = str(args.get("inclusive")).lower() in ("1", "true")
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        limit = min(int(args.get("limit") or HISTORY_LIMIT), HISTORY_LIMIT)
        start = int(args.get("cursor") or 0)

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        found = sorted(
            (
                m
                for m in self.shown
                if m.channel == channel and m.ts is not None and not m.ephemeral and within(float(m.ts))
            ),
            key=lambda m: float(m.ts or 0),
            reverse=True,
        )
        page = found[start : start + limit]
        messages = []
        for m in page:
            message: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "blocks": m.blocks}
            if with_metadata and m.metadata is not None:
                message["metadata"] = m.metadata
            messages.append(message)
        more = len(found) > start + limit
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "").split(",")
        if len(users) != 1 or users[0] not in self.workspace.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": self.workspace.dm_channel(users[0])}}
