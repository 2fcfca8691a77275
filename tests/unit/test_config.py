import pytest

from bot.core import errors
from bot.settings import Settings, parse_config

GOOD = """\
severities:
  - name: P1
    aliases: [SEV1, SEV-1, critical]
    ack_within: 5m
    update_every: 15m
    page: true
  - name: P2
    ack_within: 1h
escalation:
  levels:
    - name: On-call engineer
      notify: [U0ONCALL]
    - name: Engineering manager
      after: 15m
      notify: [S0MANAGERS]
  by_type:
    database: [S0DBA]
channels:
  announce: C0INCIDENTS
  prefix: inc
roles: [commander, tech_lead, comms_lead]
"""


def test_full_example_config_becomes_a_policy():
    policy = parse_config(GOOD).to_policy()
    assert policy.severity("sev-1").name == "P1"
    assert policy.escalation.levels[1].after.total_seconds() == 900
    assert policy.escalation.first_responders("database") == ["U0ONCALL", "S0DBA"]
    assert policy.channels.announce == "C0INCIDENTS"


def test_bad_duration_error_names_line_path_and_shape():
    text = GOOD.replace("ack_within: 1h", "ack_within: 5x")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text, source="warroom.yml")
    assert caught.value.errors == [
        "warroom.yml:8: severities[1].ack_within: '5x' is not a duration like 90s, 15m, 1h"]


def test_unknown_key_is_an_error_with_location():
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(GOOD + "escalaton: {}\n", source="w.yml")
    assert caught.value.errors == ["w.yml:22: escalaton: unknown key (check the spelling)"]


def test_every_error_is_reported_not_just_the_first():
    text = GOOD.replace("ack_within: 1h", "ack_within: 5x").replace("U0ONCALL", "bob")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text)
    assert len(caught.value.errors) == 2
    assert "escalation.levels[0].notify[0]: 'bob' is not a Slack user id" in caught.value.errors[1]


def test_duplicate_severity_alias_is_rejected():
    with pytest.raises(errors.ConfigError):
        parse_config("severities:\n  - name: P1\n    aliases: [high]\n  - name: high\n")


def test_empty_file_means_built_in_defaults():
    policy = parse_config("").to_policy()
    assert [s.name for s in policy.severities] == ["P1", "P2", "P3", "P4"]


def test_invalid_yaml_names_the_line():
    with pytest.raises(errors.ConfigError) as caught:
        parse_config("severities:\n  - name: [P1\n", source="w.yml")
    assert caught.value.errors[0].startswith("w.yml:")


def test_settings_problems_name_the_missing_variable(monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    problems = Settings().problems(socket_mode=False)
    assert problems[0].startswith("SLACK_BOT_TOKEN is not set") and "manifest.yml" in problems[0]
    assert problems[1].startswith("SLACK_SIGNING_SECRET is not set")
    assert Settings().problems(socket_mode=True)[1].startswith("SLACK_APP_TOKEN is not set")


SERVICES = """\
services:
  - name: checkout
    tier: business
    depends_on: [postgres, auth]
    checks:
      - http: {url: "http://checkout:8080/health", expect_status: 200, timeout: 2s, max_latency: 500ms}
      - docker: {container: checkout}
  - name: postgres
    tier: infrastructure
    checks:
      - postgres: {dsn: "postgresql://monitor@db:5432/app", max_connections_used: 0.9}
  - name: auth
    tier: core
docker: {host: "unix:///var/run/docker.sock"}
prometheus: {url: "http://prometheus:9090", alertmanager_url: "http://alertmanager:9093"}
"""


def test_services_catalog_parses_checks_by_kind():
    config = parse_config(SERVICES)
    kinds = [c.kind for c in config.checks_of("checkout")]
    assert kinds == ["http", "docker"]
    assert config.checks_of("checkout")[0].max_latency.total_seconds() == 0.5
    assert config.to_catalog().dependents("postgres") == ["checkout"]


def test_unknown_check_kind_is_located_and_lists_the_kinds():
    text = SERVICES.replace("- docker: {container: checkout}", "- dokcer: {container: checkout}")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text, source="w.yml")
    (line,) = caught.value.errors
    assert line.startswith("w.yml:7: services[0].checks[1]: 'dokcer' is not a check kind")
    assert "http, tcp, docker" in line


def test_bad_field_inside_a_check_is_located():
    text = SERVICES.replace("timeout: 2s, max_latency", "timeout: 2x, max_latency")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text, source="w.yml")
    assert caught.value.errors == [
        "w.yml:6: services[0].checks[0].http.timeout: '2x' is not a duration like 90s, 15m, 1h"]


def test_unknown_dependency_is_located():
    text = SERVICES.replace("[postgres, auth]", "[postgres, atuh]")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text, source="w.yml")
    assert caught.value.errors == [
        "w.yml:4: services[0].depends_on[1]: 'atuh' is not a service in this file "
        "(services: checkout, postgres, auth)"]


def test_dependency_cycle_is_rejected_with_its_path():
    text = SERVICES.replace("    tier: core\n", "    tier: core\n    depends_on: [checkout]\n")
    with pytest.raises(errors.ConfigError) as caught:
        parse_config(text, source="w.yml")
    assert "dependency cycle: checkout -> auth -> checkout" in caught.value.errors[0]
