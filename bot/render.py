"""User templates (Jinja2): the war-room card, announcements, status updates, customer
messages and the post-incident report. Every one can be overridden by a file of the same
name in the configured templates folder; `check-config` renders them all."""

from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from bot import messages as m
from bot.core.durations import format_duration
from bot.core.incident import EventKind, Incident, StatusUpdate, TimelineEvent
from bot.core.metrics import IncidentMetrics, compute
from bot.core.policy import DEFAULT_POLICY, Policy

DEFAULTS = Path(__file__).with_name("templates")
NAMES = ("war_room_card", "announcement", "update", "customer_initial", "customer_update",
         "customer_resolution", "report")
CUSTOMER_KINDS = ("initial", "update", "resolution")
SUFFIX = ".md.j2"


class Templates:
    def __init__(self, folder: Path | None = None, *, policy: Policy = DEFAULT_POLICY,
                 slos: dict[str, tuple[float, timedelta]] | None = None) -> None:
        self.folder = Path(folder).expanduser() if folder else None
        self.slos = slos or {}
        loaders: list[jinja2.BaseLoader] = []
        if self.folder is not None:
            loaders.append(jinja2.FileSystemLoader(str(self.folder)))
        loaders.append(jinja2.FileSystemLoader(str(DEFAULTS)))
        self.env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                                      undefined=jinja2.StrictUndefined, autoescape=False,
                                      keep_trailing_newline=False, trim_blocks=False)
        self.policy = policy

    def source_of(self, name: str) -> str:
        if self.folder is not None and (self.folder / f"{name}{SUFFIX}").is_file():
            return str(self.folder / f"{name}{SUFFIX}")
        return str(DEFAULTS / f"{name}{SUFFIX}")

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(f"{name}{SUFFIX}").render(**context).strip()

    # ------------------------------------------------------------ one per template
    def card(self, incident: Incident, *, now: datetime) -> str:
        return self.render("war_room_card", **card_context(incident, now=now, policy=self.policy))

    def announcement(self, incident: Incident, *, kind: str, old_severity: str | None = None,
                     update: StatusUpdate | None = None) -> str:
        return self.render("announcement", **base_context(incident), kind=kind,
                           old_severity=old_severity or "?", update=update)

    def update(self, incident: Incident, update: StatusUpdate) -> str:
        return self.render("update", **base_context(incident), update=update,
                           author=m.mention(update.by), posted_at=m.when(update.at))

    def customer(self, incident: Incident, *, kind: str) -> str:
        return self.render(f"customer_{kind}", **base_context(incident))

    def report(self, incident: Incident, events: list[TimelineEvent], *,
               extra: dict[str, Any] | None = None) -> str:
        return self.render("report", **report_context(incident, events, slos=self.slos),
                           **(extra or {}))

    # ------------------------------------------------------------ check-config
    def check(self) -> list[str]:
        """Render every template against a sample incident; each error with file:line."""
        sample, events = sample_incident(self.policy)
        problems = []
        calls = {
            "war_room_card": lambda: self.card(sample, now=sample.declared_at + timedelta(minutes=7)),
            "announcement": lambda: self.announcement(sample, kind="declared"),
            "update": lambda: self.update(sample, sample.last_update),  # type: ignore[arg-type]
            "customer_initial": lambda: self.customer(sample, kind="initial"),
            "customer_update": lambda: self.customer(sample, kind="update"),
            "customer_resolution": lambda: self.customer(sample, kind="resolution"),
            "report": lambda: self.report(sample, events),
        }
        for name, call in calls.items():
            try:
                call()
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{exc.filename or self.source_of(name)}:{exc.lineno}: "
                                f"{m.template_error(str(exc.message))}")
            except Exception as exc:  # undefined names, bad filters, type errors at render
                path = self.source_of(name)
                line = _template_line(exc, path)
                problems.append(f"{path}:{line}: {m.template_error(str(exc))}")
        return problems


def _template_line(exc: BaseException, path: str) -> int:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == path:
            return frame.lineno or 1
    return 1


def base_context(incident: Incident) -> dict[str, Any]:
    cadence = incident.policy.update_every
    return {
        "incident": incident,
        "status": m.status_label(incident.status.value),
        "drill": " [DRILL]" if incident.drill else "",
        "started": m.when(incident.declared_at),
        "war_room": f"<#{incident.channel_id}>" if incident.channel_id else "-",
        "affected": ", ".join(incident.services) or incident.impact or "some of our services",
        "cadence": format_duration(cadence) if cadence else "30m",
    }


def card_context(incident: Incident, *, now: datetime, policy: Policy) -> dict[str, Any]:
    from bot.slack.blocks import severity_badge

    ack = m.CARD_NOT_YET
    if incident.acknowledged_at is not None:
        ack = f"{m.mention(incident.acknowledged_by)} after {m.age(incident.time_to_acknowledge())}"  # type: ignore[arg-type]
    elif incident.ladder.level and incident.escalation.levels:
        level = incident.escalation.levels[min(incident.ladder.level,
                                               len(incident.escalation.levels)) - 1]
        ack += f" · {m.card_escalation(level=incident.ladder.level, name=level.name)}"
    if incident.ladder.breached_at is not None and incident.policy.ack_within:
        ack += f" · {m.card_breach(target=m.age(incident.policy.ack_within))}"
    last = "-"
    if incident.last_update is not None:
        u = incident.last_update
        last = f"{m.when(u.at)} by {m.mention(u.by)}: {u.text}"
    status = m.status_label(incident.status.value)
    if not incident.is_open:
        status = f":white_check_mark: {status}"
    return {
        **base_context(incident),
        "status": status,
        "severity": severity_badge(incident, policy),
        "last_update": last,
        "acknowledged": ack,
        "roles": ", ".join(f"{m.role_label(r)}: {m.mention(u)}" for r, u in incident.roles.items()),
        "age": m.age(incident.age(now)),
    }


