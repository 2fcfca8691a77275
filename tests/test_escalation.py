"""Escalation on durable timers, with an injected clock against real Redis and the
local Slack: the ladder, acknowledge, escalate now, severity changes, resolve,
reminders, the response-time target and paging beyond Slack. No test sleeps for a timer:
the clock moves, the bot's own timer loop fires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web

from bot.core.incident import EventKind
from bot.settings import parse_config
from tests.conftest import eventually
from tests.test_declare import ALICE, BOB, CAROL, DAN, declare, war_room

ID = "INC-2026-12-01-001"


@pytest.fixture
async def receiver():
    """A loopback webhook receiver and a fake PagerDuty Events API v2."""
    got: dict[str, list[dict]] = {"hook": [], "pagerduty": []}

    async def hook(request: web.Request) -> web.Response:
        got["hook"].append(await request.json())
        return web.json_response({"ok": True})

    async def enqueue(request: web.Request) -> web.Response:
        body = await request.json()
        got["pagerduty"].append(body)
        return web.json_response({"status": "success", "message": "Event processed",
                                  "dedup_key": body.get("dedup_key")}, status=202)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_post("/v2/enqueue", enqueue)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    got["url"] = f"http://127.0.0.1:{port}"  # type: ignore[assignment]
    yield got
    await runner.cleanup()


def ladder_config(url: str) -> str:
    return f"""
escalation:
  levels:
    - name: On-call engineer
      notify: [S0ONCALL]
      pagerduty: {{routing_key: R0UTINGKEY0000000000000000000001}}
    - name: Engineering manager
      after: 15m
      notify: [U0CAROL]
      webhook: {url}/hook
    - name: VP Engineering
      after: 30m
      notify: [U0DAN]
channels:
  announce: C0INCIDENTS
paging:
  pagerduty_url: {url}/v2/enqueue
