"""The docker probe against a real, private Docker engine (tests/fixtures/docker.py).

Every container runs from the imported busybox image with network_mode="none".
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.core.clock import ManualClock
from bot.core.probe import ProbeStatus
from bot.messages.probes import NO_SUCH_CONTAINER
from bot.probes import docker as docker_probe
from bot.probes.checks import DockerCheck, DockerSettings
from bot.probes.context import ProbeContext
from tests.fixtures.docker import ctx, engine, unique, until  # noqa: F401
from bot.probes.docker import (
    Observed,
    classify_error,
    cpu_percent_from_stats,
    error_lines,
    judge,
    memory_from_stats,
    parse_timestamp,
    probe,
)

FAST_HEALTH = {"interval": 100_000_000, "timeout": 2_000_000_000, "retries": 1}  # ns


def health_of(attrs: dict[str, Any]) -> str | None:
    return (attrs["State"].get("Health") or {}).get("Status")


def check(**kwargs: Any) -> DockerCheck:
    kwargs.setdefault("timeout", "8s")
    return DockerCheck(**kwargs)


# ---- healthy, unhealthy, starting -------------------------------------------------------


async def test_running_container_with_passing_healthcheck_is_ok(engine, ctx):
    name = unique("checkout")
    container = engine.run(["sleep", "300"], name=name, mem_limit="64m",
                           healthcheck={"test": ["CMD", "true"], **FAST_HEALTH})
    await until(container, lambda a: health_of(a) == "healthy")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.ok, result
    assert result.kind == "docker" and result.target == name
    assert result.summary == "running, healthy"
    assert result.facts["container_state"] == "running"
    assert result.facts["health"] == "healthy"
    assert result.facts["restart_count"] == 0
    assert result.facts["crash_loop"] is False and result.facts["oom_killed"] is False
    assert result.facts["exit_code"] is None
    ratio = result.facts["memory_used_ratio"]
    assert isinstance(ratio, float) and 0 < ratio < 0.9
    assert any("memory" in line and "of 64.0 MiB" in line and "CPU" in line
               for line in result.evidence), result.evidence
    assert result.failed_since is None
    assert result.observed_at == ctx.clock.now()


async def test_failing_healthcheck_makes_a_running_container_down(engine, ctx):
    name = unique("api")
    container = engine.run(["sleep", "300"], name=name,
                           healthcheck={"test": ["CMD", "false"], **FAST_HEALTH})
    attrs = await until(container, lambda a: health_of(a) == "unhealthy")

    result = await probe(check(container=container.id), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "running, unhealthy"
    assert result.facts["container_state"] == "running"
    assert result.facts["health"] == "unhealthy"
    assert any("health unhealthy" in line for line in result.evidence), result.evidence
    first_failure = parse_timestamp(attrs["State"]["Health"]["Log"][0]["Start"])
    assert result.failed_since is not None and result.failed_since <= datetime.now(UTC)
    assert result.failed_since >= first_failure


async def test_healthcheck_output_is_redacted_in_evidence(engine, ctx):
    name = unique("auth")
    test = ["CMD", "sh", "-c", "echo 'db login refused password=hunter2'; exit 1"]
    container = engine.run(["sleep", "300"], name=name, healthcheck={"test": test, **FAST_HEALTH})
    await until(container, lambda a: health_of(a) == "unhealthy")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.down
    health_line = next(line for line in result.evidence if "health unhealthy" in line)
    assert "db login refused password=***" in health_line
    assert "hunter2" not in result.model_dump_json()


async def test_health_still_starting_is_degraded(engine, ctx):
    name = unique("search")
    slow = {"interval": 60_000_000_000, "timeout": 2_000_000_000, "retries": 3}
    container = engine.run(["sleep", "300"], name=name,
                           healthcheck={"test": ["CMD", "true"], **slow})
    await until(container,
                lambda a: a["State"]["Status"] == "running" and health_of(a) == "starting")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.degraded
    assert result.facts["health"] == "starting"
    assert result.summary == "running, health starting"


# ---- restarts, crash loops, OOM, exits --------------------------------------------------


async def test_crash_looping_container_is_down_with_its_fatal_line(engine, ctx):
    name = unique("worker")
    container = engine.run(["sh", "-c", "echo FATAL: config missing; exit 3"], name=name,
                           restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    attrs = await until(container, lambda a: a["RestartCount"] == 3
                        and a["State"]["Status"] == "exited")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "exited (3) crash-looping after 3 restarts"
    assert result.facts["crash_loop"] is True
    assert result.facts["restart_count"] == 3
    assert result.facts["exit_code"] == 3
    assert result.facts["container_state"] == "exited"
    assert result.facts["memory_used_ratio"] is None
    assert f"{name} log: FATAL: config missing" in result.evidence
    assert any("restarted 3 times (restart policy on-failure" in line and "crash-looping" in line
               for line in result.evidence), result.evidence
    assert result.failed_since == parse_timestamp(attrs["State"]["FinishedAt"])


async def test_one_recent_restart_below_threshold_is_degraded(engine, ctx, tmp_path):
    name = unique("cache")
    # Fails on its first run only: the container's own /tmp survives the restart.
    script = "if [ -f /tmp/ran ]; then sleep 300; else touch /tmp/ran; exit 1; fi"
    container = engine.run(["sh", "-c", script], name=name,
                           restart_policy={"Name": "on-failure", "MaximumRetryCount": 5})
    await until(container,
                lambda a: a["RestartCount"] == 1 and a["State"]["Status"] == "running")

    result = await probe(check(container=name, restart_threshold=3), ctx=ctx)

    assert result.status is ProbeStatus.degraded, result
    assert result.facts["restart_count"] == 1
    assert result.facts["crash_loop"] is False
    assert result.summary == "running after 1 restart"


async def test_oom_killed_container_is_down(engine, ctx):
    name = unique("hog")
    container = engine.run(["sh", "-c", "x=a; while true; do x=$x$x; done"], name=name,
                           mem_limit="16m", memswap_limit="16m")
    attrs = await until(container, lambda a: a["State"]["Status"] == "exited", timeout=30)
    if not attrs["State"]["OOMKilled"]:
        pytest.skip("this kernel/cgroup setup did not OOM-kill a 16 MiB container that outgrew "
                    f"its limit (State: {attrs['State']})")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.facts["oom_killed"] is True
    assert result.facts["exit_code"] == 137
    assert result.summary == "exited (137) OOM-killed"
    assert any("out of memory (memory limit 16.0 MiB)" in line for line in result.evidence)
    assert result.failed_since == parse_timestamp(attrs["State"]["FinishedAt"])


async def test_exited_container_shows_last_error_lines_newest_last_and_redacted(engine, ctx):
    name = unique("billing")
    script = "; ".join([
        "echo 'INFO starting billing'",
        "for i in 1 2 3 4 5 6 7 8; do echo \"WARN retry $i: Error connecting\"; done",
        "echo 'ERROR login failed for user=billing password=hunter2'",
        "echo 'INFO this line is fine'",
        "echo 'panic: runtime error: index out of range'",
        "echo 'java.lang.IllegalStateException: boom'",
        "sleep 0.3",  # stdout and stderr are read apart: keep the order unambiguous
        "echo 'fatal: giving up' >&2",
        "exit 1",
    ])
    container = engine.run(["sh", "-c", script], name=name)
    await until(container, lambda a: a["State"]["Status"] == "exited")

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "exited (1)"
    assert result.facts["exit_code"] == 1
    assert result.facts["crash_loop"] is False  # no restart policy
    logs = [line.removeprefix(f"{name} log: ") for line in result.evidence
            if line.startswith(f"{name} log: ")]
    assert len(logs) == 10
    assert logs[-4:] == [
        "ERROR login failed for user=billing password=***",
        "panic: runtime error: index out of range",
        "java.lang.IllegalStateException: boom",
        "fatal: giving up",
    ]
    assert logs[0] == "WARN retry 3: Error connecting"  # the two oldest matches dropped
    assert not any("INFO" in line for line in logs)
    assert "hunter2" not in result.model_dump_json()


async def test_paused_container_is_down(engine, ctx):
    name = unique("frozen")
    container = engine.run(["sleep", "300"], name=name)
    await until(container, lambda a: a["State"]["Status"] == "running")
    container.pause()

    result = await probe(check(container=name), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.facts["container_state"] == "paused"
    container.unpause()


# ---- lookup -----------------------------------------------------------------------------


def compose_labels(project: str, service: str, number: int) -> dict[str, str]:
    return {"com.docker.compose.project": project, "com.docker.compose.service": service,
            "com.docker.compose.container-number": str(number)}


async def test_compose_service_is_found_by_labels_and_each_replica_reported(engine, ctx):
    project = unique("shop")
    web1, web2 = f"{project}-web-1", f"{project}-web-2"
    up = engine.run(["sleep", "300"], name=web1, labels=compose_labels(project, "web", 1))
    crashed = engine.run(["sh", "-c", "echo 'Error: port in use'; exit 2"], name=web2,
                         labels=compose_labels(project, "web", 2))
    other = engine.run(["sleep", "300"], name=unique("other-web"),
                       labels=compose_labels(unique("other"), "web", 1))
    engine.run(["sleep", "300"], name=f"{project}-db-1", labels=compose_labels(project, "db", 1))
    await until(crashed, lambda a: a["State"]["Status"] == "exited")
    await until(up, lambda a: a["State"]["Status"] == "running")

    result = await probe(check(compose_service="web", compose_project=project), ctx=ctx)

    assert result.status is ProbeStatus.down  # the worst replica
    assert result.target == "web"
    assert result.summary == f"1/2 replicas ok; {web2}: exited (2)"
    assert result.facts["container_state"] == "exited"
    assert result.facts["exit_code"] == 2
    assert any(line.startswith(f"{web1}: running") for line in result.evidence)
    assert any(line.startswith(f"{web2}: exited (2)") for line in result.evidence)
    assert f"{web2} log: Error: port in use" in result.evidence
    assert not any(other.name in line or "-db-1" in line for line in result.evidence)

    # Without a project, every compose project's "web" service counts; one client serves both.
    crashed.remove(force=True)
    result = await probe(check(compose_service="web"), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert result.summary == "2/2 replicas ok"
    assert any(line.startswith(f"{other.name}: running") for line in result.evidence)
    clients = [v for v in ctx.cache.values() if hasattr(v, "containers")]
    assert len(clients) == 1 and clients[0].api.base_url == "http+docker://localhost"


async def test_unknown_container_is_down_with_no_such_container(ctx):
    result = await probe(check(container="no-such-thing"), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == NO_SUCH_CONTAINER
    assert result.evidence == ["no container named or with id 'no-such-thing'"]


async def test_unknown_compose_service_is_down_with_no_such_container(ctx):
    result = await probe(check(compose_service="ghost", compose_project="nowhere"), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == NO_SUCH_CONTAINER
    assert "com.docker.compose.service=ghost" in result.evidence[0]


# ---- engine trouble ---------------------------------------------------------------------


async def test_unreachable_engine_is_an_error_naming_the_socket_quickly(tmp_path):
    socket = tmp_path / "missing" / "docker.sock"
    async with httpx.AsyncClient() as http:
        context = ProbeContext(clock=ManualClock(datetime.now(UTC)), http=http,
                               docker=DockerSettings(host=f"unix://{socket}"))
        started = time.monotonic()
        result = await probe(check(container="checkout", timeout="5s"), ctx=context)
        elapsed = time.monotonic() - started

    assert result.status is ProbeStatus.error
    assert result.summary == "Docker engine unreachable"
    assert result.evidence == [f"socket unix://{socket}: no such socket"]
    assert elapsed < 2.0


async def test_an_engine_that_never_answers_times_out_within_the_check_timeout(tmp_path):
    path = tmp_path / "silent.sock"
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, read nothing back, never answer

    server = await asyncio.start_unix_server(hold, path=str(path))
    try:
        async with httpx.AsyncClient() as http:
            context = ProbeContext(clock=ManualClock(datetime.now(UTC)), http=http,
                                   docker=DockerSettings(host=f"unix://{path}"))
            started = time.monotonic()
            result = await probe(check(container="checkout", timeout="300ms"), ctx=context)
            elapsed = time.monotonic() - started
    finally:
        for writer in held:
            writer.close()
        server.close()

    assert result.status is ProbeStatus.timeout
    assert result.summary == "Docker did not answer within 300ms"
    assert 0.25 <= elapsed < 0.8


# ---- pure parts: timestamps, stats arithmetic, status rules -----------------------------


def test_docker_nanosecond_timestamps_parse_and_zero_time_means_never():
    assert parse_timestamp("2026-12-01T20:50:47.758887170Z") == datetime(
        2026, 12, 1, 20, 50, 47, 758887, tzinfo=UTC)
    assert parse_timestamp("2026-12-01T21:50:47.5+01:00") == datetime(
        2026, 12, 1, 20, 50, 47, 500000, tzinfo=UTC)
    assert parse_timestamp("0001-01-01T00:00:00Z") is None
    assert parse_timestamp("") is None and parse_timestamp(None) is None


def test_stats_sample_gives_memory_less_page_cache_and_cpu_percent():
    stats = {
        "memory_stats": {"usage": 10_000_000, "limit": 16_777_216,
                         "stats": {"total_inactive_file": 2_000_000}},
        "cpu_stats": {"cpu_usage": {"total_usage": 400_000_000}, "system_cpu_usage": 12_000_000_000,
                      "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 200_000_000},
                         "system_cpu_usage": 10_000_000_000},
    }
    assert memory_from_stats(stats) == (8_000_000, 16_777_216)
    assert cpu_percent_from_stats(stats) == 20.0
    assert memory_from_stats({"memory_stats": {}}) == (None, None)
    assert cpu_percent_from_stats({"cpu_stats": {}, "precpu_stats": {}}) is None


def test_memory_above_ninety_percent_of_limit_is_degraded():
    now = datetime.now(UTC)
    c = Observed(name="x", state="running", started_at=now - timedelta(days=1),
                 memory_used=15_500_000, memory_limit=16_000_000)
    assert judge(c, check=check(container="x"), now=now) is ProbeStatus.degraded
    c.memory_used = 8_000_000
    assert judge(c, check=check(container="x"), now=now) is ProbeStatus.ok
    c.restart_count = 1  # an old restart (started a day ago) does not degrade
    assert judge(c, check=check(container="x"), now=now) is ProbeStatus.ok


def test_error_lines_keep_the_last_ten_matches_case_insensitively():
    text = "\n".join([f"error {i}" for i in range(15)] + ["ok", "EXCEPTION token=abc123"])
    lines = error_lines(text)
    assert len(lines) == 10
    assert lines[0] == "error 6" and lines[-1] == "EXCEPTION token=***"
    assert docker_probe.MAX_ERROR_LINES == 10


def test_permission_denied_on_the_socket_is_told_apart_from_an_absent_engine():
    import docker.errors
    import requests
    from urllib3.exceptions import ProtocolError

    def sdk_error(os_error: OSError) -> Exception:
        # The shape docker.DockerClient raises when /version cannot be fetched.
        try:
            try:
                raise requests.ConnectionError(ProtocolError("Connection aborted.", os_error))
            except requests.ConnectionError as exc:
                raise docker.errors.DockerException(
                    f"Error while fetching server API version: {exc}") from exc
        except docker.errors.DockerException as exc:
            return exc

    denied = classify_error(sdk_error(PermissionError(13, "Permission denied")))
    assert denied == (ProbeStatus.error, "permission denied on the Docker socket",
                      "permission denied")
    absent = classify_error(sdk_error(FileNotFoundError(2, "No such file or directory")))
    assert absent == (ProbeStatus.error, "Docker engine unreachable", "no such socket")
    refused = classify_error(sdk_error(ConnectionRefusedError(111, "Connection refused")))
    assert refused == (ProbeStatus.error, "Docker engine unreachable", "connection refused")
