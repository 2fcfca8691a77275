"""GET /metrics after a scripted incident through the real bot, and `warroom stats`.

The incident: declared at T0 (P1, ack target 15m), acknowledged after 4m, the
reminder timer fires a minute late at 16m, resolved with --force after 42m.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.core import incident as inc
from bot.core.policy import DEFAULT_POLICY
from bot.store.embedded import EmbeddedRedis
from bot.store.incidents import RedisIncidentStore
from bot.store.keys import Keys
from tests.conftest import T0, eventually
from tests.serve_process import run_cli
from tests.test_declare import ALICE, BOB, declare, war_room

ID = "INC-2026-12-01-001"


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """sample name + sorted labels -> value."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def say(slack, channel, text, *, user=ALICE):
    return (await slack.platform.slash_command(user=user, channel=channel, text=text)).ack


async def scripted_incident(bot, slack, clock, runner):
    await declare(slack)
    channel = await war_room(slack)
    clock.advance(timedelta(minutes=4))
    assert "after 4m" in (await say(slack, channel.id, "ack", user=BOB))["text"]
    return channel


async def test_metrics_after_a_scripted_incident(bot, slack, clock, runner):
    fresh = await scrape(runner.port)
    assert value(fresh, "warroom_incidents_declared_total", severity="P1") == 0
    assert value(fresh, "warroom_incidents_open", severity="P1") == 0

    channel = await scripted_incident(bot, slack, clock, runner)
    during = await scrape(runner.port)
    assert value(during, "warroom_incidents_open", severity="P1") == 1
    assert value(during, "warroom_incidents_declared_total", severity="P1") == 1
    assert value(during, "warroom_incidents_declared_total", severity="P2") == 0
    assert value(during, "warroom_time_to_acknowledge_seconds_count", severity="P1") == 1
    assert value(during, "warroom_time_to_acknowledge_seconds_sum", severity="P1") == 240
    assert value(during, "warroom_time_to_acknowledge_seconds_bucket", severity="P1",
                 le="120.0") == 0
    assert value(during, "warroom_time_to_acknowledge_seconds_bucket", severity="P1",
                 le="300.0") == 1

    # the reminder (due at 15m) fires when the clock says 16m: a minute late
    clock.advance(timedelta(minutes=12))
    lagged = await eventually(lambda: _lag(runner.port))
    count, total = lagged
    assert count >= 1 and total == 60 * count

    clock.advance(timedelta(minutes=26))
    reply = await say(slack, channel.id, "resolve --force rolled back the deploy")
    assert ID in reply["text"]
    after = await eventually(lambda: _resolved(runner.port))
    assert value(after, "warroom_time_to_resolve_seconds_count", severity="P1") == 1
    assert value(after, "warroom_time_to_resolve_seconds_sum", severity="P1") == 42 * 60
    assert value(after, "warroom_time_to_resolve_seconds_bucket", severity="P1", le="1800.0") == 0
    assert value(after, "warroom_time_to_resolve_seconds_bucket", severity="P1", le="3600.0") == 1
    assert value(after, "warroom_incidents_open", severity="P1") == 0
    assert value(after, "warroom_incidents_declared_total", severity="P1") == 1


async def _lag(port):
    samples = await scrape(port)
    count = value(samples, "warroom_timer_lag_seconds_count") or 0
    return (count, value(samples, "warroom_timer_lag_seconds_sum")) if count else None


async def _resolved(port):
    samples = await scrape(port)
    return samples if value(samples, "warroom_time_to_resolve_seconds_count",
                            severity="P1") else None


async def test_slack_api_errors_are_counted_by_method_and_error(bot, slack, runner):
    await declare(slack)
    channel = await war_room(slack)
    await bot.war_room.drain()
    slack.fail_next("chat.update", "channel_not_found")
    await say(slack, channel.id, "update checking the pool")  # edits the card: chat.update
    samples = await eventually(lambda: _errors(runner.port))
    assert value(samples, "warroom_slack_api_errors_total", method="chat.update",
                 error="channel_not_found") == 1


async def _errors(port):
    samples = await scrape(port)
    return samples if value(samples, "warroom_slack_api_errors_total", method="chat.update",
                            error="channel_not_found") else None


async def test_two_bots_in_one_process_keep_separate_registries(bot, runner):
    from bot.metrics import Metrics

    other = Metrics(severities=["P1"])
    other.declared("P1")
    samples = await scrape(runner.port)
    assert value(samples, "warroom_incidents_declared_total", severity="P1") == 0


# ------------------------------------------------------------------ warroom stats
def stats(*args: str, env: dict[str, str]):
    return asyncio.to_thread(run_cli, "stats", *args, env=env)


