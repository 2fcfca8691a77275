"""The Incident model, its timeline events and its state machine.

Every transition is a pure function `(incident, ..., now) -> Change`: the new
incident plus the timeline events it produced. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from bot.core import errors
from bot.core.escalation import (KIND_BREACH, KIND_ESCALATE, KIND_REMIND, EscalationState, Step,
                                 escalate_token, interval_after, remind_token)
from bot.core.policy import Escalation, Severity

if TYPE_CHECKING:
    from bot.core.triage import ProbeReport


class Status(StrEnum):
    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"


class EventKind(StrEnum):
    declared = "declared"
    channel_created = "channel_created"
    responders_invited = "responders_invited"
    card_posted = "card_posted"
    announced = "announced"
    acknowledged = "acknowledged"
    severity_changed = "severity_changed"
    role_assigned = "role_assigned"
    status_changed = "status_changed"
    update_posted = "update_posted"
    note = "note"
    resolved = "resolved"
    slack_failed = "slack_failed"
    probe_run = "probe_run"
    probe_result = "probe_result"
    regression = "regression"
    resolve_blocked = "resolve_blocked"
    escalated = "escalated"
    pinned_message = "pinned_message"
    remediation_requested = "remediation_requested"
    remediation_refused = "remediation_refused"
    remediation_confirmed = "remediation_confirmed"
    remediation_result = "remediation_result"
    remediation_verified = "remediation_verified"
    recovery = "recovery"
    customer_update = "customer_update"
    action_item = "action_item"
    report_generated = "report_generated"
    closed = "closed"
    ack_target_breached = "ack_target_breached"
    reminder_sent = "reminder_sent"
    paged = "paged"


class TimelineEvent(BaseModel):
    at: datetime
    kind: EventKind
    actor: str | None = None
    text: str = ""
    data: dict[str, str] = Field(default_factory=dict)


class SeverityChange(BaseModel):
    at: datetime
    by: str | None
    old: str | None
    new: str


class StatusUpdate(BaseModel):
    at: datetime
    by: str
    text: str
    status: Status


class ActionItem(BaseModel):
    text: str
    owner: str | None = None
    due: str | None = None
    added_by: str
    added_at: datetime


class Incident(BaseModel):
    id: str
    seq: int
    title: str
    severity: str
    status: Status = Status.investigating
    declared_at: datetime
    declared_by: str
    incident_type: str | None = None
    services: list[str] = Field(default_factory=list)
    description: str = ""
    # seed 004 war-room template fields
    impact: str = ""
    hypothesis: str = ""
    actions_in_progress: list[str] = Field(default_factory=list)
    eta: str = ""
    last_update: StatusUpdate | None = None
    roles: dict[str, str] = Field(default_factory=dict)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    severity_history: list[SeverityChange] = Field(default_factory=list)
    # Slack coordinates, filled in as declare progresses
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    problems: list[str] = Field(default_factory=list)
    # the last probe run
    probe_status: dict[str, str] = Field(default_factory=dict)
    probe_pattern: str | None = None
    probed_at: datetime | None = None
    triage_ts: str | None = None
    # snapshots taken at declare
    policy: Severity
    escalation: Escalation = Escalation()
    ladder: EscalationState = Field(default_factory=EscalationState)
    reminded_at: datetime | None = None
    drill: bool = False
    action_items: list[ActionItem] = Field(default_factory=list)
    report_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status is not Status.resolved

    @property
    def commander(self) -> str | None:
        return self.roles.get("commander")

    def age(self, now: datetime) -> timedelta:
        end = self.resolved_at or now
        return end - self.declared_at

    def by_type_contacts(self) -> tuple[str, ...]:
        if not self.incident_type:
            return ()
        return tuple(self.escalation.by_type.get(self.incident_type, ()))

    @property
    def pages(self) -> bool:
        """Whether this incident runs the escalation ladder (its severity pages)."""
        return self.policy.page and bool(self.escalation.levels)

    def time_to_acknowledge(self) -> timedelta | None:
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.declared_at


class Change(BaseModel):
    incident: Incident
    events: list[TimelineEvent] = Field(default_factory=list)


def declare(
    *,
    incident_id: str,
    seq: int,
    title: str,
    severity: Severity,
    escalation: Escalation,
    declared_by: str,
    now: datetime,
    incident_type: str | None = None,
    services: list[str] | None = None,
    description: str = "",
    drill: bool = False,
) -> Change:
    incident = Incident(
        id=incident_id,
        seq=seq,
        title=title,
        severity=severity.name,
        declared_at=now,
        declared_by=declared_by,
        incident_type=incident_type,
        services=list(services or []),
        description=description,
        impact=", ".join(services or []),
        roles={"commander": declared_by},
        severity_history=[SeverityChange(at=now, by=declared_by, old=None, new=severity.name)],
        policy=severity,
        escalation=escalation,
        drill=drill,
    )
    event = TimelineEvent(
        at=now, kind=EventKind.declared, actor=declared_by, text=title,
        data={"severity": severity.name, **({"drill": "yes"} if drill else {})},
    )
    return Change(incident=incident, events=[event])


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise errors.AlreadyResolved(incident.id, by=incident.resolved_by, at=incident.resolved_at)


def acknowledge(incident: Incident, *, by: str, now: datetime) -> Change:
    _require_open(incident)
    if incident.acknowledged_at is not None:
        raise errors.AlreadyAcknowledged(
            incident.id, by=incident.acknowledged_by, at=incident.acknowledged_at
        )
    new = incident.model_copy(update={"acknowledged_by": by, "acknowledged_at": now,
                                      "ladder": _bumped(incident)})
    took = now - incident.declared_at
    event = TimelineEvent(
        at=now, kind=EventKind.acknowledged, actor=by,
        data={"seconds": str(int(took.total_seconds()))},
    )
    return Change(incident=new, events=[event])


def change_severity(incident: Incident, *, severity: Severity, by: str, now: datetime) -> Change:
    _require_open(incident)
    if severity.name == incident.severity:
        raise errors.NothingChanged(incident.id, what="severity", value=severity.name)
    history = [*incident.severity_history,
               SeverityChange(at=now, by=by, old=incident.severity, new=severity.name)]
    new = incident.model_copy(
        update={"severity": severity.name, "policy": severity, "severity_history": history,
                "ladder": _bumped(incident)}
    )
    event = TimelineEvent(
        at=now, kind=EventKind.severity_changed, actor=by,
        data={"old": incident.severity, "new": severity.name},
    )
    return Change(incident=new, events=[event])


def assign(incident: Incident, *, role: str, user: str, by: str, now: datetime) -> Change:
    _require_open(incident)
    if incident.roles.get(role) == user:
        raise errors.NothingChanged(incident.id, what=role, value=user)
    roles = {**incident.roles, role: user}
    new = incident.model_copy(update={"roles": roles})
    event = TimelineEvent(
        at=now, kind=EventKind.role_assigned, actor=by, data={"role": role, "user": user}
    )
    return Change(incident=new, events=[event])


def post_update(
    incident: Incident,
    *,
    text: str,
    by: str,
    now: datetime,
    status: Status | None = None,
    impact: str | None = None,
    hypothesis: str | None = None,
    actions: list[str] | None = None,
    eta: str | None = None,
) -> Change:
    _require_open(incident)
    if status is Status.resolved:
        raise errors.UsageError(usage="resolve")
    new_status = status or incident.status
    update = StatusUpdate(at=now, by=by, text=text, status=new_status)
    ladder = incident.ladder.model_copy(update={"reminder_epoch": incident.ladder.reminder_epoch + 1})
    fields: dict[str, object] = {"last_update": update, "status": new_status, "ladder": ladder}
    if impact is not None:
        fields["impact"] = impact
    if hypothesis is not None:
        fields["hypothesis"] = hypothesis
    if actions is not None:
        fields["actions_in_progress"] = actions
    if eta is not None:
        fields["eta"] = eta
    new = incident.model_copy(update=fields)
    events = [TimelineEvent(at=now, kind=EventKind.update_posted, actor=by, text=text,
                            data={"status": new_status.value})]
    if new_status is not incident.status:
        events.append(TimelineEvent(
            at=now, kind=EventKind.status_changed, actor=by,
            data={"old": incident.status.value, "new": new_status.value},
        ))
    return Change(incident=new, events=events)


def add_note(incident: Incident, *, text: str, by: str, now: datetime) -> Change:
    event = TimelineEvent(at=now, kind=EventKind.note, actor=by, text=text)
    return Change(incident=incident, events=[event])


def resolve(incident: Incident, *, by: str, now: datetime, summary: str = "") -> Change:
    _require_open(incident)
    new = incident.model_copy(update={
        "status": Status.resolved, "resolved_by": by, "resolved_at": now,
        "summary": summary or incident.summary, "ladder": _bumped(incident),
    })
    event = TimelineEvent(
        at=now, kind=EventKind.resolved, actor=by, text=summary,
        data={"seconds": str(int((now - incident.declared_at).total_seconds()))},
    )
    return Change(incident=new, events=[event])


def _bumped(incident: Incident) -> EscalationState:
    return incident.ladder.model_copy(update={"epoch": incident.ladder.epoch + 1})


class Due(BaseModel):
    """A timer the incident wants: run `kind` at `at` unless its token went stale."""

    kind: str
    token: str
    at: datetime


def timers_wanted(incident: Incident) -> list[Due]:
    """Every timer this incident's current state calls for (pure)."""
    if not incident.is_open:
        return []
    out: list[Due] = []
    state = incident.ladder
    if incident.acknowledged_at is None:
        if incident.pages and state.level >= 1 and state.notified_at is not None:
            levels = incident.escalation.levels
            out.append(Due(kind=KIND_ESCALATE, token=escalate_token(state),
                           at=state.notified_at + interval_after(levels, state.level)))
        if incident.policy.ack_within and state.breached_at is None:
            out.append(Due(kind=KIND_BREACH, token=incident.severity,
                           at=incident.declared_at + incident.policy.ack_within))
    if incident.policy.update_every:
        since = max(t for t in (incident.declared_at,
                                incident.last_update.at if incident.last_update else None,
                                incident.reminded_at) if t is not None)
        out.append(Due(kind=KIND_REMIND, token=remind_token(state),
                       at=since + incident.policy.update_every))
    return out


