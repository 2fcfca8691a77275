"""Templates against golden files, and every message builder inside Slack's Block Kit
limits (slack_sdk's own block models validate them)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.core.policy import DEFAULT_POLICY
from bot.render import NAMES, Templates, sample_incident
from bot.slack import blocks

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
TEMPLATES = Templates(policy=DEFAULT_POLICY)
INCIDENT, EVENTS = sample_incident(DEFAULT_POLICY)
RENDERED = {
    "war_room_card": lambda: TEMPLATES.card(INCIDENT, now=INCIDENT.declared_at + timedelta(minutes=7)),
    "announcement": lambda: TEMPLATES.announcement(INCIDENT, kind="declared"),
    "update": lambda: TEMPLATES.update(INCIDENT, INCIDENT.last_update),
    "customer_initial": lambda: TEMPLATES.customer(INCIDENT, kind="initial"),
    "customer_update": lambda: TEMPLATES.customer(INCIDENT, kind="update"),
    "customer_resolution": lambda: TEMPLATES.customer(INCIDENT, kind="resolution"),
    "report": lambda: TEMPLATES.report(INCIDENT, EVENTS),
}


def test_every_template_has_a_golden_case():
    assert set(RENDERED) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_template_matches_its_golden_file(name):
    path = GOLDEN / f"{name}.md"
    text = RENDERED[name]() + "\n"
    if os.environ.get("WARROOM_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def _validate(message):
    assert len(message.get("blocks", [])) <= 50
    for raw in message.get("blocks", []):
        Block.parse(raw).validate_json()


def test_message_builders_stay_inside_block_kit_limits():
    long = INCIDENT.model_copy(update={"title": "t" * 150, "impact": "x" * 5000,
                                       "actions_in_progress": ["a" * 400] * 30})
    for message in (blocks.war_room_card(long, now=long.declared_at, templates=TEMPLATES),
                    blocks.announcement(long, kind="resolved", templates=TEMPLATES),
                    blocks.update_message(long, long.last_update, templates=TEMPLATES),
                    blocks.customer_draft_message(long, kind="resolution", text="y" * 5000),
                    *blocks.timeline(long, EVENTS * 100)):
        _validate(message)
