"""Status-update reminders on the severity's cadence."""

from __future__ import annotations

import structlog

from bot.core import errors, incident as inc
from bot.core.escalation import remind_token
from bot.core.incident import Change, Incident
from bot.core.ports import Deps
from commands import timers
from commands.escalate import Stale

log = structlog.get_logger(__name__)


def who_to_remind(incident: Incident) -> list[str]:
    people = [incident.roles.get("commander"), incident.roles.get("comms_lead")]
    return list(dict.fromkeys(p for p in people if p))


async def on_timer(incident_id: str, token: str, deps: Deps) -> bool:
    def transition(cur: Incident) -> Change:
        if not cur.is_open or not cur.policy.update_every or token != remind_token(cur.ladder):
            raise Stale()
        return inc.remind(cur, now=deps.clock.now(), mentioned=who_to_remind(cur))

    try:
        change = await deps.store.mutate(incident_id, transition)
    except (Stale, errors.IncidentNotFound):
        log.info("remind.stale", incident_id=incident_id, token=token)
        return False
    await timers.schedule(change.incident, deps)  # before any I/O: a crash cannot stop it
    try:
        await deps.chat.remind(change.incident, mentioned=who_to_remind(change.incident))
    except errors.ChatError as exc:
        log.warning("remind.post_failed", incident_id=incident_id, error=exc.error)
    return True
