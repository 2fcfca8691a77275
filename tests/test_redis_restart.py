"""A Redis restart (AOF on) loses nothing and the running bot carries on."""

from __future__ import annotations

from bot.core.incident import Status
from bot.store.embedded import EmbeddedRedis
from tests.conftest import BotRunner, eventually
from tests.test_declare import ALICE, BOB, declare, war_room


async def test_redis_restart_between_declare_and_resolve_loses_nothing(
        slack, clock, policy, tmp_path, key_prefix):
    redis = EmbeddedRedis(tmp_path / "redis").start()
    runner = BotRunner(slack=slack, redis_url=redis.url, clock=clock, policy=policy,
                       key_prefix=key_prefix)
    try:
        bot = await runner.start()
        await declare(slack)
        channel = await war_room(slack)
        await slack.platform.slash_command(user=BOB, channel=channel.id, text="ack")
        redis.stop()  # SIGTERM: redis flushes its AOF, like a planned restart
        restarted = EmbeddedRedis(tmp_path / "redis", port=redis.port).start()
        try:
            reply = await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                                       text="resolve cache failover done")
            assert "resolved INC-2026-12-01-001" in reply.ack["text"]
            incident = await bot.store.get("INC-2026-12-01-001")
            assert incident.acknowledged_by == BOB and incident.status is Status.resolved
            await eventually(lambda: "RESOLVED" in str(slack.workspace.pins(channel.id)[0].blocks))
        finally:
            await runner.stop()
            restarted.stop()
    finally:
        redis.stop()
