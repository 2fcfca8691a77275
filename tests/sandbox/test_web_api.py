"""The Web API behaves like Slack's, seen through the real AsyncWebClient."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import BOT_USER_ID, LocalSlack, scopes_from_manifest

from .conftest import SECRET

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


async def error_of(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# ---- auth, transport, scopes


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    r = await client.auth_test()
    assert r["user_id"] == BOT_USER_ID and r["bot_id"] == "B0WARBOT" and r["team_id"] == "T0WARROOM"


async def test_unknown_method_is_reported(client: AsyncWebClient) -> None:
    err = await error_of(client.api_call("chat.teleport"))
    assert err.response["error"] == "unknown_method"


async def test_missing_token_is_not_authed(slack: LocalSlack) -> None:
    err = await error_of(AsyncWebClient(base_url=slack.api_url).auth_test())
    assert err.response["error"] == "not_authed"


async def test_bad_token_is_invalid_auth(slack: LocalSlack) -> None:
    err = await error_of(AsyncWebClient(token="xoxb-nope", base_url=slack.api_url).auth_test())
    assert err.response["error"] == "invalid_auth"
    assert err.response.status_code == 200


async def test_token_form_field_and_json_body_are_both_accepted(slack: LocalSlack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.api_url + "chat.postMessage", data={"token": slack.bot_token, "channel": "C0INCIDENTS", "text": "form"}) as r:
            assert (await r.json())["ok"] is True
        headers = {"Authorization": f"Bearer {slack.bot_token}"}
        async with http.post(slack.api_url + "chat.postMessage", json={"channel": "C0INCIDENTS", "text": "json"}, headers=headers) as r:
            assert (await r.json())["ok"] is True
    assert [m.text for m in slack.workspace.messages("incidents")] == ["form", "json"]


async def test_missing_scope_names_needed_and_provided() -> None:
    async with LocalSlack.start(scopes={"chat:write", "users:read"}, signing_secret=SECRET) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        err = await error_of(client.conversations_create(name="inc-1"))
        assert err.response.data == {"ok": False, "error": "missing_scope", "needed": "channels:manage", "provided": "chat:write,users:read"}
        err = await error_of(client.conversations_create(name="inc-2", is_private=True))
        assert err.response["needed"] == "groups:write"


async def test_scopes_from_manifest_reads_bot_scopes_and_enforces_them() -> None:
    granted = scopes_from_manifest(MANIFEST)
    assert {"chat:write", "channels:manage", "pins:write"} <= granted
    async with LocalSlack.start(manifest=MANIFEST, signing_secret=SECRET) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await client.chat_postMessage(channel="C0INCIDENTS", text="allowed")
        if "channels:history" not in granted:
            err = await error_of(client.conversations_history(channel="C0INCIDENTS"))
            assert err.response["error"] == "missing_scope" and err.response["needed"] == "channels:history"


async def test_app_token_is_refused_for_bot_methods(slack: LocalSlack) -> None:
    err = await error_of(AsyncWebClient(token=slack.app_token, base_url=slack.api_url).chat_postMessage(channel="C0INCIDENTS", text="x"))
    assert err.response["error"] == "not_allowed_token_type"


async def test_connections_open_needs_an_app_level_token(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.apps_connections_open(app_token=slack.app_token)
    assert r["url"].startswith(f"ws://127.0.0.1:{slack.port}/link/?ticket=")
    err = await error_of(client.apps_connections_open(app_token="xapp-1-bogus"))
    assert err.response["error"] == "invalid_auth"
    err = await error_of(client.apps_connections_open(app_token=slack.bot_token))
    assert err.response["error"] == "not_allowed_token_type"


async def test_every_call_is_recorded(slack: LocalSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0INCIDENTS", text="hello")
    with pytest.raises(SlackApiError):
        await client.users_info(user="U0NOBODY")
    [post] = slack.calls("chat.postMessage")
    assert post.args["text"] == "hello" and post.ok and post.response["ts"]
    [info] = slack.calls("users.info")
    assert info.response["error"] == "user_not_found" and "token" not in info.args


# ---- faults and rate limits


async def test_ratelimited_fault_answers_429_with_retry_after(slack: LocalSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", retry_after=7)
    err = await error_of(client.chat_postMessage(channel="C0INCIDENTS", text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "7"
    assert err.response.data == {"ok": False, "error": "ratelimited"}
    assert (await client.chat_postMessage(channel="C0INCIDENTS", text="x"))["ok"]


async def test_rate_limit_retry_handler_waits_retry_after_and_succeeds(slack: LocalSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    slack.fail_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    r = await client.chat_postMessage(channel="C0INCIDENTS", text="eventually")
    assert r["ok"] and time.monotonic() - started >= 0.9
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 200]


async def test_other_faults_answer_200_ok_false(slack: LocalSlack, client: AsyncWebClient) -> None:
    slack.fail_next("conversations.create", "internal_error", times=2)
    for _ in range(2):
        err = await error_of(client.conversations_create(name="inc-x"))
        assert err.response.status_code == 200 and err.response["error"] == "internal_error"
    assert (await client.conversations_create(name="inc-x"))["ok"]


async def test_per_channel_post_rate_answers_429_after_the_burst(slack: LocalSlack, client: AsyncWebClient) -> None:
    slack.web_api.set_post_rate(burst=3, per_second=1)
    for i in range(3):
        await client.chat_postMessage(channel="C0INCIDENTS", text=str(i))
    err = await error_of(client.chat_postMessage(channel="C0INCIDENTS", text="too fast"))
    assert err.response.status_code == 429 and int(err.response.headers["Retry-After"]) >= 1
    assert (await client.chat_postMessage(channel="C0GENERAL", text="other channel is fine"))["ok"]


# ---- conversations


async def test_create_channel_returns_slack_channel_shape(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.conversations_create(name="inc-42-checkout")
    ch = r["channel"]
    assert ch["id"].startswith("C") and ch["name"] == "inc-42-checkout" and ch["is_member"] is True
    assert ch["is_private"] is False and ch["is_archived"] is False and isinstance(ch["created"], int)
    assert slack.workspace.channel_by_name("inc-42-checkout").members == [BOT_USER_ID]


@pytest.mark.parametrize(
    "name, error",
    [
        ("incidents", "name_taken"),
        ("Inc-UPPER", "invalid_name_specials"),
        ("inc 42", "invalid_name_specials"),
        ("inc!", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
    ],
)
async def test_create_channel_rejects_bad_names(client: AsyncWebClient, name: str, error: str) -> None:
    err = await error_of(client.conversations_create(name=name))
    assert err.response["error"] == error


async def test_invite_fails_whole_call_when_one_user_is_unknown(slack: LocalSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    err = await error_of(client.conversations_invite(channel=cid, users=["U0ALICE", "U0GHOST"]))
    assert err.response.data == {
        "ok": False,
        "error": "user_not_found",
        "errors": [{"user": "U0GHOST", "ok": False, "error": "user_not_found"}],
    }
    assert slack.workspace.members(cid) == [BOT_USER_ID]


async def test_invite_adds_everyone_when_all_are_valid(slack: LocalSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    r = await client.conversations_invite(channel=cid, users="U0ALICE,U0BOB")
    assert r["channel"]["id"] == cid
    assert slack.workspace.members(cid) == [BOT_USER_ID, "U0ALICE", "U0BOB"]


async def test_invite_reports_already_in_channel_and_cant_invite_self(client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    await client.conversations_invite(channel=cid, users="U0ALICE")
    err = await error_of(client.conversations_invite(channel=cid, users="U0ALICE,U0BOB"))
    assert err.response["error"] == "already_in_channel"
    assert err.response["errors"] == [{"user": "U0ALICE", "ok": False, "error": "already_in_channel"}]
    err = await error_of(client.conversations_invite(channel=cid, users=BOT_USER_ID))
    assert err.response["error"] == "cant_invite_self"


async def test_invite_needs_the_bot_in_the_channel_and_a_real_channel(client: AsyncWebClient) -> None:
    err = await error_of(client.conversations_invite(channel="C0INCIDENTS", users="U0ALICE"))
    assert err.response["error"] == "not_in_channel"
    err = await error_of(client.conversations_invite(channel="C0NOPE", users="U0ALICE"))
    assert err.response["error"] == "channel_not_found"


async def test_join_then_history_lists_newest_first(slack: LocalSlack, client: AsyncWebClient) -> None:
    err = await error_of(client.conversations_history(channel="C0INCIDENTS"))
    assert err.response["error"] == "not_in_channel"
    r = await client.conversations_join(channel="C0INCIDENTS")
    assert r["channel"]["is_member"] is True
    again = await client.conversations_join(channel="C0INCIDENTS")
    assert again["warning"] == "already_in_channel"
    for text in ("one", "two", "three"):
        await client.chat_postMessage(channel="C0INCIDENTS", text=text)
    page = await client.conversations_history(channel="C0INCIDENTS", limit=2)
    assert [m["text"] for m in page["messages"]] == ["three", "two"] and page["has_more"] is True
    rest = await client.conversations_history(channel="C0INCIDENTS", limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["one"] and rest["has_more"] is False


async def test_info_members_list_and_archive(slack: LocalSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-7"))["channel"]["id"]
    info = await client.conversations_info(channel=cid)
    assert info["channel"]["name"] == "inc-7"
    assert (await client.conversations_members(channel="C0INCIDENTS"))["members"][:2] == ["U0ALICE", "U0BOB"]
    names = [c["name"] for c in (await client.conversations_list())["channels"]]
    assert {"general", "incidents", "inc-7"} <= set(names)
    await client.conversations_archive(channel=cid)
    assert (await client.conversations_info(channel=cid))["channel"]["is_archived"] is True
    err = await error_of(client.chat_postMessage(channel=cid, text="late"))
    assert err.response["error"] == "is_archived"
    err = await error_of(client.conversations_archive(channel=cid))
    assert err.response["error"] == "already_archived"


async def test_private_channel_the_bot_is_not_in_is_invisible(slack: LocalSlack, client: AsyncWebClient) -> None:
    secret = slack.workspace.add_channel(name="exec", is_private=True, members=["U0ALICE"])
    for call in (client.conversations_info(channel=secret.id), client.chat_postMessage(channel=secret.id, text="x")):
        assert (await error_of(call)).response["error"] == "channel_not_found"


async def test_conversations_open_returns_a_dm_channel(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.conversations_open(users="U0ALICE")
    dm = r["channel"]["id"]
    assert dm.startswith("D")
    await client.chat_postMessage(channel=dm, text="psst")
    assert slack.workspace.messages(dm)[0].text == "psst"
    assert (await client.conversations_open(users="U0ALICE"))["channel"]["id"] == dm


# ---- chat


async def test_post_message_returns_channel_ts_and_message(client: AsyncWebClient) -> None:
    r = await client.chat_postMessage(channel="C0INCIDENTS", text="P1 declared")
    assert r["channel"] == "C0INCIDENTS"
    assert r["message"]["text"] == "P1 declared" and r["message"]["bot_id"] == "B0WARBOT" and r["message"]["ts"] == r["ts"]
    sec, frac = r["ts"].split(".")
    assert len(frac) == 6 and sec.isdigit()


async def test_message_ts_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel="C0INCIDENTS", text=str(i)))["ts"] for i in range(20)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 20


async def test_post_needs_membership_without_chat_write_public() -> None:
    async with LocalSlack.start(scopes={"chat:write"}, signing_secret=SECRET) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        err = await error_of(client.chat_postMessage(channel="C0INCIDENTS", text="x"))
        assert err.response["error"] == "not_in_channel"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_errors_channel_not_found_and_no_text(client: AsyncWebClient) -> None:
    assert (await error_of(client.chat_postMessage(channel="C0NOPE", text="x"))).response["error"] == "channel_not_found"
    assert (await error_of(client.chat_postMessage(channel="C0INCIDENTS", text=""))).response["error"] == "no_text"


async def test_message_over_40000_chars_is_msg_too_long(client: AsyncWebClient) -> None:
    err = await error_of(client.chat_postMessage(channel="C0INCIDENTS", text="x" * 40001))
    assert err.response["error"] == "msg_too_long"


async def test_update_changes_own_message_and_refuses_others(slack: LocalSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C0INCIDENTS", text="investigating"))["ts"]
    r = await client.chat_update(channel="C0INCIDENTS", ts=ts, text="resolved")
    assert r["ts"] == ts and r["text"] == "resolved"
    msg = slack.workspace.messages("incidents")[0]
    assert msg.text == "resolved" and msg.edited["user"] == BOT_USER_ID
    human = slack.workspace.post(channel="C0INCIDENTS", user="U0ALICE", text="mine")
    assert (await error_of(client.chat_update(channel="C0INCIDENTS", ts=human.ts, text="x"))).response["error"] == "cant_update_message"
    assert (await error_of(client.chat_update(channel="C0INCIDENTS", ts="1.000001", text="x"))).response["error"] == "message_not_found"


async def test_post_ephemeral_shows_only_to_that_user(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.chat_postEphemeral(channel="C0INCIDENTS", user="U0ALICE", text="only you")
    assert r["message_ts"]
    [eph] = slack.workspace.ephemerals(user="U0ALICE", channel="incidents")
    assert eph.text == "only you" and eph.message_ts == r["message_ts"]
    assert slack.workspace.messages("incidents") == []
    outsider = slack.workspace.add_user(name="erin")
    err = await error_of(client.chat_postEphemeral(channel="C0INCIDENTS", user=outsider.id, text="x"))
    assert err.response["error"] == "user_not_in_channel"


async def test_get_permalink(client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C0INCIDENTS", text="x"))["ts"]
    r = await client.chat_getPermalink(channel="C0INCIDENTS", message_ts=ts)
    assert r["permalink"].endswith(f"/archives/C0INCIDENTS/p{ts.replace('.', '')}")


# ---- pins, reactions, users, groups


async def test_pins_add_and_list_and_errors(slack: LocalSlack, client: AsyncWebClient) -> None:
    await client.conversations_join(channel="C0INCIDENTS")
    ts = (await client.chat_postMessage(channel="C0INCIDENTS", text="summary"))["ts"]
    await client.pins_add(channel="C0INCIDENTS", timestamp=ts)
    assert [m.text for m in slack.workspace.pins("incidents")] == ["summary"]
    items = (await client.pins_list(channel="C0INCIDENTS"))["items"]
    assert items[0]["type"] == "message" and items[0]["message"]["ts"] == ts
    assert (await error_of(client.pins_add(channel="C0INCIDENTS", timestamp=ts))).response["error"] == "already_pinned"
    assert (await error_of(client.pins_add(channel="C0INCIDENTS", timestamp="1.000002"))).response["error"] == "message_not_found"
    assert (await error_of(client.api_call("pins.add", params={"channel": "C0INCIDENTS"}))).response["error"] == "no_item_specified"


async def test_reactions_add_and_get(client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C0INCIDENTS", text="x"))["ts"]
    await client.reactions_add(channel="C0INCIDENTS", timestamp=ts, name="eyes")
    r = await client.reactions_get(channel="C0INCIDENTS", timestamp=ts)
    assert r["message"]["reactions"] == [{"name": "eyes", "users": [BOT_USER_ID], "count": 1}]
    err = await error_of(client.reactions_add(channel="C0INCIDENTS", timestamp=ts, name="eyes"))
    assert err.response["error"] == "already_reacted"


async def test_users_info_and_usergroup_members(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0ALICE"))["user"]
    assert user["name"] == "alice" and user["real_name"] == "Alice Adams" and user["is_bot"] is False
    assert (await error_of(client.users_info(user="U0GHOST"))).response["error"] == "user_not_found"
    assert (await client.usergroups_users_list(usergroup="S0ONCALL"))["users"] == ["U0ALICE", "U0BOB"]
    assert (await error_of(client.usergroups_users_list(usergroup="S0NOPE"))).response["error"] == "no_such_subteam"


# ---- files


async def test_files_upload_v2_stores_the_content_and_shares_it(slack: LocalSlack, client: AsyncWebClient) -> None:
    r = await client.files_upload_v2(channel="C0INCIDENTS", filename="timeline.md", content="# Timeline\n10:02 paged", title="Timeline")
    file_id = r["file"]["id"]
    assert slack.workspace.file_content(file_id) == b"# Timeline\n10:02 paged"
    assert [f.id for f in slack.workspace.files_in("incidents")] == [file_id]
    assert slack.workspace.messages("incidents")[-1].files == [file_id]
    assert [c.method for c in slack.calls()][-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_workspace_changes_reach_subscribers(slack: LocalSlack, client: AsyncWebClient) -> None:
    seen = []
    unsubscribe = slack.workspace.subscribe(seen.append)
    queue = slack.workspace.queue()
    await client.chat_postMessage(channel="C0INCIDENTS", text="live")
    unsubscribe()
    await client.chat_postMessage(channel="C0INCIDENTS", text="unseen by the callback")
    assert [e.kind for e in seen] == ["message.posted"] and seen[0].data["text"] == "live"
    assert queue.qsize() == 2 and (await queue.get()).seq < (await queue.get()).seq
