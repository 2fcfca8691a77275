"""Close a resolved incident: the report exists first, then the channel is archived."""

from __future__ import annotations

from bot.core import errors, incident as inc
from bot.core.incident import Change
from bot.core.ports import Deps
from commands import report
from commands.target import Target, find_incident


class CloseInput(Target):
    pass


async def run(cmd: CloseInput, deps: Deps) -> Change:
    incident = await find_incident(cmd, deps)
    if incident.is_open:
        raise errors.NotResolvedYet(incident.id)
    if incident.closed_at is not None:
        raise errors.NothingChanged(incident.id, what="status", value="closed")
    if incident.report_at is None:  # never archive before the report exists
        incident = (await report.generate(incident, deps, actor=cmd.actor)).incident
    now = deps.clock.now()
    change = await deps.store.mutate(incident.id, lambda cur: inc.close(cur, by=cmd.actor, now=now))
    if deps.policy.channels.archive_on_close:
        await deps.chat.archive(change.incident)
    return change
