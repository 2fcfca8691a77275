"""Post a status update: the war-room template's fields, posted and recorded."""

from __future__ import annotations

from pydantic import Field

from bot.core import incident as inc
from bot.core.incident import Change, Status
from bot.core.ports import Deps
from commands.target import Target, change_incident


class UpdateInput(Target):
    text: str = Field(min_length=1, max_length=3000)
    status: Status | None = None
    impact: str | None = None
    hypothesis: str | None = None
    actions: list[str] | None = None
    eta: str | None = None


async def run(cmd: UpdateInput, deps: Deps) -> Change:
    now = deps.clock.now()
    change = await change_incident(cmd, deps, lambda cur: inc.post_update(
        cur, text=cmd.text, by=cmd.actor, now=now, status=cmd.status, impact=cmd.impact,
        hypothesis=cmd.hypothesis, actions=cmd.actions, eta=cmd.eta))
    assert change.incident.last_update is not None
    deps.chat.spawn(change.incident.id,
                    deps.chat.post_update(change.incident, change.incident.last_update))
    return change
