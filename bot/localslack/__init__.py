"""A local Slack for the try-out and the tests: a Web API stand-in and the platform side that signs requests."""

from bot.localslack.api import Shown, SlackApi, User, Workspace
from bot.localslack.platform import Platform, Reply

__all__ = ["Platform", "Reply", "Shown", "SlackApi", "User", "Workspace"]
