"""Incident metrics: response times, detection and recovery, SLA, error-budget impact.

Pure: everything is computed from an incident and its timeline events, with `now`
handed in (it only matters for incidents still open). Nothing here does I/O.

    declared_at ─ acknowledged ─ first update ─ mitigated ─ resolved
         │            (TTA)         (TTFU)        (TTM)       (TTR)
    first failing check ──(detection)──> declared
    first failing check ────────────(recovery)────────────> every check ok

- *mitigated* is the first status change to `monitoring`, else the resolve;
- *detection* is declared_at minus the earliest failure the probes can prove
  (a check's `failed_since`, else the time of the first failing probe result);
  it is never negative: a failure first seen after the declaration counts as
  detected at once. None without probe evidence;
- *recovery* runs from the first failure (or the declaration, if that came
  first) to the first probe run after a failing one in which every check was ok.
  None if that never happened;
- *SLA* compares the acknowledgement with the severity's `ack_within`, as
  snapshotted into the incident at declare (and on a severity change);
- *error budget*: (1 - target) x period is the budget (99.95% of 30 days is
  21.6 minutes). A service's downtime is the sum of its failing stretches seen
  by the probes (from `failed_since`, or the first failing result, to the next
  ok result; a stretch still failing ends at the resolve, or `now` while open).
  Without any probe result for a declared service, downtime is declared ->
  resolved (or now).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.incident import EventKind, Incident, Status, TimelineEvent
from bot.core.probe import ProbeStatus

Slos = Mapping[str, tuple[float, timedelta]]
"""service -> (target, period), e.g. {"checkout": (0.9995, timedelta(days=30))}."""

_ZERO = timedelta(0)


def budget_minutes(target: float, period: timedelta) -> float:
    """The error budget of an SLO in minutes: (1 - target) x period.

    99.95% over 30 days -> 21.6; 99.9% over 30 days -> 43.2."""
    if not 0 < target < 1:
        raise ValueError(f"an SLO target is a fraction between 0 and 1, not {target!r}")
    if period <= _ZERO:
        raise ValueError("an SLO period must be positive")
    # rounded so that 0.9995 (not exact in binary) gives 21.6, not 21.599999999997
    return round((1 - target) * period.total_seconds() / 60, 9)


def percent_of(used_minutes: float, budget: float) -> float:
    return round(used_minutes / budget * 100, 6) if budget > 0 else 0.0


class Sla(StrEnum):
    met = "met"            # acknowledged (or resolved) within ack_within
    breached = "breached"  # acknowledged late, or not acknowledged past the target
    pending = "pending"    # open, not acknowledged, still inside the target
    none = "none"          # the severity has no ack_within


class Outage(BaseModel):
    """One failing stretch of one service, as the probes saw it."""

    service: str
    start: datetime
    end: datetime | None = None  # None: still failing at the last result


class BudgetImpact(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="float")  # JSON: durations in seconds

    service: str
    target: float
    period: timedelta
    budget_minutes: float
    used_minutes: float
    percent: float                              # of the period's budget
    measured_by: Literal["probes", "declared"]  # probe results, or declared -> resolved
    ongoing: bool = False                       # the incident is open and this still counts


class IncidentMetrics(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="float")  # JSON: durations in seconds

    incident_id: str
    severity: str
    title: str = ""
    is_open: bool
    drill: bool = False
    declared_at: datetime
    acknowledged_at: datetime | None = None
    first_update_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    first_failure_at: datetime | None = None
    all_green_at: datetime | None = None
    time_to_acknowledge: timedelta | None = None
    time_to_first_update: timedelta | None = None
    time_to_mitigate: timedelta | None = None
    time_to_resolve: timedelta | None = None
    detection: timedelta | None = None
    recovery: timedelta | None = None
    ack_within: timedelta | None = None
    sla: Sla = Sla.none
    budgets: list[BudgetImpact] = Field(default_factory=list)

    @property
    def sla_breached(self) -> bool:
        return self.sla is Sla.breached


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    return None if end is None else end - start


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _failing(event: TimelineEvent) -> bool:
    return event.data.get("status", ProbeStatus.ok.value) != ProbeStatus.ok.value


def _failure_start(event: TimelineEvent) -> datetime:
    """When a failing result proves the failure began: failed_since, else its own time."""
    since = _parse_time(event.data.get("failed_since"))
    return min(since, event.at) if since is not None else event.at


def outages(events: Iterable[TimelineEvent]) -> dict[str, list[Outage]]:
    """Each probed service's failing stretches, in order (services never failing: [])."""
    results: dict[str, list[TimelineEvent]] = {}
    for event in events:
        if event.kind is EventKind.probe_result and event.data.get("service"):
            results.setdefault(event.data["service"], []).append(event)
    out: dict[str, list[Outage]] = {}
    for service, seen in results.items():
        stretches: list[Outage] = []
        current: Outage | None = None
        for event in sorted(seen, key=lambda e: e.at):  # stable: a run's results share `at`
            floor = stretches[-1].end if stretches else None
            if _failing(event):
                start = _failure_start(event)
                if floor is not None and start < floor:
                    start = event.at  # a failed_since older than the last recovery is stale
                if current is None:
                    current = Outage(service=service, start=start)
                elif start < current.start:
                    current.start = start  # a later check proved an earlier start
            elif current is not None:
                current.end = event.at
                stretches.append(current)
                current = None
        if current is not None:
            stretches.append(current)
        out[service] = stretches
    return out


