"""The local Slack: a loopback fake of Slack's Web API, delivery and Socket Mode.

    async with LocalSlack.start(scopes={"chat:write"}, signing_secret="s") as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
"""

from .errors import ApiError
from .local import LocalSlack
from .platform import Delivery, Platform, sign
from .scopes import METHOD_SCOPES, scopes_from_manifest
from .socket_mode import SocketModeServer
from .web_api import CallRecord, WebApi
from .workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Workspace

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "ApiError",
    "CallRecord",
    "Delivery",
    "LocalSlack",
    "METHOD_SCOPES",
    "Platform",
    "SocketModeServer",
    "WebApi",
    "Workspace",
    "scopes_from_manifest",
    "sign",
]
