"""Resolve an incident."""

from __future__ import annotations

from pydantic import Field

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, change_incident


class ResolveInput(Target):
    summary: str = Field(default="", max_length=3000)


async def run(cmd: ResolveInput, deps: Deps) -> Change:
    now = deps.clock.now()
    change = await change_incident(cmd, deps, lambda cur: inc.resolve(
        cur, by=cmd.actor, now=now, summary=cmd.summary))
    if deps.policy.channels.announce:
        await deps.chat.announce(change.incident, kind="resolved")
    return change
