"""Docker probe: one container (by name/id) or a compose service's replicas.

Reads, through the Docker SDK (every blocking call goes through `ctx.blocking`):
inspect (state, health, restarts, OOM, exit code, start/finish times), one stats
sample when running (memory used/limit, CPU %), and the error/fatal/panic/exception
lines of the recent log tail (redacted). Never raises; never runs past `check.timeout`.
"""

from __future__ import annotations

import asyncio
import errno
import math
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bot.core.probe import (
    FACT_CONTAINER_STATE,
    FACT_CRASH_LOOP,
    FACT_EXIT_CODE,
    FACT_HEALTH,
    FACT_MEMORY_USED,
    FACT_OOM_KILLED,
    FACT_RESTART_COUNT,
    CheckResult,
    Fact,
    ProbeStatus,
    worst,
)
from bot.core.redact import redact
from bot.messages import probes as w
from bot.probes.checks import DockerCheck
from bot.probes.context import ProbeContext

KIND = "docker"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
MEMORY_HIGH = 0.9                       # used/limit above this is degraded
RECENT_RESTART = timedelta(minutes=15)  # a restart this recent (below threshold) is degraded
MAX_ERROR_LINES = 10
MAX_LINE_CHARS = 300
_ERROR_LINE = re.compile(r"error|fatal|panic|exception", re.IGNORECASE)
_RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}

# ---- observation model ------------------------------------------------------------------


@dataclass
class Observed:
    """What the probe saw of one container."""

    name: str
    state: str
    image: str = ""
    health: str | None = None
    health_output: str = ""
    failing_streak: int = 0
    health_failed_since: datetime | None = None
    restart_count: int = 0
    restart_policy: str = ""
    oom_killed: bool = False
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    memory_limit_config: int = 0
    memory_used: int | None = None
    memory_limit: int | None = None
    cpu_percent: float | None = None
    crash_loop: bool = False
    status: ProbeStatus = ProbeStatus.ok
    evidence: list[str] = field(default_factory=list)

    @property
    def memory_ratio(self) -> float | None:
        if self.memory_used is None or not self.memory_limit:
            return None
        return round(self.memory_used / self.memory_limit, 4)

    @property
    def failed_since(self) -> datetime | None:
        if self.state != "running":
            return self.finished_at
        if self.health == "unhealthy":
            return self.health_failed_since
        return None


# ---- parsing (pure) ---------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """Docker's RFC 3339 time with nanoseconds; `0001-01-01T00:00:00Z` (never) is None."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if int(year) <= 1:
        return None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        parsed = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          micros, tzinfo=tz)
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def memory_from_stats(stats: dict[str, Any]) -> tuple[int | None, int | None]:
    """(used, limit) like `docker stats`: usage less the reclaimable page cache."""
    mem = stats.get("memory_stats") or {}
    usage, limit = mem.get("usage"), mem.get("limit")
    if not isinstance(usage, int) or not isinstance(limit, int) or limit <= 0:
        return None, None
    inner = mem.get("stats") or {}
    cache = inner.get("total_inactive_file", inner.get("inactive_file", 0))  # cgroup v1 / v2
    if isinstance(cache, int) and 0 < cache <= usage:
        usage -= cache
    return usage, limit


