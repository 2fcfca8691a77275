"""Settings: the environment (pydantic-settings) and `warroom.yml` (pydantic models).

Nothing else in warroom reads the environment. Config errors come back located,
`warroom.yml:7: severities[1].ack_within: '5x' is not a duration like 90s, 15m, 1h`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError,
                      field_validator, model_validator)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import messages
from bot.core import errors
from bot.core.durations import parse_duration
from bot.core.naming import slugify
from bot.core.catalog import Catalog, Runbook, Service, Tier, find_cycle
from bot.core.policy import (DEFAULT_ESCALATION, DEFAULT_SEVERITIES, Channels, Escalation,
                             EscalationLevel, Policy, Severity)
from bot.actions.models import ActionEntry
from bot.probes.checks import (CHECK_KINDS, Check, DockerSettings, KubernetesSettings,
                               ProbeDuration, PrometheusSettings)

_CONTACT = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise PydanticCustomError("duration", messages.CONFIG_NOT_A_DURATION, {"value": value})
    try:
        return parse_duration(str(value))
    except ValueError:
        raise PydanticCustomError("duration", messages.CONFIG_NOT_A_DURATION,
                                  {"value": value}) from None


def _contact(value: Any) -> str:
    text = str(value).strip()
    if not _CONTACT.match(text):
        raise PydanticCustomError("contact", messages.CONFIG_NOT_A_CONTACT, {"value": value})
    return text


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Contact = Annotated[str, BeforeValidator(_contact)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeverityConfig(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    ack_within: Duration | None = None
    update_every: Duration | None = None
    page: bool = False


class PagerDutyConfig(_Strict):
    routing_key: SecretStr


class LevelConfig(_Strict):
    name: str = Field(min_length=1)
    after: Duration | None = None
    notify: list[Contact] = Field(default_factory=list)
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    pagerduty: PagerDutyConfig | None = None


class PagingConfig(_Strict):
    pagerduty_url: str = Field(default="https://events.pagerduty.com/v2/enqueue",
                               pattern=r"^https?://")


class EscalationConfig(_Strict):
    levels: list[LevelConfig] = Field(min_length=1)
    by_type: dict[str, list[Contact]] = Field(default_factory=dict)


class ChannelsConfig(_Strict):
    announce: str | None = None
    prefix: str = "inc"
    drill_prefix: str = "drill"
    archive_on_close: bool = True

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if slugify(value) != value or len(value) > 20:
            raise PydanticCustomError("prefix", messages.CONFIG_BAD_PREFIX, {"value": value})
        return value


def _unwrap_check(value: Any) -> Any:
    """`{http: {...}}` -> `{kind: http, ...}`, so the union can name the kind's problems."""
    if isinstance(value, dict) and len(value) == 1 and "kind" not in value:
        kind, body = next(iter(value.items()))
        return {"kind": kind, **(body if isinstance(body, dict) else {})}
    return value


CheckEntry = Annotated[Check, Field(discriminator="kind")]


class RunbookConfig(_Strict):
    check: list[str] = Field(default_factory=list)
    fix: list[str] = Field(default_factory=list)
    link: str | None = None

    def to_runbook(self) -> Runbook:
        return Runbook(check=tuple(self.check), fix=tuple(self.fix), link=self.link)


# ---- SLOs (issue 6, metrics) ----------------------------------------------
def _slo_target(value: Any) -> float:
    """0.9995, or "99.95%" -> 0.9995; strictly between 0 and 1."""
    bad = PydanticCustomError("slo", messages.SLO_BAD_TARGET, {"value": value})
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad
    text = str(value).strip()
    try:
        target = round(float(text[:-1]) / 100, 12) if text.endswith("%") else float(text)
    except ValueError:
        raise bad from None
    if not 0 < target < 1:
        raise bad
    return target


class SloConfig(_Strict):
    target: Annotated[float, BeforeValidator(_slo_target)]
    period: Duration = Field(default_factory=lambda: timedelta(days=30))


def _slo_shorthand(value: Any) -> Any:
    """`slo: 99.95%` is `slo: {target: 99.95%}`."""
    return {"target": value} if isinstance(value, (str, int, float)) else value
# ---- end SLOs ---------------------------------------------------------------


class ServiceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=63)
    tier: Tier = Tier.business
    depends_on: list[str] = Field(default_factory=list)
    checks: list[CheckEntry] = Field(default_factory=list)
    runbook: RunbookConfig | None = None
    slo: Annotated[SloConfig | None, BeforeValidator(_slo_shorthand)] = None  # issue 6 metrics
    actions: list[ActionEntry] = Field(default_factory=list)

    @field_validator("checks", mode="before")
    @classmethod
    def _checks(cls, value: Any) -> Any:
        return [_unwrap_check(v) for v in value] if isinstance(value, list) else value