def notify(incident: Incident, step: Step, *, now: datetime, reason: str,
           by: str | None = None) -> Change:
    """Record that `step`'s level was notified; `reason` is declare | timer | manual."""
    state = incident.ladder
    epoch = state.epoch + (1 if reason == "manual" else 0)  # supersedes the scheduled step
    ladder = state.model_copy(update={
        "epoch": epoch, "level": step.level, "notified_at": now,
        "repeats": state.repeats + 1 if step.repeat else state.repeats})
    event = TimelineEvent(at=now, kind=EventKind.escalated, actor=by, data={
        "level": str(step.level), "name": step.name, "members": ",".join(step.members),
        "reason": reason, "repeat": "yes" if step.repeat else ""})
    return Change(incident=incident.model_copy(update={"ladder": ladder}), events=[event])


def breach(incident: Incident, *, now: datetime) -> Change:
    ladder = incident.ladder.model_copy(update={"breached_at": now})
    target = incident.policy.ack_within
    event = TimelineEvent(at=now, kind=EventKind.ack_target_breached, data={
        "ack_within": str(int(target.total_seconds())) if target else ""})
    return Change(incident=incident.model_copy(update={"ladder": ladder}), events=[event])


def remind(incident: Incident, *, now: datetime, mentioned: list[str]) -> Change:
    event = TimelineEvent(at=now, kind=EventKind.reminder_sent,
                          data={"mentioned": ",".join(mentioned)})
    # a new token: a duplicate or resurrected copy of this reminder's job is stale
    ladder = incident.ladder.model_copy(update={"reminder_epoch": incident.ladder.reminder_epoch + 1})
    return Change(incident=incident.model_copy(update={"reminded_at": now, "ladder": ladder}),
                  events=[event])


