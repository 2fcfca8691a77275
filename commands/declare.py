"""Declare an incident: save it, open the war room, call people in, post the card."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, Field

from bot.core import errors, incident as inc
from bot.core.incident import EventKind, Incident, TimelineEvent
from bot.core.naming import channel_name, incident_id
from bot.core.ports import Deps
from commands import escalate

log = structlog.get_logger(__name__)
CHANNEL_ATTEMPTS = 20


class DeclareInput(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    severity: str
    declared_by: str
    request_key: str = Field(min_length=1)
    incident_type: str | None = None
    services: list[str] = Field(default_factory=list)
    description: str = ""
    drill: bool = False


class Problem(BaseModel):
    step: str
    error: str


class Reservation(BaseModel):
    incident_id: str
    day: date
    seq: int
    fresh: bool


class Declared(BaseModel):
    incident: Incident
    repeated: bool = False
    problems: list[Problem] = Field(default_factory=list)


async def reserve(cmd: DeclareInput, deps: Deps) -> Reservation:
    """The id this request declares (the same id when Slack repeats the request)."""
    today = deps.clock.now().astimezone(ZoneInfo(deps.policy.timezone)).date()
    day, seq, fresh = await deps.store.reserve(cmd.request_key, today)
    return Reservation(incident_id=incident_id(day, seq), day=day, seq=seq, fresh=fresh)


async def run(cmd: DeclareInput, deps: Deps, *, reservation: Reservation | None = None) -> Declared:
    now = deps.clock.now()
    reservation = reservation or await reserve(cmd, deps)
    the_id, day, seq, fresh = (reservation.incident_id, reservation.day, reservation.seq,
                               reservation.fresh)
    severity = deps.policy.severity(cmd.severity)
    change = inc.declare(
        incident_id=the_id, seq=seq, title=cmd.title, severity=severity,
        escalation=deps.policy.escalation, declared_by=cmd.declared_by, now=now,
        incident_type=cmd.incident_type,
        services=cmd.services or deps.catalog.mentioned_in(cmd.title),  # named in the title
        description=cmd.description, drill=cmd.drill,
    )
    created = await deps.store.create(change)
    if created is None:
        log.info("declare.repeated", incident_id=the_id, fresh=fresh)
        return Declared(incident=await deps.store.get(the_id), repeated=True)
    if deps.metrics is not None:
        deps.metrics.observe(change)
    bound = log.bind(incident_id=the_id)
    bound.info("declare.saved", severity=severity.name)
    created = await escalate.start_ladder(created, deps)
    return await _open_war_room(created, day=day, deps=deps, log=bound)


async def _open_war_room(incident: Incident, *, day: date, deps: Deps, log) -> Declared:
    problems: list[Problem] = []

    async def failed(step: str, exc: errors.ChatError) -> None:
        nonlocal incident
        log.warning("declare.step_failed", step=step, error=exc.error)
        problems.append(Problem(step=step, error=exc.error))
        event = TimelineEvent(at=deps.clock.now(), kind=EventKind.slack_failed,
                              data={"step": step, "error": exc.error})
        incident = (await deps.store.mutate(
            incident.id,
            lambda cur: inc.record(cur, event, problems=[*cur.problems, f"{step}: {exc.error}"]),
        )).incident

    # 1. the channel, with a suffix when the name is taken
    try:
        channel = None
        for attempt in range(CHANNEL_ATTEMPTS):
            prefix = deps.policy.channels.prefix
            if incident.drill:
                prefix = f"{deps.policy.channels.drill_prefix}-{prefix}"
            name = channel_name(prefix=prefix, day=day, seq=incident.seq,
                                title=incident.title, attempt=attempt)
            try:
                channel = await deps.chat.create_channel(name)
                break
            except errors.ChannelNameTaken:
                continue
        if channel is None:
            raise errors.ChatError("conversations.create", "name_taken")
        event = TimelineEvent(at=deps.clock.now(), kind=EventKind.channel_created,
                              data={"channel": channel.id, "name": channel.name})
        incident = (await deps.store.mutate(incident.id, lambda cur: inc.record(
            cur, event, channel_id=channel.id, channel_name=channel.name))).incident
    except errors.ChatError as exc:
        await failed("channel", exc)
        # no war room, but the first level is still paged (DMs, PagerDuty)
        await escalate.notify_first(await deps.store.get(incident.id), deps)
        return Declared(incident=incident, problems=problems)

    # 2. the people: declarer, level 1, the type's contacts
    people = [incident.declared_by, *incident.escalation.first_responders(incident.incident_type)]
    people = list(dict.fromkeys(people))
    try:
        result = await deps.chat.invite(channel.id, people)
        event = TimelineEvent(at=deps.clock.now(), kind=EventKind.responders_invited,
                              data={"invited": ",".join(result.invited),
                                    "failed": ",".join(f"{u}:{e}" for u, e in result.failed.items())})
        await deps.store.append(incident.id, event)
        for user, error in result.failed.items():
            problems.append(Problem(step=f"invite {user}", error=error))
    except errors.ChatError as exc:
        await failed("invite", exc)

    # 3. the war-room card, pinned
    try:
        ts = await deps.chat.post_card(incident)
        event = TimelineEvent(at=deps.clock.now(), kind=EventKind.card_posted, data={"ts": ts})
        incident = (await deps.store.mutate(
            incident.id, lambda cur: inc.record(cur, event, card_ts=ts))).incident
        try:
            await deps.chat.pin(channel.id, ts)
        except errors.ChatError as exc:
            await failed("pin", exc)
    except errors.ChatError as exc:
        await failed("card", exc)

    # 4. the announcement
    if deps.policy.channels.announce:
        try:
            await deps.chat.announce(incident, kind="declared")
            await deps.store.append(incident.id, TimelineEvent(
                at=deps.clock.now(), kind=EventKind.announced,
                data={"channel": deps.policy.channels.announce}))
        except errors.ChatError as exc:
            await failed("announce", exc)

    # 5. level 1 of the ladder (message + DMs when the severity pages), then the timers
    await escalate.notify_first(await deps.store.get(incident.id), deps)

    if problems:
        try:
            for problem in problems:
                await deps.chat.post_problem(incident, step=problem.step, error=problem.error)
        except errors.ChatError:
            pass
    return Declared(incident=incident, problems=problems)
