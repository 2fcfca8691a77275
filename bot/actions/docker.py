"""docker_restart: `docker restart -t N` of one container, or of every container of a
compose service (found by its compose labels, running or stopped), one at a time.

The client, the container lookup and the error classification are the docker probe's
(`bot.probes.docker`): one client per engine in `ctx.cache`, every blocking SDK call
through `ctx.blocking`. The plan pins the container ids; executing restarts exactly
those, so a container recreated in between is reported, not guessed at.
"""

from __future__ import annotations

import time
from typing import Any

from bot.messages import actions as w
from bot.messages.probes import docker_when as _when
from bot.actions.base import Outcome
from bot.actions.models import ActionPlan, ActionRefused, DockerRestartAction
from bot.probes.checks import DockerCheck
from bot.probes.context import ProbeContext
from bot.probes.docker import (_client, _compose_labels, _find, _socket, classify_error,
                               observe)

KIND = "docker_restart"


def _as_check(action: DockerRestartAction) -> DockerCheck:
    return DockerCheck(container=action.container, compose_service=action.compose_service,
                       compose_project=action.compose_project)


def _name(container: Any) -> str:
    attrs = getattr(container, "attrs", None) or {}
    return str(attrs.get("Name") or container.id[:12]).lstrip("/")


async def plan(action: DockerRestartAction, *, service: str, ctx: ProbeContext,
               params: dict[str, Any], budget: float) -> ActionPlan:
    socket = _socket(ctx)
    check = _as_check(action)
    try:
        client = await _client(ctx, socket, budget)
        found = await _find(client, check, ctx)
    except Exception as exc:  # noqa: BLE001 - becomes a refusal naming the engine
        _, summary, detail = classify_error(exc)
        raise ActionRefused(w.docker_unavailable(summary, socket, detail),
                            code=ActionRefused.UNAVAILABLE) from None
    if not found:
        reason = (w.container_not_found(action.container) if action.container is not None
                  else w.compose_not_found(_compose_labels(check)))
        raise ActionRefused(reason, code=ActionRefused.NOT_FOUND)
    containers = sorted(((_name(c), c.id) for c in found), key=lambda pair: pair[0])
    description = w.docker_restart_plan(
        restart_timeout=action.restart_timeout, containers=containers,
        compose_service=action.compose_service, compose_project=action.compose_project,
        socket=socket)
    return ActionPlan(kind=KIND, service=service, action=str(action.name),
                      description=description,
                      target=w.docker_target(action.container, action.compose_service),
                      params={"container_ids": ",".join(cid for _, cid in containers),
                              "container_names": ",".join(name for name, _ in containers),
                              "restart_timeout": action.restart_timeout})


async def execute(action: DockerRestartAction, plan: ActionPlan, *, ctx: ProbeContext,
                  progress: list[str]) -> Outcome:
    from docker.errors import NotFound

    started = time.monotonic()
    socket = _socket(ctx)
    ids = [i for i in str(plan.params.get("container_ids", "")).split(",") if i]
    names = str(plan.params.get("container_names", "")).split(",")
    names += [cid[:12] for cid in ids[len(names):]]
    restart_timeout = action.restart_timeout  # the action's, not whatever the plan says
    try:
        client = await _client(ctx, socket, action.timeout.total_seconds())
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        _, summary, detail = classify_error(exc)
        return Outcome(False, w.failed(w.docker_unavailable(summary, socket, detail)), [])
    check = _as_check(action)

    lines: list[str] = []
    failures: list[str] = []
    for cid, name in zip(ids, names):
        try:
            container = await ctx.blocking(client.containers.get, cid)
            await ctx.blocking(container.restart, timeout=restart_timeout)
            await ctx.blocking(container.reload)
        except NotFound:
            failures.append(w.docker_restart_failed_line(name, cid, w.DOCKER_GONE))
            continue
        except Exception as exc:  # noqa: BLE001 - the next replica may still restart
            _, summary, detail = classify_error(exc)
            failures.append(w.docker_restart_failed_line(name, cid, f"{summary}: {detail}"))
            continue
        seen = observe(container.attrs, check=check)
        line = w.docker_restart_line(seen.name or name, cid, seen.state,
                                     _when(seen.started_at) if seen.started_at else None,
                                     seen.restart_count)
        lines.append(line)
        progress.append(seen.name or name)

    elapsed_ms = (time.monotonic() - started) * 1000
    if not failures:
        return Outcome(True, w.docker_restarted(len(lines), elapsed_ms), lines)
    if not lines and len(failures) == 1:
        return Outcome(False, w.failed(failures[0]), [])
    return Outcome(False, w.docker_partly_restarted(len(lines), len(ids), failures[0]),
                   lines + failures)