def record_probe(incident: Incident, report: "ProbeReport", *, by: str | None) -> Change:
    """Every probe result is a timeline event; the card keeps the latest statuses."""
    at = report.finished_at
    events = [TimelineEvent(at=at, kind=EventKind.probe_run, actor=by, data={
        "pattern": report.triage.pattern.value,
        "failing": ",".join(s.name for s in report.failing),
        "services": str(len(report.services)),
        "first_failure": report.triage.first_failure or ""})]
    for svc in report.services:
        data = {"service": svc.name, "status": svc.status.value,
                "summary": "; ".join(c.summary for c in svc.checks if c.status.failing)[:500]}
        if svc.failed_since:
            data["failed_since"] = svc.failed_since.isoformat()
        events.append(TimelineEvent(at=at, kind=EventKind.probe_result, data=data))
    fields: dict[str, object] = {"probe_status": report.status_of(),
                                 "probe_pattern": report.triage.pattern.value, "probed_at": at}
    failing = [s.name for s in report.failing]
    if failing and not incident.impact:
        fields["impact"] = ", ".join(failing)
    if failing and not incident.services:
        fields["services"] = failing
    return Change(incident=incident.model_copy(update=fields), events=events)


def add_action_item(incident: Incident, *, text: str, owner: str | None, due: str | None,
                    by: str, now: datetime) -> Change:
    item = ActionItem(text=text, owner=owner, due=due, added_by=by, added_at=now)
    event = TimelineEvent(at=now, kind=EventKind.action_item, actor=by, text=text,
                          data={k: v for k, v in (("owner", owner), ("due", due)) if v})
    return Change(incident=incident.model_copy(
        update={"action_items": [*incident.action_items, item]}), events=[event])


def close(incident: Incident, *, by: str, now: datetime) -> Change:
    if incident.is_open:
        raise errors.NotResolvedYet(incident.id)
    if incident.closed_at is not None:
        raise errors.NothingChanged(incident.id, what="status", value="closed")
    event = TimelineEvent(at=now, kind=EventKind.closed, actor=by)
    return Change(incident=incident.model_copy(update={"closed_at": now}), events=[event])


def record(incident: Incident, event: TimelineEvent, **fields: object) -> Change:
    """A bookkeeping change (Slack coordinates, problems) with its event."""
    return Change(incident=incident.model_copy(update=fields), events=[event])
