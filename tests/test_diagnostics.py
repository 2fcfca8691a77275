"""Diagnostics from the incident channel: probes after declare, /incident probe, the Run
diagnostics button, resolve re-checks, monitoring regressions - against real loopback
services through the bot's real endpoint."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.incident import EventKind, Status
from bot.sandbox.estate import Behaviour, Estate
from bot.settings import parse_config
from bot.store.embedded import free_port
from commands import monitor
from tests.conftest import TEST_CONFIG, eventually
from tests.serve_process import run_cli
from tests.test_declare import ALICE, BOB, GENERAL, declare, war_room

ID = "INC-2026-12-01-001"


def estate_config(estate: Estate, *, closed_port: int, on_declare: bool = True) -> str:
    return TEST_CONFIG + f"""
services:
  - name: postgres
    tier: infrastructure
    checks:
      - tcp: {{host: 127.0.0.1, port: {closed_port}, timeout: 1s}}
  - name: auth
    tier: core
    depends_on: [postgres]
    checks:
      - http: {{url: "{estate.url('auth')}", timeout: 1s}}
  - name: checkout
    tier: business
    depends_on: [postgres, auth]
    checks:
      - http: {{url: "{estate.url('checkout')}", timeout: 1s}}
  - name: search
    tier: business
    checks:
      - http: {{url: "{estate.url('search')}", timeout: 1s}}
  - name: gateway
    tier: gateway
    depends_on: [checkout, search]
    checks:
      - http: {{url: "{estate.url('gateway')}", timeout: 1s}}
probes:
  on_declare: {str(on_declare).lower()}
  monitoring_interval: 1m
