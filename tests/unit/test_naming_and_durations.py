from datetime import date, timedelta

import pytest

from bot.core.durations import format_duration, parse_duration
from bot.core.naming import channel_name, incident_id, slugify


def test_incident_id_has_date_and_three_digit_counter():
    assert incident_id(date(2026, 12, 1), 7) == "INC-2026-12-01-007"


def test_channel_name_matches_id_and_slugs_title():
    name = channel_name(prefix="inc", day=date(2026, 12, 1), seq=7, title="Checkout is FAILING!")
    assert name == "inc-20261201-007-checkout-is-failing"


def test_channel_name_never_exceeds_80_chars_and_keeps_only_legal_characters():
    name = channel_name(prefix="inc", day=date(2026, 12, 1), seq=1, title="Ünïcode ✓ " * 30,
                        attempt=3)
    assert len(name) <= 80
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    assert name.endswith("-4")


def test_slugify_collapses_separators():
    assert slugify("  a -- b__c  ") == "a-b__c"


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600),
                                               ("1h30m", 5400), ("2d", 172800)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["5x", "", "m", "0s", "1.5h", "-1m"])
def test_bad_durations_raise(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips_common_values():
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(timedelta(seconds=45)) == "45s"