def cpu_percent_from_stats(stats: dict[str, Any]) -> float | None:
    """CPU % over the sample's interval (100% = one CPU busy), like `docker stats`."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    try:
        cpu_delta = cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"]
        system_delta = cpu["system_cpu_usage"] - pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    if system_delta <= 0 or cpu_delta < 0:
        return None
    cpus = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or []) or 1
    return round(cpu_delta / system_delta * cpus * 100.0, 2)


def error_lines(text: str, *, limit: int = MAX_ERROR_LINES) -> list[str]:
    """The last `limit` lines mentioning error/fatal/panic/exception, newest last, redacted."""
    hits = [line.strip() for line in text.splitlines() if _ERROR_LINE.search(line)]
    return [_clip(redact(line)) for line in hits[-limit:] if line]


def observe(attrs: dict[str, Any], *, check: DockerCheck) -> Observed:
    """Turn one `docker inspect` document into an Observed (no stats, no logs yet)."""
    state = attrs.get("State") or {}
    host_config = attrs.get("HostConfig") or {}
    config = attrs.get("Config") or {}
    status = str(state.get("Status") or "unknown")
    c = Observed(
        name=str(attrs.get("Name") or attrs.get("Id", "")[:12]).lstrip("/"),
        state=status,
        image=str(config.get("Image") or ""),
        restart_count=int(attrs.get("RestartCount") or 0),
        restart_policy=str((host_config.get("RestartPolicy") or {}).get("Name") or ""),
        oom_killed=bool(state.get("OOMKilled")),
        started_at=parse_timestamp(state.get("StartedAt")),
        finished_at=parse_timestamp(state.get("FinishedAt")),
        memory_limit_config=int(host_config.get("Memory") or 0),
    )
    if status in ("exited", "dead", "restarting") and c.finished_at is not None:
        c.exit_code = int(state.get("ExitCode") or 0)
    health = state.get("Health")
    if isinstance(health, dict) and health.get("Status") not in (None, "", "none"):
        c.health = str(health["Status"])
        c.failing_streak = int(health.get("FailingStreak") or 0)
        log = [entry for entry in health.get("Log") or [] if isinstance(entry, dict)]
        if log:
            c.health_output = _clip(redact(" ".join(str(log[-1].get("Output") or "").split())))
        failures: list[dict[str, Any]] = []
        for entry in reversed(log):  # the trailing run of failed checks: when the streak began
            if entry.get("ExitCode") == 0:
                break
            failures.append(entry)
        if failures:
            first = failures[-1]
            c.health_failed_since = parse_timestamp(first.get("Start")) or parse_timestamp(
                first.get("End"))
    c.crash_loop = (status == "restarting" or c.restart_count >= check.restart_threshold
                    or (status == "exited" and (c.exit_code or 0) != 0
                        and c.restart_policy in _RESTART_POLICIES))
    return c


def judge(c: Observed, *, check: DockerCheck, now: datetime) -> ProbeStatus:
    if c.state != "running" or c.health == "unhealthy" or c.crash_loop or c.oom_killed:
        return ProbeStatus.down
    ratio = c.memory_ratio
    recently = c.started_at is not None and now - c.started_at <= RECENT_RESTART
    if (c.health == "starting" or (ratio is not None and ratio > MEMORY_HIGH)
            or (0 < c.restart_count < check.restart_threshold and recently)):
        return ProbeStatus.degraded
    return ProbeStatus.ok


# ---- the probe --------------------------------------------------------------------------


async def probe(check: DockerCheck, *, ctx: ProbeContext) -> CheckResult:
    observed_at = ctx.clock.now()
    started = time.monotonic()
    target = _target(check)

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               facts: dict[str, Fact] | None = None,
               failed_since: datetime | None = None) -> CheckResult:
        return CheckResult(kind=KIND, target=target, status=status, summary=summary,
                           evidence=list(evidence or []),
                           facts=facts or {}, observed_at=observed_at,
                           elapsed_ms=round((time.monotonic() - started) * 1000, 1),
                           failed_since=failed_since)

    socket = _socket(ctx)
    budget = check.timeout.total_seconds()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        async with asyncio.timeout_at(deadline):
            client = await _client(ctx, socket, budget)
            found = await _find(client, check, ctx)
            if not found:
                return result(ProbeStatus.down, w.NO_SUCH_CONTAINER,
                              [w.not_found_evidence(check.container, _compose_labels(check))],
                              {FACT_CONTAINER_STATE: None})
            # Stats and logs are extras: give them until just before the deadline, so a slow
            # stats sample costs its numbers, not the whole result.
            extras_deadline = deadline - min(0.5, budget * 0.1)
            observed = await asyncio.gather(*(
                _observe_fully(container, check, ctx, observed_at, extras_deadline)
                for container in found))
    except TimeoutError:
        return result(ProbeStatus.timeout, w.docker_timed_out(check.timeout),
                      [w.engine_evidence(socket, w.DOCKER_NO_ANSWER)])
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        status, summary, detail = classify_error(exc)
        return result(status, summary, [w.engine_evidence(socket, detail)])

    observed.sort(key=lambda c: c.name)
    worst_one = max(observed, key=lambda c: c.status.severity)
    summary = (w.container_summary(worst_one, memory_high=MEMORY_HIGH) if len(observed) == 1
               else w.replicas_summary(observed, worst_one, memory_high=MEMORY_HIGH))
    evidence = [line for c in observed for line in c.evidence]
    ratios = [c.memory_ratio for c in observed if c.memory_ratio is not None]
    facts: dict[str, Fact] = {
        FACT_CONTAINER_STATE: worst_one.state,
        FACT_HEALTH: worst_one.health,
        FACT_RESTART_COUNT: max(c.restart_count for c in observed),
        FACT_CRASH_LOOP: any(c.crash_loop for c in observed),
        FACT_OOM_KILLED: any(c.oom_killed for c in observed),
        FACT_EXIT_CODE: worst_one.exit_code,
        FACT_MEMORY_USED: max(ratios) if ratios else None,
    }
    failed = [c.failed_since for c in observed if c.status.failing and c.failed_since]
    return result(worst([c.status for c in observed]), summary, evidence, facts,
                  min(failed, default=None))


async def _observe_fully(container: Any, check: DockerCheck, ctx: ProbeContext,
                         now: datetime, deadline: float) -> Observed:
    c = observe(container.attrs, check=check)
    running = c.state == "running"

    async def stats() -> dict[str, Any] | None:
        if not running:
            return None
        return await ctx.blocking(container.stats, stream=False)

    async def logs() -> bytes:
        return await ctx.blocking(container.logs, stdout=True, stderr=True, tail=check.log_lines)

    async def bounded(coro: Any) -> Any:
        try:
            async with asyncio.timeout_at(deadline):
                return await coro
        except TimeoutError:
            return _Unread(w.DOCKER_NO_ANSWER_IN_TIME)
        except Exception as exc:  # noqa: BLE001
            return _Unread(_short(exc))

    stats_doc, log_bytes = await asyncio.gather(bounded(stats()), bounded(logs()))
    if isinstance(stats_doc, dict):
        c.memory_used, c.memory_limit = memory_from_stats(stats_doc)
        c.cpu_percent = cpu_percent_from_stats(stats_doc)
    c.status = judge(c, check=check, now=now)

    c.evidence.append(w.state_evidence(c))
    if c.oom_killed:
        c.evidence.append(w.oom_evidence(c))
    if c.restart_count or c.crash_loop:
        c.evidence.append(w.restart_evidence(c, check.restart_threshold))
    if c.health is not None:
        c.evidence.append(w.health_evidence(c))
    if isinstance(stats_doc, _Unread):
        c.evidence.append(w.unread_evidence(c, "stats", stats_doc.reason))
    elif c.memory_used is not None or c.cpu_percent is not None:
        c.evidence.append(w.stats_evidence(c))
    if isinstance(log_bytes, _Unread):
        c.evidence.append(w.unread_evidence(c, "logs", log_bytes.reason))
    elif isinstance(log_bytes, bytes | str):
        text = log_bytes.decode("utf-8", "replace") if isinstance(log_bytes, bytes) else log_bytes
        c.evidence.extend(w.log_evidence(c, line) for line in error_lines(text))
    return c


@dataclass
class _Unread:
    reason: str


# ---- client, lookup, errors -------------------------------------------------------------


def _cache_key(socket: str) -> str:
    return f"docker.client:{socket}"


async def _client(ctx: ProbeContext, socket: str, budget: float) -> Any:
    """One client per run and engine, shared by concurrent probes (a failure is shared too).

    The client itself goes in `ctx.cache` (whoever ends the run closes what is there); the
    pending creation sits beside it, so probes that start together wait for the same one.
    """
    key = _cache_key(socket)
    client = ctx.cache.get(key)
    if client is not None:
        return client
    loop = asyncio.get_running_loop()
    pending = ctx.cache.get(key + ":pending")
    if not isinstance(pending, asyncio.Future) or pending.get_loop() is not loop:
        timeout = max(1, math.ceil(budget))
        pending = asyncio.ensure_future(ctx.blocking(_make_client, ctx.docker.host, timeout))

        def created(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and done.exception() is None:  # also marks it retrieved
                ctx.cache[key] = done.result()

        pending.add_done_callback(created)
        ctx.cache[key + ":pending"] = pending
    return await asyncio.shield(pending)


def _make_client(host: str | None, timeout: int) -> Any:
    import docker  # the SDK is heavy; import it when a docker check runs

    if host:
        return docker.DockerClient(base_url=host, timeout=timeout)
    return docker.from_env(timeout=timeout)


async def _find(client: Any, check: DockerCheck, ctx: ProbeContext) -> list[Any]:
    from docker.errors import NotFound

    if check.container is not None:
        try:
            return [await ctx.blocking(client.containers.get, check.container)]
        except NotFound:
            return []
    return await ctx.blocking(client.containers.list, all=True,
                              filters={"label": _compose_labels(check)}, ignore_removed=True)


def _compose_labels(check: DockerCheck) -> list[str]:
    labels = [f"com.docker.compose.service={check.compose_service}"]
    if check.compose_project:
        labels.append(f"com.docker.compose.project={check.compose_project}")
    return labels


def _target(check: DockerCheck) -> str:
    """Like the runner's target for a check that overran: the container or the service."""
    return redact(str(check.container or check.compose_service))


