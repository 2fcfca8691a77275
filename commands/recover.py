"""Ordered recovery (seed 000): restart tier by tier - infrastructure, core, business,
gateway, workers - waiting for each tier's checks before the next, stopping at the
first tier that does not recover."""

from __future__ import annotations

from itertools import groupby

from pydantic import BaseModel, Field

from bot.core import errors
from bot.core.catalog import Tier
from bot.core.incident import EventKind, Incident, TimelineEvent
from bot.core.ports import ActionInfo, Deps
from bot.core.triage import recovery_order
from commands import remediate
from commands.target import Target, find_incident

USAGE = "`/incident recover [service ...]`"



class RecoverInput(Target):
    services: list[str] = Field(default_factory=list)


class Step(BaseModel):
    tier: str
    service: str
    action: ActionInfo | None  # None: nothing declared to restart it; only waited for


class TierResult(BaseModel):
    tier: str
    healthy: bool
    services: list[str]


def restart_action(service: str, deps: Deps) -> ActionInfo | None:
    if deps.remediator is None:
        return None
    return next((a for a in deps.remediator.actions_for(service) if a.restarts), None)


def plan(incident: Incident, deps: Deps, *, named: list[str]) -> list[list[Step]]:
    """The recovery plan: tiers in order, each with its services (pure once configured)."""
    unknown = [n for n in named if deps.catalog.get(n) is None]
    if unknown:
        raise errors.UnknownService(unknown, known=deps.catalog.names(), usage=USAGE)
    chosen = named or [s for s, st in incident.probe_status.items() if st != "ok"] \
        or list(incident.services)
    if not chosen:
        raise errors.MissingArgument("the services to recover (none are failing)", usage=USAGE)

    def tier_of(name: str) -> str:
        svc = deps.catalog.get(name)
        return (svc.tier if svc else Tier.business).value

    ordered = recovery_order(deps.catalog, chosen)
    return [[Step(tier=tier, service=s, action=restart_action(s, deps)) for s in group]
            for tier, group in groupby(ordered, key=tier_of)]


async def run(cmd: RecoverInput, deps: Deps) -> list[TierResult]:
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    tiers = plan(incident, deps, named=cmd.services)
    results: list[TierResult] = []
    assert deps.remediator is not None or all(s.action is None for t in tiers for s in t)
    dry_run = incident.drill or (deps.remediator is not None and deps.remediator.dry_run)
    for tier in tiers:
        healthy = True
        for step in tier:
            if step.action is None:
                continue
            try:
                outcome = await remediate.confirm(remediate.RemediateInput(
                    actor=cmd.actor, incident_id=incident.id, service=step.service,
                    index=step.action.index), deps, verify_after=False)
            except errors.WarroomError as exc:  # refused, cooldown...: this tier failed
                await deps.chat.post_recovery_refused(incident, step.service, exc)
                healthy = False
                continue
            healthy = healthy and outcome.ok
            dry_run = dry_run or outcome.dry_run
        if not dry_run:  # a dry run changed nothing: there is nothing to wait for
            for step in tier:
                healthy = await remediate.verify(incident, step.service, deps,
                                                 actor=cmd.actor) and healthy
        result = TierResult(tier=tier[0].tier, healthy=healthy, services=[s.service for s in tier])
        results.append(result)
        await deps.store.append(incident.id, TimelineEvent(
            at=deps.clock.now(), kind=EventKind.recovery, actor=cmd.actor,
            data={"tier": result.tier, "services": ",".join(result.services),
                  "healthy": "yes" if healthy else "no", "dry_run": "yes" if dry_run else ""}))
        await deps.chat.post_recovery_step(incident, result.tier, result.services,
                                           healthy=healthy, last=tier is tiers[-1])
        if not healthy:
            break
    return results
