from datetime import UTC, datetime, timedelta

import pytest

from bot.core import errors, incident as inc
from bot.core.incident import EventKind, Status
from bot.core.policy import DEFAULT_POLICY

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


def declared():
    return inc.declare(incident_id="INC-2026-12-01-001", seq=1, title="checkout is failing",
                       severity=DEFAULT_POLICY.severity("P1"),
                       escalation=DEFAULT_POLICY.escalation, declared_by="U0ALICE",
                       now=T0).incident


def test_declarer_is_commander_and_policy_is_snapshotted():
    incident = declared()
    assert incident.commander == "U0ALICE"
    assert incident.policy.ack_within == timedelta(minutes=15)
    assert incident.escalation.levels[0].name == "On-call engineer"


def test_acknowledge_records_who_and_time_to_acknowledge():
    change = inc.acknowledge(declared(), by="U0BOB", now=T0 + timedelta(minutes=3))
    assert change.incident.acknowledged_by == "U0BOB"
    assert change.incident.time_to_acknowledge() == timedelta(minutes=3)
    assert change.events[0].kind is EventKind.acknowledged


def test_second_acknowledge_is_refused_with_the_first_acknowledger():
    first = inc.acknowledge(declared(), by="U0BOB", now=T0).incident
    with pytest.raises(errors.AlreadyAcknowledged) as caught:
        inc.acknowledge(first, by="U0CAROL", now=T0)
    assert caught.value.by == "U0BOB"


def test_resolve_twice_is_refused():
    done = inc.resolve(declared(), by="U0ALICE", now=T0 + timedelta(hours=1)).incident
    assert done.status is Status.resolved and done.age(T0 + timedelta(days=1)) == timedelta(hours=1)
    with pytest.raises(errors.AlreadyResolved):
        inc.resolve(done, by="U0ALICE", now=T0)


def test_severity_change_keeps_history_and_new_policy():
    change = inc.change_severity(declared(), severity=DEFAULT_POLICY.severity("P2"),
                                 by="U0BOB", now=T0)
    assert [h.new for h in change.incident.severity_history] == ["P1", "P2"]
    assert change.incident.policy.name == "P2"


def test_same_severity_is_nothing_changed():
    with pytest.raises(errors.NothingChanged):
        inc.change_severity(declared(), severity=DEFAULT_POLICY.severity("P1"), by="U0BOB",
                            now=T0)


def test_update_with_new_status_records_status_change():
    change = inc.post_update(declared(), text="found it", by="U0BOB", now=T0,
                             status=Status.identified, hypothesis="bad deploy")
    assert change.incident.status is Status.identified
    assert change.incident.hypothesis == "bad deploy"
    assert [e.kind for e in change.events] == [EventKind.update_posted, EventKind.status_changed]


def test_nothing_changes_a_resolved_incident():
    done = inc.resolve(declared(), by="U0ALICE", now=T0).incident
    for attempt in (lambda: inc.acknowledge(done, by="U0BOB", now=T0),
                    lambda: inc.post_update(done, text="x", by="U0BOB", now=T0),
                    lambda: inc.assign(done, role="tech_lead", user="U0BOB", by="U0BOB", now=T0)):
        with pytest.raises(errors.AlreadyResolved):
            attempt()
