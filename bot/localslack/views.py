"""views.*: modals (open, push, update) and the App Home tab (publish)."""

from typing import Any

from bot.localslack.core import Core
from bot.localslack.model import VIEW_BLOCK_LIMIT


class ViewsMethods(Core):
    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        if not trigger or trigger in self._used_triggers:
            self.problems.append("views.open with a missing or already used trigger_id")
            return {"ok": False, "error": "expired_trigger_id"}
        self._used_triggers.add(trigger)
        user_id = trigger.split(".")[0]
        return self._store_view(args, user_id=user_id, modal=True)

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        old = self.views[view_id]
        return self._store_view(args, user_id=old["user_id"], modal=old["type"] == "modal", view_id=view_id)

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if user_id not in self.workspace.users:
            return {"ok": False, "error": "user_not_found"}
        return self._store_view(args, user_id=user_id, modal=False, view_id=f"VHOME{user_id}")

    def _store_view(
        self, args: dict[str, Any], *, user_id: str, modal: bool, view_id: str | None = None
    ) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        if len(blocks) > VIEW_BLOCK_LIMIT:
            self.problems.append(f"a view with {len(blocks)} blocks (limit {VIEW_BLOCK_LIMIT})")
            return {"ok": False, "error": "invalid_arguments"}
        self._check_mentions("views", view)
        view_id = view_id or f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "user_id": user_id, "team_id": self.workspace.team_id}
        stored.setdefault("type", "modal" if modal else "home")
        self.views[view_id] = stored
        if modal and view_id not in self.open_modals.setdefault(user_id, []):
            self.open_modals[user_id].append(view_id)
        return {"ok": True, "view": stored}

    def replace_view(self, view_id: str, view: dict[str, Any]) -> None:
        """A modal's content swapped in place (`response_action: update`): same id, still open."""
        with self._lock:
            old = self.views[view_id]
            self._check_mentions("views", view)
            self.views[view_id] = {
                **view,
                "id": view_id,
                "user_id": old["user_id"],
                "team_id": old["team_id"],
            }
            self.views[view_id].setdefault("type", "modal")

    def push_view(self, user_id: str, view: dict[str, Any]) -> None:
        """A new modal on top of the open one (`response_action: push`)."""
        with self._lock:
            self._store_view({"view": view}, user_id=user_id, modal=True)
