"""Customer / stakeholder messages (seed 004 "For Customers"): drafted, edited, sent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.core.incident import EventKind, TimelineEvent
from bot.core.ports import Deps
from commands.target import Target, find_incident

Kind = Literal["initial", "update", "resolution"]


class CustomerInput(Target):
    kind: Kind
    text: str = Field(min_length=1, max_length=3000)


def default_kind(incident) -> Kind:  # noqa: ANN001
    if not incident.is_open:
        return "resolution"
    return "update" if incident.last_update is not None else "initial"


async def draft(cmd: Target, deps: Deps, *, kind: Kind | None = None) -> tuple[Kind, str]:
    incident = await find_incident(cmd, deps)
    chosen = kind or default_kind(incident)
    assert deps.templates is not None
    return chosen, deps.templates.customer(incident, kind=chosen)


async def send(cmd: CustomerInput, deps: Deps) -> None:
    """Record the text that was sent (warroom has no status page of its own)."""
    incident = await find_incident(cmd, deps)
    await deps.store.append(incident.id, TimelineEvent(
        at=deps.clock.now(), kind=EventKind.customer_update, actor=cmd.actor, text=cmd.text,
        data={"kind": cmd.kind}))
