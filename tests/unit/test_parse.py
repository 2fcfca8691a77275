import pytest

from bot.core import errors
from bot.core.policy import DEFAULT_POLICY
from bot.slack.parse import parse


@pytest.mark.parametrize("word", ["P1", "p1", "SEV1", "sev-1", "Sev-1", "critical"])
def test_severity_aliases_are_case_insensitive(word):
    req = parse(f"declare {word} checkout is failing", policy=DEFAULT_POLICY)
    assert req.severity == "P1"
    assert req.title == "checkout is failing"


def test_unknown_severity_shape_is_rejected_not_swallowed_into_title():
    with pytest.raises(errors.UnknownSeverity) as caught:
        parse("declare P9 checkout is failing", policy=DEFAULT_POLICY)
    assert caught.value.given == "P9"
    assert any("P1" in k for k in caught.value.known)


@pytest.mark.parametrize("text", ["declare", "declare P1", "declare   sev-2  "])
def test_declare_without_title_asks_for_the_modal(text):
    req = parse(text, policy=DEFAULT_POLICY)
    assert req.sub == "declare" and req.title is None


def test_declare_without_severity_keeps_every_word_in_title():
    req = parse("declare payments slow in eu", policy=DEFAULT_POLICY)
    assert req.severity is None and req.title == "payments slow in eu"


@pytest.mark.parametrize("text", ["", "help", "  "])
def test_bare_and_help_show_help(text):
    assert parse(text, policy=DEFAULT_POLICY).sub == "help"


def test_unknown_subcommand_names_the_word():
    with pytest.raises(errors.UnknownSubcommand) as caught:
        parse("delcare P1 x", policy=DEFAULT_POLICY)
    assert caught.value.word == "delcare"


def test_assign_parses_escaped_mention_and_normalises_role():
    req = parse("assign tech-lead <@U123ABC|ann>", policy=DEFAULT_POLICY)
    assert (req.role, req.user) == ("tech_lead", "U123ABC")


def test_assign_unknown_role_lists_roles():
    with pytest.raises(errors.UnknownRole) as caught:
        parse("assign janitor <@U123ABC>", policy=DEFAULT_POLICY)
    assert "commander" in caught.value.known


def test_assign_rejects_non_user():
    with pytest.raises(errors.InvalidUser):
        parse("assign commander bob", policy=DEFAULT_POLICY)


@pytest.mark.parametrize("text", ["update", "note", "sev"])
def test_subcommands_missing_their_argument_are_rejected(text):
    with pytest.raises(errors.MissingArgument):
        parse(text, policy=DEFAULT_POLICY)


def test_explicit_incident_id_targets_that_incident():
    req = parse("update inc-2026-12-01-004 rollback started", policy=DEFAULT_POLICY)
    assert req.incident_id == "INC-2026-12-01-004" and req.text == "rollback started"


def test_too_long_title_is_rejected():
    with pytest.raises(errors.TitleTooLong):
        parse("declare P2 " + "x" * 200, policy=DEFAULT_POLICY)


def test_update_may_start_with_a_status():
    req = parse("update identified: bad deploy of cart", policy=DEFAULT_POLICY)
    assert (req.status, req.text) == ("identified", "bad deploy of cart")
    plain = parse("update identifying the cause", policy=DEFAULT_POLICY)
    assert plain.status is None and plain.text == "identifying the cause"
