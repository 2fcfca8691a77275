"""Plan an action (resolve its target, change nothing), then execute exactly that plan.

    plan = await executor.plan(action, service="checkout", ctx=ctx, params={"replicas": 4})
    # ... show plan.description in the confirmation modal; on confirm:
    result = await executor.execute(action, plan, ctx=ctx, dry_run=global_dry_run)

`plan` raises `ActionRefused` (bad or unknown parameters, scale outside min..max, a pod
that does not match the selector, no such container or deployment, the engine or API
unreachable). `execute` never raises for runtime failures: it returns `ok=False` with a
redacted summary. A dry run (the `dry_run` argument or the action's own `dry_run`) returns
what would run and calls nothing. Every run is bounded by the action's `timeout`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from bot.actions import docker, http, kubernetes
from bot.messages import actions as w
from bot.actions.base import Outcome, brief
from bot.actions.models import (Action, ActionPlan, ActionRefused, ActionResult,
                                DockerRestartAction, HttpPostAction,
                                KubernetesDeletePodAction, KubernetesRolloutRestartAction,
                                KubernetesScaleAction)
from bot.core.redact import redact
from bot.probes.context import ProbeContext

__all__ = ["ActionPlan", "ActionRefused", "ActionResult", "PARAMS", "execute", "plan"]

PLAN_TIMEOUT = timedelta(seconds=10)  # looking up a target: at most this (or the action's timeout)
GRACE = 0.25                          # seconds past the timeout for a module to report itself

# the parameters a person may give, by kind (anything else is refused)
PARAMS: dict[str, tuple[str, ...]] = {
    "docker_restart": (),
    "kubernetes_rollout_restart": (),
    "kubernetes_scale": ("replicas",),
    "kubernetes_delete_pod": ("pod",),
    "http_post": (),
}


def _module(action: Action) -> Any:
    if isinstance(action, DockerRestartAction):
        return docker
    if isinstance(action, (KubernetesRolloutRestartAction, KubernetesScaleAction,
                           KubernetesDeletePodAction)):
        return kubernetes
    if isinstance(action, HttpPostAction):
        return http
    raise TypeError(f"not an action: {type(action).__name__}")


async def plan(action: Action, *, service: str, ctx: ProbeContext,
               params: dict[str, Any] | None = None) -> ActionPlan:
    """What running `action` would do, right now, resolved to concrete targets."""
    given = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
    allowed = PARAMS[action.kind]
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise ActionRefused(w.unexpected_params(action.kind, unknown, list(allowed)),
                            code=ActionRefused.BAD_PARAMS)
    budget = min(action.timeout, PLAN_TIMEOUT)
    try:
        async with asyncio.timeout(budget.total_seconds()):
            return await _module(action).plan(action, service=service, ctx=ctx, params=given,
                                              budget=budget.total_seconds())
    except TimeoutError:
        raise ActionRefused(w.plan_timed_out(budget), code=ActionRefused.UNAVAILABLE) from None


async def execute(action: Action, plan: ActionPlan, *, ctx: ProbeContext,
                  dry_run: bool) -> ActionResult:
    """Run `plan` (made by `plan()` for this same action). Never raises for failures."""
    started = time.monotonic()
    dry = dry_run or action.dry_run

    def result(ok: bool, summary: str, detail: list[str]) -> ActionResult:
        return ActionResult(ok=ok, dry_run=dry, summary=redact(summary),
                            detail=[redact(line) for line in detail],
                            elapsed_ms=round((time.monotonic() - started) * 1000, 1))

    if plan.kind != action.kind or plan.action != action.name:
        return result(False, w.PLAN_MISMATCH, [])
    if dry:
        return result(True, w.dry_run(plan.description), [w.DRY_RUN_DETAIL])
    progress: list[str] = []  # what finished, for the report when the time runs out
    try:
        async with asyncio.timeout(action.timeout.total_seconds() + GRACE):
            outcome: Outcome = await _module(action).execute(action, plan, ctx=ctx,
                                                             progress=progress)
    except TimeoutError:
        return result(False, w.timed_out(action.timeout), [w.timed_out_detail(progress)])
    except ActionRefused as exc:  # the plan no longer holds (bounds, selector)
        return result(False, exc.reason, [])
    except Exception as exc:  # noqa: BLE001 - an executor reports, it never raises
        return result(False, w.failed(brief(exc)), [])
    return result(outcome.ok, outcome.summary, outcome.detail)
