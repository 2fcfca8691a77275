"""Incident metrics and error-budget arithmetic, table-tested with known timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import incident as inc
from bot.core.catalog import Catalog
from bot.core.incident import Change, EventKind, Incident, Status, TimelineEvent
from bot.core.metrics import (Sla, budget_minutes, budget_use, compute, outages, summarize)
from bot.core.policy import DEFAULT_POLICY, Severity
from bot.core.probe import CheckResult, ProbeStatus, ServiceResult
from bot.core.triage import ProbeReport, triage
from bot.settings import parse_config

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)
DAY30 = timedelta(days=30)
SLO_9995 = {"checkout": (0.9995, DAY30)}


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


class Script:
    """An incident driven through the real pure transitions, keeping its timeline."""

    def __init__(self, severity: str = "P1", *, services: list[str] | None = None,
                 policy_severity: Severity | None = None, incident_id: str = "INC-2026-12-01-001",
                 at: datetime = T0, drill: bool = False) -> None:
        sev = policy_severity or DEFAULT_POLICY.severity(severity)
        extra = {"drill": True} if drill else {}
        change = inc.declare(incident_id=incident_id, seq=1, title="checkout is failing",
                             severity=sev, escalation=DEFAULT_POLICY.escalation,
                             declared_by="U0ALICE", now=at, services=services)
        if extra:
            change = Change(incident=change.incident.model_copy(update=extra),
                            events=change.events)
        self.t0 = at
        self.incident: Incident = change.incident
        self.events: list[TimelineEvent] = list(change.events)

    def apply(self, change: Change) -> "Script":
        self.incident = change.incident
        self.events += change.events
        return self

    def ack(self, after: timedelta) -> "Script":
        return self.apply(inc.acknowledge(self.incident, by="U0BOB", now=self.t0 + after))

    def update(self, after: timedelta, status: Status | None = None) -> "Script":
        return self.apply(inc.post_update(self.incident, text="working on it", by="U0BOB",
                                          now=self.t0 + after, status=status))

    def resolve(self, after: timedelta) -> "Script":
        return self.apply(inc.resolve(self.incident, by="U0ALICE", now=self.t0 + after))

    def breach(self, after: timedelta) -> "Script":
        return self.apply(inc.breach(self.incident, now=self.t0 + after))

    def probe(self, after: timedelta, **statuses: str | tuple[str, timedelta]) -> "Script":
        """probe(m(1), checkout=("down", -m(3)), postgres="ok"): a real ProbeReport."""
        at = self.t0 + after
        results = []
        for name, spec in statuses.items():
            status, since = (spec, None) if isinstance(spec, str) else spec
            check = CheckResult(kind="http", target=f"http://{name}/health",
                                status=ProbeStatus(status), summary=status, observed_at=at,
                                failed_since=self.t0 + since if since is not None else None)
            results.append(ServiceResult.of(name, tier="business", checks=[check]))
        report = ProbeReport(started_at=at, finished_at=at, services=results,
                             triage=triage(Catalog(), results))
        return self.apply(inc.record_probe(self.incident, report, by=None))

    def metrics(self, *, now: datetime | None = None, slos=None):
        return compute(self.incident, self.events, now=now or self.t0 + timedelta(days=1),
                       slos=slos)


# ------------------------------------------------------------------ budget arithmetic
@pytest.mark.parametrize(("target", "period", "minutes"), [
    (0.9995, DAY30, 21.6),      # the seed's "~2 minutes" is wrong: 0.05% of 43 200 min
    (0.999, DAY30, 43.2),
    (0.9999, DAY30, 4.32),
    (0.99, timedelta(days=7), 100.8),
    (0.9995, timedelta(days=28), 20.16),
    (0.95, timedelta(hours=1), 3.0),
])
def test_budget_minutes_is_one_minus_target_times_period(target, period, minutes):
    assert budget_minutes(target, period) == pytest.approx(minutes, abs=1e-9)


@pytest.mark.parametrize("target", [0, 1, 1.5, -0.1, 99.95])
def test_budget_refuses_targets_outside_zero_and_one(target):
    with pytest.raises(ValueError):
        budget_minutes(target, DAY30)


@pytest.mark.parametrize(("yaml_slo", "target", "period", "budget"), [
    ("slo: 99.95%", 0.9995, DAY30, 21.6),
    ("slo: {target: '99.9%'}", 0.999, DAY30, 43.2),
    ("slo: {target: 0.9995, period: 7d}", 0.9995, timedelta(days=7), 5.04),
])
def test_slo_config_reaches_slos_and_the_budget(yaml_slo, target, period, budget):
    config = parse_config(f"services:\n  - name: checkout\n    {yaml_slo}\n")
    assert config.slos() == {"checkout": (pytest.approx(target), period)}
    assert budget_minutes(*config.slos()["checkout"]) == pytest.approx(budget)


@pytest.mark.parametrize(("target", "budget", "down", "percent"), [
    (0.9995, 21.6, 10.8, 50.0),   # 10.8 minutes of a 21.6-minute budget is half of it
    (0.999, 43.2, 10.8, 25.0),
    (0.9995, 21.6, 21.6, 100.0),
    (0.9995, 21.6, 43.2, 200.0),  # overspent: twice the month's budget
])
def test_declared_services_without_probes_use_declared_to_resolved(target, budget, down, percent):
    script = Script(services=["checkout"]).resolve(m(down))
    [impact] = script.metrics(slos={"checkout": (target, DAY30)}).budgets
    assert impact.service == "checkout" and impact.measured_by == "declared"
    assert impact.budget_minutes == pytest.approx(budget)
    assert impact.used_minutes == pytest.approx(down)
    assert impact.percent == pytest.approx(percent)
    assert not impact.ongoing


def test_services_without_an_slo_have_no_budget_line():
    script = Script(services=["checkout", "search"]).resolve(m(10))
    assert [b.service for b in script.metrics(slos=SLO_9995).budgets] == ["checkout"]
    assert script.metrics(slos=None).budgets == []


# ------------------------------------------------------------------ response times
def test_response_times_of_a_scripted_incident():
    script = (Script().update(m(2), Status.identified).ack(m(4))
              .update(m(20), Status.monitoring).update(m(25)).resolve(m(42)))
    got = script.metrics()
    assert got.time_to_first_update == m(2)
    assert got.time_to_acknowledge == m(4)
    assert got.time_to_mitigate == m(20)   # the first status change to monitoring
    assert got.time_to_resolve == m(42)
    assert got.first_update_at == T0 + m(2) and got.resolved_at == T0 + m(42)
    assert got.ack_within == m(15) and got.sla is Sla.met
    assert not got.is_open
    assert got.detection is None and got.recovery is None  # no probe evidence
    assert got.budgets == []


def test_mitigation_falls_back_to_resolve_and_is_none_while_open():
    assert Script().resolve(m(30)).metrics().time_to_mitigate == m(30)
    still = Script().update(m(5), Status.identified).metrics(now=T0 + m(60))
    assert still.time_to_mitigate is None and still.time_to_resolve is None and still.is_open


@pytest.mark.parametrize(("steps", "now", "sla"), [
    (lambda s: s.ack(m(15)), m(60), Sla.met),              # exactly on target
    (lambda s: s.ack(m(16)), m(60), Sla.breached),
    (lambda s: s, m(10), Sla.pending),                     # open, unacknowledged, in time
    (lambda s: s, m(20), Sla.breached),                    # open, unacknowledged, too late
    (lambda s: s.breach(m(15)).ack(m(16)), m(60), Sla.breached),
    (lambda s: s.resolve(m(5)), m(60), Sla.met),           # resolved in time, never acked
    (lambda s: s.resolve(m(50)), m(60), Sla.breached),
])
def test_sla_against_the_snapshotted_ack_within(steps, now, sla):
    assert steps(Script()).metrics(now=T0 + now).sla is sla


def test_sla_uses_the_snapshot_not_todays_config():
    relaxed = Severity(name="P1", ack_within=m(60))
    script = Script(policy_severity=relaxed).ack(m(30))
    assert script.metrics().sla is Sla.met and script.metrics().ack_within == m(60)


def test_no_ack_target_means_no_sla():
    script = Script(policy_severity=Severity(name="P5")).ack(m(500))
    assert script.metrics().sla is Sla.none


# ------------------------------------------------------------------ detection, recovery, budget
def test_detection_recovery_and_downtime_from_probe_results():
    script = (Script(services=["checkout"])
              .probe(timedelta(seconds=10), checkout=("down", -m(3)), postgres="ok")
              .ack(m(4))
              .probe(m(15), checkout="down", postgres="ok")
              .probe(m(30), checkout="ok", postgres="ok")
              .resolve(m(42)))
    got = script.metrics(slos=SLO_9995)
    assert got.first_failure_at == T0 - m(3)
    assert got.detection == m(3)                   # failed 3 minutes before it was declared
    assert got.all_green_at == T0 + m(30)
    assert got.recovery == m(33)                   # first failure -> every check ok
    [impact] = got.budgets
    assert impact.measured_by == "probes"
    assert impact.used_minutes == pytest.approx(33)
    assert impact.percent == pytest.approx(33 / 21.6 * 100)


def test_a_failure_first_seen_after_declaring_is_detected_at_once():
    got = Script().probe(m(1), checkout="down").probe(m(9), checkout="ok").metrics()
    assert got.first_failure_at == T0 + m(1)
    assert got.detection == timedelta(0)
    assert got.recovery == m(9)                    # from the declaration, which came first


def test_recovery_is_none_until_a_run_is_all_green():
    script = Script().probe(m(1), checkout="down", auth="ok").probe(m(5), checkout="ok",
                                                                    auth="down")
    assert script.metrics().recovery is None
    assert script.probe(m(8), checkout="ok", auth="ok").metrics().recovery == m(8)


def test_green_runs_before_the_first_failure_are_not_a_recovery():
    script = Script().probe(m(1), checkout="ok").probe(m(2), checkout="down")
    assert script.metrics().all_green_at is None
    assert script.probe(m(3), checkout="ok").metrics().all_green_at == T0 + m(3)


def test_degraded_and_timeout_count_as_failing():
    got = (Script(services=["checkout"]).probe(m(0), checkout="degraded")
           .probe(m(4), checkout="timeout").probe(m(10), checkout="ok").resolve(m(12))
           .metrics(slos=SLO_9995))
    assert got.budgets[0].used_minutes == pytest.approx(10)


def test_flapping_sums_the_failing_stretches_and_ignores_a_stale_failed_since():
    script = (Script(services=["checkout"])
              .probe(m(0), checkout=("down", -m(2)))
              .probe(m(5), checkout="ok")
              .probe(m(10), checkout=("down", -m(2)))  # the old failed_since again: stale
              .resolve(m(20)))
    stretches = outages(script.events)["checkout"]
    assert [(s.start, s.end) for s in stretches] == [(T0 - m(2), T0 + m(5)), (T0 + m(10), None)]
    [impact] = script.metrics(slos=SLO_9995).budgets
    assert impact.used_minutes == pytest.approx(7 + 10)  # the open stretch ends at resolve


def test_a_failing_service_with_an_slo_counts_even_if_not_declared():
    script = Script(services=["checkout"]).probe(m(1), checkout="ok", payments="down")
    got = script.resolve(m(11)).metrics(slos={**SLO_9995, "payments": (0.999, DAY30)})
    by = {b.service: b for b in got.budgets}
    assert by["checkout"].used_minutes == 0 and by["checkout"].measured_by == "probes"
    assert by["payments"].used_minutes == pytest.approx(10)
    assert by["payments"].percent == pytest.approx(10 / 43.2 * 100)


def test_an_open_incident_uses_budget_up_to_now():
    script = Script(services=["checkout"]).probe(m(0), checkout=("down", -m(0.8)))
    [impact] = script.metrics(now=T0 + m(10), slos=SLO_9995).budgets
    assert impact.used_minutes == pytest.approx(10.8) and impact.percent == pytest.approx(50)
    assert impact.ongoing


def test_metrics_serialize_durations_as_seconds():
    data = Script().ack(m(4)).resolve(m(42)).metrics().model_dump(mode="json")
    assert data["time_to_acknowledge"] == 240.0 and data["time_to_resolve"] == 2520.0
    assert data["sla"] == "met"


# ------------------------------------------------------------------ summaries
def test_summarize_by_severity_in_policy_order_within_the_window():
    day = timedelta(days=1)
    metrics = [
        Script("P2", incident_id="B").ack(m(30)).resolve(m(90)).metrics(),
        Script("P1", incident_id="A1").ack(m(4)).resolve(m(42)).metrics(),
        Script("P1", incident_id="A2").ack(m(20)).resolve(m(18 + 2)).metrics(),
        Script("P1", incident_id="A3").metrics(now=T0 + m(5)),          # open, pending
        Script("P1", incident_id="OLD", at=T0 - 40 * day).ack(m(1)).resolve(m(2)).metrics(),
        Script("P1", incident_id="D", drill=True).ack(m(50)).resolve(m(60)).metrics(),
    ]
    got = summarize(metrics, since=T0 - 30 * day, order=DEFAULT_POLICY.severity_names())
    assert list(got) == ["P1", "P2"]
    p1 = got["P1"]
    assert (p1.count, p1.open, p1.acknowledged, p1.resolved) == (3, 1, 2, 2)
    assert p1.mtta == m(12)            # (4 + 20) / 2
    assert p1.mttr == m(31)            # (42 + 20) / 2
    assert (p1.sla_met, p1.sla_breaches) == (1, 1)
    assert got["P2"].mtta == m(30) and got["P2"].mttr == m(90) and got["P2"].sla_breaches == 0
    everything = summarize(metrics, drills=True)
    assert everything["P1"].count == 5


def test_budget_use_sums_incidents_per_service():
    one = Script(services=["checkout"], incident_id="A").resolve(m(5.4)).metrics(slos=SLO_9995)
    two = Script(services=["checkout"], incident_id="B").resolve(m(5.4)).metrics(slos=SLO_9995)
    total = budget_use([one, two])["checkout"]
    assert total.budget_minutes == pytest.approx(21.6)
    assert total.used_minutes == pytest.approx(10.8) and total.percent == pytest.approx(50)
    assert total.incidents == ["A", "B"]


def test_probe_events_on_the_timeline_have_the_shape_metrics_reads():
    script = Script().probe(m(1), checkout=("down", -m(3)))
    results = [e for e in script.events if e.kind is EventKind.probe_result]
    assert results[0].data["status"] == "down"
    assert datetime.fromisoformat(results[0].data["failed_since"]) == T0 - m(3)
