"""Block Kit limits and modals (views.*) behave like Slack's."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import LocalSlack

from .conftest import SECRET


def section(text: str = "x", **extra: object) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Ack", action_id: str = "ack", **extra: object) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, **extra}


def modal(title: str = "Declare", **extra: object) -> dict:
    return {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


async def blocks_error(client: AsyncWebClient, blocks: list) -> dict:
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C0INCIDENTS", text="fallback", blocks=blocks)
    return info.value.response.data


@pytest.mark.parametrize(
    "blocks, message",
    [
        ([section()] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        ([section("x" * 3001)], "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "must be less than 151 characters [json-pointer:/blocks/0/text/text]"),
        (
            [{"type": "actions", "elements": [button(action_id=f"b{i}") for i in range(26)]}],
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        ([{"type": "actions", "elements": [button("b" * 76)]}], "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"),
        (
            [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        ([section(block_id="b" * 256)], "must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
    ],
)
async def test_invalid_blocks_are_rejected_with_slack_error_shape(client: AsyncWebClient, blocks: list, message: str) -> None:
    data = await blocks_error(client, blocks)
    assert data["ok"] is False and data["error"] == "invalid_blocks"
    assert message in data["errors"]
    assert f"[ERROR] {message}" in data["response_metadata"]["messages"]


async def test_duplicate_block_id_in_one_message_is_invalid(client: AsyncWebClient) -> None:
    data = await blocks_error(client, [section(block_id="same"), section(block_id="same")])
    assert data["error"] == "invalid_blocks" and any("/blocks/1/block_id" in e for e in data["errors"])


async def test_fifty_blocks_and_generated_block_ids_are_fine(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.chat_postMessage(channel="C0INCIDENTS", text="ok", blocks=[section()] * 50)
    ids = [b["block_id"] for b in r["message"]["blocks"]]
    assert len(set(ids)) == 50


# ---- views


async def test_views_open_returns_the_view_and_consumes_the_trigger(slack: LocalSlack, client: AsyncWebClient) -> None:
    trigger = slack.workspace.issue_trigger("U0ALICE")
    r = await client.views_open(trigger_id=trigger.id, view=modal(private_metadata="C0INCIDENTS"))
    view = r["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "declare"
    assert view["private_metadata"] == "C0INCIDENTS" and view["state"] == {"values": {}} and view["root_view_id"] == view["id"]
    assert slack.workspace.latest_view("U0ALICE").id == view["id"]
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=trigger.id, view=modal())
    assert info.value.response["error"] == "exchanged_trigger_id"


async def test_views_open_rejects_unknown_trigger(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id="123.456.abc", view=modal())
    assert info.value.response["error"] == "invalid_trigger_id"


async def test_trigger_expires_after_its_lifetime() -> None:
    async with LocalSlack.start(signing_secret=SECRET, trigger_ttl=0.2) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        trigger = slack.workspace.issue_trigger("U0ALICE")
        await asyncio.sleep(0.3)
        with pytest.raises(SlackApiError) as info:
            await client.views_open(trigger_id=trigger.id, view=modal())
        assert info.value.response["error"] == "expired_trigger_id"


async def test_modal_title_over_24_chars_is_invalid_arguments(slack: LocalSlack, client: AsyncWebClient) -> None:
    trigger = slack.workspace.issue_trigger("U0ALICE")
    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=trigger.id, view=modal("t" * 25))
    data = info.value.response.data
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    assert slack.workspace.triggers[trigger.id].used is False


async def test_views_update_by_id_and_external_id_with_hash(slack: LocalSlack, client: AsyncWebClient) -> None:
    trigger = slack.workspace.issue_trigger("U0ALICE")
    opened = (await client.views_open(trigger_id=trigger.id, view=modal(external_id="declare-1")))["view"]
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2")))["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Step 2" and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as info:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Stale"))
    assert info.value.response["error"] == "hash_conflict"
    by_ext = (await client.views_update(external_id="declare-1", view=modal("Step 3")))["view"]
    assert by_ext["id"] == opened["id"]
    with pytest.raises(SlackApiError) as info:
        await client.views_update(view_id="V0NOPE", view=modal())
    assert info.value.response["error"] == "not_found"


async def test_views_push_stacks_up_to_three(slack: LocalSlack, client: AsyncWebClient) -> None:
    root = (await client.views_open(trigger_id=slack.workspace.issue_trigger("U0ALICE").id, view=modal()))["view"]
    for _ in range(2):
        pushed = (await client.views_push(trigger_id=slack.workspace.issue_trigger("U0ALICE").id, view=modal("More")))["view"]
        assert pushed["root_view_id"] == root["id"]
    with pytest.raises(SlackApiError) as info:
        await client.views_push(trigger_id=slack.workspace.issue_trigger("U0ALICE").id, view=modal("Too deep"))
    assert info.value.response["error"] == "push_limit_reached"
    assert len(slack.workspace.open_views("U0ALICE")) == 3
