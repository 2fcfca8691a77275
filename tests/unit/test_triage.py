"""Triage table: which pattern, root cause, first failure, blast radius, runbook, order."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.catalog import Catalog, Runbook, Service, Tier
from bot.core.probe import CheckResult, ProbeStatus, ServiceResult
from bot.core.triage import Pattern, triage

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

CATALOG = Catalog(services=(
    Service(name="postgres", tier=Tier.infrastructure),
    Service(name="rabbitmq", tier=Tier.infrastructure),
    Service(name="redis", tier=Tier.infrastructure),
    Service(name="auth", tier=Tier.core, depends_on=("postgres",)),
    Service(name="checkout", tier=Tier.business, depends_on=("postgres", "redis", "auth")),
    Service(name="orders", tier=Tier.business, depends_on=("postgres", "rabbitmq")),
    Service(name="gateway", tier=Tier.gateway, depends_on=("checkout", "orders")),
    Service(name="mailer", tier=Tier.worker, depends_on=("rabbitmq",)),
))


def svc(name, status="ok", *, kind="http", since=None, **facts):
    st = ProbeStatus(status)
    check = CheckResult(kind=kind, target=name, status=st, summary=status, facts=facts,
                        observed_at=T0, failed_since=since)
    tier = CATALOG.get(name).tier.value if CATALOG.get(name) else "business"
    return ServiceResult.of(name, tier=tier, checks=[check])


def all_ok(**down):
    return [down.get(s.name) or svc(s.name) for s in CATALOG.services]


CASES = [
    # (description, results, pattern, primary root, first failure)
    ("nothing failing", all_ok(), Pattern.no_fault_found, None, None),
    ("one leaf down", all_ok(mailer=svc("mailer", "down")), Pattern.single_service_down,
     "mailer", "mailer"),
    ("database down takes auth, checkout, orders with it",
     all_ok(postgres=svc("postgres", "down", kind="postgres", since=T0),
            auth=svc("auth", "down", since=T0 + timedelta(seconds=30)),
            checkout=svc("checkout", "down", since=T0 + timedelta(seconds=40)),
            orders=svc("orders", "degraded")),
     Pattern.database_unreachable, "postgres", "postgres"),
    ("broker down stalls the workers",
     all_ok(rabbitmq=svc("rabbitmq", "down", kind="rabbitmq"),
            mailer=svc("mailer", "degraded")),
     Pattern.broker_failure, "rabbitmq", "rabbitmq"),
    ("gateway down while its upstreams are fine",
     all_ok(gateway=svc("gateway", "down", http_status=502)),
     Pattern.gateway_not_routing, "gateway", "gateway"),
    ("OOM-killed service",
     all_ok(checkout=svc("checkout", "down", kind="docker", oom_killed=True)),
     Pattern.resource_exhaustion, "checkout", "checkout"),
    ("auth down cascades into checkout and gateway",
     all_ok(auth=svc("auth", "down", since=T0),
            checkout=svc("checkout", "down", since=T0 + timedelta(minutes=1)),
            gateway=svc("gateway", "down", since=T0 + timedelta(minutes=2))),
     Pattern.cascade_failure, "auth", "auth"),
    ("two unrelated failures", all_ok(redis=svc("redis", "down"), mailer=svc("mailer", "down")),
     Pattern.cascade_failure, "redis", "redis"),
]


@pytest.mark.parametrize(("results", "pattern", "root", "first"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pattern_root_and_first_failure(results, pattern, root, first):
    found = triage(CATALOG, results)
    assert found.pattern is pattern
    assert found.runbook_service == root
    assert found.first_failure == first
    assert found.runbook.check  # every pattern has steps


def test_first_failure_comes_from_timestamps_not_list_order():
    results = all_ok(checkout=svc("checkout", "down", since=T0 + timedelta(minutes=5)),
                     redis=svc("redis", "down", since=T0))
    found = triage(CATALOG, results)
    assert (found.first_failure, found.first_failure_basis) == ("redis", "timestamps")
    assert found.first_failure_at == T0


def test_shared_dependency_is_named_when_it_explains_several_failures():
    results = all_ok(postgres=svc("postgres", "down", kind="postgres"),
                     auth=svc("auth", "down"), orders=svc("orders", "down"))
    found = triage(CATALOG, results)
    assert found.shared_dependency == "postgres"
    assert any(r.code == "also_explains" and "auth" in r.detail for r in found.reasons)


def test_blast_radius_lists_downstream_and_upstream():
    found = triage(CATALOG, all_ok(auth=svc("auth", "down")))
    assert found.blast_radius.failing == ["auth"]
    assert set(found.blast_radius.downstream) == {"checkout", "gateway"}
    assert found.blast_radius.upstream == ["postgres"]


def test_recovery_order_is_infrastructure_core_business_gateway_workers():
    results = [svc(s.name, "down") for s in reversed(CATALOG.services)]
    found = triage(CATALOG, results)
    order = found.recovery_order
    assert order.index("postgres") < order.index("auth") < order.index("checkout")
    assert order.index("checkout") < order.index("gateway") < order.index("mailer")


def test_runbook_names_the_root_service_and_config_overrides_apply():
    found = triage(CATALOG, all_ok(mailer=svc("mailer", "down")))
    assert found.runbook.fix[0] == "docker compose restart mailer"
    custom = Catalog(services=CATALOG.services, runbooks={
        "single_service_down": Runbook(check=("look at {service}",), fix=("kick {service}",),
                                       link="https://wiki/x")})
    found = triage(custom, all_ok(mailer=svc("mailer", "down")))
    assert found.runbook.fix == ("kick mailer",) and found.runbook.link == "https://wiki/x"
    per_service = Catalog(services=tuple(
        s.model_copy(update={"runbook": Runbook(fix=("page the mail team",))})
        if s.name == "mailer" else s for s in CATALOG.services))
    assert triage(per_service, all_ok(mailer=svc("mailer", "down"))).runbook.fix == (
        "page the mail team",)


def test_memory_near_limit_counts_as_exhaustion():
    found = triage(CATALOG, all_ok(redis=svc("redis", "degraded", kind="redis",
                                             memory_used_ratio=0.97)))
    assert found.pattern is Pattern.resource_exhaustion
