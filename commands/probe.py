"""Run diagnostics for an incident: probe its services, record every result, post triage."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.core import errors, incident as inc
from bot.core.incident import Incident
from bot.core.ports import Deps
from bot.core.triage import ProbeReport
from commands.target import Target, find_incident

USAGE = "`/incident probe [service ...]`"


class ProbeInput(Target):
    services: list[str] = Field(default_factory=list)


class Probed(BaseModel):
    incident: Incident
    report: ProbeReport


def validate(cmd: ProbeInput, deps: Deps) -> None:
    """Bad input is refused before anything runs or is written."""
    if deps.prober is None or not deps.prober.probed_services():
        raise errors.NoServicesConfigured()
    unknown = deps.prober.unknown(cmd.services)
    if unknown:
        raise errors.UnknownService(unknown, known=deps.catalog.names(), usage=USAGE)


def services_for(incident: Incident, deps: Deps, *, named: list[str]) -> list[str]:
    """The named services (or those in the declaration / title) plus what they depend on;
    every probed service when nothing is named."""
    assert deps.prober is not None
    probed = deps.prober.probed_services()
    chosen = named or [s for s in incident.services if s in deps.catalog.names()] \
        or deps.catalog.mentioned_in(incident.title)
    if not chosen:
        return probed
    wanted: list[str] = []
    for name in chosen:
        for candidate in [name, *deps.catalog.dependencies(name)]:
            if candidate in probed and candidate not in wanted:
                wanted.append(candidate)
    return wanted or probed


async def run(cmd: ProbeInput, deps: Deps) -> Probed:
    validate(cmd, deps)
    incident = await find_incident(cmd, deps)
    return await probe_incident(incident, deps, named=cmd.services, actor=cmd.actor)


async def probe_incident(incident: Incident, deps: Deps, *, named: list[str],
                         actor: str | None) -> Probed:
    assert deps.prober is not None
    report = await deps.prober.run(services_for(incident, deps, named=named))
    change = await deps.store.mutate(incident.id,
                                     lambda cur: inc.record_probe(cur, report, by=actor))
    await deps.chat.post_triage(change.incident, report)
    await deps.chat.refresh_card(incident.id)
    return Probed(incident=change.incident, report=report)
