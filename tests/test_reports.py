"""Issue 6 end to end: timeline pins by reaction, customer messages, the post-incident
report (content against a scripted incident), close, drills and template overrides."""

from __future__ import annotations

from datetime import timedelta

from bot.core.incident import EventKind
from bot.settings import parse_config
from tests.conftest import TEST_CONFIG, eventually
from tests.serve_process import run_cli
from tests.test_declare import ALICE, BOB, CAROL, GENERAL, declare, war_room

ID = "INC-2026-12-01-001"


async def say(slack, channel, text, *, user=ALICE):
    return await slack.platform.slash_command(user=user, channel=channel, text=text)


async def test_pushpin_reaction_puts_the_message_on_the_timeline_once(bot, slack):
    await declare(slack)
    channel = await war_room(slack)
    await slack.platform.message(BOB, channel.id, text="db primary flapping since 14:05")
    (msg,) = [m for m in slack.workspace.messages(channel.id)
              if m.text == "db primary flapping since 14:05"]
    first = await slack.platform.react(CAROL, channel.id, ts=msg.ts, name="pushpin")
    assert first.ok
    again = await slack.platform.send_event(first.payload["event"], retry_num=1)
    assert again.ok
    await slack.platform.react(CAROL, channel.id, ts=msg.ts, name="eyes")
    events = await eventually(lambda: _pins(bot))
    assert len(events) == 1
    assert events[0].actor == BOB and events[0].text == "db primary flapping since 14:05"
    timeline = await say(slack, channel.id, "timeline")
    assert "<@U0BOB> (pinned): db primary flapping" in str(timeline.ack["blocks"])


async def _pins(bot):
    return [e for e in await bot.store.timeline(ID) if e.kind is EventKind.pinned_message]


async def test_report_at_resolve_has_real_timestamps_metrics_and_action_items(bot, slack, clock,
                                                                              redis_server,
                                                                              key_prefix):
    await declare(slack)
    channel = await war_room(slack)
    clock.advance(timedelta(minutes=3))
    await say(slack, channel.id, "ack", user=BOB)
    clock.advance(timedelta(minutes=6))
    await say(slack, channel.id, "update identified: pool exhausted after the 14:10 deploy")
    await say(slack, channel.id, "action add a pool-size alert <@U0CAROL> 2026-12-08")
    clock.advance(timedelta(minutes=33))
    await say(slack, channel.id, "resolve rolled back the 14:10 deploy")
    files = await eventually(lambda: slack.workspace.files_in(channel.id))
    report = slack.workspace.file_content(files[0].id).decode()
    assert report.startswith("# Incident Post-Mortem")
    assert "**Incident ID**: INC-2026-12-01-001" in report
    assert "**Duration**: 42m (2026-12-01 14:23 UTC - 2026-12-01 15:05 UTC)" in report
    assert "| Time to acknowledge | 3m | met (target 15m) |" in report
    assert "| Time to first update | 9m | 15m |" in report
    assert "- 2026-12-01 14:23:00 UTC (T+0s) - @alice declared P1: checkout is failing" in report
    assert "(T+9m) - @alice posted an update: pool exhausted" in report
    assert "- [ ] add a pool-size alert - Owner: @carol - Due: 2026-12-08" in report
    assert "rolled back the 14:10 deploy" in report
    draft = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                      if "Draft customer resolution" in (m.text or "")])
    assert "Issue resolved." in draft[0].text
    printed = run_cli("report", ID, env={"REDIS_URL": redis_server.url,
                                         "WARROOM_REDIS_PREFIX": key_prefix})
    assert printed.returncode == 0 and printed.stdout.strip() == report.strip()
    assert run_cli("report", "INC-2026-12-01-999", env={
        "REDIS_URL": redis_server.url, "WARROOM_REDIS_PREFIX": key_prefix}).returncode == 1
    assert run_cli("report", "nope").returncode == 3


