"""response_url: the answer to a command or a click, bound to the person and the message."""

from typing import Any

from bot.localslack.core import Core
from bot.localslack.model import Call, ResponseTarget


class ResponseUrls(Core):
    def response_url(self, user_id: str, channel: str, message_id: int | None = None) -> str:
        """A response_url like the ones Slack puts in commands and clicks, bound to this person."""
        key = f"R{next(self._ids)}"
        with self._lock:
            self._targets[key] = ResponseTarget(user_id, channel, message_id)
        return f"{self.base}/respond/{key}"

    def _respond(self, key: str, args: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            fault = next((f for f in self._faults if f.method == "response_url" and f.times > 0), None)
            if fault is not None:  # `fail("response_url", status=500)`: Slack's side of it is down
                fault.times -= 1
                self._record(Call("response_url", args, fault.status, {"ok": False, "error": fault.error}))
                return fault.status, {}, {"ok": False, "error": fault.error}
            self._record(Call("response_url", args, 200, {"ok": True}))
            target = self._targets.get(key)
            if target is None:
                return 404, {}, {"ok": False, "error": "expired_url"}
            error = self._check_message("response_url", args)
            if error:
                return 400, {}, {"ok": False, "error": error}
            if args.get("delete_original") and target.message_id is not None:
                self.shown = [m for m in self.shown if m.id != target.message_id]
                return 200, {}, {"ok": True}
            if args.get("replace_original") and target.message_id is not None:
                message = self.message(target.message_id)
                message.text = args.get("text") or ""
                message.blocks = list(args.get("blocks") or [])
                message.version += 1
                return 200, {}, {"ok": True}
            in_channel = args.get("response_type") == "in_channel"
            self._show(
                None if in_channel else target.user_id,
                target.channel,
                self._next_ts() if in_channel else None,
                args,
                ephemeral=not in_channel,
                source="response_url",
            )
            return 200, {}, {"ok": True}
