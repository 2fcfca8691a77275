"""Add a note to an incident's timeline."""

from __future__ import annotations

from pydantic import Field

from bot.core import incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands.target import Target, find_incident


class NoteInput(Target):
    text: str = Field(min_length=1, max_length=3000)


async def run(cmd: NoteInput, deps: Deps) -> Change:
    incident = await find_incident(cmd, deps)
    change = inc.add_note(incident, text=cmd.text, by=cmd.actor, now=deps.clock.now())
    for event in change.events:
        await deps.store.append(incident.id, event)
    return change
