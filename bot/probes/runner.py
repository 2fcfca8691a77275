"""Run every check of every selected service at once, bounded, each under its timeout.

Total time is about the slowest check, not the sum. A probe that raises or
overruns its own timeout is still turned into a result here, so a run always
completes with one result per check.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from bot.core.probe import CheckResult, ProbeStatus, ServiceResult
from bot import messages as wording
from bot.probes.checks import Check
from bot.probes.context import ProbeContext

log = structlog.get_logger(__name__)
GRACE = timedelta(milliseconds=500)  # a probe gets this long past its timeout to report
DEFAULT_CONCURRENCY = 64
ProbeFn = Callable[..., Awaitable[CheckResult]]
OnResult = Callable[[str, CheckResult], None]


def probe_function(kind: str) -> ProbeFn:
    """The probe for a check kind (modules are imported on first use: docker/k8s are heavy)."""
    module = importlib.import_module(f"bot.probes.{kind}")
    return module.probe


def target_of(check: Check) -> str:
    for field in ("url", "management_url", "container", "compose_service", "selector", "query"):
        value = getattr(check, field, None)
        if value:
            from bot.core.redact import redact

            return redact(str(value))
    if getattr(check, "host", None):
        return f"{check.host}:{check.port}"  # type: ignore[union-attr]
    if getattr(check, "dsn", None):
        from bot.core.redact import redact

        return redact(check.dsn)  # type: ignore[union-attr]
    return check.kind


async def run_check(check: Check, *, ctx: ProbeContext) -> CheckResult:
    started = time.perf_counter()
    limit = (check.timeout + GRACE).total_seconds()
    try:
        async with asyncio.timeout(limit):
            return await probe_function(check.kind)(check, ctx=ctx)
    except TimeoutError:
        return CheckResult(kind=check.kind, target=target_of(check), status=ProbeStatus.timeout,
                           summary=wording.no_answer_within(check.timeout),
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=ctx.clock.now())
    except Exception as exc:  # a probe bug must not sink the run
        log.warning("probe.crashed", kind=check.kind, service=ctx.service,
                    error=type(exc).__name__)
        return CheckResult(kind=check.kind, target=target_of(check), status=ProbeStatus.error,
                           summary=wording.probe_crashed(type(exc).__name__),
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=ctx.clock.now())


async def run_services(
    services: list[tuple[str, str, list[Check]]],
    *,
    ctx: ProbeContext,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: OnResult | None = None,
) -> list[ServiceResult]:
    """`services` is [(name, tier, checks)]; results keep that order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str, check: Check) -> CheckResult:
        async with gate:
            result = await run_check(check, ctx=ctx.for_service(name))
        if on_result is not None:
            on_result(name, result)
        return result

    tasks = [[asyncio.create_task(one(name, c)) for c in checks] for name, _, checks in services]
    out = []
    for (name, tier, _), group in zip(services, tasks):
        results = list(await asyncio.gather(*group)) if group else []
        out.append(ServiceResult.of(name, tier=tier, checks=results))
    return out
