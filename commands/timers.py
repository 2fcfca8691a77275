"""Keep an incident's durable timers in line with its state, after every change."""

from __future__ import annotations

from bot.core.incident import Incident, timers_wanted
from bot.core.ports import Deps


async def schedule(incident: Incident, deps: Deps) -> None:
    """Schedule what the state wants; older jobs go stale by token and do nothing."""
    if deps.timers is None:
        return
    for due in timers_wanted(incident):
        await deps.timers.schedule(due.kind, incident.id, due.token, due=due.at)
