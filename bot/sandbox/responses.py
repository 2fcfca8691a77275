"""How Slack shows what an app answers: command acks and response_url posts.

The `/hooks/response/<id>` route lives here too (it is part of the fake
server, not of the app).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import blockkit
from . import errors as E
from .workspace import BOT_USER_ID, RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL, ResponseHook, Workspace, now

HOOK_PATH = "/hooks/response/"


def show_reply(workspace: Workspace, *, hook: ResponseHook, body: dict[str, Any], source: str) -> str | None:
    """Apply an app reply like Slack does; returns an error name or None."""
    if body.get("delete_original") in (True, "true") and hook.message_ts:
        _delete_original(workspace, hook)
        return None
    text = body.get("text") or ""
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return blockkit.ERR_INVALID_BLOCKS_FORMAT
    if blocks is not None and blockkit.block_errors(blocks):
        return blockkit.ERR_INVALID_BLOCKS
    if not text and not blocks:
        return E.NO_TEXT
    if body.get("replace_original") in (True, "true") and hook.message_ts:
        _replace_original(workspace, hook, text=text, blocks=blocks)
        return None
    if hook.channel is None:
        return E.CHANNEL_NOT_FOUND
    if body.get("response_type") == "in_channel":
        workspace.post(channel=hook.channel, user=BOT_USER_ID, text=text, blocks=blocks, thread_ts=body.get("thread_ts"))
    else:
        workspace.post_ephemeral(channel=hook.channel, user=hook.user, text=text, blocks=blocks, source=source)
    return None


def _delete_original(workspace: Workspace, hook: ResponseHook) -> None:
    assert hook.message_ts is not None
    if hook.message_is_ephemeral:
        eph = workspace.find_ephemeral(hook.message_ts)
        if eph is not None:
            eph.deleted = True
            workspace.emit("ephemeral.deleted", {"message_ts": eph.message_ts, "user": eph.user})
        return
    msg = workspace.message(hook.channel or "", hook.message_ts)
    if msg is not None:
        workspace.delete_message(msg)


def _replace_original(workspace: Workspace, hook: ResponseHook, *, text: str, blocks: list[dict[str, Any]] | None) -> None:
    assert hook.message_ts is not None
    if hook.message_is_ephemeral:
        eph = workspace.find_ephemeral(hook.message_ts)
        if eph is not None:
            eph.text, eph.blocks = text, blockkit.fill_ids(blocks)
            workspace.emit("ephemeral.updated", eph.model_dump())
        return
    msg = workspace.message(hook.channel or "", hook.message_ts)
    if msg is not None:
        msg.text, msg.blocks = text, blockkit.fill_ids(blocks)
        workspace.emit("message.updated", msg.model_dump())


class ResponseUrls:
    """The `POST /hooks/response/<id>` endpoint."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.posts: list[dict[str, Any]] = []

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(HOOK_PATH + "{hook_id:.+}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        hook = self.workspace.hooks.get(request.match_info["hook_id"])
        if hook is None:
            return _fail(E.NO_SERVICE, status=404)
        if now() - hook.created > RESPONSE_URL_TTL:
            return _fail(E.EXPIRED_URL, status=404)
        if hook.uses >= RESPONSE_URL_MAX_USES:
            return _fail(E.USED_URL, status=404)
        try:
            raw = await request.text()
            if request.content_type == "application/x-www-form-urlencoded":
                form = await request.post()
                body = json.loads(str(form.get("payload", "{}")))
            else:
                body = json.loads(raw or "{}")
        except ValueError:
            return _fail(E.INVALID_PAYLOAD, status=400)
        if not isinstance(body, dict):
            return _fail(E.INVALID_PAYLOAD, status=400)
        hook.uses += 1
        self.posts.append({"hook_id": hook.id, "body": body, "at": now()})
        error = show_reply(self.workspace, hook=hook, body=body, source="response_url")
        if error:
            return _fail(error, status=400)
        return web.json_response({"ok": True})


def _fail(error: str, *, status: int) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)