class RemediationConfig(_Strict):
    allow: list[Contact] = Field(default_factory=list)  # besides the incident commander
    dry_run: bool = False
    cooldown: Duration = Field(default_factory=lambda: timedelta(minutes=5))
    verify_timeout: Duration = Field(default_factory=lambda: timedelta(seconds=60))
    verify_interval: ProbeDuration = Field(default_factory=lambda: timedelta(seconds=2))


class ProbesConfig(_Strict):
    concurrency: int = Field(default=64, ge=1, le=1024)
    on_declare: bool = True
    monitoring_interval: Duration | None = Field(default_factory=lambda: timedelta(minutes=1))


class WarroomConfig(_Strict):
    severities: list[SeverityConfig] | None = Field(default=None, min_length=1)
    escalation: EscalationConfig | None = None
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    roles: list[str] = Field(default_factory=lambda: ["commander", "tech_lead", "comms_lead"])
    timezone: str = "UTC"
    services: list[ServiceConfig] = Field(default_factory=list)
    runbooks: dict[str, RunbookConfig] = Field(default_factory=dict)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    probes: ProbesConfig = Field(default_factory=ProbesConfig)
    paging: PagingConfig = Field(default_factory=PagingConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)
    templates: str | None = None          # folder of *.md.j2 overrides
    timeline_reaction: str = Field(default="pushpin", pattern=r"^[a-z0-9_+-]+$")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", messages.CONFIG_BAD_TIMEZONE,
                                      {"value": value}) from None
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        if "commander" not in value:
            raise PydanticCustomError("roles", messages.CONFIG_NO_COMMANDER, {})
        for role in value:
            if not re.match(r"^[a-z][a-z0-9_]*$", role):
                raise PydanticCustomError("roles", messages.CONFIG_BAD_ROLE, {"value": role})
        return value

    @model_validator(mode="after")
    def _unique_severity_names(self) -> "WarroomConfig":
        seen: dict[str, str] = {}
        for sev in self.severities or []:
            for word in [sev.name, *sev.aliases]:
                folded = word.lower()
                if folded in seen:
                    raise PydanticCustomError("severity", messages.CONFIG_DUPLICATE_SEVERITY,
                                              {"value": word, "other": seen[folded]})
                seen[folded] = sev.name
        return self

    def catalog_problems(self) -> list[tuple[tuple[Any, ...], str]]:
        """Cross-service problems pydantic cannot see: duplicates, unknown targets, cycles."""
        from bot.core.triage import PATTERNS

        problems: list[tuple[tuple[Any, ...], str]] = []
        names = [s.name for s in self.services]
        for i, svc in enumerate(self.services):
            if names.index(svc.name) != i:
                problems.append((("services", i, "name"),
                                 messages.CONFIG_DUPLICATE_SERVICE.format(value=svc.name)))
            for j, dep in enumerate(svc.depends_on):
                if dep not in names:
                    problems.append((("services", i, "depends_on", j),
                                     messages.CONFIG_UNKNOWN_DEPENDENCY.format(
                                         value=dep, known=", ".join(names) or "none")))
        cycle = find_cycle({s.name: list(s.depends_on) for s in self.services})
        if cycle:
            at = names.index(cycle[0])
            problems.append((("services", at, "depends_on"),
                             messages.CONFIG_DEPENDENCY_CYCLE.format(path=" -> ".join(cycle))))
        for key in self.runbooks:
            if key not in PATTERNS:
                problems.append((("runbooks", key), messages.CONFIG_UNKNOWN_PATTERN.format(
                    value=key, known=", ".join(PATTERNS))))
        return problems

    def to_catalog(self) -> Catalog:
        return Catalog(
            services=tuple(Service(name=s.name, tier=s.tier, depends_on=tuple(s.depends_on),
                                   runbook=s.runbook.to_runbook() if s.runbook else None)
                           for s in self.services),
            runbooks={k: v.to_runbook() for k, v in self.runbooks.items()})

    def checks_of(self, name: str) -> list[Check]:
        svc = next((s for s in self.services if s.name == name), None)
        return list(svc.checks) if svc else []

    def to_policy(self) -> Policy:
        severities = DEFAULT_SEVERITIES if self.severities is None else tuple(
            Severity(name=s.name, aliases=tuple(s.aliases), description=s.description,
                     ack_within=s.ack_within, update_every=s.update_every, page=s.page)
            for s in self.severities)
        escalation = DEFAULT_ESCALATION if self.escalation is None else Escalation(
            levels=tuple(EscalationLevel(
                name=lv.name, after=lv.after, notify=tuple(lv.notify), webhook=lv.webhook,
                pagerduty_key=lv.pagerduty.routing_key.get_secret_value() if lv.pagerduty else None)
                for lv in self.escalation.levels),
            by_type={k: tuple(v) for k, v in self.escalation.by_type.items()})
        return Policy(severities=severities, escalation=escalation,
                      channels=Channels(announce=self.channels.announce,
                                        prefix=self.channels.prefix,
                                        drill_prefix=self.channels.drill_prefix,
                                        archive_on_close=self.channels.archive_on_close),
                      roles=tuple(self.roles), timezone=self.timezone,
                      timeline_reaction=self.timeline_reaction)

    def slos(self) -> dict[str, tuple[float, timedelta]]:
        """service -> (SLO target, period), for the services that have an `slo` (issue 6)."""
        return {s.name: (s.slo.target, s.slo.period) for s in self.services if s.slo is not None}


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _line_index(text: str) -> dict[tuple[Any, ...], int]:
    """Map each YAML path to its 1-based line, from PyYAML's node marks."""
    index: dict[tuple[Any, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return index

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        index.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value)
                index[child] = key.start_mark.line + 1
                walk(value, child)
                index[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return index


def _format_errors(exc: ValidationError, *, text: str, source: str) -> list[str]:
    lines = _line_index(text)
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        # pydantic puts tagged-union/validator names in loc; keep only real path parts
        line = None
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in lines:
                line = lines[loc[:cut]]
                break
        where = f"{source}:{line}" if line else source
        out.append(messages.config_error(where=where, path=_path_text(loc), err=err))
    return out


def parse_config(text: str, *, source: str = "warroom.yml") -> WarroomConfig:
    """Validate config text; raise ConfigError with every located problem."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise errors.ConfigError([messages.config_yaml_error(where=where, exc=exc)],
                                 source=source) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise errors.ConfigError([f"{source}:1: {messages.CONFIG_NOT_A_MAPPING}"], source=source)
    try:
        config = WarroomConfig.model_validate(data)
    except ValidationError as exc:
        raise errors.ConfigError(_format_errors(exc, text=text, source=source),
                                 source=source) from exc
    problems = config.catalog_problems()
    if config.templates is not None:
        folder = Path(config.templates).expanduser()
        if not folder.is_absolute() and source not in ("warroom.yml", "<text>"):
            folder = Path(source).parent / folder
            config = config.model_copy(update={"templates": str(folder)})
        if not folder.is_dir():
            problems.append((("templates",), messages.CONFIG_NO_TEMPLATES.format(value=folder)))
    if problems:
        lines = _line_index(text)
        raise errors.ConfigError(
            [f"{source}:{lines.get(loc, lines.get(loc[:-1], 1))}: {_path_text(loc)}: {msg}"
             for loc, msg in problems], source=source)
    return config


def load_config(path: Path | None) -> WarroomConfig:
    if path is None:
        return WarroomConfig()
    try:
        text = Path(path).expanduser().read_text()
    except OSError as exc:
        raise errors.ConfigError([messages.config_unreadable(path=str(path), exc=exc)],
                                 source=str(path)) from exc
    return parse_config(text, source=str(path))


class Settings(BaseSettings):
    """The environment. Tokens are SecretStr and never printed."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    redis_url: SecretStr | None = None
    warroom_config: Path | None = None
    warroom_data_dir: Path = Path("warroom-data")
    warroom_redis_prefix: str = "warroom"
    warroom_log_level: str = "info"
    port: int = 3000

    def problems(self, *, socket_mode: bool) -> list[str]:
        """Everything missing or malformed for this mode, one sentence each."""
        out = []
        bot = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        if not bot:
            out.append(messages.ENV_MISSING_BOT_TOKEN)
        elif not bot.startswith("xoxb-"):
            out.append(messages.ENV_BAD_BOT_TOKEN)
        if socket_mode:
            app = self.slack_app_token.get_secret_value() if self.slack_app_token else ""
            if not app:
                out.append(messages.ENV_MISSING_APP_TOKEN)
            elif not app.startswith("xapp-"):
                out.append(messages.ENV_BAD_APP_TOKEN)
        elif not (self.slack_signing_secret and self.slack_signing_secret.get_secret_value()):
            out.append(messages.ENV_MISSING_SIGNING_SECRET)
        if not re.match(r"^https?://", self.slack_api_url):
            out.append(messages.ENV_BAD_API_URL)
        if not 0 < self.port < 65536:
            out.append(messages.ENV_BAD_PORT)
        return out

    @property
    def api_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"
