"""Escalate: notify the next level of the ladder - now (button, command) or on its timer."""

from __future__ import annotations

import structlog
from pydantic import Field

from bot.core import errors, incident as inc
from bot.core.escalation import Step, escalate_token, step_for
from bot.core.incident import Change, Incident
from bot.core.ports import Deps
from commands import timers
from commands.target import Target, find_incident

log = structlog.get_logger(__name__)


class EscalateInput(Target):
    reason: str = Field(default="", max_length=500)


class Stale(Exception):
    """The job no longer matches the incident: it does nothing."""


def next_step(incident: Incident) -> Step:
    levels = incident.escalation.levels
    if not levels:
        raise errors.NoEscalationLevels(incident.id)
    current = incident.ladder.level
    level = min(current + 1, len(levels))
    return step_for(levels, level, by_type=incident.by_type_contacts(),
                    repeat=current >= len(levels))


async def notify(incident: Incident, step: Step, deps: Deps, *, reason: str,
                 by: str | None = None, note: str = "") -> None:
    """The Slack side and the pager side of notifying a level. The next timer is
    scheduled first, so a crash here cannot stop the ladder."""
    await timers.schedule(incident, deps)
    try:
        await deps.chat.notify_level(incident, step, reason=reason, by=by, note=note)
    except errors.ChatError as exc:
        log.warning("escalate.notify_failed", incident_id=incident.id, error=exc.error)
    if deps.pager is not None and incident.pages:
        for line in await deps.pager.trigger(incident, step):
            await deps.store.append(incident.id, inc.TimelineEvent(
                at=deps.clock.now(), kind=inc.EventKind.paged, data={"result": line}))
    await deps.chat.refresh_card(incident.id)


def first_step(incident: Incident) -> Step:
    return step_for(incident.escalation.levels, 1, by_type=incident.by_type_contacts())


async def start_ladder(incident: Incident, deps: Deps) -> Incident:
    """Right after the incident is saved: level 1 is on record and the next step is a
    durable timer, so a crash during the Slack work cannot lose the escalation."""
    if not incident.escalation.levels:
        return incident
    change = await deps.store.mutate(incident.id, lambda cur: inc.notify(
        cur, first_step(cur), now=deps.clock.now(), reason="declare"))
    await timers.schedule(change.incident, deps)
    return change.incident


async def notify_first(incident: Incident, deps: Deps) -> None:
    """Level 1's notification at declare, once the war room exists (same shape as every level)."""
    if incident.escalation.levels:
        await notify(incident, first_step(incident), deps, reason="declare")


async def run(cmd: EscalateInput, deps: Deps) -> Change:
    """Escalate now: the next level, superseding the scheduled step."""
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    next_step(incident)  # refuse before writing when there is no ladder

    def transition(cur: Incident) -> Change:
        if not cur.is_open:
            raise errors.AlreadyResolved(cur.id, by=cur.resolved_by, at=cur.resolved_at)
        return inc.notify(cur, next_step(cur), now=deps.clock.now(), reason="manual",
                          by=cmd.actor)

    change = await deps.store.mutate(incident.id, transition)
    await timers.schedule(change.incident, deps)
    deps.chat.spawn(incident.id, notify(change.incident, recorded_step(change), deps,
                                        reason="manual", by=cmd.actor, note=cmd.reason))
    return change


def recorded_step(change: Change) -> Step:
    """The step a `notify` change recorded."""
    incident = change.incident
    return step_for(incident.escalation.levels, incident.ladder.level,
                    by_type=incident.by_type_contacts(),
                    repeat=change.events[0].data.get("repeat") == "yes")


async def on_timer(incident_id: str, token: str, deps: Deps) -> bool:
    """The escalation timer fired. False (and nothing happens) when the job is stale."""
    def transition(cur: Incident) -> Change:
        if not cur.is_open or cur.acknowledged_at is not None or not cur.pages:
            raise Stale()
        if token != escalate_token(cur.ladder):
            raise Stale()
        return inc.notify(cur, next_step(cur), now=deps.clock.now(), reason="timer")

    try:
        change = await deps.store.mutate(incident_id, transition)
    except (Stale, errors.IncidentNotFound, errors.NoEscalationLevels):
        log.info("escalate.stale", incident_id=incident_id, token=token)
        return False
    await notify(change.incident, recorded_step(change), deps, reason="timer")
    return True