"""


@pytest.fixture
async def ladder_bot(runner, receiver):
    config = parse_config(ladder_config(receiver["url"]))
    runner.policy, runner.config = config.to_policy(), config
    return await runner.start()


def notices(slack, channel, needle):
    return [m for m in slack.workspace.messages(channel.id) if needle in (m.text or "")]


def dms_to(slack, user):
    out = []
    for ch in slack.workspace.channels.values():
        if getattr(ch, "is_im", False) or ch.kind == "im":
            if user in slack.workspace.members(ch.id):
                out += slack.workspace.messages(ch.id)
    return out


async def escalated(bot, level):
    events = [e for e in await bot.store.timeline(ID) if e.kind is EventKind.escalated]
    return [e for e in events if e.data["level"] == str(level)]


async def test_full_ladder_notifies_each_level_then_repeats_the_last(ladder_bot, slack, clock,
                                                                     receiver):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    first = await eventually(lambda: notices(slack, channel, "Paging level 1"))
    assert "On-call engineer: <!subteam^S0ONCALL>" in first[0].text  # the group, as a group
    dm = await eventually(lambda: dms_to(slack, BOB))
    assert "incident_ack" in str(dm[-1].blocks) and f"<#{channel.id}>" in dm[-1].text

    clock.advance(timedelta(minutes=15))
    second = await eventually(lambda: notices(slack, channel, "escalating to Engineering manager"))
    assert second[0].text.startswith(":rotating_light: No acknowledgement after 15m")
    assert "<@U0CAROL>" in second[0].text
    await eventually(lambda: CAROL in slack.workspace.members(channel.id))
    await eventually(lambda: dms_to(slack, CAROL))
    await eventually(lambda: receiver["hook"])
    assert receiver["hook"][0]["level"]["name"] == "Engineering manager"

    clock.advance(timedelta(minutes=30))
    third = await eventually(lambda: notices(slack, channel, "escalating to VP Engineering"))
    assert "No acknowledgement after 30m" in third[0].text
    await eventually(lambda: DAN in slack.workspace.members(channel.id))

    clock.advance(timedelta(minutes=30))
    again = await eventually(lambda: notices(slack, channel, "is the last level"))
    assert "notifying them again: <@U0DAN>" in again[0].text
    assert len(await escalated(ladder_bot, 3)) == 2
    assert "paging level 3" in str(slack.workspace.pins(channel.id)[0].blocks)


async def test_acknowledge_stops_the_ladder_and_acknowledges_the_page(ladder_bot, slack, clock,
                                                                       receiver):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await eventually(lambda: [b for b in receiver["pagerduty"] if b["event_action"] == "trigger"])
    clock.advance(timedelta(minutes=15))
    await eventually(lambda: notices(slack, channel, "escalating to Engineering manager"))
    await slack.platform.slash_command(user=CAROL, channel=channel.id, text="ack")
    clock.advance(timedelta(hours=3))
    await ladder_bot.timer_loop.run_once()
    assert not notices(slack, channel, "VP Engineering")
    await ladder_bot.war_room.drain()  # the PagerDuty acknowledge runs after the reply
    actions = [b["event_action"] for b in receiver["pagerduty"]]
    assert actions == ["trigger", "acknowledge"]
    assert {b["dedup_key"] for b in receiver["pagerduty"]} == {ID}
    assert receiver["pagerduty"][0]["routing_key"] == "R0UTINGKEY0000000000000000000001"


async def test_acknowledge_from_the_dm_button_stops_escalation(ladder_bot, slack, clock):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    dm = (await eventually(lambda: dms_to(slack, ALICE)))[-1]
    await slack.platform.click(user=ALICE, channel=dm.channel, message_ts=dm.ts,
                               action_id="incident_ack", value=ID)
    await eventually(lambda: _acked(ladder_bot))
    clock.advance(timedelta(hours=1))
    await ladder_bot.timer_loop.run_once()
    assert not notices(slack, channel, "escalating")


async def _acked(bot):
    return (await bot.store.get(ID)).acknowledged_by


async def test_escalate_now_supersedes_the_scheduled_step(ladder_bot, slack, clock):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    clock.advance(timedelta(minutes=5))
    reply = await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                               text="escalate db team unreachable")
    assert "escalated INC-2026-12-01-001 to level 2" in reply.ack["text"]
    note = await eventually(lambda: notices(slack, channel, "escalated to level 2"))
    assert "(db team unreachable)" in note[0].text
    clock.advance(timedelta(minutes=10))  # the old level-2 timer (15m) is due: stale now
    await ladder_bot.timer_loop.run_once()
    assert len(await escalated(ladder_bot, 2)) == 1 and not await escalated(ladder_bot, 3)
    clock.advance(timedelta(minutes=21))  # 5m + 30m after the manual escalation
    await eventually(lambda: notices(slack, channel, "escalating to VP Engineering"))


async def test_downgrading_to_a_non_paging_severity_stops_and_upgrading_resumes(
        ladder_bot, slack, clock):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await slack.platform.slash_command(user=ALICE, channel=channel.id, text="sev P3")
    clock.advance(timedelta(minutes=20))
    await ladder_bot.timer_loop.run_once()
    assert not await escalated(ladder_bot, 2)
    await slack.platform.slash_command(user=ALICE, channel=channel.id, text="sev P1")
    await eventually(lambda: notices(slack, channel, "escalating to Engineering manager"))


async def test_resolve_mid_ladder_cancels_everything(ladder_bot, slack, clock, receiver):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await slack.platform.slash_command(user=ALICE, channel=channel.id, text="resolve false alarm")
    clock.advance(timedelta(hours=5))
    await ladder_bot.timer_loop.run_once()
    assert not notices(slack, channel, "escalating") and not notices(slack, channel, "no status update")
    await eventually(lambda: [b for b in receiver["pagerduty"] if b["event_action"] == "resolve"])


async def test_missed_response_target_shows_on_the_card_and_timeline(ladder_bot, slack, clock):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    clock.advance(timedelta(minutes=15, seconds=1))
    await eventually(lambda: "response target 15m breached"
                     in str(slack.workspace.pins(channel.id)[0].blocks))
    kinds = [e.kind for e in await ladder_bot.store.timeline(ID)]
    assert kinds.count(EventKind.ack_target_breached) == 1


async def test_reminders_fire_on_cadence_reset_on_update_and_stop_on_resolve(
        ladder_bot, slack, clock):
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                       text="assign comms_lead <@U0BOB>")
    clock.advance(timedelta(minutes=15))
    first = await eventually(lambda: notices(slack, channel, "no status update"))
    assert "<@U0ALICE>" in first[0].text and "<@U0BOB>" in first[0].text
    assert "incident_post_update" in str(first[0].blocks)
    clock.advance(timedelta(minutes=5))
    await slack.platform.slash_command(user=ALICE, channel=channel.id, text="update rollback running")
    clock.advance(timedelta(minutes=11))  # 31m: 15m after the last reminder, 11m after the update
    await ladder_bot.timer_loop.run_once()
    assert len(notices(slack, channel, "no status update")) == 1
    clock.advance(timedelta(minutes=5))  # 15m after the update
    await eventually(lambda: len(notices(slack, channel, "no status update")) == 2)
    await slack.platform.slash_command(user=ALICE, channel=channel.id, text="resolve --force done")
    clock.advance(timedelta(hours=2))
    await ladder_bot.timer_loop.run_once()
    assert len(notices(slack, channel, "no status update")) == 2
