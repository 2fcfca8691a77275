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
    return await change_incident(cmd, deps, lambda cur: inc.acknowledge(cur, by=cmd.actor, now=now))
