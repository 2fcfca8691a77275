"""Triage: from probe results to what is broken, what broke first, how far it spreads,
which seed-000 pattern it is and which runbook applies. Pure functions, table-tested."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.core.catalog import Catalog, Runbook, Tier
from bot.core.probe import (FACT_DISK_FULL, FACT_MEMORY_USED, FACT_OOM_KILLED, ServiceResult)
from bot.core.runbooks import DEFAULT_RUNBOOKS


class Pattern(StrEnum):
    single_service_down = "single_service_down"
    cascade_failure = "cascade_failure"
    database_unreachable = "database_unreachable"
    broker_failure = "broker_failure"
    gateway_not_routing = "gateway_not_routing"
    resource_exhaustion = "resource_exhaustion"
    no_fault_found = "no_fault_found"


PATTERNS = [p.value for p in Pattern]
_DATABASE = re.compile(r"(postgres|mysql|maria|mongo|database|^db$|-db$|^db-|sql)")
_BROKER = re.compile(r"(rabbit|kafka|broker|nats|amqp|queue|mq$)")
OOM_RATIO = 0.95


class Reason(BaseModel):
    """Why the pattern matched: a code plus its values (bot.messages words it)."""

    code: str
    service: str = ""
    detail: str = ""


class BlastRadius(BaseModel):
    failing: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)   # depend on a failing service
    upstream: list[str] = Field(default_factory=list)     # what the failing ones depend on


class Triage(BaseModel):
    pattern: Pattern
    reasons: list[Reason] = Field(default_factory=list)
    root_causes: list[str] = Field(default_factory=list)
    first_failure: str | None = None
    first_failure_at: datetime | None = None
    first_failure_basis: str = ""  # "timestamps" | "dependencies" | ""
    shared_dependency: str | None = None
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    runbook: Runbook = Field(default_factory=Runbook)
    runbook_service: str | None = None
    recovery_order: list[str] = Field(default_factory=list)


def _kinds(result: ServiceResult) -> set[str]:
    return {c.kind for c in result.checks}


def is_database(name: str, result: ServiceResult | None) -> bool:
    return bool(_DATABASE.search(name)) or (result is not None and "postgres" in _kinds(result))


def is_broker(name: str, result: ServiceResult | None) -> bool:
    return bool(_BROKER.search(name)) or (result is not None and "rabbitmq" in _kinds(result))


def exhausted(result: ServiceResult) -> str | None:
    """'oom' / 'disk' / 'memory' when a check saw resource exhaustion."""
    for check in result.checks:
        if check.facts.get(FACT_OOM_KILLED):
            return "oom"
        if check.facts.get(FACT_DISK_FULL):
            return "disk"
        ratio = check.facts.get(FACT_MEMORY_USED)
        if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and ratio >= OOM_RATIO:
            return "memory"
    return None


def blast_radius(catalog: Catalog, failing: list[str]) -> BlastRadius:
    downstream: list[str] = []
    upstream: list[str] = []
    for name in failing:
        downstream += [d for d in catalog.dependents(name) if d not in failing and d not in downstream]
        upstream += [u for u in catalog.dependencies(name) if u not in failing and u not in upstream]
    return BlastRadius(failing=list(failing), downstream=downstream, upstream=upstream)


def root_causes(catalog: Catalog, failing: list[str]) -> list[str]:
    """Failing services none of whose dependencies (transitively) are failing."""
    failing_set = set(failing)
    return [f for f in failing if not (set(catalog.dependencies(f)) & failing_set)]


def first_failure(results: list[ServiceResult], *, roots: list[str]
                  ) -> tuple[str | None, datetime | None, str]:
    timed = [(r.failed_since, r.name) for r in results if r.status.failing and r.failed_since]
    if timed:
        at, name = min(timed)
        return name, at, "timestamps"
    if roots:
        return roots[0], None, "dependencies"
    return None, None, ""


def recovery_order(catalog: Catalog, services: list[str]) -> list[str]:
    """Infrastructure -> core -> business -> gateway -> workers; dependencies first in a tier."""
    def key(name: str) -> tuple[int, int, str]:
        svc = catalog.get(name)
        tier = svc.tier.order if svc else Tier.business.order
        return (tier, len(catalog.dependencies(name)), name)

    return sorted(services, key=key)


def choose_runbook(catalog: Catalog, pattern: Pattern, service: str | None) -> Runbook:
    base = catalog.runbooks.get(pattern.value) or DEFAULT_RUNBOOKS[pattern.value]
    svc = catalog.get(service) if service else None
    if svc is not None and svc.runbook is not None:
        base = svc.runbook
    name = service or "the failing service"
    return Runbook(check=tuple(s.replace("{service}", name) for s in base.check),
                   fix=tuple(s.replace("{service}", name) for s in base.fix), link=base.link)


def triage(catalog: Catalog, results: list[ServiceResult]) -> Triage:
    by_name = {r.name: r for r in results}
    failing = [r.name for r in results if r.status.failing]
    if not failing:
        return Triage(pattern=Pattern.no_fault_found,
                      reasons=[Reason(code="all_ok", detail=str(len(results)))],
                      runbook=choose_runbook(catalog, Pattern.no_fault_found, None))
    radius = blast_radius(catalog, failing)
    roots = root_causes(catalog, failing) or failing[:1]
    first, first_at, basis = first_failure(results, roots=roots)
    # the primary root: the first failure if it is a root, else the earliest-tier root
    primary = first if first in roots else recovery_order(catalog, roots)[0]
    explained = [f for f in failing if f != primary and primary in catalog.dependencies(f)]
    shared = primary if len(explained) >= 2 else None
    reasons: list[Reason] = []
    result = by_name.get(primary)

    if result is not None and (kind := exhausted(result)):
        pattern = Pattern.resource_exhaustion
        reasons.append(Reason(code=f"exhausted_{kind}", service=primary))
    elif is_database(primary, result):
        pattern = Pattern.database_unreachable
        reasons.append(Reason(code="database_down", service=primary))
    elif is_broker(primary, result):
        pattern = Pattern.broker_failure
        reasons.append(Reason(code="broker_down", service=primary))
    elif (svc := catalog.get(primary)) is not None and svc.tier is Tier.gateway and not explained:
        pattern = Pattern.gateway_not_routing
        reasons.append(Reason(code="gateway_down_upstreams_ok", service=primary))
    elif explained:
        pattern = Pattern.cascade_failure
        reasons.append(Reason(code="cascade", service=primary, detail=", ".join(explained)))
    elif len(failing) == 1:
        pattern = Pattern.single_service_down
        reasons.append(Reason(code="single_down", service=primary))
    else:
        pattern = Pattern.cascade_failure
        reasons.append(Reason(code="independent_failures", detail=", ".join(failing)))
    if explained and pattern is not Pattern.cascade_failure:
        reasons.append(Reason(code="also_explains", service=primary, detail=", ".join(explained)))
    others = [r for r in roots if r != primary]
    if others:
        reasons.append(Reason(code="other_roots", detail=", ".join(others)))
    for name in failing:
        other = by_name.get(name)
        if other is not None and name != primary and (kind := exhausted(other)):
            reasons.append(Reason(code=f"exhausted_{kind}", service=name))
    order = recovery_order(catalog, failing) if len(failing) > 1 else []
    return Triage(
        pattern=pattern, reasons=reasons, root_causes=roots, first_failure=first,
        first_failure_at=first_at, first_failure_basis=basis, shared_dependency=shared,
        blast_radius=radius, runbook=choose_runbook(catalog, pattern, primary),
        runbook_service=primary, recovery_order=order)


class ProbeReport(BaseModel):
    """One probe run: every service's results and the triage drawn from them."""

    started_at: datetime
    finished_at: datetime
    services: list[ServiceResult] = Field(default_factory=list)
    triage: Triage

    @property
    def failing(self) -> list[ServiceResult]:
        return [s for s in self.services if s.status.failing]

    def status_of(self) -> dict[str, str]:
        return {s.name: s.status.value for s in self.services}
