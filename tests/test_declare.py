"""/incident declare end to end: signed requests to the bot's real endpoint, real Redis,
the real AsyncWebClient against the local Slack."""

from __future__ import annotations

import asyncio

from tests.conftest import eventually

ALICE, BOB, CAROL, DAN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAN"
GENERAL, ANNOUNCE = "C0GENERAL", "C0INCIDENTS"
CHANNEL = "inc-20261201-001-checkout-is-failing"


async def declare(slack, text="declare P1 checkout is failing", *, user=ALICE, channel=GENERAL,
                  **kw):
    return await slack.platform.slash_command(user=user, channel=channel, text=text, **kw)


async def war_room(slack, name=CHANNEL):
    channel = await eventually(lambda: slack.workspace.channel_by_name(name))
    await eventually(lambda: slack.workspace.pins(channel.id))
    return channel


def card(slack, channel):
    return slack.workspace.pins(channel.id)[0]


async def prefix_keys(redis, prefix):
    return [k async for k in redis.scan_iter(f"{prefix}:*")]


async def test_declare_opens_channel_invites_pins_card_and_announces(bot, slack, runner):
    response = await declare(slack)
    assert response.status == 200
    assert "INC-2026-12-01-001" in response.ack["text"]
    assert response.ack["response_type"] == "ephemeral"
    channel = await war_room(slack)
    members = set(slack.workspace.members(channel.id))
    assert {ALICE, BOB} <= members  # declarer + @oncall expanded (alice, bob)
    pinned = card(slack, channel)
    assert "INC-2026-12-01-001" in str(pinned.blocks)
    assert "checkout is failing" in str(pinned.blocks)
    announce = await eventually(lambda: [m for m in slack.workspace.messages(ANNOUNCE)
                                         if "INC-2026-12-01-001" in str(m.blocks)])
    assert f"<#{channel.id}>" in str(announce[0].blocks)
    incident = await bot.store.get("INC-2026-12-01-001")
    assert incident.channel_id == channel.id and incident.card_ts == pinned.ts
    assert incident.commander == ALICE


async def test_the_declarer_gets_a_followup_naming_the_war_room(bot, slack):
    await declare(slack)
    channel = await war_room(slack)
    replies = await eventually(lambda: [e for e in slack.workspace.ephemerals(user=ALICE)
                                        if f"<#{channel.id}>" in e.text])
    assert "INC-2026-12-01-001 declared" in replies[0].text


async def test_ids_count_up_per_day_and_channel_names_match(bot, slack):
    await declare(slack)
    await declare(slack, "declare sev-2 payments slow")
    await war_room(slack)
    channel = await war_room(slack, "inc-20261201-002-payments-slow")
    incident = await bot.store.get("INC-2026-12-01-002")
    assert incident.severity == "P2" and incident.channel_id == channel.id


async def test_taken_channel_name_gets_a_suffix(bot, slack):
    slack.workspace.add_channel(name=CHANNEL, members=[BOB], creator=BOB)
    await declare(slack)
    channel = await war_room(slack, CHANNEL + "-2")
    assert (await bot.store.get("INC-2026-12-01-001")).channel_id == channel.id


async def test_replayed_and_retried_requests_create_one_incident_and_one_card(bot, slack):
    await declare(slack)
    await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                       text="declare P1 checkout is failing", replay=True)
    await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                       text="declare P1 checkout is failing", replay=True,
                                       retry_num=1)
    channel = await war_room(slack)
    await bot.war_room.drain()
    await asyncio.sleep(0.3)
    assert [i.id for i in await bot.store.list_open()] == ["INC-2026-12-01-001"]
    cards = [m for m in slack.workspace.messages(channel.id) if "incident_ack" in str(m.blocks)]
    assert len(cards) == 1
    assert slack.workspace.channel_by_name("inc-20261201-002-checkout-is-failing") is None


async def test_unknown_severity_is_rejected_with_the_list_and_writes_nothing(bot, slack, redis,
                                                                             key_prefix):
    response = await declare(slack, "declare P9 checkout is failing")
    text = response.ack["text"]
    assert "`P9` is not a severity" in text and "P1, SEV1" in text and "Usage:" in text
    assert response.ack["response_type"] == "ephemeral"
    assert await prefix_keys(redis, key_prefix) == []


async def test_unknown_subcommand_gets_usage_and_writes_nothing(bot, slack, redis, key_prefix):
    response = await declare(slack, "delcare P1 it broke")
    assert "`delcare` is not an /incident command" in response.ack["text"]
    assert await prefix_keys(redis, key_prefix) == []


async def test_declare_without_title_opens_a_prefilled_modal_and_creates_nothing(
        bot, slack, redis, key_prefix):
    response = await declare(slack, "declare sev-1")
    assert response.status == 200
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    severity = next(b for b in view.blocks if b["block_id"] == "severity")
    assert severity["element"]["initial_option"]["value"] == "P1"
    assert await prefix_keys(redis, key_prefix) == []


