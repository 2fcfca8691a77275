"""A message marked with the timeline reaction (default :pushpin:) joins the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from pydantic import BaseModel

from bot.core.incident import EventKind, TimelineEvent
from bot.core.ports import Deps

log = structlog.get_logger(__name__)


class PinInput(BaseModel):
    channel_id: str
    ts: str
    reaction: str
    by: str


async def run(cmd: PinInput, deps: Deps) -> bool:
    """True when the message was added; False if not an incident channel, another
    reaction, or already on the timeline (Slack retries, a second pin)."""
    if cmd.reaction != deps.policy.timeline_reaction:
        return False
    incident_id = await deps.store.by_channel(cmd.channel_id)
    if incident_id is None:
        return False
    if await deps.store.claim_once(f"pin:{cmd.channel_id}:{cmd.ts}", cmd.by) is not None:
        return False
    text, author = await deps.chat.message_text(cmd.channel_id, cmd.ts)
    at = datetime.fromtimestamp(float(cmd.ts), tz=UTC)
    await deps.store.append(incident_id, TimelineEvent(
        at=at, kind=EventKind.pinned_message, actor=author, text=text,
        data={"ts": cmd.ts, "pinned_by": cmd.by}))
    log.info("timeline.pinned", incident_id=incident_id, ts=cmd.ts)
    return True
