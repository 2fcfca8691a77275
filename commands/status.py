"""Show one incident, or its timeline, or every open incident."""

from __future__ import annotations

from bot.core.incident import Incident, TimelineEvent
from bot.core.ports import Deps
from commands.target import Target, find_incident


class StatusInput(Target):
    pass


async def run(cmd: StatusInput, deps: Deps) -> Incident:
    return await find_incident(cmd, deps)


async def timeline(cmd: StatusInput, deps: Deps) -> tuple[Incident, list[TimelineEvent]]:
    incident = await find_incident(cmd, deps)
    return incident, await deps.store.timeline(incident.id)


async def list_open(deps: Deps) -> list[Incident]:
    return await deps.store.list_open()
