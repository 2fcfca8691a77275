"""The Prober port on real infrastructure: config -> concurrent checks -> triage."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.core.probe import CheckResult
from bot.core.triage import ProbeReport, triage
from bot.probes.checks import Check, DockerSettings, KubernetesSettings, PrometheusSettings
from bot.probes.context import ProbeContext, close_cache
from bot.probes.runner import DEFAULT_CONCURRENCY, run_services


class Prober:
    def __init__(self, *, catalog: Catalog, checks: dict[str, list[Check]], clock: Clock,
                 docker: DockerSettings | None = None,
                 kubernetes: KubernetesSettings | None = None,
                 prometheus: PrometheusSettings | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.catalog = catalog
        self.checks = checks
        self.clock = clock
        self.docker = docker or DockerSettings()
        self.kubernetes = kubernetes or KubernetesSettings()
        self.prometheus = prometheus or PrometheusSettings()
        self.concurrency = concurrency

    def probed_services(self) -> list[str]:
        """Catalog services that have at least one check."""
        return [s.name for s in self.catalog.services if self.checks.get(s.name)]

    def unknown(self, names: list[str]) -> list[str]:
        known = set(self.catalog.names())
        return [n for n in names if n not in known]

    async def run(self, names: list[str] | None = None, *,
                  on_result: Callable[[str, CheckResult], None] | None = None) -> ProbeReport:
        chosen = names or self.probed_services()
        started = self.clock.now()
        limits = httpx.Limits(max_connections=max(self.concurrency, 10),
                              max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, follow_redirects=False) as http:
            ctx = ProbeContext(clock=self.clock, http=http, docker=self.docker,
                               kubernetes=self.kubernetes, prometheus=self.prometheus)
            try:
                services = [(n, self._tier(n), self.checks.get(n, [])) for n in chosen]
                results = await run_services(services, ctx=ctx, concurrency=self.concurrency,
                                             on_result=on_result)
            finally:
                await close_cache(ctx)
        return ProbeReport(started_at=started, finished_at=self.clock.now(), services=results,
                           triage=triage(self.catalog, results))

    def _tier(self, name: str) -> str:
        svc = self.catalog.get(name)
        return svc.tier.value if svc else "business"
