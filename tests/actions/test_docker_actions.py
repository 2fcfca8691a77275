"""docker_restart against a real, private Docker engine (tests/fixtures/docker.py).

Every container runs from the imported busybox image with network_mode="none".
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.actions import executor
from bot.actions.models import ActionRefused, DockerRestartAction
from bot.core.clock import ManualClock
from bot.core.probe import ProbeStatus
from bot.probes import docker as docker_probe
from bot.probes.checks import DockerCheck, DockerSettings
from bot.probes.context import ProbeContext
from tests.fixtures.docker import ctx, engine, unique, until  # noqa: F401

# Fails its first three runs (the start and the two retries on-failure allows), then stays
# up: a crash loop the engine gave up on, that a restart by hand brings back.
CRASH_THEN_RUN = ("n=$(cat /tmp/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/runs; "
                  "if [ $n -gt 3 ]; then exec sleep 300; fi; "
                  "echo 'fatal: cannot reach db password=hunter2'; exit 3")


def started_at(container: Any) -> str:
    container.reload()
    return container.attrs["State"]["StartedAt"]


async def test_restart_brings_a_crash_looped_container_back(engine, ctx):
    name = unique("checkout")
    container = engine.run(["sh", "-c", CRASH_THEN_RUN], name=name,
                           restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    before = await until(container, lambda a: a["State"]["Status"] == "exited"
                         and a["RestartCount"] == 2)
    probed = await docker_probe.probe(DockerCheck(container=name, timeout="8s"), ctx=ctx)
    assert probed.status is ProbeStatus.down and probed.facts["crash_loop"] is True

    action = DockerRestartAction(container=name)
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    assert plan.kind == "docker_restart" and plan.action == f"restart {name}"
    assert plan.target == f"container {name}"
    assert plan.description == (f"docker restart (timeout 10s) of container {name} "
                                f"(id {container.id[:12]}) on {engine.host}")
    assert plan.params == {"container_ids": container.id, "container_names": name,
                           "restart_timeout": 10}
    assert started_at(container) == before["State"]["StartedAt"]  # planning changed nothing

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok and not result.dry_run, result
    assert result.summary.startswith("restarted 1 container in ")
    [line] = result.detail
    assert line.startswith(f"{name} (id {container.id[:12]}): restarted, now running (started ")
    after = await until(container, lambda a: a["State"]["Status"] == "running")
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"]
    probed = await docker_probe.probe(DockerCheck(container=name, timeout="8s"), ctx=ctx)
    assert probed.status is not ProbeStatus.down, probed
    assert probed.facts["container_state"] == "running"


async def test_restart_of_a_compose_service_restarts_each_replica_of_that_project(engine, ctx):
    service, project = unique("web"), unique("shop")
    labels = {"com.docker.compose.service": service, "com.docker.compose.project": project}
    replicas = [engine.run(["sleep", "300"], name=f"{project}-{service}-{i}", labels=labels)
                for i in (1, 2)]
    other = engine.run(["sleep", "300"], name=unique("other"), labels={
        "com.docker.compose.service": service, "com.docker.compose.project": "elsewhere"})
    for c in (*replicas, other):
        await until(c, lambda a: a["State"]["Status"] == "running")
    before = {c.id: started_at(c) for c in (*replicas, other)}
    # sleep as PID 1 ignores SIGTERM: -t 0 kills at once instead of waiting 10 s each
    action = DockerRestartAction(compose_service=service, compose_project=project,
                                 restart_timeout=0)

    plan = await executor.plan(action, service="web", ctx=ctx)

    first, second = replicas
    assert plan.target == f"compose service {service}"
    assert plan.description == (
        f"docker restart (timeout 0s) of compose service {service} (project {project}): "
        f"2 containers {project}-{service}-1 (id {first.id[:12]}), "
        f"{project}-{service}-2 (id {second.id[:12]}), one at a time on {engine.host}")

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok, result
    assert result.summary.startswith("restarted 2 containers in ")
    assert [line.split(" (id")[0] for line in result.detail] == [
        f"{project}-{service}-1", f"{project}-{service}-2"]
    for c in replicas:
        attrs = await until(c, lambda a: a["State"]["Status"] == "running")
        assert attrs["State"]["StartedAt"] != before[c.id]
    assert started_at(other) == before[other.id]  # another project's container is untouched


async def test_dry_run_changes_nothing(engine, ctx):
    name = unique("auth")
    container = engine.run(["sh", "-c", "exit 1"], name=name)
    before = await until(container, lambda a: a["State"]["Status"] == "exited")
    action = DockerRestartAction(container=name)
    plan = await executor.plan(action, service="auth", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=True)

    assert result.ok and result.dry_run
    assert result.summary == f"dry run - would run: {plan.description}"
    assert result.detail == ["nothing was changed (dry run)"]
    await asyncio.sleep(0.3)
    container.reload()
    assert container.attrs["State"]["Status"] == "exited"
    assert container.attrs["State"]["StartedAt"] == before["State"]["StartedAt"]


async def test_unknown_container_is_refused_at_plan(engine, ctx):
    name = unique("nope")

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(DockerRestartAction(container=name), service="x", ctx=ctx)

    assert caught.value.code == ActionRefused.NOT_FOUND
    assert caught.value.reason == f"no container named or with id '{name}'"


async def test_compose_service_with_no_containers_is_refused_at_plan(engine, ctx):
    service = unique("ghost")

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(DockerRestartAction(compose_service=service), service="x", ctx=ctx)

    assert caught.value.code == ActionRefused.NOT_FOUND
    assert caught.value.reason == ("no container (running or stopped) with labels "
                                   f"com.docker.compose.service={service}")


async def test_container_removed_after_the_plan_is_a_failed_result(engine, ctx):
    name = unique("gone")
    container = engine.run(["sleep", "300"], name=name)
    action = DockerRestartAction(container=name)
    plan = await executor.plan(action, service="x", ctx=ctx)
    engine.client.api.remove_container(container.id, force=True)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok
    assert result.summary == (f"failed: {name} (id {container.id[:12]}): no such container "
                              "(removed or recreated since the plan)")


async def test_restart_that_outlasts_the_action_timeout_is_reported_in_time(engine, ctx):
    name = unique("stubborn")
    container = engine.run(["sleep", "300"], name=name)  # ignores SIGTERM: waits the -t
    await until(container, lambda a: a["State"]["Status"] == "running")
    before = started_at(container)
    action = DockerRestartAction(container=name, restart_timeout=3, timeout="1s")
    plan = await executor.plan(action, service="x", ctx=ctx)

    started = time.monotonic()
    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert time.monotonic() - started < 2
    assert not result.ok
    assert result.summary == ("did not finish within 1s (what was already sent may still take "
                              "effect)")
    assert result.detail == ["finished before the time ran out: nothing"]
    # the engine carries on with the restart it was asked for; let it finish
    await until(container, lambda a: a["State"]["StartedAt"] != before
                and a["State"]["Status"] == "running", timeout=15)


async def test_unreachable_engine_is_refused_at_plan(tmp_path):
    socket = f"unix://{tmp_path}/no-docker.sock"
    ctx = ProbeContext(clock=ManualClock(datetime.now(UTC)), http=httpx.AsyncClient(),
                       docker=DockerSettings(host=socket))
    try:
        with pytest.raises(ActionRefused) as caught:
            await executor.plan(DockerRestartAction(container="checkout"), service="x", ctx=ctx)
    finally:
        await ctx.http.aclose()

    assert caught.value.code == ActionRefused.UNAVAILABLE
    assert caught.value.reason.startswith(f"Docker engine unreachable (socket {socket}: ")
