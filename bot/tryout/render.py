"""Block Kit rendered for a terminal: what a person would see in Slack, with buttons numbered to press."""

import re
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

EMOJI = {
    "white_check_mark": "✅",
    "chart_with_upwards_trend": "📈",
    "floppy_disk": "💾",
    "scissors": "✂️",
    "wastebasket": "🗑️",
    "calendar": "📅",
    "spiral_calendar_pad": "🗓️",
    "bulb": "💡",
    "telephone_receiver": "📞",
    "speech_balloon": "💬",
    "studio_microphone": "🎙️",
    "no_bell": "🔕",
    "email": "✉️",
    "incoming_envelope": "📨",
    "raised_hand": "✋",
    "no_entry": "⛔",
    "seedling": "🌱",
    "trophy": "🏆",
    "sparkles": "✨",
    "wave": "👋",
    "fire": "🔥",
    "arrows_counterclockwise": "🔄",
    "bust_in_silhouette": "👤",
    "mag": "🔍",
    "thinking_face": "🤔",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "dart": "🎯",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "face_with_head_bandage": "🤕",
    "sunrise": "🌅",
    "handshake": "🤝",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "zzz": "💤",
    "clipboard": "📋",
    "bar_chart": "📊",
    "busts_in_silhouette": "👥",
    "ghost": "👻",
    "hammer_and_wrench": "🛠️",
    "gear": "⚙️",
    "tada": "🎉",
    "pushpin": "📌",
    "moneybag": "💰",
    "link": "🔗",
    "scales": "⚖️",
    "heavy_minus_sign": "\u2796",
    "x": "❌",
    "no_entry_sign": "🚫",
    "information_source": "\u2139\ufe0f",
    "eyes": "👀",
}


@dataclass(frozen=True)
class Pressable:
    """Something the person can press by number: a button, one option of an overflow menu, or a
    person picker. It remembers the block and the message it sits in, as a click in Slack does."""

    label: str
    action_id: str
    value: str | None
    option_value: str | None = None
    on_home: bool = False  # on the Home tab, not in a message
    block_id: str | None = None
    message_id: int | None = None
    kind: str = "button"  # "button", "overflow" or "users_select"


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def italic(self, text: str) -> str:
        return self._wrap("3", text)

    def button(self, text: str) -> str:
        return self._wrap("7", text)


class Renderer:
    def __init__(
        self,
        names: Callable[[str], str],
        *,
        color: bool,
        width: int | None = None,
        channels: Callable[[str], str | None] = lambda channel_id: None,
    ) -> None:
        self.names = names
        self.channels = channels
        self.tz: ZoneInfo = ZoneInfo("UTC")  # the reader's: Slack shows <!date> tokens in their time zone
        self.style = Style(color)
        self.width = min(width or shutil.get_terminal_size((100, 24)).columns, 110)

    def mrkdwn(self, text: str) -> str:
        text = re.sub(r"<!date\^(\d+)\^[^|>]*(?:\|[^>]*)?>", lambda m: self._date(int(m.group(1))), text)
        text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + self.names(m.group(1)), text)
        # Slack shows a channel link by the channel's current name, whatever the link carries.
        text = re.sub(
            r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>",
            lambda m: "#" + (self.channels(m.group(1)) or m.group(2) or m.group(1)),
            text,
        )
        text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
        text = re.sub(r":([a-z0-9_+-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
        text = re.sub(
            r"```(.*?)```",
            lambda m: "\n".join("    " + line for line in m.group(1).split("\n")),
            text,
            flags=re.S,
        )
        text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: self.style.bold(m.group(1)), text)
        # Italics may hold underscores of their own: "_(set in COACH_MANAGER_IDS)_".
        text = re.sub(r"(?<![\w_])_([^\s_][^\n]*?)_(?!\w)", lambda m: self.style.italic(m.group(1)), text)
        text = re.sub(r"`([^`\n]+)`", lambda m: self.style.bold(m.group(1)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _date(self, stamp: int) -> str:
        moment = datetime.fromtimestamp(stamp, self.tz)
        return f"{moment:%a} {moment.day} {moment:%b} at {moment:%H:%M}"

    def _para(self, text: str, indent: str = "  ") -> list[str]:
        lines: list[str] = []
        for raw in text.split("\n"):
            quoted = raw.startswith("> ") or raw == ">"
            body = raw[2:] if quoted else raw
            prefix = indent + ("│ " if quoted else "")
            wrapped = textwrap.wrap(
                body,
                width=max(30, self.width - len(prefix)),
                replace_whitespace=False,
                break_on_hyphens=False,  # "follow-up" and "Whitfield-Oyelaran" stay whole, as in Slack
            ) or [""]
            lines.extend(prefix + line for line in wrapped)
        return lines

    def blocks(
        self,
        blocks: list[dict[str, Any]],
        pressables: list[Pressable],
        *,
        message_id: int | None = None,
        on_home: bool = False,
    ) -> list[str]:
        """Lines for `blocks`; every button met is appended to `pressables` and shown with its number."""
        out: list[str] = []
        for block in blocks:
            where = {"block_id": block.get("block_id"), "message_id": message_id, "on_home": on_home}
            kind = block.get("type")
            if kind == "header":
                out.append("  " + self.style.bold(block["text"]["text"].upper()))
            elif kind == "divider":
                out.append("  " + self.style.dim("─" * min(60, self.width - 4)))
            elif kind == "section":
                if block.get("text"):
                    out.extend(self._para(self.mrkdwn(block["text"]["text"])))
                for field in block.get("fields") or []:
                    out.extend(self._para(self.mrkdwn(field["text"]).replace("\n", ": ", 1), indent="    "))
                if block.get("accessory"):
                    out.append("    " + self._elements([block["accessory"]], pressables, where))
            elif kind == "context":
                for element in block.get("elements") or []:
                    if element.get("text"):
                        out.extend(
                            self.style.dim(line) for line in self._para(self.mrkdwn(element["text"]), "    ")
                        )
            elif kind == "actions":
                out.append("  " + self._elements(block.get("elements") or [], pressables, where))
            elif kind == "input":
                out.append("  " + self.style.bold(block["label"]["text"]))
        return out

    def _elements(
        self, elements: list[dict[str, Any]], pressables: list[Pressable], where: dict[str, Any]
    ) -> str:
        shown = []
        for element in elements:
            if element.get("type") == "button":
                pressables.append(
                    Pressable(element["text"]["text"], element["action_id"], element.get("value"), **where)
                )
                shown.append(self.style.button(f" {len(pressables)} {element['text']['text']} "))
            elif element.get("type") == "overflow":
                for option in element.get("options") or []:
                    label = option["text"]["text"]
                    pressables.append(
                        Pressable(
                            label, element["action_id"], None, option["value"], kind="overflow", **where
                        )
                    )
                    shown.append(self.style.dim(f"[{len(pressables)} {label}]"))
            elif element.get("type") == "users_select":
                label = (element.get("placeholder") or {}).get("text") or "Pick someone…"
                pressables.append(Pressable(label, element["action_id"], None, kind="users_select", **where))
                shown.append(self.style.button(f" {len(pressables)} {label} "))
        return "  ".join(shown)
