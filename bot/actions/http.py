"""http_post: one POST (e.g. a circuit-breaker reset URL) with `ctx.http`.

ok when the status is one of `expect_status`; otherwise the summary names the status and
the detail holds a redacted snippet of the body. Redirects are not followed. Header
values are never shown (only their names); the URL is shown without its password.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bot.messages import actions as w
from bot.actions.base import Outcome, brief, clip
from bot.actions.models import ActionPlan, HttpPostAction
from bot.core.redact import redact, safe_url
from bot.probes.context import ProbeContext
from bot.probes.http import READ_LIMIT, _snippet

KIND = "http_post"


def _body_text(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return None
    return clip(redact(json.dumps(body, separators=(", ", ": "), default=str)))


async def plan(action: HttpPostAction, *, service: str, ctx: ProbeContext,
               params: dict[str, Any], budget: float) -> ActionPlan:
    target = safe_url(action.url)
    return ActionPlan(
        kind=KIND, service=service, action=str(action.name),
        description=w.http_plan(url=target, headers=list(action.headers),
                                body=_body_text(action.body), expect=action.expect_status,
                                timeout=action.timeout),
        target=target, params={})


async def execute(action: HttpPostAction, plan: ActionPlan, *, ctx: ProbeContext,
                  progress: list[str]) -> Outcome:
    seconds = action.timeout.total_seconds()
    sent = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            async with ctx.http.stream("POST", action.url, headers=action.headers,
                                       json=action.body, timeout=httpx.Timeout(seconds),
                                       follow_redirects=False) as response:
                latency_ms = (time.perf_counter() - sent) * 1000
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= READ_LIMIT:
                        break
                status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(False, w.http_no_answer(action.timeout), [])
    except httpx.HTTPError as exc:
        return Outcome(False, w.http_failed(brief(exc)), [])
    if status in action.expect_status:
        return Outcome(True, w.http_ok(status, latency_ms), [])
    text = bytes(body[:READ_LIMIT]).decode("utf-8", errors="replace")
    return Outcome(False, w.http_not_ok(status, latency_ms, action.expect_status),
                   _snippet(text))
