"""Socket Mode round trips with slack_sdk's aiohttp SocketModeClient and bolt's handler."""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import BOT_USER_ID, LocalSlack


async def test_socket_mode_client_gets_hello_acks_envelopes_and_reconnects(slack: LocalSlack) -> None:
    slack.use_socket_mode()
    client = SocketModeClient(app_token=slack.app_token, web_client=AsyncWebClient(base_url=slack.api_url))
    seen: list[dict[str, Any]] = []
    requests: list[SocketModeRequest] = []

    async def on_message(_: Any, message: dict[str, Any], raw: str | None) -> None:
        seen.append(message)

    async def on_request(sm: Any, req: SocketModeRequest) -> None:
        requests.append(req)
        await sm.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload={"text": f"got {req.payload['text']}"}))

    raw_frames: list[str] = []

    async def on_frame(frame: Any) -> None:
        raw_frames.append(frame.data)

    client.message_listeners.append(on_message)
    client.on_message_listeners.append(on_frame)
    client.socket_mode_request_listeners.append(on_request)
    try:
        await client.connect()
        first = await slack.socket.wait_connected()
        d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="status")
        assert d.transport == "socket" and d.ok and d.ack == {"text": "got status"}
        assert [e.text for e in slack.workspace.ephemerals(user="U0ALICE")] == ["got status"]
        hello = next(m for m in seen if m.get("type") == "hello")
        assert hello["num_connections"] == 1 and hello["connection_info"] == {"app_id": "A0WARROOM"} and "host" in hello["debug_info"]
        envelope = next(m for m in seen if m.get("type") == "slash_commands")
        assert envelope["accepts_response_payload"] is True and envelope["retry_attempt"] == 0 and envelope["retry_reason"] == ""
        assert envelope["payload"]["command"] == "/incident" and envelope["payload"]["user_id"] == "U0ALICE"
        assert requests[0].envelope_id == envelope["envelope_id"]

        await slack.socket.disconnect("refresh_requested", close_after=0.5)
        await slack.socket.wait_connected(newer_than=first, timeout=5)
        assert any('"type": "disconnect"' in f and "refresh_requested" in f for f in raw_frames)
        assert len(slack.calls("apps.connections.open")) == 2
        d = await slack.platform.slash_command(user="U0BOB", channel="C0INCIDENTS", text="again", retry_num=1)
        assert d.ok and d.ack == {"text": "got again"}
        assert slack.socket.sent[-1]["retry_attempt"] == 1 and slack.socket.sent[-1]["retry_reason"] == "http_timeout"
    finally:
        await client.close()


async def test_delivery_without_a_connection_times_out(slack: LocalSlack) -> None:
    slack.use_socket_mode()
    d = await slack.platform.send_event({"type": "app_home_opened", "user": "U0ALICE"}, timeout=0.2)
    assert d.timed_out and not d.ok


async def test_a_real_bolt_app_over_socket_mode(slack: LocalSlack) -> None:
    slack.use_socket_mode()
    bolt = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    acked: list[str] = []

    @bolt.command("/incident")
    async def incident(ack, command, say):  # type: ignore[no-untyped-def]
        await ack({"response_type": "in_channel", "text": f"declared: {command['text']}"})

    @bolt.event("app_mention")
    async def mention(event, say):  # type: ignore[no-untyped-def]
        acked.append(event["text"])
        await say("on it")

    @bolt.action("ack")
    async def on_ack(ack, body, respond):  # type: ignore[no-untyped-def]
        await ack()
        await respond(replace_original=True, text=f"acked by <@{body['user']['id']}>")

    handler = AsyncSocketModeHandler(bolt, slack.app_token)
    await handler.connect_async()
    try:
        await slack.socket.wait_connected()
        d = await slack.platform.slash_command(user="U0ALICE", channel="C0INCIDENTS", text="P1 checkout")
        assert d.ok
        [msg] = slack.workspace.messages("C0INCIDENTS")
        assert msg.text == "declared: P1 checkout" and msg.user == BOT_USER_ID

        await slack.platform.send_event({"type": "app_mention", "user": "U0ALICE", "channel": "C0INCIDENTS",
                                         "text": f"<@{BOT_USER_ID}> help", "ts": slack.workspace.next_ts()})
        assert acked == [f"<@{BOT_USER_ID}> help"]

        blocks = [{"type": "actions", "elements": [{"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}}]}]
        posted = slack.workspace.post(channel="C0INCIDENTS", user=BOT_USER_ID, text="P1", blocks=blocks)
        d = await slack.platform.click(user="U0BOB", channel="C0INCIDENTS", message_ts=posted.ts, action_id="ack")
        assert d.ok
        assert slack.workspace.message("C0INCIDENTS", posted.ts).text == "acked by <@U0BOB>"
    finally:
        await handler.close_async()
