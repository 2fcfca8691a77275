"""`warroom serve` and `warroom check-config` as real processes."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.conftest import SIGNING_SECRET, TEST_CONFIG, eventually
from tests.serve_process import ServeProcess, run_cli
from tests.test_declare import ALICE, BOB, GENERAL, war_room

pytestmark = pytest.mark.slow


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "warroom.yml"
    path.write_text(TEST_CONFIG)
    return path


def serve_env(slack, *, redis_url=None, config=None, data_dir=None, **extra):
    env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": slack.api_url, "WARROOM_LOG_LEVEL": "debug", **extra}
    if redis_url:
        env["REDIS_URL"] = redis_url
    if config:
        env["WARROOM_CONFIG"] = str(config)
    if data_dir:
        env["WARROOM_DATA_DIR"] = str(data_dir)
    return env


async def test_http_serve_is_healthy_ready_and_survives_kill_9_between_declare_and_resolve(
        slack, redis_server, config_file, tmp_path, key_prefix):
    env = serve_env(slack, redis_url=redis_server.url, config=config_file,
                    WARROOM_REDIS_PREFIX=key_prefix)
    first = ServeProcess(env=env).start(tmp_path / "first.log")
    try:
        ready = await first.wait_ready()
        assert ready == {"ok": True, "redis": True, "slack_auth": True}
        async with httpx.AsyncClient() as client:
            assert (await client.get(first.url + "/healthz")).json() == {"ok": True}
        slack.set_request_url(first.url + "/slack/events")
        await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                           text="declare P1 checkout is failing")
        channel = await war_room(slack)
        first.kill9()

        second = ServeProcess(env=env)
        second.port = first.port
        second.start(tmp_path / "second.log")
        await second.wait_ready()
        await slack.platform.slash_command(user=BOB, channel=channel.id, text="ack")
        reply = await slack.platform.slash_command(user=BOB, channel=channel.id,
                                                   text="resolve rolled back")
        assert "resolved INC-2026-12-01-001" in reply.ack["text"]
        await eventually(lambda: "RESOLVED" in str(slack.workspace.pins(channel.id)[0].blocks))
        assert await second.stop() == 0
        logs = first.stderr() + second.stderr()
        assert slack.bot_token not in logs and SIGNING_SECRET not in logs
        assert "INC-2026-12-01-001" in logs  # structured logs carry the incident id
    finally:
        first.kill9()


async def test_socket_mode_serve_needs_no_signing_secret_and_reports_socket_readiness(
        slack, redis_server, tmp_path, key_prefix):
    env = serve_env(slack, redis_url=redis_server.url, SLACK_APP_TOKEN=slack.app_token,
                    WARROOM_REDIS_PREFIX=key_prefix)
    del env["SLACK_SIGNING_SECRET"]
    proc = ServeProcess(env=env, args=[]).start(tmp_path / "socket.log")
    try:
        ready = await proc.wait_ready()
        assert ready["socket"] is True
        slack.use_socket_mode()
        reply = await slack.platform.slash_command(user=ALICE, channel=GENERAL, text="help")
        assert reply.transport == "socket" and "/incident declare" in reply.ack["text"]
        async with httpx.AsyncClient() as client:  # no /slack/events in Socket Mode
            assert (await client.post(proc.url + "/slack/events")).status_code in (404, 405)
        assert slack.app_token not in proc.stderr()
    finally:
        assert await proc.stop() == 0


async def test_without_redis_url_serve_embeds_redis_with_aof_and_stops_it(slack, tmp_path):
    data = tmp_path / "data"
    proc = ServeProcess(env=serve_env(slack, data_dir=data)).start(tmp_path / "embedded.log")
    try:
        await proc.wait_ready()
        assert "started a private redis-server" in proc.stderr()
        slack.set_request_url(proc.url + "/slack/events")
        await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                           text="declare P3 disk filling up")
        await war_room(slack, "inc-20261201-001-disk-filling-up")
    finally:
        assert await proc.stop() == 0
    assert (data / "appendonlydir").is_dir()
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    cmdlines = []
    for pid in pids:
        try:
            cmdlines.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="ignore"))
        except OSError:
            pass
    assert not [c for c in cmdlines if "redis-server" in c and str(data) in c]


@pytest.mark.parametrize(("env", "needle"), [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_SIGNING_SECRET is not set"),
    ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "must start with xoxb-"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "nope"}, "must start with xapp-"),
])
def test_missing_or_bad_settings_stop_startup_with_one_clear_line(env, needle):
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert needle in result.stderr
    for value in env.values():
        assert value not in result.stderr


def test_unreachable_redis_is_named_without_its_password():
    result = run_cli("serve", env={"SLACK_BOT_TOKEN": "xoxb-1-2-abc",
                                   "SLACK_SIGNING_SECRET": "s3cret",
                                   "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"})
    assert result.returncode == 2
    assert "does not answer" in result.stderr and "hunter2" not in result.stderr




def test_check_config_reports_each_located_error_and_exits_1(tmp_path):
    bad = tmp_path / "warroom.yml"
    bad.write_text("severities:\n  - name: P1\n  - name: P2\n    ack_within: 5x\nroles: [tech_lead]\n")
    result = run_cli("check-config", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4: severities[1].ack_within: '5x' is not a duration like 90s, 15m, 1h" in result.stderr
    assert f"{bad}:5: roles: roles must include commander" in result.stderr


def test_check_config_summarises_a_good_file(config_file):
    result = run_cli("check-config", str(config_file))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "On-call engineer -> Engineering manager" in result.stdout
    assert "C0INCIDENTS" in result.stdout


def test_check_config_names_a_missing_file(tmp_path):
    result = run_cli("check-config", str(tmp_path / "nope.yml"))
    assert result.returncode == 1 and "cannot read the config file" in result.stderr


async def test_kill_9_of_serve_takes_its_embedded_redis_with_it(slack, tmp_path):
    import asyncio
    import re

    data = tmp_path / "data"
    proc = ServeProcess(env=serve_env(slack, data_dir=data)).start(tmp_path / "k9.log")
    try:
        await proc.wait_ready()
        port = re.search(r"redis://127\.0\.0\.1:(\d+)/0", proc.stderr()).group(1)

        def redis_alive() -> bool:  # redis-server retitles itself "redis-server 127.0.0.1:PORT"
            for pid in (p for p in os.listdir("/proc") if p.isdigit()):
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="ignore")
                except OSError:
                    continue
                if "redis-server" in cmd and f"127.0.0.1:{port}" in cmd:
                    return True
            return False

        assert redis_alive()
        proc.kill9()
        for _ in range(100):
            if not redis_alive():
                break
            await asyncio.sleep(0.1)
        assert not redis_alive(), "an orphaned redis-server was left behind"
    finally:
        proc.kill9()
