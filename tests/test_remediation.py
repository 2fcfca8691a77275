"""Guarded remediation and ordered recovery end to end: button presses through signed
interaction requests, a real Docker engine (no network), the bot's real endpoint."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from bot.core.incident import EventKind
from bot.settings import parse_config
from tests.conftest import TEST_CONFIG, eventually
from tests.test_declare import ALICE, BOB, DAN, declare, war_room

ID = "INC-2026-12-01-001"
# Exits 3 the first time it runs, then stays up: a restart fixes it.
CRASH_ONCE = ["sh", "-c", "if [ -f /tmp/crashed ]; then exec sleep 3600; fi; "
              "touch /tmp/crashed; echo 'FATAL: config missing'; exit 3"]
ALWAYS_CRASH = ["sh", "-c", "echo 'panic: cannot bind'; exit 4"]


def crashed(engine, name, command=CRASH_ONCE):
    container = engine.run(command, name=name)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            return container
        time.sleep(0.1)
    raise AssertionError(f"{name} did not exit")


def config_text(engine, services: str, *, remediation: str = "") -> str:
    return TEST_CONFIG + f"""
docker: {{host: "{engine.host}"}}
remediation:
  allow: [U0BOB]
  cooldown: 5m
  verify_timeout: 20s
  verify_interval: 500ms
{remediation}
services:
{services}
probes: {{on_declare: true, monitoring_interval: 1h}}
"""


def docker_service(name, container, *, tier="business", depends=""):
    return f"""  - name: {name}
    tier: {tier}
    depends_on: [{depends}]
    checks:
      - docker: {{container: {container}, timeout: 5s}}
    actions:
      - docker_restart: {{container: {container}, restart_timeout: 1}}
