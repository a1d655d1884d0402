"""users.* and auth.test: who is who in the workspace, and who the bot is."""

from typing import Any

from bot.localslack.core import Core


class UsersMethods(Core):
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        ws = self.workspace
        return {
            "ok": True,
            "url": f"https://{ws.team_name.lower().replace(' ', '-')}.slack.com/",
            "team": ws.team_name,
            "user": "baton",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": "B0BATON",
            "is_enterprise_install": False,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.workspace.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.to_slack(self.workspace.team_id)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        everyone = sorted(self.workspace.users.values(), key=lambda u: u.id)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 200)
        page = everyone[start : start + limit]
        cursor = str(start + limit) if start + limit < len(everyone) else ""
        return {
            "ok": True,
            "members": [u.to_slack(self.workspace.team_id) for u in page],
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").casefold()
        for user in self.workspace.users.values():
            if user.to_slack(self.workspace.team_id)["profile"]["email"].casefold() == email:
                return {"ok": True, "user": user.to_slack(self.workspace.team_id)}
        return {"ok": False, "error": "users_not_found"}
