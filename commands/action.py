"""Add a post-incident action item (it appears in the report)."""

from __future__ import annotations

from pydantic import Field

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, find_incident


class ActionInput(Target):
    text: str = Field(min_length=1, max_length=500)
    owner: str | None = None
    due: str | None = None


async def run(cmd: ActionInput, deps: Deps) -> Change:
    incident = await find_incident(cmd, deps)
    now = deps.clock.now()
    return await deps.store.mutate(incident.id, lambda cur: inc.add_action_item(
        cur, text=cmd.text, owner=cmd.owner, due=cmd.due, by=cmd.actor, now=now))
