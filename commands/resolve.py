"""Resolve an incident - after checking that what was failing is healthy again."""

from __future__ import annotations

from pydantic import Field

from bot.core import errors, incident as inc
from bot.core.incident import Change, EventKind, Incident, TimelineEvent
from bot.core.ports import Deps
from commands.target import Target, change_incident, find_incident


class ResolveInput(Target):
    summary: str = Field(default="", max_length=3000)
    force: bool = False  # resolve even though checks still fail ("Resolve anyway")


def affected_services(incident: Incident, deps: Deps) -> list[str]:
    """What resolve must re-check: the services failing at the last probe, else the
    declared services that have checks."""
    if deps.prober is None:
        return []
    probed = set(deps.prober.probed_services())
    failing = [s for s, status in incident.probe_status.items() if status != "ok" and s in probed]
    return failing or [s for s in incident.services if s in probed]


async def needs_verification(cmd: ResolveInput, deps: Deps) -> bool:
    """Cheap (Redis only): will resolve run probes first? Also refuses resolving twice."""
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    return not cmd.force and bool(affected_services(incident, deps))


async def run(cmd: ResolveInput, deps: Deps) -> Change:
    incident = await find_incident(cmd, deps)
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)
    affected = [] if cmd.force else affected_services(incident, deps)
    if affected and deps.prober is not None:
        report = await deps.prober.run(affected)
        await deps.store.mutate(incident.id, lambda cur: inc.record_probe(cur, report, by=cmd.actor))
        still = {s.name: "; ".join(c.summary for c in s.checks if c.status.failing)
                 for s in report.failing}
        if still:
            await deps.store.append(incident.id, TimelineEvent(
                at=deps.clock.now(), kind=EventKind.resolve_blocked, actor=cmd.actor,
                data={"failing": ",".join(still)}))
            await deps.chat.refresh_card(incident.id)
            raise errors.StillFailing(incident.id, services=still, summary=cmd.summary)
    now = deps.clock.now()
    change = await change_incident(cmd, deps, lambda cur: inc.resolve(
        cur, by=cmd.actor, now=now, summary=cmd.summary))
    if deps.pager is not None and change.incident.pages:  # first: stop the paging
        deps.chat.spawn(change.incident.id, _page(change.incident, deps))
    if deps.policy.channels.announce:
        deps.chat.spawn(change.incident.id, deps.chat.announce(change.incident, kind="resolved"))
    return change


async def _page(incident: Incident, deps: Deps) -> None:
    assert deps.pager is not None
    for line in await deps.pager.resolve(incident):
        await deps.store.append(incident.id, inc.TimelineEvent(
            at=deps.clock.now(), kind=EventKind.paged, data={"result": line}))


async def wrap_up(incident: Incident, deps: Deps, *, actor: str) -> None:
    """After resolve: the report (generated and uploaded) and the customer resolution draft."""
    from commands import report

    if deps.templates is None:
        return
    await report.generate(incident, deps, actor=actor)
    await deps.chat.post_customer_draft(incident, kind="resolution",
                                        text=deps.templates.customer(incident, kind="resolution"))
