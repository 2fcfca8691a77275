"""Probe results: what a diagnostic check observed. Pure models, no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

Fact = str | int | float | bool | None


class ProbeStatus(StrEnum):
    ok = "ok"
    degraded = "degraded"
    down = "down"
    error = "error"      # the probe itself could not run (bad config, auth refused, SDK error)
    timeout = "timeout"  # the check did not answer within its timeout

    @property
    def severity(self) -> int:
        """Worse is larger: ok < degraded < error < timeout < down."""
        return _ORDER[self]

    @property
    def failing(self) -> bool:
        return self is not ProbeStatus.ok


_ORDER = {ProbeStatus.ok: 0, ProbeStatus.degraded: 1, ProbeStatus.error: 2,
          ProbeStatus.timeout: 3, ProbeStatus.down: 4}


def worst(statuses: list[ProbeStatus]) -> ProbeStatus:
    return max(statuses, key=lambda s: s.severity, default=ProbeStatus.ok)


class CheckResult(BaseModel):
    """One check of one service.

    `summary` is one short line ("503 in 42 ms"); `evidence` holds the supporting
    lines (already redacted); `facts` holds machine-readable observations that
    triage matches on (see FACT_* names below); `failed_since` is the earliest
    moment the check can prove the failure began (container finished_at, pod
    termination, alert startsAt), used to tell which service failed first.
    """

    kind: str
    target: str
    status: ProbeStatus
    summary: str
    evidence: list[str] = Field(default_factory=list)
    facts: dict[str, Fact] = Field(default_factory=dict)
    elapsed_ms: float = 0.0
    observed_at: datetime
    failed_since: datetime | None = None


class ServiceResult(BaseModel):
    name: str
    tier: str
    status: ProbeStatus
    checks: list[CheckResult] = Field(default_factory=list)

    @classmethod
    def of(cls, name: str, *, tier: str, checks: list[CheckResult]) -> "ServiceResult":
        return cls(name=name, tier=tier, status=worst([c.status for c in checks]), checks=checks)

    @property
    def failed_since(self) -> datetime | None:
        times = [c.failed_since for c in self.checks if c.status.failing and c.failed_since]
        return min(times, default=None)


# Names of facts probes report and triage reads (one vocabulary).
FACT_HTTP_STATUS = "http_status"            # int
FACT_LATENCY_MS = "latency_ms"              # float
FACT_CONNECTION_REFUSED = "connection_refused"  # bool: nothing listens / DNS fails
FACT_CONTAINER_STATE = "container_state"    # str: running, exited, restarting, ...
FACT_HEALTH = "health"                      # str: healthy, unhealthy, starting
FACT_RESTART_COUNT = "restart_count"        # int
FACT_CRASH_LOOP = "crash_loop"              # bool
FACT_OOM_KILLED = "oom_killed"              # bool
FACT_EXIT_CODE = "exit_code"                # int
FACT_MEMORY_USED = "memory_used_ratio"      # float 0..1
FACT_DISK_FULL = "disk_full"                # bool
FACT_PODS_READY = "pods_ready"              # int
FACT_PODS_TOTAL = "pods_total"              # int
FACT_REPLICAS_AVAILABLE = "replicas_available"  # int
FACT_REPLICAS_DESIRED = "replicas_desired"  # int
FACT_PENDING_REASON = "pending_reason"      # str
FACT_METRIC_VALUE = "metric_value"          # float
FACT_ALERTS_FIRING = "alerts_firing"        # int
FACT_CONNECTIONS_USED = "connections_used_ratio"  # float 0..1
FACT_QUEUE_DEPTH = "max_queue_depth"        # int
FACT_CONSUMERS = "consumers"                # int (min over queues with messages)
