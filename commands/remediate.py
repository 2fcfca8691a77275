"""Guarded remediation: a declared action, confirmed by someone allowed, with a cooldown,
a dry-run mode, every step on the timeline, and the service re-checked afterwards."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import structlog
from pydantic import Field

from bot.core import errors
from bot.core.incident import EventKind, Incident, TimelineEvent
from bot.core.ports import ActionInfo, ActionOutcome, Deps
from commands.target import Target, find_incident

log = structlog.get_logger(__name__)



class RemediateInput(Target):
    service: str
    index: int = Field(ge=0)
    params: dict[str, str | int] = Field(default_factory=dict)


def action_info(cmd: RemediateInput, deps: Deps) -> ActionInfo:
    if deps.remediator is None:
        raise errors.UnknownAction(cmd.service, cmd.index)
    actions = deps.remediator.actions_for(cmd.service)
    if cmd.index >= len(actions):
        raise errors.UnknownAction(cmd.service, cmd.index)
    return actions[cmd.index]


async def _event(deps: Deps, incident: Incident, kind: EventKind, *, actor: str | None,
                 text: str = "", **data: str) -> None:
    await deps.store.append(incident.id, TimelineEvent(at=deps.clock.now(), kind=kind,
                                                       actor=actor, text=text, data=data))


def concerns(incident: Incident, service: str) -> bool:
    """An incident may only act on the services it is about (declared or probed)."""
    return service in incident.services or service in incident.probe_status


async def allowed(user: str, incident: Incident, info: ActionInfo, deps: Deps) -> bool:
    """The incident commander, or anyone on the action's (else the global) allow-list."""
    if user == incident.commander:
        return True
    assert deps.remediator is not None
    allow = info.allow or deps.remediator.global_allow
    if user in allow:
        return True
    groups = [a for a in allow if a.startswith("S")]
    return bool(groups) and user in await deps.chat.group_members(groups)


async def request(cmd: RemediateInput, deps: Deps) -> tuple[Incident, ActionInfo]:
    """A button press: recorded; refused at once for someone who could not confirm."""
    info = action_info(cmd, deps)
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    await _event(deps, incident, EventKind.remediation_requested, actor=cmd.actor,
                 text=info.name, service=info.service, action=info.kind)
    if not concerns(incident, info.service):
        await _event(deps, incident, EventKind.remediation_refused, actor=cmd.actor,
                     text=info.name, reason="other_service")
        raise errors.NotThisIncident(incident.id, service=info.service)
    if not await allowed(cmd.actor, incident, info, deps):
        await _event(deps, incident, EventKind.remediation_refused, actor=cmd.actor,
                     text=info.name, reason="not_allowed")
        raise errors.NotAllowed(incident.id, user=cmd.actor, action=info.name)
    return incident, info


async def confirm(cmd: RemediateInput, deps: Deps, *, verify_after: bool = True) -> ActionOutcome:
    """The confirmation: checks again, plans, honours the cooldown, runs (or dry-runs),
    posts the outcome and then verifies the service."""
    assert deps.remediator is not None
    info = action_info(cmd, deps)
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    if not concerns(incident, info.service):
        raise errors.NotThisIncident(incident.id, service=info.service)
    if not await allowed(cmd.actor, incident, info, deps):
        await _event(deps, incident, EventKind.remediation_refused, actor=cmd.actor,
                     text=info.name, reason="not_allowed")
        raise errors.NotAllowed(incident.id, user=cmd.actor, action=info.name)
    dry_run = deps.remediator.dry_run or info.dry_run or incident.drill  # drills change nothing
    try:
        plan = await deps.remediator.plan(info.service, info.index, cmd.params)
    except errors.ActionRefused as exc:
        await _event(deps, incident, EventKind.remediation_refused, actor=cmd.actor,
                     text=info.name, reason=exc.reason)
        raise
    cooldown = deps.remediator.cooldown_seconds
    if not dry_run and cooldown > 0 and not await deps.store.lease(
            f"cooldown:{info.service}", seconds=cooldown):
        await _event(deps, incident, EventKind.remediation_refused, actor=cmd.actor,
                     text=info.name, reason="cooldown")
        raise errors.Cooldown(incident.id, service=info.service,
                              cooldown=timedelta(seconds=cooldown))
    await _event(deps, incident, EventKind.remediation_confirmed, actor=cmd.actor,
                 text=plan.description, dry_run="yes" if dry_run else "")
    outcome = await deps.remediator.execute(info.service, info.index, plan, dry_run=dry_run)
    await _event(deps, incident, EventKind.remediation_result, actor=cmd.actor,
                 text=outcome.summary, ok="yes" if outcome.ok else "no",
                 dry_run="yes" if dry_run else "")
    await deps.chat.post_action_outcome(incident, info, plan, outcome, by=cmd.actor)
    if outcome.ok and not dry_run and verify_after:
        await verify(incident, info.service, deps, actor=cmd.actor)
    return outcome


async def verify(incident: Incident, service: str, deps: Deps, *, actor: str | None,
                 timeout: float | None = None) -> bool:
    """Re-run the service's checks until healthy or the timeout; post and record the outcome."""
    if deps.prober is None or service not in deps.prober.probed_services():
        return True
    assert deps.remediator is not None
    limit = timeout if timeout is not None else deps.remediator.verify_timeout_seconds
    started = time.monotonic()
    healthy = False
    while True:
        report = await deps.prober.run([service])
        healthy = not report.failing
        if healthy or time.monotonic() - started >= limit:
            break
        await asyncio.sleep(deps.remediator.verify_interval_seconds)
    took = timedelta(seconds=round(time.monotonic() - started))
    await _event(deps, incident, EventKind.remediation_verified, actor=actor,
                 service=service, healthy="yes" if healthy else "no",
                 seconds=str(int(took.total_seconds())))
    await deps.chat.post_verification(incident, service=service, healthy=healthy, took=took,
                                      report=report)
    return healthy