async def test_stats_prints_mtta_and_mttr_for_p1(bot, slack, clock, runner, redis_server,
                                                 key_prefix):
    channel = await scripted_incident(bot, slack, clock, runner)
    clock.advance(timedelta(minutes=38))
    await say(slack, channel.id, "resolve --force rolled back the deploy")
    await eventually(lambda: _is_resolved(bot))
    env = {"REDIS_URL": redis_server.url, "WARROOM_REDIS_PREFIX": key_prefix}

    table = await stats("--since", "2026-11-01", env=env)
    assert table.returncode == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if " P1 " in line)
    assert "4m" in row and "42m" in row, table.stdout
    assert "MTTA" in table.stdout and "MTTR" in table.stdout

    as_json = await stats("--since", "2026-11-01", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    p1 = data["severities"]["P1"]
    assert (p1["count"], p1["mtta_seconds"], p1["mttr_seconds"]) == (1, 240.0, 2520.0)
    assert p1["sla_met"] == 1 and p1["sla_breaches"] == 0
    [one] = data["incidents"]
    assert one["incident_id"] == ID and one["time_to_acknowledge"] == 240.0


async def _is_resolved(bot):
    return not (await bot.store.get(ID)).is_open


async def seed(redis, prefix, *, minutes: float, services=("checkout",), ack: float | None = None,
               seq: int = 1):
    """An incident written straight into the store: declared at T0, resolved after `minutes`."""
    store = RedisIncidentStore(redis, keys=Keys(prefix=prefix))
    change = inc.declare(incident_id=f"INC-2026-12-01-{seq:03d}", seq=seq, title="checkout down",
                         severity=DEFAULT_POLICY.severity("P1"),
                         escalation=DEFAULT_POLICY.escalation, declared_by=ALICE, now=T0,
                         services=list(services))
    await store.create(change)
    if ack is not None:
        await store.mutate(change.incident.id, lambda cur: inc.acknowledge(
            cur, by=BOB, now=T0 + timedelta(minutes=ack)))
    await store.mutate(change.incident.id, lambda cur: inc.resolve(
        cur, by=ALICE, now=T0 + timedelta(minutes=minutes)))


SLO_CONFIG = """
services:
  - name: checkout
    slo: 99.95%
  - name: search
    slo: {target: 0.999, period: 30d}
"""


async def test_stats_shows_error_budget_and_sla_breaches(redis, redis_server, key_prefix,
                                                         tmp_path):
    await seed(redis, key_prefix, minutes=10.8, ack=20)   # acknowledged late: 20m > 15m
    config = tmp_path / "warroom.yml"
    config.write_text(SLO_CONFIG)
    env = {"REDIS_URL": redis_server.url, "WARROOM_REDIS_PREFIX": key_prefix}

    out = await stats("--since", "2026-11-01", "--json", "--config", str(config), env=env)
    assert out.returncode == 0, out.stderr
    checkout = json.loads(out.stdout)["services"]["checkout"]
    assert checkout["budget_minutes"] == 21.6
    assert checkout["used_minutes"] == 10.8 and checkout["percent_used"] == 50.0
    assert json.loads(out.stdout)["severities"]["P1"]["sla_breaches"] == 1

    table = await stats("--since", "2026-11-01", "--config", str(config), env=env)
    assert table.returncode == 0, table.stderr
    text = table.stdout
    assert "SLA breaches" in text and "INC-2026-12-01-001" in text
    checkout_row = next(line for line in text.splitlines() if "checkout" in line and "%" in line)
    assert "99.95%" in checkout_row and "21.6 min" in checkout_row and "50.0%" in checkout_row
    search_row = next(line for line in text.splitlines() if "search" in line and "%" in line)
    assert "43.2 min" in search_row and "0%" in search_row


async def test_stats_since_leaves_older_incidents_out(redis, redis_server, key_prefix):
    await seed(redis, key_prefix, minutes=30, ack=5)
    env = {"REDIS_URL": redis_server.url, "WARROOM_REDIS_PREFIX": key_prefix}
    out = await stats("--since", "2026-12-02", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["incidents"] == []
    bad = await stats("--since", "soon", env=env)
    assert bad.returncode == 2 and "'soon' is neither a duration" in bad.stderr


async def test_stats_reads_a_copy_of_the_embedded_data_dir(tmp_path):
    data = tmp_path / "warroom-data"
    with EmbeddedRedis(data) as server:
        from bot.store.connection import connect

        client = connect(server.url)
        await seed(client, "warroom", minutes=42, ack=4)
        await client.aclose()
    before = sorted(p.relative_to(data) for p in data.rglob("*") if p.name != "redis.log")
    out = await stats("--since", "2026-11-01", "--json",
                      env={"WARROOM_DATA_DIR": str(data)})
    assert out.returncode == 0, out.stderr
    assert "reading a copy" in out.stderr
    assert json.loads(out.stdout)["severities"]["P1"]["mttr_seconds"] == 2520.0
    after = sorted(p.relative_to(data) for p in data.rglob("*") if p.name != "redis.log")
    assert after == before  # the live data directory was not touched

    empty = await stats("--json", env={"WARROOM_DATA_DIR": str(tmp_path / "nothing")})
    assert empty.returncode == 0 and json.loads(empty.stdout)["incidents"] == []
    assert not (tmp_path / "nothing").exists()
