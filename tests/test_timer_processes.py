"""Durable timers with real `warroom serve` processes: kill -9 between declare and the
next escalation, and three replicas on one Redis firing 1000 jobs exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.core import incident as inc
from bot.core.escalation import KIND_REMIND, remind_token
from bot.core.incident import EventKind
from bot.settings import parse_config
from bot.store.connection import connect
from bot.store.incidents import RedisIncidentStore
from bot.store.keys import Keys
from bot.store.timers import Job, RedisTimerQueue
from tests.conftest import eventually
from tests.serve_process import ServeProcess
from tests.test_declare import ALICE, GENERAL, war_room
from tests.test_serve import serve_env

pytestmark = pytest.mark.slow

FAST_LADDER = """
severities:
  - name: P1
    ack_within: 1h
    update_every: 1h
    page: true
escalation:
  levels:
    - name: On-call engineer
      notify: [U0ALICE]
    - name: Engineering manager
      after: 3s
      notify: [U0CAROL]
    - name: VP Engineering
      after: 1h
      notify: [U0DAN]
"""


async def test_kill_9_between_declare_and_escalation_still_escalates_once(
        slack, redis_server, tmp_path, key_prefix):
    config = tmp_path / "warroom.yml"
    config.write_text(FAST_LADDER)
    env = serve_env(slack, redis_url=redis_server.url, config=config,
                    WARROOM_REDIS_PREFIX=key_prefix)
    first = ServeProcess(env=env).start(tmp_path / "first.log")
    second = None
    try:
        await first.wait_ready()
        slack.set_request_url(first.url + "/slack/events")
        await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                           text="declare P1 checkout is failing")
        channel = await war_room(slack)
        first.kill9()  # the level-2 timer (3 s) is pending in Redis, nobody is running
        second = ServeProcess(env=env)
        second.port = first.port
        second.start(tmp_path / "second.log")
        await second.wait_ready()
        await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                  if "escalating to Engineering manager" in (m.text or "")],
                         timeout=20)
        await asyncio.sleep(1.5)  # give a duplicate the chance to show up
        notices = [m for m in slack.workspace.messages(channel.id)
                   if "escalating to Engineering manager" in (m.text or "")]
        assert len(notices) == 1
    finally:
        first.kill9()
        if second is not None:
            await second.stop()


async def test_three_replicas_fire_1000_jobs_exactly_once(slack, redis_server, tmp_path,
                                                          key_prefix):
    config_text = FAST_LADDER
    config = tmp_path / "warroom.yml"
    config.write_text(config_text)
    policy = parse_config(config_text).to_policy()
    redis = connect(redis_server.url)
    store = RedisIncidentStore(redis, keys=Keys(prefix=key_prefix))
    queue = RedisTimerQueue(redis, keys=Keys(prefix=key_prefix))
    now = datetime.now(UTC)
    jobs = []
    for n in range(1, 1001):
        channel = slack.workspace.add_channel(name=f"inc-bulk-{n:04d}",
                                              members=["U0WARBOT", ALICE], creator=ALICE)
        change = inc.declare(incident_id=f"INC-2026-11-30-{n:03d}", seq=n, title=f"bulk {n}",
                             severity=policy.severity("P1"), escalation=policy.escalation,
                             declared_by=ALICE, now=now)
        incident = change.incident.model_copy(update={"channel_id": channel.id})
        await store.create(inc.Change(incident=incident, events=change.events))
        jobs.append((Job(kind=KIND_REMIND, incident_id=incident.id,
                         token=remind_token(incident.ladder)), now))
    env = serve_env(slack, redis_url=redis_server.url, config=config,
                    WARROOM_REDIS_PREFIX=key_prefix, WARROOM_LOG_LEVEL="warning")
    replicas = [ServeProcess(env=env).start(tmp_path / f"r{i}.log") for i in range(3)]
    try:
        for r in replicas:
            await r.wait_ready()
        await queue.schedule_many(jobs)  # all due now, three claimers racing

        def reminders():
            return [m for m in slack.workspace.messages_all()
                    if "no status update" in (m.text or "")] if hasattr(
                slack.workspace, "messages_all") else [
                m for ch in list(slack.workspace.channels) for m in slack.workspace.messages(ch)
                if "no status update" in (m.text or "")]

        await eventually(lambda: len(reminders()) >= 1000, timeout=120)
        await asyncio.sleep(1.0)
        posted = reminders()
        assert len(posted) == 1000
        assert len({m.channel for m in posted}) == 1000
        sample = await store.timeline("INC-2026-11-30-500")
        assert [e.kind for e in sample].count(EventKind.reminder_sent) == 1
    finally:
        for r in replicas:
            await r.stop()
        await redis.aclose()
