"""What a probe gets besides its check: the clock, shared clients, thread limits.

Every probe module exposes `async def probe(check, *, ctx: ProbeContext) -> CheckResult`
and never raises: failures are results (error / down / timeout).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import httpx

from bot.core.clock import Clock
from bot.probes.checks import DockerSettings, KubernetesSettings, PrometheusSettings

T = TypeVar("T")
THREADS = 16  # blocking docker/kubernetes SDK calls at once


@dataclass(kw_only=True)
class ProbeContext:
    clock: Clock
    http: httpx.AsyncClient
    docker: DockerSettings = field(default_factory=DockerSettings)
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    service: str = ""  # the service being probed (prometheus alerts are matched on it)
    threads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(THREADS))
    cache: dict[str, Any] = field(default_factory=dict)  # shared SDK clients, per run

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking SDK call in a thread, bounded by the shared semaphore."""
        async with self.threads:
            return await asyncio.to_thread(fn, *args, **kwargs)

    def for_service(self, name: str) -> "ProbeContext":
        return ProbeContext(clock=self.clock, http=self.http, docker=self.docker,
                            kubernetes=self.kubernetes, prometheus=self.prometheus,
                            service=name, threads=self.threads, cache=self.cache)


async def close_cache(ctx: ProbeContext) -> None:
    """Close the SDK clients a run cached (docker clients, kubernetes ApiClients held in
    finished tasks/futures). Never raises."""
    import contextlib

    for value in list(ctx.cache.values()):
        with contextlib.suppress(Exception):
            if isinstance(value, asyncio.Future):
                if not value.done() or value.cancelled() or value.exception() is not None:
                    continue
                value = value.result()
            client = getattr(value, "api", value)  # kubernetes: an object holding .api
            close = getattr(client, "close", None)
            if callable(close):
                result = close()
                if asyncio.iscoroutine(result):
                    await result
    ctx.cache.clear()