async def test_modal_submission_declares_with_type_services_and_description(bot, slack):
    await declare(slack, "declare")
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    answer = await slack.platform.submit_view(user=ALICE, view_id=view.id, values={
        "title": "orders db down", "severity": "P2", "incident_type": "database",
        "services": "orders, postgres", "description": "connections refused"})
    assert answer.status == 200
    channel = await war_room(slack, "inc-20261201-001-orders-db-down")
    incident = await bot.store.get("INC-2026-12-01-001")
    assert incident.severity == "P2" and incident.incident_type == "database"
    assert incident.services == ["orders", "postgres"]
    assert DAN in slack.workspace.members(channel.id)  # by_type contact


async def test_modal_with_empty_title_shows_the_error_next_to_the_field(bot, slack, redis,
                                                                        key_prefix):
    await declare(slack, "declare P1")
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    empty = await slack.platform.submit_view(user=ALICE, view_id=view.id,
                                             values={"title": "", "severity": "P1"})
    assert not empty.delivered  # Slack itself refuses an empty required field
    blank = await slack.platform.submit_view(user=ALICE, view_id=view.id,
                                             values={"title": "   ", "severity": "P1"})
    assert blank.ack["response_action"] == "errors"
    assert blank.ack["errors"] == {"title": "Give the incident a title."}
    assert slack.workspace.latest_view(ALICE).errors == {"title": "Give the incident a title."}
    assert await prefix_keys(redis, key_prefix) == []


async def test_expired_trigger_tells_the_user_and_creates_nothing(bot, slack, redis, key_prefix):
    slack.web_api.fail_next("views.open", "expired_trigger_id")
    await declare(slack, "declare")
    reply = await eventually(lambda: [e for e in slack.workspace.ephemerals(user=ALICE)
                                      if "expired" in e.text])
    assert "Nothing was created" in reply[0].text
    assert await prefix_keys(redis, key_prefix) == []


async def test_rate_limit_storm_is_waited_out_and_nothing_is_lost(bot, slack):
    slack.web_api.fail_next("conversations.create", "ratelimited", times=2, retry_after=1)
    slack.web_api.fail_next("chat.postMessage", "ratelimited", times=3, retry_after=1)
    await declare(slack)
    channel = await war_room(slack)
    assert "INC-2026-12-01-001" in str(card(slack, channel).blocks)
    limited = [c for c in slack.web_api.calls() if c.response.get("error") == "ratelimited"]
    assert len(limited) == 5


async def test_slack_failure_after_save_keeps_the_incident_listed_and_says_what_failed(
        bot, slack):
    slack.web_api.fail_next("conversations.create", "restricted_action")
    await declare(slack)
    reply = await eventually(lambda: [e for e in slack.workspace.ephemerals(user=ALICE)
                                      if "restricted_action" in e.text])
    assert "INC-2026-12-01-001 is saved" in reply[0].text
    listing = await declare(slack, "list")
    assert "INC-2026-12-01-001" in str(listing.ack)


async def test_one_bad_responder_id_falls_back_to_inviting_each_user(runner, slack, policy):
    from bot.settings import parse_config
    from tests.conftest import TEST_CONFIG

    runner.policy = parse_config(TEST_CONFIG.replace("[S0ONCALL]", "[U0BOB, U0NOSUCH]")).to_policy()
    await runner.start()
    await declare(slack)
    channel = await war_room(slack)
    assert BOB in slack.workspace.members(channel.id)
    invites = slack.web_api.calls("conversations.invite")
    assert len(invites) >= 3  # the batch, then one call per user
    problem = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                        if "U0NOSUCH" in (m.text or "")
                                        and "failed" in (m.text or "")])
    assert "user_not_found" in problem[0].text


async def test_forged_signature_is_rejected_with_401(bot, slack, redis, key_prefix):
    response = await declare(slack, signature="v0=" + "0" * 64)
    assert response.status == 401
    assert await prefix_keys(redis, key_prefix) == []


async def test_stale_timestamp_is_rejected_with_401(bot, slack, redis, key_prefix):
    import time

    response = await declare(slack, timestamp=int(time.time()) - 6 * 60)
    assert response.status == 401
    assert await prefix_keys(redis, key_prefix) == []


async def test_double_submitted_modal_declares_once(bot, slack):
    await declare(slack, "declare")
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    values = {"title": "api down", "severity": "P1"}
    first = await slack.platform.submit_view(user=ALICE, view_id=view.id, values=values)
    await war_room(slack, "inc-20261201-001-api-down")
    import httpx  # a proxy repeating the exact signed request

    async with httpx.AsyncClient() as client:
        again = await client.post(f"http://127.0.0.1:{bot.port}/slack/events",
                                  content=first.request_body, headers=first.request_headers)
    assert again.status_code == 200
    await asyncio.sleep(0.3)
    await bot.war_room.drain()
    assert [i.id for i in await bot.store.list_open()] == ["INC-2026-12-01-001"]
