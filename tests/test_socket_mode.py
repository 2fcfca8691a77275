"""Socket Mode: no public URL, no signing secret; the same listeners over Slack's WebSocket."""

from __future__ import annotations

from tests.conftest import eventually
from tests.test_declare import ALICE, GENERAL, war_room


async def test_declare_over_socket_mode_and_survive_a_disconnect(runner, slack):
    bot = await runner.start(socket_mode=True)
    await slack.socket.wait_connected()
    assert (await bot.readiness())["socket"] is True

    first = await slack.platform.slash_command(user=ALICE, channel=GENERAL,
                                               text="declare P2 search is slow")
    assert first.transport == "socket" and first.ok
    assert "INC-2026-12-01-001" in first.ack["text"]
    channel = await war_room(slack, "inc-20261201-001-search-is-slow")

    opened = slack.socket.opened
    await slack.socket.disconnect("refresh_requested", close_after=0.2)
    await slack.socket.wait_connected(newer_than=opened, timeout=15)

    reply = await slack.platform.slash_command(user=ALICE, channel=channel.id, text="ack")
    assert reply.ok and "acknowledged INC-2026-12-01-001" in reply.ack["text"]
    assert (await bot.store.get("INC-2026-12-01-001")).acknowledged_by == ALICE
    await eventually(lambda: "incident_ack" not in str(slack.workspace.pins(channel.id)[0].blocks))


async def test_socket_mode_modal_submission_declares(runner, slack):
    await runner.start(socket_mode=True)
    await slack.socket.wait_connected()
    await slack.platform.slash_command(user=ALICE, channel=GENERAL, text="declare")
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    answer = await slack.platform.submit_view(user=ALICE, view_id=view.id,
                                              values={"title": "queue backlog", "severity": "P3"})
    assert answer.ok
    await war_room(slack, "inc-20261201-001-queue-backlog")