def report_context(incident: Incident, events: list[TimelineEvent], *,
                   slos: dict[str, tuple[float, timedelta]] | None = None) -> dict[str, Any]:
    events = sorted(events, key=lambda e: e.at)
    end = incident.resolved_at or (events[-1].at if events else incident.declared_at)
    timeline = []
    for e in events:
        if e.kind in {EventKind.probe_result, EventKind.card_posted}:
            continue
        offset = format_duration(e.at - incident.declared_at)
        text = m.timeline_event(e.kind.value, actor=e.actor, text=e.text, data=e.data)
        timeline.append(f"{e.at.strftime('%Y-%m-%d %H:%M:%S UTC')} (T+{offset}) - {text}")
    notes = [e.text for e in events if e.kind in {EventKind.note, EventKind.pinned_message}]
    metrics = compute(incident, events, now=end, slos=slos or None)
    rows = metrics_rows(metrics, incident)
    return {
        **base_context(incident),
        "date": incident.declared_at.strftime("%Y-%m-%d"),
        "duration": format_duration(end - incident.declared_at),
        "ended": m.when(end),
        "commander": m.mention(incident.commander),
        "timeline": timeline,
        "notes": notes,
        "metrics": rows,
        "slos": slo_rows(metrics),
        "pattern": m.PATTERN_TITLES.get(incident.probe_pattern or "", ""),
        "action_items": [{"text": a.text, "owner": m.mention(a.owner) if a.owner else "_Name_",
                          "due": a.due or "_Date_"} for a in incident.action_items],
    }


def metrics_rows(metrics: IncidentMetrics, incident: Incident) -> list[dict[str, str]]:
    """Detection, response and resolution times against the severity's targets."""
    def fmt(delta: timedelta | None) -> str:
        return format_duration(delta) if delta is not None else "-"

    target = incident.policy.ack_within
    sla = "-"
    if target is not None:
        sla = (m.sla_breached if metrics.sla_breached else m.sla_met)(target=format_duration(target))
    return [
        {"name": "Time to detect", "value": fmt(metrics.detection), "target": "-"},
        {"name": "Time to acknowledge", "value": fmt(metrics.time_to_acknowledge), "target": sla},
        {"name": "Time to first update", "value": fmt(metrics.time_to_first_update),
         "target": fmt(incident.policy.update_every)},
        {"name": "Time to mitigate", "value": fmt(metrics.time_to_mitigate), "target": "-"},
        {"name": "Time to resolve", "value": fmt(metrics.time_to_resolve), "target": "-"},
        {"name": "Time to recover (all checks green)", "value": fmt(metrics.recovery),
         "target": "-"},
    ]


def slo_rows(metrics: IncidentMetrics) -> list[dict[str, str]]:
    return [{"service": b.service, "target": f"{b.target * 100:g}%",
             "period": format_duration(b.period), "used": f"{b.used_minutes:.1f} min",
             "budget": f"{b.budget_minutes:.1f} min", "percent": f"{b.percent:.1f}%"}
            for b in metrics.budgets]


def sample_incident(policy: Policy) -> tuple[Incident, list[TimelineEvent]]:
    from bot.core import incident as inc

    t0 = datetime(2026, 1, 15, 14, 23, tzinfo=UTC)
    severity = policy.severities[0]
    change = inc.declare(incident_id="INC-2026-01-15-001", seq=1, title="Auth service down",
                         severity=severity, escalation=policy.escalation, declared_by="U0SAMPLE",
                         now=t0, services=["auth"], description="Logins fail with 500")
    events = list(change.events)
    incident = change.incident.model_copy(update={"channel_id": "C0SAMPLE",
                                                  "channel_name": "inc-20260115-001-auth"})
    step = inc.acknowledge(incident, by="U0SAMPLE", now=t0 + timedelta(minutes=3))
    incident, events = step.incident, events + step.events
    step = inc.post_update(incident, text="JWT secret mismatch after deploy", by="U0SAMPLE",
                           now=t0 + timedelta(minutes=9), hypothesis="bad deploy", eta="15:00 UTC")
    incident, events = step.incident, events + step.events
    step = inc.add_action_item(incident, text="Add a canary for JWT config", owner="U0SAMPLE",
                               due="2026-01-22", by="U0SAMPLE", now=t0 + timedelta(minutes=30))
    incident, events = step.incident, events + step.events
    step = inc.resolve(incident, by="U0SAMPLE", now=t0 + timedelta(minutes=42),
                       summary="Rolled back the deploy")
    return step.incident, events + step.events