"""


@pytest.fixture
def uid():
    return uuid.uuid4().hex[:6]


async def start(runner, text):
    config = parse_config(text)
    runner.policy, runner.config = config.to_policy(), config
    return await runner.start()


def fix_button(slack, channel):
    for m in slack.workspace.messages(channel.id):
        for block in m.blocks or []:
            if block.get("type") == "actions":
                for el in block["elements"]:
                    if el.get("action_id", "").startswith("incident_remediate"):
                        return m, el
    return None


async def kinds(bot):
    return [e.kind for e in await bot.store.timeline(ID)]


async def test_restart_from_the_triage_card_is_guarded_and_verified(runner, slack,
                                                                     docker_engine, uid):
    container = crashed(docker_engine, f"checkout-{uid}")
    bot = await start(runner, config_text(docker_engine, docker_service("checkout",
                                                                        f"checkout-{uid}")))
    await declare(slack, "declare P1 checkout is failing")
    channel = await war_room(slack)
    message, button = await eventually(lambda: fix_button(slack, channel), timeout=20)
    assert button["text"]["text"] == f"restart checkout-{uid}"

    await slack.platform.click(user=DAN, channel=channel.id, message_ts=message.ts,
                               action_id=button["action_id"], value=button["value"])
    refusal = await eventually(lambda: [e for e in slack.workspace.ephemerals(user=DAN)
                                        if "may not run" in e.text])
    assert "commander or people on its allow-list" in refusal[0].text
    assert slack.workspace.latest_view(DAN) is None

    await slack.platform.click(user=BOB, channel=channel.id, message_ts=message.ts,
                               action_id=button["action_id"], value=button["value"])
    view = await eventually(lambda: slack.workspace.latest_view(BOB))
    assert f"of container checkout-{uid}" in str(view.blocks)
    # the form is updated with the exact target it will restart: the container's id
    short_id = container.id[:12]
    await eventually(lambda: short_id in str(slack.workspace.latest_view(BOB).blocks))
    view = slack.workspace.latest_view(BOB)
    await slack.platform.submit_view(user=BOB, view_id=view.id, values={})
    healthy = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                        if "checkout healthy again after" in (m.text or "")],
                               timeout=30)
    assert healthy
    container.reload()
    assert container.status == "running"
    recorded = await kinds(bot)
    for kind in (EventKind.remediation_requested, EventKind.remediation_refused,
                 EventKind.remediation_confirmed, EventKind.remediation_result,
                 EventKind.remediation_verified):
        assert kind in recorded

    await slack.platform.click(user=BOB, channel=channel.id, message_ts=message.ts,
                               action_id=button["action_id"], value=button["value"])
    again = await eventually(lambda: slack.workspace.latest_view(BOB)
                             if slack.workspace.latest_view(BOB).id != view.id else None)
    await slack.platform.submit_view(user=BOB, view_id=again.id, values={})
    await eventually(lambda: [e for e in slack.workspace.ephemerals(user=BOB)
                              if "was acted on less than 5m ago" in e.text])


async def test_dry_run_shows_what_would_run_and_changes_nothing(runner, slack, docker_engine,
                                                                uid):
    container = crashed(docker_engine, f"cart-{uid}")
    started = container.attrs["State"]["StartedAt"]
    await start(runner, config_text(docker_engine, docker_service("cart", f"cart-{uid}"),
                                    remediation="  dry_run: true"))
    await declare(slack, "declare P2 cart is failing")
    channel = await war_room(slack, "inc-20261201-001-cart-is-failing")
    message, button = await eventually(lambda: fix_button(slack, channel), timeout=20)
    await slack.platform.click(user=ALICE, channel=channel.id, message_ts=message.ts,
                               action_id=button["action_id"], value=button["value"])  # commander
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    assert "Dry run" in str(view.blocks)
    await slack.platform.submit_view(user=ALICE, view_id=view.id, values={})
    await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                              if "DRY RUN" in (m.text or "") and "would run" in (m.text or "")])
    container.reload()
    assert container.status == "exited" and container.attrs["State"]["StartedAt"] == started


async def test_ordered_recovery_restarts_tier_by_tier(runner, slack, docker_engine, uid):
    for name in ("db", "api", "web"):
        crashed(docker_engine, f"{name}-{uid}")
    services = (docker_service("db", f"db-{uid}", tier="infrastructure")
                + docker_service("api", f"api-{uid}", tier="core", depends="db")
                + docker_service("web", f"web-{uid}", tier="business", depends="api"))
    await start(runner, config_text(docker_engine, services))
    await declare(slack, "declare P1 web is down")
    channel = await war_room(slack, "inc-20261201-001-web-is-down")
    await eventually(lambda: fix_button(slack, channel), timeout=20)
    reply = await slack.platform.slash_command(user=ALICE, channel=channel.id, text="recover")
    text = reply.ack["text"]
    assert text.index("infrastructure: db") < text.index("core: api") < text.index("business: web")
    button = reply.ack["blocks"][1]["elements"][0]
    # the plan is ephemeral (no message ts): the button lives on the ack, click it there
    hook = slack.workspace.ephemerals(user=ALICE)[-1]
    await slack.platform.click(user=ALICE, channel=channel.id, message_ts=hook.message_ts,
                               action_id="incident_recover_confirm", value=button["value"])
    done = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                     if "Recovery complete" in (m.text or "")], timeout=60)
    steps = [m.text for m in slack.workspace.messages(channel.id)
             if (m.text or "").startswith(":white_check_mark: Recovery:")]
    assert [s.split(" tier")[0].split()[-1] for s in steps] == ["infrastructure", "core",
                                                              "business"]
    assert done


async def test_recovery_stops_at_the_first_tier_that_does_not_recover(runner, slack,
                                                                       docker_engine, uid):
    crashed(docker_engine, f"db2-{uid}")
    crashed(docker_engine, f"api2-{uid}", command=ALWAYS_CRASH)
    web = crashed(docker_engine, f"web2-{uid}")
    web_started = web.attrs["State"]["StartedAt"]
    services = (docker_service("db", f"db2-{uid}", tier="infrastructure")
                + docker_service("api", f"api2-{uid}", tier="core", depends="db")
                + docker_service("web", f"web2-{uid}", tier="business", depends="api"))
    text = config_text(docker_engine, services).replace("verify_timeout: 20s", "verify_timeout: 3s")
    await start(runner, text)
    await declare(slack, "declare P1 web is down")
    channel = await war_room(slack, "inc-20261201-001-web-is-down")
    await eventually(lambda: fix_button(slack, channel), timeout=20)
    reply = await slack.platform.slash_command(user=ALICE, channel=channel.id, text="recover")
    value = reply.ack["blocks"][1]["elements"][0]["value"]
    assert set(json.loads(value)["s"]) == {"db", "api", "web"}
    hook = slack.workspace.ephemerals(user=ALICE)[-1]
    await slack.platform.click(user=ALICE, channel=channel.id, message_ts=hook.message_ts,
                               action_id="incident_recover_confirm", value=value)
    stopped = await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                                        if "Recovery stopped at the core tier" in (m.text or "")],
                               timeout=60)
    assert "api did not recover" in stopped[0].text
    web.reload()
    assert web.attrs["State"]["StartedAt"] == web_started  # the business tier was not touched


async def test_nobody_can_make_themselves_commander_to_pass_the_guard(runner, slack,
                                                                      docker_engine, uid):
    crashed(docker_engine, f"pay-{uid}")
    bot = await start(runner, config_text(docker_engine, docker_service("pay", f"pay-{uid}")))
    await declare(slack, "declare P1 pay is failing")
    channel = await war_room(slack, "inc-20261201-001-pay-is-failing")
    reply = await slack.platform.slash_command(user=DAN, channel=channel.id,
                                               text="assign commander <@U0DAN>")
    assert "may not run" in reply.ack["text"]
    assert (await bot.store.get(ID)).commander == ALICE
    handover = await slack.platform.slash_command(user=ALICE, channel=channel.id,
                                                  text="assign commander <@U0BOB>")
    assert "is now commander" in handover.ack["text"]


async def test_an_action_on_a_service_outside_the_incident_is_refused(runner, slack,
                                                                      docker_engine, uid):
    from bot.core import errors as errs
    from commands import remediate

    crashed(docker_engine, f"mail-{uid}")
    services = (docker_service("mail", f"mail-{uid}")
                + docker_service("search", f"search-{uid}"))
    bot = await start(runner, config_text(docker_engine, services))
    await declare(slack, "declare P2 mail is slow")
    await war_room(slack, "inc-20261201-001-mail-is-slow")
    with pytest.raises(errs.NotThisIncident):
        await remediate.request(remediate.RemediateInput(
            actor=ALICE, incident_id=ID, service="search", index=0), bot.deps)


async def test_remediation_in_a_drill_is_always_a_dry_run(runner, slack, docker_engine, uid):
    container = crashed(docker_engine, f"drill-{uid}")
    started = container.attrs["State"]["StartedAt"]
    await start(runner, config_text(docker_engine, docker_service("orders", f"drill-{uid}")))
    await declare(slack, "drill P2 orders is failing")
    channel = await war_room(slack, "drill-inc-20261201-001-orders-is-failing")
    message, button = await eventually(lambda: fix_button(slack, channel), timeout=20)
    await slack.platform.click(user=ALICE, channel=channel.id, message_ts=message.ts,
                               action_id=button["action_id"], value=button["value"])
    view = await eventually(lambda: slack.workspace.latest_view(ALICE))
    assert "Dry run" in str(view.blocks)
    await slack.platform.submit_view(user=ALICE, view_id=view.id, values={})
    await eventually(lambda: [m for m in slack.workspace.messages(channel.id)
                              if "DRY RUN" in (m.text or "")])
    container.reload()
    assert container.attrs["State"]["StartedAt"] == started
