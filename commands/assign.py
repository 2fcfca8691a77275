"""Give someone a role in the war room (commander, tech lead, comms lead, …)."""

from __future__ import annotations

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, change_incident


class AssignInput(Target):
    role: str
    user: str


async def run(cmd: AssignInput, deps: Deps) -> Change:
    now = deps.clock.now()
    change = await change_incident(cmd, deps, lambda cur: inc.assign(
        cur, role=cmd.role, user=cmd.user, by=cmd.actor, now=now))
    if change.incident.channel_id:
        deps.chat.spawn(change.incident.id, deps.chat.invite(change.incident.channel_id,
                                                             [cmd.user]))
    return change
