from datetime import UTC, datetime, timedelta

from bot.core import incident as inc
from bot.core.incident import EventKind, TimelineEvent
from bot.core.policy import DEFAULT_POLICY
from bot.slack import blocks

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


def incident(**fields):
    base = inc.declare(incident_id="INC-2026-12-01-001", seq=1, title="checkout is failing",
                       severity=DEFAULT_POLICY.severity("P1"),
                       escalation=DEFAULT_POLICY.escalation, declared_by="U0ALICE",
                       now=T0).incident
    return base.model_copy(update=fields)


def _action_ids(message):
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def test_card_has_the_war_room_template_fields_and_stable_action_ids():
    card = blocks.war_room_card(incident(), now=T0 + timedelta(minutes=5), policy=DEFAULT_POLICY)
    text = str(card["blocks"])
    for label in ("ID", "Status", "Severity", "Impact", "Root cause (current hypothesis)",
                  "Actions in progress", "ETA to resolution", "Last update", "Roles", "Age"):
        assert f"*{label}:*" in text
    assert "INVESTIGATING" in text and "5m" in text
    assert _action_ids(card) == ["incident_ack", "incident_post_update", "incident_escalate",
                                 "incident_run_diagnostics", "incident_draft_customer_update",
                                 "incident_resolve"]


def test_acknowledged_card_drops_the_ack_button_and_shows_time_to_ack():
    card = blocks.war_room_card(incident(acknowledged_by="U0BOB",
                                         acknowledged_at=T0 + timedelta(minutes=2)), now=T0)
    assert "incident_ack" not in _action_ids(card)
    assert "<@U0BOB> after 2m" in str(card["blocks"])


def test_resolved_card_has_no_buttons():
    done = inc.resolve(incident(), by="U0ALICE", now=T0).incident
    assert _action_ids(blocks.war_room_card(done, now=T0)) == []


def test_long_timeline_is_paged_within_block_and_text_limits():
    events = [TimelineEvent(at=T0, kind=EventKind.note, actor="U0BOB", text="x" * 500)
              for _ in range(400)]
    pages = blocks.timeline(incident(), events)
    assert len(pages) > 1
    for page in pages:
        assert len(page["blocks"]) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in page["blocks"][1:])
    assert sum(b["text"]["text"].count("noted") for p in pages for b in p["blocks"][1:]) == 400


def test_declare_modal_prefills_the_given_severity():
    view = blocks.declare_modal(DEFAULT_POLICY, severity="sev-2", private_metadata="{}",
                                types=["general", "database"])
    severity = next(b for b in view["blocks"] if b["block_id"] == "severity")
    assert severity["element"]["initial_option"]["value"] == "P2"
    assert len(view["title"]["text"]) <= 24


def test_resolve_anyway_value_fits_slack_with_any_summary_and_stays_json():
    import json

    for summary in ("ü" * 3000, "漢" * 3000, "x" * 5000):
        message = blocks.still_failing_message("t", incident_id="INC-2026-12-01-001",
                                               summary=summary)
        value = message["blocks"][1]["elements"][0]["value"]
        assert len(value) <= 2000
        assert json.loads(value)["id"] == "INC-2026-12-01-001"


def test_triage_fix_buttons_have_unique_action_ids_within_a_block():
    from bot.core.ports import ActionInfo
    from bot.core.probe import CheckResult, ProbeStatus, ServiceResult
    from bot.core.triage import ProbeReport, triage
    from bot.core.catalog import Catalog, Service

    down = ServiceResult.of("checkout", tier="business", checks=[CheckResult(
        kind="http", target="x", status=ProbeStatus.down, summary="503", observed_at=T0)])
    report = ProbeReport(started_at=T0, finished_at=T0, services=[down],
                         triage=triage(Catalog(services=(Service(name="checkout"),)), [down]))
    infos = [ActionInfo(service="checkout", index=i, name=f"fix {i}", kind="http_post",
                        description="POST x") for i in range(3)]
    card, _ = blocks.triage_card(incident(), report, {"checkout": infos})
    ids = [e["action_id"] for b in card["blocks"] if b["type"] == "actions"
           for e in b["elements"] if e["action_id"].startswith("incident_remediate")]
    assert ids == ["incident_remediate:0", "incident_remediate:1", "incident_remediate:2"]


def test_confirmation_names_the_planned_pod_and_carries_it_to_the_submission():
    import json

    from bot.core.ports import ActionInfo, PlannedAction

    info = ActionInfo(service="checkout", index=0, name="delete a pod", kind="kubernetes_delete_pod",
                      description="kubectl delete pod <one of app=checkout> -n shop")
    planned = PlannedAction(description="kubectl delete pod checkout-7d9f-x2 -n shop",
                            params={"pod": "checkout-7d9f-x2"})
    view = blocks.remediate_modal(incident(), info, dry_run=False, planned=planned)
    assert "checkout-7d9f-x2" in str(view["blocks"][0])
    assert json.loads(view["private_metadata"])["pod"] == "checkout-7d9f-x2"
