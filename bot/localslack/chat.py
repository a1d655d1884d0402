"""chat.*: posting, ephemeral posts and edits, with Slack's message checks."""

from typing import Any

from bot.localslack.core import Core


class ChatMethods(Core):
    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.postMessage", args)
        if error:
            return {"ok": False, "error": error}
        channel = self._resolve_channel(str(args.get("channel") or ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        shown = self._show(
            self._audience(channel), channel, ts, args, ephemeral=False, source="chat.postMessage"
        )
        shown.metadata = args.get("metadata")
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.postEphemeral", args)
        if error:
            return {"ok": False, "error": error}
        channel = str(args.get("channel") or "")
        if channel in self.workspace.closed_channels:
            return {"ok": False, "error": "channel_not_found"}
        self._show(str(args.get("user")), channel, None, args, ephemeral=True, source="chat.postEphemeral")
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message("chat.update", args)
        if error:
            return {"ok": False, "error": error}
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        for message in self.shown:
            if message.channel == channel and message.ts == ts:
                message.text = args.get("text") or ""
                message.blocks = list(args.get("blocks") or [])
                message.version += 1
                return {"ok": True, "channel": channel, "ts": ts, "text": message.text}
        return {"ok": False, "error": "message_not_found"}
