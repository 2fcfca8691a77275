"""Every sentence the remediation actions show a person.

Plans say exactly what will run where; results say what happened in one short line
(`summary`) with supporting lines (`detail`). Everything that can hold a secret (URLs,
bodies, API messages) is redacted by the caller before it gets here or by `safe_url`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.messages.probes import ms, plural

# --- config ----------------------------------------------------------------------------------

CONFIG_NOT_A_CONTACT = "'{value}' is not a Slack user id (U..., W...) or user group id (S...)"
CONFIG_UNKNOWN_ACTION = "'{value}' is not an action kind (known: {known})"
CONFIG_ACTION_SHAPE = ("an action is a one-key mapping naming its kind, like "
                       "- docker_restart: {container: checkout}")
CONFIG_DOCKER_TARGET = "give exactly one of container or compose_service"
CONFIG_SCALE_BOUNDS = "min ({min}) must be at most max ({max})"


def default_name(kind: str, target: str) -> str:
    """The name an action gets when `name:` is not given."""
    verbs = {"docker_restart": "restart", "kubernetes_rollout_restart": "rollout restart",
             "kubernetes_scale": "scale", "kubernetes_delete_pod": "delete a pod of",
             "http_post": "POST"}
    return f"{verbs.get(kind, kind)} {target}"


def static_description(kind: str, **fields: Any) -> str:
    """What an action will run where, from its config alone (the plan adds resolved ids).

    `fields` are the action's settings; `url` must already be redacted (`safe_url`).
    """
    match kind:
        case "docker_restart":
            what = (f"container {fields.get('container')}" if fields.get("container")
                    else f"compose service {fields.get('compose_service')}")
            return f"docker restart (timeout {fields.get('restart_timeout')}s) of {what}"
        case "kubernetes_rollout_restart":
            return (f"kubectl rollout restart deployment/{fields.get('deployment')} "
                    f"-n {fields.get('namespace')}")
        case "kubernetes_scale":
            return (f"kubectl scale deployment/{fields.get('deployment')} "
                    f"-n {fields.get('namespace')} "
                    f"--replicas=<{fields.get('min')}..{fields.get('max')}>")
        case "kubernetes_delete_pod":
            return (f"kubectl delete pod <one of {fields.get('selector')}> "
                    f"-n {fields.get('namespace')}")
        case "http_post":
            return f"POST {fields.get('url')}"
    return kind


# --- numbers ---------------------------------------------------------------------------------

def seconds(value: timedelta | float | int) -> str:
    """10s, 1.5s, 500ms."""
    total = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if total >= 1 or total == 0:
        return f"{total:g}s"
    return f"{total * 1000:g}ms"


def short_id(container_id: str) -> str:
    return container_id[:12]


# --- refusals at plan time ------------------------------------------------------------------

def unexpected_params(kind: str, given: list[str], allowed: list[str]) -> str:
    names = ", ".join(sorted(given))
    if not allowed:
        return f"{kind} takes no parameters (got {names})"
    return f"{kind} takes only {', '.join(allowed)} (got {names})"


def missing_param(name: str, hint: str) -> str:
    return f"say {name}: {hint}"


def not_a_number(name: str, value: object) -> str:
    return f"{name} must be a whole number, not '{value}'"


def replicas_out_of_bounds(replicas: int, low: int, high: int, deployment: str) -> str:
    return (f"{replicas} replicas is outside the allowed range {low}..{high} "
            f"for deployment {deployment}")


def replicas_hint(low: int, high: int) -> str:
    return f"the number of replicas, {low} to {high}"


def container_not_found(container: str) -> str:
    return f"no container named or with id '{container}'"


def compose_not_found(labels: list[str]) -> str:
    return f"no container (running or stopped) with labels {', '.join(labels)}"


def deployment_not_found(namespace: str, name: str) -> str:
    return f"deployment {name} not found in namespace {namespace}"


def no_pods(selector: str, namespace: str) -> str:
    return f"no pods match {selector} in namespace {namespace}"


def pod_not_matching(pod: str, selector: str, namespace: str) -> str:
    return f"pod {pod} does not match {selector} in namespace {namespace}: it is not deleted"


def no_unready_pod(selector: str, namespace: str, total: int) -> str:
    return (f"all {plural(total, 'pod')} matching {selector} in namespace {namespace} are "
            f"ready: name the pod to delete")


def docker_unavailable(summary: str, socket: str, detail: str) -> str:
    return f"{summary} (socket {socket}: {detail})"


def plan_timed_out(timeout: timedelta) -> str:
    return f"could not look up the target within {seconds(timeout)}"


PLAN_MISMATCH = "this plan was made for a different action: plan again"


# --- plans: exactly what will run where -----------------------------------------------------

def docker_container(name: str, container_id: str) -> str:
    return f"{name} (id {short_id(container_id)})"


def docker_restart_plan(*, restart_timeout: int, containers: list[tuple[str, str]],
                        compose_service: str | None, compose_project: str | None,
                        socket: str) -> str:
    head = f"docker restart (timeout {restart_timeout}s) of "
    listed = ", ".join(docker_container(n, i) for n, i in containers)
    if compose_service is None:
        what = f"container {listed}"
    else:
        project = f" (project {compose_project})" if compose_project else ""
        count = plural(len(containers), "container")
        order = ", one at a time" if len(containers) > 1 else ""
        what = f"compose service {compose_service}{project}: {count} {listed}{order}"
    return f"{head}{what} on {socket}"


def docker_target(container: str | None, compose_service: str | None) -> str:
    return f"container {container}" if container else f"compose service {compose_service}"


def deployment_target(namespace: str, name: str) -> str:
    return f"deployment {namespace}/{name}"


def pod_target(namespace: str, name: str) -> str:
    return f"pod {namespace}/{name}"


def rollout_restart_plan(*, namespace: str, deployment: str, replicas: int, api: str) -> str:
    return (f"kubectl rollout restart deployment/{deployment} -n {namespace} "
            f"({plural(replicas, 'replica')} replaced one by one): a strategic-merge PATCH "
            f"setting the kubectl.kubernetes.io/restartedAt annotation, on {api}")


def scale_plan(*, namespace: str, deployment: str, current: int, replicas: int,
               low: int, high: int, api: str) -> str:
    change = (f"from {current} to {replicas}" if current != replicas
              else f"at {replicas} (no change)")
    return (f"kubectl scale deployment/{deployment} -n {namespace} --replicas={replicas}: "
            f"{change} replicas (allowed {low}..{high}), on {api}")


def delete_pod_plan(*, namespace: str, pod: str, selector: str, why: str, owner: str | None,
                    api: str) -> str:
    replaced = f"; its {owner} will create a replacement" if owner else \
        "; it has no controller: nothing will replace it"
    return (f"kubectl delete pod {pod} -n {namespace} ({why}, matches {selector}){replaced}, "
            f"on {api}")


def pod_why(ready: bool, phase: str, reason: str | None, chosen: bool) -> str:
    state = "ready" if ready else "not ready"
    words = f"{phase}, {state}" + (f": {reason}" if reason else "")
    return words if chosen else f"{words}, first not-ready pod"


def http_plan(*, url: str, headers: list[str], body: str | None, expect: list[int],
              timeout: timedelta) -> str:
    parts = [f"POST {url}"]
    if headers:
        parts.append(f"with headers {', '.join(headers)}")
    parts.append(f"and JSON body {body}" if body is not None else "with no body")
    expected = ", ".join(str(s) for s in expect)
    return f"{' '.join(parts)}; ok on HTTP {expected}; gives up after {seconds(timeout)}"


# --- results ---------------------------------------------------------------------------------

def dry_run(description: str) -> str:
    return f"dry run - would run: {description}"


DRY_RUN_DETAIL = "nothing was changed (dry run)"


def timed_out(timeout: timedelta) -> str:
    return f"did not finish within {seconds(timeout)} (what was already sent may still take effect)"


def timed_out_detail(done: list[str]) -> str:
    return "finished before the time ran out: " + (", ".join(done) if done else "nothing")


def failed(summary: str) -> str:
    return f"failed: {summary}"


def docker_restarted(count: int, elapsed_ms: float) -> str:
    return f"restarted {plural(count, 'container')} in {ms(elapsed_ms)}"


def docker_partly_restarted(done: int, total: int, first_error: str) -> str:
    return f"restarted {done} of {plural(total, 'container')}; {first_error}"


def docker_restart_line(name: str, container_id: str, state: str, started: str | None,
                        restart_count: int) -> str:
    line = f"{docker_container(name, container_id)}: restarted, now {state}"
    if started:
        line += f" (started {started})"
    if restart_count:
        line += f", restart count {restart_count}"
    return line


def docker_restart_failed_line(name: str, container_id: str, error: str) -> str:
    return f"{docker_container(name, container_id)}: {error}"


DOCKER_GONE = "no such container (removed or recreated since the plan)"


def rollout_restarted(namespace: str, deployment: str, at: str) -> str:
    return f"rollout restart of deployment/{deployment} -n {namespace} started at {at}"


def rollout_detail(generation: int | None, replicas: int | None) -> str:
    parts = []
    if generation is not None:
        parts.append(f"generation {generation}")
    if replicas is not None:
        parts.append(plural(replicas, "replica"))
    return "deployment accepted the change" + (f" ({', '.join(parts)})" if parts else "")


def scaled(namespace: str, deployment: str, current: int, replicas: int) -> str:
    if current == replicas:
        return f"deployment/{deployment} -n {namespace} stays at {replicas} replicas"
    return f"scaled deployment/{deployment} -n {namespace} from {current} to {replicas} replicas"


def scale_detail(spec: int | None, status: int | None) -> str:
    return f"scale now wants {spec} replicas, {status if status is not None else 0} exist"


def pod_deleted(namespace: str, pod: str) -> str:
    return f"deleted pod {pod} -n {namespace}"


POD_GONE = "the pod is already gone"
POD_REPLACED = "the pod was replaced since the plan (its uid changed): nothing was deleted"


KUBERNETES_FORBIDDEN_HINT = ("the credentials lack RBAC permission: actions need patch on "
                             "apps deployments and deployments/scale, list and delete on pods")
KUBERNETES_UNAUTHORIZED_HINT = ("the API server did not accept the credentials: check the "
                                "kubeconfig user / service-account token")


def http_ok(status: int, latency_ms: float) -> str:
    return f"HTTP {status} in {ms(latency_ms)}"


def http_not_ok(status: int, latency_ms: float, expect: list[int]) -> str:
    wanted = ", ".join(str(s) for s in expect)
    return f"HTTP {status} in {ms(latency_ms)} (expected {wanted})"


def http_no_answer(timeout: timedelta) -> str:
    return f"no answer within {seconds(timeout)}"


def http_failed(what: str) -> str:
    return f"request failed: {what}"
