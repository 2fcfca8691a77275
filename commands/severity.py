"""Change an incident's severity."""

from __future__ import annotations

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, change_incident


class SeverityInput(Target):
    severity: str


async def run(cmd: SeverityInput, deps: Deps) -> Change:
    now = deps.clock.now()
    severity = deps.policy.severity(cmd.severity)
    change = await change_incident(cmd, deps, lambda cur: inc.change_severity(
        cur, severity=severity, by=cmd.actor, now=now))
    if deps.policy.channels.announce:
        deps.chat.spawn(change.incident.id, deps.chat.announce(change.incident,
                                                               kind="severity_changed"))
    return change