def _socket(ctx: ProbeContext) -> str:
    return redact(ctx.docker.host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack: list[BaseException] = [exc]
    while stack and len(seen) < 20:
        e = stack.pop()
        if e in seen:
            continue
        seen.append(e)
        stack.extend(x for x in (e.__cause__, e.__context__) if x is not None)
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return seen


def classify_error(exc: BaseException) -> tuple[ProbeStatus, str, str]:
    """(status, summary, detail) for an exception from the SDK."""
    try:
        from docker.errors import APIError
    except ImportError:  # pragma: no cover - the SDK is a dependency
        return ProbeStatus.error, w.DOCKER_PROBE_FAILED, _short(exc)

    causes = _causes(exc)
    text = " ".join(str(e) for e in causes)
    if (any(isinstance(e, PermissionError) for e in causes)
            or any(getattr(e, "errno", None) in (errno.EACCES, errno.EPERM) for e in causes)
            or "permission denied" in text.lower()):
        return ProbeStatus.error, w.PERMISSION_DENIED, w.DOCKER_DETAIL_PERMISSION_DENIED
    if isinstance(exc, APIError):
        return ProbeStatus.error, w.DOCKER_API_ERROR, _short(exc)
    for e in causes:
        if isinstance(e, FileNotFoundError):
            return ProbeStatus.error, w.ENGINE_UNREACHABLE, w.DOCKER_DETAIL_NO_SOCKET
        if isinstance(e, ConnectionRefusedError):
            return ProbeStatus.error, w.ENGINE_UNREACHABLE, w.DOCKER_DETAIL_REFUSED
    if any(isinstance(e, (ConnectionError, OSError)) for e in causes) or \
            "connection" in text.lower():
        return ProbeStatus.error, w.ENGINE_UNREACHABLE, _short(exc)
    return ProbeStatus.error, w.DOCKER_PROBE_FAILED, _short(exc)


# ---- formatting helpers -----------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "explanation", None) or exc).split())
    return _clip(redact(text or type(exc).__name__))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS - 1] + "…"