"""


@pytest.fixture
async def estate():
    e = Estate()
    e.add("auth", Behaviour.failing)
    e.add("checkout", Behaviour.failing, body_lines=400)
    e.add("search")
    e.add("gateway")
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
def closed_port():
    return free_port()


@pytest.fixture
async def diag_bot(runner, estate, closed_port):
    config = parse_config(estate_config(estate, closed_port=closed_port))
    runner.policy = config.to_policy()
    runner.config = config
    return await runner.start()


def triage_cards(slack, channel):
    return [m for m in slack.workspace.messages(channel.id)
            if m.text and m.text.startswith("Diagnostics - ")]


async def test_declare_probes_the_named_service_and_its_dependencies_and_posts_triage(
        diag_bot, slack, estate):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    (card,) = await eventually(lambda: triage_cards(slack, channel))
    text = str(card.blocks)
    assert "Database unreachable" in text
    assert "*postgres* DOWN" in text and "*auth* DOWN" in text and "*checkout* DOWN" in text
    assert "search" not in text.split("Suspected pattern")[0]  # not named, not a dependency
    assert "gateway" in text  # downstream impact of checkout
    assert "docker compose ps postgres" in text  # the matching runbook, for the root cause
    assert len(card.blocks) <= 50
    replies = [m for m in slack.workspace.messages(channel.id)
               if m.thread_ts == card.ts and m.ts != card.ts]
    assert replies and "Full evidence" in replies[0].text
    assert "connection refused: db:5432" in str(replies[0].blocks)
    events = await diag_bot.store.timeline(ID)
    results = {e.data["service"]: e.data["status"] for e in events
               if e.kind is EventKind.probe_result}
    assert results == {"checkout": "down", "postgres": "down", "auth": "down"}
    incident = await diag_bot.store.get(ID)
    assert incident.probe_pattern == "database_unreachable"
    await eventually(lambda: "Diagnostics" in str(slack.workspace.pins(channel.id)[0].blocks))


async def test_probe_command_runs_the_named_services_now(diag_bot, slack, estate):
    await declare(slack, "declare P2 search feels slow")
    channel = await war_room(slack, "inc-20261201-001-search-feels-slow")
    await eventually(lambda: triage_cards(slack, channel))
    reply = await slack.platform.slash_command(user=BOB, channel=channel.id,
                                               text="probe search")
    assert "Running diagnostics on 1 service" in reply.ack["text"]
    cards = await eventually(lambda: len(triage_cards(slack, channel)) == 2
                             and triage_cards(slack, channel))
    assert "all green" in cards[-1].text and "No fault found" in str(cards[-1].blocks)


async def test_probe_of_an_unknown_service_is_refused_and_writes_nothing(diag_bot, slack):
    await declare(slack, "declare P3 search is odd")
    channel = await war_room(slack, "inc-20261201-001-search-is-odd")
    await eventually(lambda: triage_cards(slack, channel))
    before = len(await diag_bot.store.timeline(ID))
    reply = await slack.platform.slash_command(user=BOB, channel=channel.id,
                                               text="probe serach")
    assert "Not in the services catalog: serach" in reply.ack["text"]
    assert "checkout" in reply.ack["text"]
    await asyncio.sleep(0.2)
    assert len(await diag_bot.store.timeline(ID)) == before


async def test_run_diagnostics_button_posts_a_fresh_triage_card(diag_bot, slack, estate):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await eventually(lambda: triage_cards(slack, channel))
    estate.set("auth", Behaviour.healthy)
    ts = slack.workspace.pins(channel.id)[0].ts
    await slack.platform.click(user=BOB, channel=channel.id, message_ts=ts,
                               action_id="incident_run_diagnostics", value=ID)
    cards = await eventually(lambda: len(triage_cards(slack, channel)) == 2
                             and triage_cards(slack, channel))
    assert "*auth* OK" in str(cards[-1].blocks)


async def test_resolve_with_checks_still_failing_asks_and_resolve_anyway_resolves(
        diag_bot, slack, estate):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await eventually(lambda: triage_cards(slack, channel))
    reply = await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                               text="resolve restarted the db")
    assert "Checking that" in reply.ack["text"]
    notice = await eventually(lambda: [e for e in slack.workspace.ephemerals(user=ALICE)
                                       if "is not resolved" in e.text])
    assert "checkout" in notice[0].text and "postgres" in notice[0].text
    assert (await diag_bot.store.get(ID)).status is not Status.resolved
    kinds = [e.kind for e in await diag_bot.store.timeline(ID)]
    assert EventKind.resolve_blocked in kinds
    await slack.platform.click(user=ALICE, channel=channel.id, message_ts=notice[0].message_ts,
                               action_id="incident_resolve_anyway",
                               value=notice[0].blocks[1]["elements"][0]["value"])
    await eventually(lambda: diag_bot.store.get(ID))
    incident = await eventually(lambda: _resolved(diag_bot))
    assert incident.summary == "restarted the db"


async def _resolved(bot):
    incident = await bot.store.get(ID)
    return incident if incident.status is Status.resolved else None


async def test_resolve_when_everything_is_green_again_resolves(diag_bot, slack, estate,
                                                               closed_port):
    estate.set("auth", Behaviour.healthy)
    estate.set("checkout", Behaviour.failing)
    await declare(slack, "declare P2 checkout errors")
    channel = await war_room(slack, "inc-20261201-001-checkout-errors")
    await eventually(lambda: triage_cards(slack, channel))
    incident = await diag_bot.store.get(ID)
    assert incident.probe_status["checkout"] == "down"
    estate.set("checkout", Behaviour.healthy)
    db = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", closed_port)
    try:
        await slack.platform.slash_command(user=ALICE, channel=channel.id, text="resolve fixed")
        await eventually(lambda: _resolved(diag_bot))
    finally:
        db.close()
        await db.wait_closed()
    said = [m.text for m in slack.workspace.messages(channel.id) if "resolved" in (m.text or "")]
    assert said  # the in-channel resolution line


async def test_monitoring_reruns_checks_and_posts_a_regression(runner, slack, estate,
                                                               closed_port, clock):
    estate.set("auth", Behaviour.healthy)
    estate.set("checkout", Behaviour.healthy)
    config = parse_config(estate_config(estate, closed_port=closed_port))
    runner.policy, runner.config = config.to_policy(), config
    bot = await runner.start()
    await declare(slack, "declare P2 search was slow")
    channel = await war_room(slack, "inc-20261201-001-search-was-slow")
    await eventually(lambda: triage_cards(slack, channel))
    await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                       text="update monitoring deployed the fix")
    assert await monitor.run(bot.deps, interval=timedelta(minutes=1)) == []  # probed just now
    clock.advance(timedelta(minutes=2))
    assert await monitor.run(bot.deps, interval=timedelta(minutes=1)) == [ID]  # still green
    estate.set("search", Behaviour.failing)
    clock.advance(timedelta(minutes=2))
    assert await monitor.run(bot.deps, interval=timedelta(minutes=1)) == [ID]
    posted = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                       if "Regression while monitoring" in (m.text or "")])
    assert "search" in posted[0].text and "503" in str(posted[0].blocks)
    assert EventKind.regression in [e.kind for e in await bot.store.timeline(ID)]


def test_warroom_probe_cli_prints_table_json_and_exit_codes(tmp_path, closed_port):
    async def scenario():
        estate = Estate()
        estate.add("auth", Behaviour.failing)
        estate.add("checkout")
        estate.add("search")
        estate.add("gateway")
        await estate.start()
        path = tmp_path / "warroom.yml"
        path.write_text(estate_config(estate, closed_port=closed_port))
        try:
            table = await asyncio.to_thread(run_cli, "probe", "--config", str(path))
            as_json = await asyncio.to_thread(run_cli, "probe", "search", "--json",
                                              "--config", str(path))
            unknown = await asyncio.to_thread(run_cli, "probe", "nope", "--config", str(path))
        finally:
            await estate.stop()
        return table, as_json, unknown

    table, as_json, unknown = asyncio.run(scenario())
    assert table.returncode == 2, table.stderr
    assert "auth" in table.stdout and "Database unreachable" in table.stdout
    assert "refused" in table.stdout
    assert as_json.returncode == 0
    import json

    data = json.loads(as_json.stdout)
    assert data["services"][0]["name"] == "search" and data["services"][0]["status"] == "ok"
    check = data["services"][0]["checks"][0]
    assert {"kind", "status", "evidence", "elapsed_ms", "observed_at"} <= set(check)
    assert data["triage"]["pattern"] == "no_fault_found"
    assert {"pattern", "first_failure", "blast_radius", "runbook"} <= set(data["triage"])
    assert unknown.returncode == 3 and "Not in the services catalog: nope" in unknown.stderr


async def test_update_modal_is_prefilled_with_the_latest_probe_results(diag_bot, slack):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await eventually(lambda: triage_cards(slack, channel))
    ts = slack.workspace.pins(channel.id)[0].ts
    await slack.platform.click(user=BOB, channel=channel.id, message_ts=ts,
                               action_id="incident_post_update", value=ID)
    view = await eventually(lambda: slack.workspace.latest_view(BOB))
    impact = next(b for b in view.blocks if b["block_id"] == "impact")
    assert "checkout down" in impact["element"]["initial_value"]
    assert "postgres down" in impact["element"]["initial_value"]
