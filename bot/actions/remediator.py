"""The Remediator port on the action executors: declared actions, planned and run with a
fresh probe context (docker / kubernetes / http clients) per call."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bot.actions import executor
from bot.actions.models import Action, ActionPlan
from bot.actions.models import ActionRefused as ExecutorRefused
from bot.core import errors
from bot.core.clock import Clock
from bot.core.ports import ActionInfo, ActionOutcome, PlannedAction
from bot.messages import actions as w
from bot.probes.checks import DockerSettings, KubernetesSettings, PrometheusSettings
from bot.probes.context import ProbeContext, close_cache

RESTARTS = {"docker_restart", "kubernetes_rollout_restart"}
# the settings the static description names (never headers or bodies: they may hold secrets)
_DESCRIBED = ("container", "compose_service", "restart_timeout", "deployment", "namespace",
              "min", "max", "selector")


def _static_description(action: Action) -> str:
    """What will run where, from config alone (the plan adds resolved ids)."""
    fields = {name: getattr(action, name) for name in _DESCRIBED if hasattr(action, name)}
    if action.kind == "http_post":
        from bot.core.redact import safe_url

        fields["url"] = safe_url(action.url)
    return w.static_description(action.kind, **fields)


class ActionRemediator:
    def __init__(self, *, actions: dict[str, list[Action]], clock: Clock, settings: Any,
                 docker: DockerSettings | None = None,
                 kubernetes: KubernetesSettings | None = None,
                 prometheus: PrometheusSettings | None = None) -> None:
        self._actions = actions
        self._clock = clock
        self._docker = docker or DockerSettings()
        self._kubernetes = kubernetes or KubernetesSettings()
        self._prometheus = prometheus or PrometheusSettings()
        self.global_allow = list(settings.allow)
        self.dry_run = bool(settings.dry_run)
        self.cooldown_seconds = settings.cooldown.total_seconds()
        self.verify_timeout_seconds = settings.verify_timeout.total_seconds()
        self.verify_interval_seconds = settings.verify_interval.total_seconds()

    def actions_for(self, service: str) -> list[ActionInfo]:
        out = []
        for index, action in enumerate(self._actions.get(service, [])):
            out.append(ActionInfo(
                service=service, index=index, name=action.name or action.kind, kind=action.kind,
                description=_static_description(action), allow=list(action.allow),
                dry_run=action.dry_run,
                replicas_min=getattr(action, "min", None) if action.kind == "kubernetes_scale" else None,
                replicas_max=getattr(action, "max", None) if action.kind == "kubernetes_scale" else None,
                restarts=action.kind in RESTARTS))
        return out

    def _action(self, service: str, index: int) -> Action:
        actions = self._actions.get(service, [])
        if index >= len(actions):
            raise errors.UnknownAction(service, index)
        return actions[index]

    @contextlib.asynccontextmanager
    async def _context(self, service: str) -> AsyncIterator[ProbeContext]:
        async with httpx.AsyncClient(follow_redirects=False) as http:
            ctx = ProbeContext(clock=self._clock, http=http, docker=self._docker,
                               kubernetes=self._kubernetes, prometheus=self._prometheus,
                               service=service)
            try:
                yield ctx
            finally:
                await close_cache(ctx)

    async def plan(self, service: str, index: int, params: dict[str, str | int]
                   ) -> PlannedAction:
        action = self._action(service, index)
        async with self._context(service) as ctx:
            try:
                planned = await executor.plan(action, service=service, ctx=ctx, params=params)
            except ExecutorRefused as exc:
                raise errors.ActionRefused(exc.reason) from exc
        return PlannedAction(description=planned.description, params=planned.params,
                             raw=planned.model_dump())

    async def execute(self, service: str, index: int, plan: PlannedAction, *,
                      dry_run: bool) -> ActionOutcome:
        action = self._action(service, index)
        async with self._context(service) as ctx:
            result = await executor.execute(action, ActionPlan.model_validate(plan.raw),
                                            ctx=ctx, dry_run=dry_run)
        return ActionOutcome(ok=result.ok, dry_run=result.dry_run, summary=result.summary,
                             detail=result.detail)
