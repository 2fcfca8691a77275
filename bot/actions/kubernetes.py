"""The kubernetes actions, with the probe's API client (`bot.probes.kubernetes._sdk`).

  kubernetes_rollout_restart  what `kubectl rollout restart deployment/NAME` sends: a
                              strategic-merge PATCH of the deployment setting the pod
                              template annotation kubectl.kubernetes.io/restartedAt to
                              now (RFC 3339, from ctx.clock)
  kubernetes_scale            what `kubectl scale --replicas=N` sends: a merge PATCH
                              {"spec":{"replicas":N}} of the deployment's scale
                              subresource; N must be within the action's min..max
  kubernetes_delete_pod       DELETE of one pod matching the selector: the `pod`
                              parameter, or else the first pod that is not ready. The
                              DELETE carries the planned pod's uid as a precondition, so
                              a same-named replacement is never deleted by mistake.

The content types are given explicitly: the generated client would otherwise pick
`application/json-patch+json` for a PATCH (its first JSON type).
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.messages import actions as w
from bot.messages.probes import api_refused
from bot.actions.base import Outcome, whole_number
from bot.actions.models import (ActionPlan, ActionRefused, KubernetesDeletePodAction,
                                KubernetesRolloutRestartAction, KubernetesScaleAction)
from bot.core.redact import safe_url
from bot.probes.context import ProbeContext
from bot.probes.kubernetes import _failure, _sdk, _status_message

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE_PATCH = "application/merge-patch+json"
MIN_REQUEST_TIMEOUT = 0.05

KubernetesAction = (KubernetesRolloutRestartAction | KubernetesScaleAction
                    | KubernetesDeletePodAction)


class _Calls:
    """Blocking SDK calls through ctx.blocking, each with what is left of the budget."""

    def __init__(self, ctx: ProbeContext, budget: float) -> None:
        self.ctx = ctx
        self.deadline = asyncio.get_running_loop().time() + budget
        self.api_url: str | None = ctx.kubernetes.host

    async def sdk(self) -> Any:
        sdk = await _sdk(self.ctx)
        self.api_url = sdk.api.configuration.host
        return sdk

    async def __call__(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        left = max(MIN_REQUEST_TIMEOUT, self.deadline - asyncio.get_running_loop().time())
        return await self.ctx.blocking(fn, *args, _request_timeout=left, **kwargs)

    @property
    def api(self) -> str:
        return safe_url(self.api_url or "(unknown API server)")

    def trouble(self, exc: BaseException) -> str:
        """One line for an API refusal or a transport/config failure (the probe's words)."""
        if isinstance(exc, ApiException) and exc.status not in (0, None):
            line = api_refused(exc.status, exc.reason or "", _status_message(exc))
            if exc.status == 403:
                line += f" ({w.KUBERNETES_FORBIDDEN_HINT})"
            elif exc.status == 401:
                line += f" ({w.KUBERNETES_UNAUTHORIZED_HINT})"
            return line
        return _failure(exc, self.api_url).summary


def _refused(calls: _Calls, exc: BaseException) -> ActionRefused:
    return ActionRefused(calls.trouble(exc), code=ActionRefused.UNAVAILABLE)


# ---------------------------------------------------------------- plan


async def plan(action: KubernetesAction, *, service: str, ctx: ProbeContext,
               params: dict[str, Any], budget: float) -> ActionPlan:
    calls = _Calls(ctx, budget)
    try:
        sdk = await calls.sdk()
        if isinstance(action, KubernetesRolloutRestartAction):
            return await _plan_rollout(action, service, calls, sdk)
        if isinstance(action, KubernetesScaleAction):
            return await _plan_scale(action, service, calls, sdk, params)
        return await _plan_delete(action, service, calls, sdk, params)
    except (ActionRefused, asyncio.CancelledError, TimeoutError):
        raise
    except Exception as exc:  # noqa: BLE001 - the API or the config: a refusal naming it
        raise _refused(calls, exc) from None


async def _read_deployment(calls: _Calls, fn: Any, action: Any) -> Any:
    try:
        return await calls(fn, action.deployment, action.namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ActionRefused(w.deployment_not_found(action.namespace, action.deployment),
                                code=ActionRefused.NOT_FOUND) from None
        raise


async def _plan_rollout(action: KubernetesRolloutRestartAction, service: str, calls: _Calls,
                        sdk: Any) -> ActionPlan:
    dep = await _read_deployment(calls, sdk.apps.read_namespaced_deployment, action)
    replicas = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
    return ActionPlan(
        kind=action.kind, service=service, action=str(action.name),
        description=w.rollout_restart_plan(namespace=action.namespace,
                                           deployment=action.deployment, replicas=replicas,
                                           api=calls.api),
        target=w.deployment_target(action.namespace, action.deployment),
        params={"replicas": replicas})


def _check_bounds(action: KubernetesScaleAction, replicas: int) -> None:
    if not action.min <= replicas <= action.max:
        raise ActionRefused(w.replicas_out_of_bounds(replicas, action.min, action.max,
                                                     action.deployment),
                            code=ActionRefused.OUT_OF_BOUNDS)


async def _plan_scale(action: KubernetesScaleAction, service: str, calls: _Calls, sdk: Any,
                      params: dict[str, Any]) -> ActionPlan:
    if "replicas" not in params:
        raise ActionRefused(w.missing_param("replicas", w.replicas_hint(action.min, action.max)),
                            code=ActionRefused.BAD_PARAMS)
    replicas = whole_number("replicas", params["replicas"])
    _check_bounds(action, replicas)  # before any call: out of bounds never reaches the API
    scale = await _read_deployment(calls, sdk.apps.read_namespaced_deployment_scale, action)
    current = (scale.spec.replicas if scale.spec and scale.spec.replicas is not None else 0)
    return ActionPlan(
        kind=action.kind, service=service, action=str(action.name),
        description=w.scale_plan(namespace=action.namespace, deployment=action.deployment,
                                 current=current, replicas=replicas, low=action.min,
                                 high=action.max, api=calls.api),
        target=w.deployment_target(action.namespace, action.deployment),
        params={"replicas": replicas, "current": current})


def _pod_state(pod: Any) -> tuple[bool, str, str | None]:
    """(ready, phase, the reason it is not ready)."""
    status = pod.status
    phase = (status.phase if status else None) or "Unknown"
    ready = any(c.type == "Ready" and c.status == "True"
                for c in (status.conditions if status else None) or [])
    reason = None
    for cs in (status.container_statuses if status else None) or []:
        waiting = cs.state.waiting if cs.state else None
        terminated = cs.state.terminated if cs.state else None
        if waiting is not None and waiting.reason:
            reason = waiting.reason
            break
        if terminated is not None and terminated.reason:
            reason = terminated.reason
            break
    if reason is None and status is not None:
        reason = status.reason or next(
            (c.reason for c in status.conditions or [] if c.status != "True" and c.reason), None)
    return ready and phase == "Running", phase, None if ready else reason


def _owner(pod: Any) -> str | None:
    for ref in (pod.metadata.owner_references or []) if pod.metadata else []:
        if ref.controller:
            return f"{ref.kind} {ref.name}"
    return None


async def _plan_delete(action: KubernetesDeletePodAction, service: str, calls: _Calls,
                       sdk: Any, params: dict[str, Any]) -> ActionPlan:
    listing = await calls(sdk.core.list_namespaced_pod, action.namespace,
                          label_selector=action.selector)
    pods = [p for p in listing.items or [] if not (p.metadata and p.metadata.deletion_timestamp)]
    wanted = params.get("pod")
    if wanted is not None:
        wanted = str(wanted).strip()
        pod = next((p for p in pods if p.metadata.name == wanted), None)
        if pod is None:
            raise ActionRefused(w.pod_not_matching(wanted, action.selector, action.namespace),
                                code=ActionRefused.NOT_MATCHING)
    else:
        if not pods:
            raise ActionRefused(w.no_pods(action.selector, action.namespace),
                                code=ActionRefused.NO_TARGET)
        pod = next((p for p in pods if not _pod_state(p)[0]), None)
        if pod is None:
            raise ActionRefused(w.no_unready_pod(action.selector, action.namespace, len(pods)),
                                code=ActionRefused.NO_TARGET)
    ready, phase, reason = _pod_state(pod)
    name = pod.metadata.name
    return ActionPlan(
        kind=action.kind, service=service, action=str(action.name),
        description=w.delete_pod_plan(namespace=action.namespace, pod=name,
                                      selector=action.selector,
                                      why=w.pod_why(ready, phase, reason, wanted is not None),
                                      owner=_owner(pod), api=calls.api),
        target=w.pod_target(action.namespace, name),
        params={"pod": name, "uid": str(pod.metadata.uid or "")})


# ---------------------------------------------------------------- execute


async def execute(action: KubernetesAction, plan: ActionPlan, *, ctx: ProbeContext,
                  progress: list[str]) -> Outcome:
    calls = _Calls(ctx, action.timeout.total_seconds())
    try:
        sdk = await calls.sdk()
        if isinstance(action, KubernetesRolloutRestartAction):
            return await _rollout(action, calls, sdk, ctx)
        if isinstance(action, KubernetesScaleAction):
            return await _scale(action, plan, calls, sdk)
        return await _delete(action, plan, calls, sdk)
    except (ActionRefused, asyncio.CancelledError, TimeoutError):
        raise
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return Outcome(False, w.failed(calls.trouble(exc)), [])


def rfc3339_now(ctx: ProbeContext) -> str:
    """Like Go's time.Now().Format(time.RFC3339) in UTC: seconds, `Z`."""
    from datetime import UTC

    return ctx.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def restart_patch(at: str) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}


async def _rollout(action: KubernetesRolloutRestartAction, calls: _Calls, sdk: Any,
                   ctx: ProbeContext) -> Outcome:
    at = rfc3339_now(ctx)
    dep = await calls(sdk.apps.patch_namespaced_deployment, action.deployment,
                      action.namespace, restart_patch(at), _content_type=STRATEGIC_MERGE)
    generation = dep.metadata.generation if dep.metadata else None
    replicas = dep.spec.replicas if dep.spec else None
    return Outcome(True, w.rollout_restarted(action.namespace, action.deployment, at),
                   [w.rollout_detail(generation, replicas)])


async def _scale(action: KubernetesScaleAction, plan: ActionPlan, calls: _Calls,
                 sdk: Any) -> Outcome:
    replicas = whole_number("replicas", plan.params.get("replicas"))
    _check_bounds(action, replicas)  # the action's bounds, whatever the plan says
    current = plan.params.get("current")
    scale = await calls(sdk.apps.patch_namespaced_deployment_scale, action.deployment,
                        action.namespace, {"spec": {"replicas": replicas}},
                        _content_type=MERGE_PATCH)
    now = scale.spec.replicas if scale.spec else None
    exist = scale.status.replicas if scale.status else None
    before = current if isinstance(current, int) else replicas
    return Outcome(True, w.scaled(action.namespace, action.deployment, before, replicas),
                   [w.scale_detail(now, exist)])


async def _delete(action: KubernetesDeletePodAction, plan: ActionPlan, calls: _Calls,
                  sdk: Any) -> Outcome:
    name = str(plan.params.get("pod") or "")
    uid = str(plan.params.get("uid") or "")
    # the pod must still match the action's selector (the plan is data: trust the action)
    listing = await calls(sdk.core.list_namespaced_pod, action.namespace,
                          label_selector=action.selector, field_selector=f"metadata.name={name}")
    if not name or not listing.items:
        raise ActionRefused(w.pod_not_matching(name, action.selector, action.namespace),
                            code=ActionRefused.NOT_MATCHING)
    options = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=uid) if uid else None)
    try:
        await calls(sdk.core.delete_namespaced_pod, name, action.namespace, body=options)
    except ApiException as exc:
        if exc.status == 404:
            return Outcome(False, w.failed(w.POD_GONE), [])
        if exc.status == 409:
            return Outcome(False, w.failed(w.POD_REPLACED), [])
        raise
    return Outcome(True, w.pod_deleted(action.namespace, name), [])