async def test_customer_update_is_drafted_edited_and_recorded(bot, slack):
    await declare(slack)
    channel = await war_room(slack)
    ts = slack.workspace.pins(channel.id)[0].ts
    await slack.platform.click(user=BOB, channel=channel.id, message_ts=ts,
                               action_id="incident_draft_customer_update", value=ID)
    view = await eventually(lambda: slack.workspace.latest_view(BOB))
    text = next(b for b in view.blocks if b["block_id"] == "text")["element"]["initial_value"]
    assert text.startswith("We're investigating an issue affecting")
    assert "updates every 15m" in text
    await slack.platform.submit_view(user=BOB, view_id=view.id, values={
        "kind": "initial", "text": "We're investigating checkout errors. Next update 14:45 UTC."})
    events = await eventually(lambda: _customer(bot))
    assert events[0].text.endswith("Next update 14:45 UTC.") and events[0].actor == BOB
    await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                              if "Customer initial message sent by <@U0BOB>" in (m.text or "")])


async def _customer(bot):
    return [e for e in await bot.store.timeline(ID) if e.kind is EventKind.customer_update]


async def test_close_is_refused_before_resolve_and_archives_after_the_report(bot, slack):
    await declare(slack)
    channel = await war_room(slack)
    early = await say(slack, channel.id, "close")
    assert "is not resolved yet" in early.ack["text"]
    await say(slack, channel.id, "resolve --force done")
    await eventually(lambda: slack.workspace.files_in(channel.id))
    await say(slack, channel.id, "close")
    await eventually(lambda: slack.workspace.channels[channel.id].is_archived)
    incident = await bot.store.get(ID)
    assert incident.closed_at is not None and incident.report_at is not None
    assert incident.report_at <= incident.closed_at


async def test_drill_is_marked_everywhere_and_pages_are_labelled(bot, slack):
    reply = await declare(slack, "drill P1 primary database failover")
    assert "INC-2026-12-01-001" in reply.ack["text"]
    channel = await war_room(slack, "drill-inc-20261201-001-primary-database-failover")
    card = slack.workspace.pins(channel.id)[0]
    assert "[DRILL] Incident War Room" in str(card.blocks)
    await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                              if (m.text or "").startswith("[DRILL] :pager: Paging level 1")])
    await eventually(lambda: [m for m in slack.workspace.messages("C0INCIDENTS")
                              if "P1 INCIDENT [DRILL]" in str(m.blocks)])
    assert (await bot.store.get(ID)).drill


async def test_a_templates_folder_overrides_the_card(runner, slack, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "war_room_card.md.j2").write_text(
        "*{{ incident.id }}* is {{ status }} - ask in #help-sre ({{ age }} old)\n")
    config = parse_config(TEST_CONFIG + f"templates: {folder}\n")
    runner.policy, runner.config = config.to_policy(), config
    await runner.start()
    await declare(slack)
    channel = await war_room(slack)
    assert "*INC-2026-12-01-001* is INVESTIGATING - ask in #help-sre" in str(
        slack.workspace.pins(channel.id)[0].blocks)


def test_check_config_renders_every_template_and_names_file_and_line(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "announcement.md.j2").write_text("ok line\n{{ incident.nope }}\n")
    (folder / "report.md.j2").write_text("# Report\n{% for x in %}\n")
    config = tmp_path / "warroom.yml"
    config.write_text(f"templates: {folder}\n")
    result = run_cli("check-config", str(config))
    assert result.returncode == 1
    assert f"{folder}/announcement.md.j2:2: template error:" in result.stderr
    assert "'nope'" in result.stderr
    assert f"{folder}/report.md.j2:2: template error:" in result.stderr
    missing = tmp_path / "bad.yml"
    missing.write_text("templates: ./nowhere\n")
    assert "is not a folder of templates" in run_cli("check-config", str(missing)).stderr


async def test_report_shows_error_budget_use_for_services_with_an_slo(runner, slack, clock):
    config = parse_config(TEST_CONFIG + """
services:
  - name: checkout
    slo: 99.95%
""")
    runner.policy, runner.config = config.to_policy(), config
    await runner.start()
    await declare(slack)  # the title names checkout, a catalog service
    channel = await war_room(slack)
    clock.advance(timedelta(minutes=10, seconds=48))
    await say(slack, channel.id, "resolve --force done")
    files = await eventually(lambda: slack.workspace.files_in(channel.id))
    report = slack.workspace.file_content(files[0].id).decode()
    assert "Error budget (checkout, 99.95% per 30d): 10.8 min of 21.6 min used (50.0% of the budget)" in report
