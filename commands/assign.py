"""Give someone a role in the war room (commander, tech lead, comms lead, …)."""

from __future__ import annotations

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from bot.core import errors
from commands.target import Target, change_incident, find_incident


class AssignInput(Target):
    role: str
    user: str


async def may_assign_commander(actor: str, incident, deps: Deps) -> bool:  # noqa: ANN001
    """Commander carries the power to confirm remediation: only the current commander or
    someone on the remediation allow-list may hand it on."""
    if actor == incident.commander:
        return True
    allow = list(deps.remediator.global_allow) if deps.remediator is not None else []
    if actor in allow:
        return True
    groups = [a for a in allow if a.startswith("S")]
    return bool(groups) and actor in await deps.chat.group_members(groups)


async def run(cmd: AssignInput, deps: Deps) -> Change:
    now = deps.clock.now()
    if cmd.role == "commander":
        incident = await find_incident(cmd, deps)
        if not await may_assign_commander(cmd.actor, incident, deps):
            raise errors.NotAllowed(incident.id, user=cmd.actor, action="assign commander")
    change = await change_incident(cmd, deps, lambda cur: inc.assign(
        cur, role=cmd.role, user=cmd.user, by=cmd.actor, now=now))
    if change.incident.channel_id:
        deps.chat.spawn(change.incident.id, deps.chat.invite(change.incident.channel_id,
                                                             [cmd.user]))
    return change
