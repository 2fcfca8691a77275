"""Acknowledge an incident: someone has it."""

from __future__ import annotations

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, change_incident


class AckInput(Target):
    pass


async def run(cmd: AckInput, deps: Deps) -> Change:
    now = deps.clock.now()
    change = await change_incident(cmd, deps,
                                   lambda cur: inc.acknowledge(cur, by=cmd.actor, now=now))
    if deps.pager is not None and change.incident.pages:
        deps.chat.spawn(change.incident.id, _page(change.incident, deps))
    return change


async def _page(incident: inc.Incident, deps: Deps) -> None:
    assert deps.pager is not None
    for line in await deps.pager.acknowledge(incident):
        await deps.store.append(incident.id, inc.TimelineEvent(
            at=deps.clock.now(), kind=inc.EventKind.paged, data={"result": line}))
