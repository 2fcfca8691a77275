"""While an incident is in `monitoring`, re-run its checks and call out regressions."""

from __future__ import annotations

from datetime import timedelta

import structlog

from bot.core import incident as inc
from bot.core.incident import EventKind, Status, TimelineEvent
from bot.core.ports import Deps
from commands.probe import services_for

log = structlog.get_logger(__name__)


async def run(deps: Deps, *, interval: timedelta) -> list[str]:
    """One pass: probe every monitoring incident whose last probe is older than `interval`.
    Returns the ids probed. A Redis lease makes one replica do each incident."""
    if deps.prober is None or not deps.prober.probed_services():
        return []
    now = deps.clock.now()
    done: list[str] = []
    for incident in await deps.store.list_open():
        if incident.status is not Status.monitoring:
            continue
        if incident.probed_at is not None and now - incident.probed_at < interval:
            continue
        slot = int(now.timestamp() // max(interval.total_seconds(), 1))
        if not await deps.store.lease(f"monitor:{incident.id}:{slot}",
                                      seconds=max(interval.total_seconds(), 1)):
            continue
        before = dict(incident.probe_status)
        names = list(before) or services_for(incident, deps, named=[])
        report = await deps.prober.run(names)
        change = await deps.store.mutate(incident.id,
                                         lambda cur: inc.record_probe(cur, report, by=None))
        regressed = [s.name for s in report.failing if before.get(s.name, "ok") == "ok"]
        if regressed:
            log.warning("monitor.regression", incident_id=incident.id, services=regressed)
            await deps.store.append(incident.id, TimelineEvent(
                at=deps.clock.now(), kind=EventKind.regression,
                data={"services": ",".join(regressed)}))
            await deps.chat.post_regression(change.incident, report, regressed)
        await deps.chat.refresh_card(incident.id)
        done.append(incident.id)
    return done