def _probe_runs(events: Sequence[TimelineEvent]) -> list[tuple[datetime, bool]]:
    """(time, every check ok) per probe run, oldest first."""
    runs: dict[datetime, bool] = {}
    for event in events:
        if event.kind is EventKind.probe_result:
            runs[event.at] = runs.get(event.at, True) and not _failing(event)
    for event in events:  # a run recorded without per-service results
        if (event.kind is EventKind.probe_run and event.at not in runs
                and event.data.get("services", "0") not in {"", "0"}):
            runs[event.at] = not event.data.get("failing")
    return sorted(runs.items())


def _sla(incident: Incident, *, now: datetime) -> Sla:
    target = incident.policy.ack_within
    if target is None:
        return Sla.none
    if incident.ladder.breached_at is not None:
        return Sla.breached
    responded = incident.acknowledged_at or incident.resolved_at
    if responded is not None:
        return Sla.met if responded - incident.declared_at <= target else Sla.breached
    return Sla.breached if now - incident.declared_at > target else Sla.pending


def _minutes(delta: timedelta) -> float:
    return round(max(delta, _ZERO).total_seconds() / 60, 6)


def _budgets(incident: Incident, stretches: dict[str, list[Outage]], *, slos: Slos,
             end: datetime) -> list[BudgetImpact]:
    """Error-budget use of every service with an SLO that the incident touched."""
    failed = [s for s, found in stretches.items() if found]
    touched = list(dict.fromkeys([*incident.services, *failed]))
    out: list[BudgetImpact] = []
    for service in touched:
        if service not in slos:
            continue
        target, period = slos[service]
        budget = budget_minutes(target, period)
        if service in stretches:
            used = sum((((o.end or end) - o.start) for o in stretches[service]
                        if (o.end or end) > o.start), _ZERO)
            measured: Literal["probes", "declared"] = "probes"
            ongoing = incident.is_open and any(o.end is None for o in stretches[service])
        else:
            used = end - incident.declared_at
            measured = "declared"
            ongoing = incident.is_open
        minutes = _minutes(used)
        out.append(BudgetImpact(service=service, target=target, period=period,
                                budget_minutes=budget, used_minutes=minutes,
                                percent=percent_of(minutes, budget), measured_by=measured,
                                ongoing=ongoing))
    return out


