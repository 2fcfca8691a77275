"""Delivering commands, clicks, submissions and events over HTTP, signed like Slack."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import BOT_USER_ID, LocalSlack

from .conftest import SECRET, FakeApp, Received, json_reply

VERIFIER = SignatureVerifier(SECRET)


def verified(got: Received) -> bool:
    return VERIFIER.is_valid_request(got.body, got.headers)


BUTTONS = [
    {"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": "*P1* checkout"}},
    {
        "type": "actions",
        "block_id": "incident_actions",
        "elements": [{"type": "button", "action_id": "ack", "value": "INC-1", "text": {"type": "plain_text", "text": "Ack"}}],
    },
]


async def test_slash_command_is_signed_and_shaped_like_slack(slack: LocalSlack, app: FakeApp) -> None:
    d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="declare P1 checkout")
    assert d.status == 200 and d.ok
    [got] = app.received
    assert verified(got)
    assert got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = got.form
    assert form["command"] == "/incident" and form["text"] == "declare P1 checkout"
    assert form["user_id"] == "U0ALICE" and form["user_name"] == "alice"
    assert form["channel_id"] == "C0INCIDENTS" and form["channel_name"] == "incidents"
    assert form["team_id"] == "T0WARROOM" and form["api_app_id"] == "A0WARROOM" and form["is_enterprise_install"] == "false"
    assert form["response_url"].startswith(f"{slack.base_url}/hooks/response/") and form["trigger_id"] in slack.workspace.triggers


async def test_command_ack_is_shown_ephemeral_by_default(slack: LocalSlack, app: FakeApp) -> None:
    app.reply = json_reply({"text": "Declaring…"})
    await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="declare")
    [eph] = slack.workspace.ephemerals(user="U0ALICE", channel="C0INCIDENTS")
    assert eph.text == "Declaring…" and eph.source == "ack"
    assert slack.workspace.messages("C0INCIDENTS") == []


async def test_command_ack_in_channel_becomes_a_message(slack: LocalSlack, app: FakeApp) -> None:
    app.reply = json_reply({"response_type": "in_channel", "text": "P1 declared"})
    await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="declare")
    [msg] = slack.workspace.messages("C0INCIDENTS")
    assert msg.text == "P1 declared" and msg.user == BOT_USER_ID


async def test_command_errors_are_shown_like_slack(slack: LocalSlack, app: FakeApp) -> None:
    async def broken(_: Received) -> web.StreamResponse:
        return web.Response(status=500)

    app.reply = broken
    await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="x")

    async def slow(_: Received) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.Response()

    app.reply = slow
    d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="x", timeout=0.2)
    assert d.timed_out and not d.ok
    texts = [e.text for e in slack.workspace.ephemerals(user="U0ALICE")]
    assert texts == ['/incident failed with the error "dispatch_failed"', '/incident failed with the error "operation_timeout"']


async def test_response_url_posts_ephemeral_then_in_channel(slack: LocalSlack, app: FakeApp) -> None:
    d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="status")
    url = app.received[0].form["response_url"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "just you"}) as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        async with http.post(url, json={"response_type": "in_channel", "text": "everyone"}) as r:
            assert r.status == 200
        async with http.post(f"{slack.base_url}/hooks/response/T0WARROOM/1/nope", json={"text": "x"}) as r:
            assert r.status == 404
    assert [e.text for e in slack.workspace.ephemerals(user="U0ALICE")] == ["just you"]
    assert [m.text for m in slack.workspace.messages("C0INCIDENTS")] == ["everyone"]
    assert d.ok


async def test_click_delivers_block_actions_and_response_url_replaces_original(slack: LocalSlack, app: FakeApp) -> None:
    msg = slack.workspace.post(channel="C0INCIDENTS", user=BOT_USER_ID, text="P1", blocks=BUTTONS)
    await slack.platform.click(user="U0BOB", channel="C0INCIDENTS", message_ts=msg.ts, action_id="ack")
    [got] = app.received
    assert verified(got) and set(got.form) == {"payload"}
    p = got.payload
    assert p["type"] == "block_actions" and p["user"]["id"] == "U0BOB" and p["api_app_id"] == "A0WARROOM"
    assert p["container"] == {"type": "message", "message_ts": msg.ts, "channel_id": "C0INCIDENTS", "is_ephemeral": False}
    assert p["channel"]["id"] == "C0INCIDENTS" and p["message"]["ts"] == msg.ts and p["team"]["id"] == "T0WARROOM"
    [action] = p["actions"]
    assert action["action_id"] == "ack" and action["block_id"] == "incident_actions" and action["value"] == "INC-1"
    assert action["type"] == "button" and action["action_ts"] and p["trigger_id"] in slack.workspace.triggers
    async with aiohttp.ClientSession() as http:
        async with http.post(p["response_url"], json={"replace_original": True, "text": "Acked by Bob"}) as r:
            assert r.status == 200
    assert slack.workspace.messages("C0INCIDENTS")[0].text == "Acked by Bob"


async def test_click_on_a_missing_button_is_impossible(slack: LocalSlack, app: FakeApp) -> None:
    msg = slack.workspace.post(channel="C0INCIDENTS", user=BOT_USER_ID, text="P1", blocks=BUTTONS)
    try:
        await slack.platform.click(user="U0BOB", channel="C0INCIDENTS", message_ts=msg.ts, action_id="resolve")
    except LookupError:
        pass
    else:
        raise AssertionError("clicking a button that is not there must fail")
    assert app.received == []


async def open_modal(slack: LocalSlack, user: str = "U0ALICE") -> str:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    view = {
        "type": "modal",
        "callback_id": "declare",
        "private_metadata": "C0INCIDENTS",
        "title": {"type": "plain_text", "text": "Declare"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {"type": "input", "block_id": "summary", "label": {"type": "plain_text", "text": "Summary"},
             "element": {"type": "plain_text_input", "action_id": "value"}},
            {"type": "input", "block_id": "severity", "label": {"type": "plain_text", "text": "Severity"},
             "element": {"type": "static_select", "action_id": "value", "options": [
                 {"text": {"type": "plain_text", "text": "P1"}, "value": "P1"},
                 {"text": {"type": "plain_text", "text": "P2"}, "value": "P2"}]}},
            {"type": "input", "block_id": "responders", "optional": True, "label": {"type": "plain_text", "text": "Who"},
             "element": {"type": "multi_users_select", "action_id": "value"}},
        ],
    }
    r = await client.views_open(trigger_id=slack.workspace.issue_trigger(user).id, view=view)
    return r["view"]["id"]


async def test_submit_view_sends_state_values_in_slack_shape(slack: LocalSlack, app: FakeApp) -> None:
    view_id = await open_modal(slack)
    d = await slack.platform.submit_view(user="U0ALICE", view_id=view_id, values={"summary": {"value": "checkout down"}, "severity": {"value": "P1"}})
    assert d.ok and verified(app.received[0])
    p = app.received[0].payload
    assert p["type"] == "view_submission" and p["view"]["callback_id"] == "declare" and p["view"]["private_metadata"] == "C0INCIDENTS"
    values = p["view"]["state"]["values"]
    assert values["summary"]["value"] == {"type": "plain_text_input", "value": "checkout down"}
    assert values["severity"]["value"]["selected_option"]["value"] == "P1"
    assert values["responders"]["value"] == {"type": "multi_users_select", "selected_users": []}
    assert slack.workspace.open_views("U0ALICE") == []


async def test_submit_view_errors_keep_the_modal_open(slack: LocalSlack, app: FakeApp) -> None:
    view_id = await open_modal(slack)
    app.reply = json_reply({"response_action": "errors", "errors": {"summary": "Too short"}})
    await slack.platform.submit_view(user="U0ALICE", view_id=view_id, values={"summary": {"value": "x"}, "severity": {"value": "P2"}})
    view = slack.workspace.latest_view("U0ALICE")
    assert view.id == view_id and view.is_open and view.errors == {"summary": "Too short"}


async def test_submit_view_update_replaces_the_modal(slack: LocalSlack, app: FakeApp) -> None:
    view_id = await open_modal(slack)
    done = {"type": "modal", "title": {"type": "plain_text", "text": "Declared"}, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "INC-1 is open"}}]}
    app.reply = json_reply({"response_action": "update", "view": done})
    await slack.platform.submit_view(user="U0ALICE", view_id=view_id, values={"summary": "checkout down", "severity": "P1"})
    view = slack.workspace.latest_view("U0ALICE")
    assert view.id == view_id and view.title == "Declared"


async def test_required_input_left_empty_is_not_submitted(slack: LocalSlack, app: FakeApp) -> None:
    view_id = await open_modal(slack)
    d = await slack.platform.submit_view(user="U0ALICE", view_id=view_id, values={"summary": "only summary"})
    assert not d.delivered and app.received == []
    assert list(slack.workspace.views[view_id].errors) == ["severity"]


async def test_events_carry_retry_headers_and_can_be_replayed(slack: LocalSlack, app: FakeApp) -> None:
    await slack.platform.send_event({"type": "app_home_opened", "user": "U0ALICE"}, retry_num=1)
    first = app.received[0]
    assert first.headers["X-Slack-Retry-Num"] == "1" and first.headers["X-Slack-Retry-Reason"] == "http_timeout"
    body = first.payload
    assert body["type"] == "event_callback" and body["event"]["type"] == "app_home_opened"
    assert body["event_id"].startswith("Ev") and isinstance(body["event_time"], int)
    await slack.platform.send_event({"type": "app_home_opened", "user": "U0BOB"}, replay=True)
    again = app.received[1]
    assert again.body == first.body and again.headers["X-Slack-Request-Timestamp"] == first.headers["X-Slack-Request-Timestamp"]


async def test_stale_timestamp_and_forged_signature_fail_verification(slack: LocalSlack, app: FakeApp) -> None:
    await slack.platform.send_event({"type": "app_home_opened", "user": "U0ALICE"}, timestamp=int(time.time()) - 600)
    await slack.platform.send_event({"type": "app_home_opened", "user": "U0ALICE"}, signature="v0=" + "0" * 64)
    assert [verified(r) for r in app.received] == [False, False]


async def test_people_messages_reach_the_app_only_where_the_bot_is(slack: LocalSlack, app: FakeApp, client: AsyncWebClient) -> None:
    quiet = await slack.platform.message("U0ALICE", "C0INCIDENTS", text="anyone?")
    assert not quiet.delivered and app.received == []
    await client.conversations_join(channel="C0INCIDENTS")
    await slack.platform.message("U0ALICE", "C0INCIDENTS", text="checkout is down")
    ts = slack.workspace.messages("C0INCIDENTS")[-1].ts
    await slack.platform.react("U0BOB", "C0INCIDENTS", ts=ts, name="eyes")
    events = [r.payload["event"] for r in app.received]
    assert [e["type"] for e in events] == ["message", "reaction_added"]
    assert events[0]["text"] == "checkout is down" and events[0]["channel_type"] == "channel"
    assert events[1]["item"] == {"type": "message", "channel": "C0INCIDENTS", "ts": ts} and events[1]["reaction"] == "eyes"


async def test_a_real_bolt_app_answers_a_command_and_opens_a_modal(slack: LocalSlack) -> None:
    bolt = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url), signing_secret=SECRET)

    @bolt.command("/incident")
    async def incident(ack, body, client):  # type: ignore[no-untyped-def]
        await ack(text="Opening…")
        await client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "declare", "title": {"type": "plain_text", "text": "Declare"},
            "submit": {"type": "plain_text", "text": "Go"},
            "blocks": [{"type": "input", "block_id": "summary", "label": {"type": "plain_text", "text": "Summary"},
                        "element": {"type": "plain_text_input", "action_id": "value"}}]})

    @bolt.view("declare")
    async def declared(ack, view, client):  # type: ignore[no-untyped-def]
        await ack()
        await client.chat_postMessage(channel="C0INCIDENTS", text=view["state"]["values"]["summary"]["value"]["value"])

    runner = web.AppRunner(bolt.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        slack.set_request_url(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events")  # type: ignore[union-attr]
        d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="declare")
        assert d.ok and d.ack == {"text": "Opening…"}
        assert slack.workspace.ephemerals(user="U0ALICE")[0].text == "Opening…"
        view = slack.workspace.latest_view("U0ALICE")
        assert view is not None and view.callback_id == "declare"
        await slack.platform.submit_view(user="U0ALICE", view_id=view.id, values={"summary": "checkout down"})
        assert [m.text for m in slack.workspace.messages("C0INCIDENTS")] == ["checkout down"]
        assert not view.is_open
    finally:
        await runner.cleanup()


async def test_click_inside_an_open_modal_delivers_view_container(slack: LocalSlack, app: FakeApp) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Escalate"}, "blocks": [
        {"type": "actions", "block_id": "pick", "elements": [
            {"type": "button", "action_id": "page_sre", "value": "S0SRE", "text": {"type": "plain_text", "text": "Page SRE"}}]}]}
    opened = (await client.views_open(trigger_id=slack.workspace.issue_trigger("U0CAROL").id, view=view))["view"]
    await slack.platform.click(user="U0CAROL", view_id=opened["id"], action_id="page_sre")
    p = app.received[0].payload
    assert p["container"] == {"type": "view", "view_id": opened["id"]} and p["view"]["id"] == opened["id"]
    assert p["actions"][0]["value"] == "S0SRE" and "response_url" not in p
    assert (await client.views_push(trigger_id=p["trigger_id"], view=view))["view"]["previous_view_id"] == opened["id"]
