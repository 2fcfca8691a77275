"""A small estate of loopback HTTP services to diagnose (tests and `warroom sandbox`).

Each service answers `GET /health` with a behaviour you can switch at any time:
healthy (200 + actuator UP), failing (503 + actuator DOWN with a reason), slow
(200 after a delay) or hanging (never answers).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from enum import StrEnum

from aiohttp import web

LOOPBACK = "127.0.0.1"


class Behaviour(StrEnum):
    healthy = "healthy"
    failing = "failing"
    slow = "slow"
    hanging = "hanging"


@dataclass
class EstateService:
    name: str
    behaviour: Behaviour = Behaviour.healthy
    reason: str = "connection refused: db:5432"
    delay: float = 1.0
    body_lines: int = 0  # extra log-like lines in a failing body (long evidence)
    hits: int = 0


@dataclass
class Estate:
    services: dict[str, EstateService] = field(default_factory=dict)
    host: str = LOOPBACK
    port: int = 0
    _runner: web.AppRunner | None = None
    _hang: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, name: str, behaviour: Behaviour = Behaviour.healthy, **kw: object) -> EstateService:
        service = EstateService(name=name, behaviour=behaviour, **kw)  # type: ignore[arg-type]
        self.services[name] = service
        return service

    def set(self, name: str, behaviour: Behaviour) -> None:
        self.services[name].behaviour = behaviour

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port}/{name}/health"

    async def _health(self, request: web.Request) -> web.StreamResponse:
        service = self.services.get(request.match_info["name"])
        if service is None:
            return web.Response(status=404, text="no such service")
        service.hits += 1
        if service.behaviour is Behaviour.hanging:
            await self._hang.wait()  # released at stop()
            return web.Response(status=504)
        if service.behaviour is Behaviour.slow:
            await asyncio.sleep(service.delay)
        if service.behaviour is Behaviour.failing:
            body = {"status": "DOWN", "components": {"db": {"status": "DOWN", "details": {
                "error": service.reason}}}}
            text = json.dumps(body)
            if service.body_lines:
                text += "\n" + "\n".join(f"ERROR request {i} failed: {service.reason}"
                                         for i in range(service.body_lines))
            return web.Response(status=503, text=text, content_type="application/json")
        return web.json_response({"status": "UP"})

    async def start(self) -> "Estate":
        app = web.Application()
        app.router.add_get("/{name}/health", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._hang.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