def compute(incident: Incident, events: Sequence[TimelineEvent], *, now: datetime,
            slos: Slos | None = None) -> IncidentMetrics:
    """Every metric of one incident from its record and its timeline."""
    declared = incident.declared_at
    ordered = sorted(events, key=lambda e: e.at)
    resolved = incident.resolved_at or next(
        (e.at for e in ordered if e.kind is EventKind.resolved), None)
    first_update = next((e.at for e in ordered if e.kind is EventKind.update_posted), None)
    monitoring = next((e.at for e in ordered if e.kind is EventKind.status_changed
                       and e.data.get("new") == Status.monitoring.value), None)
    mitigated = monitoring or resolved

    failing = [e for e in ordered if e.kind is EventKind.probe_result and _failing(e)]
    first_failure = min((_failure_start(e) for e in failing), default=None)
    detection = max(declared - first_failure, _ZERO) if first_failure is not None else None
    all_green = None
    if failing:
        first_failing_run = failing[0].at
        all_green = next((at for at, green in _probe_runs(ordered)
                          if green and at > first_failing_run), None)
    origin = min(first_failure, declared) if first_failure is not None else declared

    end = resolved or now
    return IncidentMetrics(
        incident_id=incident.id, severity=incident.severity, title=incident.title,
        is_open=incident.is_open, drill=bool(getattr(incident, "drill", False)),
        declared_at=declared,
        acknowledged_at=incident.acknowledged_at, first_update_at=first_update,
        mitigated_at=mitigated, resolved_at=resolved,
        first_failure_at=first_failure, all_green_at=all_green,
        time_to_acknowledge=_since(declared, incident.acknowledged_at),
        time_to_first_update=_since(declared, first_update),
        time_to_mitigate=_since(declared, mitigated),
        time_to_resolve=_since(declared, resolved),
        detection=detection, recovery=_since(origin, all_green),
        ack_within=incident.policy.ack_within, sla=_sla(incident, now=now),
        budgets=_budgets(incident, outages(ordered), slos=slos or {}, end=end),
    )


# ---------------------------------------------------------------- summaries
def _mean(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return sum(values, _ZERO) / len(values)


class SeveritySummary(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="float")

    severity: str
    count: int = 0
    open: int = 0
    acknowledged: int = 0
    resolved: int = 0
    mtta: timedelta | None = None  # mean time to acknowledge, over the acknowledged ones
    mttr: timedelta | None = None  # mean time to resolve, over the resolved ones
    sla_met: int = 0
    sla_breaches: int = 0


def _window(metrics: Iterable[IncidentMetrics], since: datetime | None,
            drills: bool) -> list[IncidentMetrics]:
    return [m for m in metrics
            if (since is None or m.declared_at >= since) and (drills or not m.drill)]


def summarize(metrics: Iterable[IncidentMetrics], since: datetime | None = None, *,
              order: Sequence[str] = (), drills: bool = False) -> dict[str, SeveritySummary]:
    """severity -> MTTA, MTTR, count and SLA breaches of the incidents declared since `since`.

    Severities come in `order` (e.g. the policy's P1..P4) first, then any others by name;
    only severities with incidents appear. Drills are left out unless `drills`."""
    by: dict[str, list[IncidentMetrics]] = {}
    for m in _window(metrics, since, drills):
        by.setdefault(m.severity, []).append(m)
    rank = {name: i for i, name in enumerate(order)}
    out: dict[str, SeveritySummary] = {}
    for severity in sorted(by, key=lambda s: (rank.get(s, len(rank)), s)):
        group = by[severity]
        ttas = [m.time_to_acknowledge for m in group if m.time_to_acknowledge is not None]
        ttrs = [m.time_to_resolve for m in group if m.time_to_resolve is not None]
        out[severity] = SeveritySummary(
            severity=severity, count=len(group), open=sum(m.is_open for m in group),
            acknowledged=len(ttas), resolved=len(ttrs), mtta=_mean(ttas), mttr=_mean(ttrs),
            sla_met=sum(m.sla is Sla.met for m in group),
            sla_breaches=sum(m.sla is Sla.breached for m in group))
    return out


class ServiceBudget(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="float")

    service: str
    target: float
    period: timedelta
    budget_minutes: float
    used_minutes: float
    percent: float
    incidents: list[str] = Field(default_factory=list)


def budget_use(metrics: Iterable[IncidentMetrics], since: datetime | None = None, *,
               drills: bool = False) -> dict[str, ServiceBudget]:
    """service -> error budget used by the incidents declared since `since`, summed
    (drills, which break nothing real, are left out unless `drills`)."""
    out: dict[str, ServiceBudget] = {}
    for m in _window(metrics, since, drills):
        for b in m.budgets:
            total = out.get(b.service) or ServiceBudget(
                service=b.service, target=b.target, period=b.period,
                budget_minutes=b.budget_minutes, used_minutes=0.0, percent=0.0)
            total.used_minutes = round(total.used_minutes + b.used_minutes, 6)
            total.percent = percent_of(total.used_minutes, total.budget_minutes)
            total.incidents.append(m.incident_id)
            out[b.service] = total
    return dict(sorted(out.items()))
