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
from bot.core.policy import (DEFAULT_ESCALATION, DEFAULT_SEVERITIES, Channels, Escalation,
                             EscalationLevel, Policy, Severity)

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


class LevelConfig(_Strict):
    name: str = Field(min_length=1)
    after: Duration | None = None
    notify: list[Contact] = Field(default_factory=list)


class EscalationConfig(_Strict):
    levels: list[LevelConfig] = Field(min_length=1)
    by_type: dict[str, list[Contact]] = Field(default_factory=dict)


class ChannelsConfig(_Strict):
    announce: str | None = None
    prefix: str = "inc"

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if slugify(value) != value or len(value) > 20:
            raise PydanticCustomError("prefix", messages.CONFIG_BAD_PREFIX, {"value": value})
        return value


class WarroomConfig(_Strict):
    severities: list[SeverityConfig] | None = Field(default=None, min_length=1)
    escalation: EscalationConfig | None = None
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    roles: list[str] = Field(default_factory=lambda: ["commander", "tech_lead", "comms_lead"])
    timezone: str = "UTC"

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

    def to_policy(self) -> Policy:
        severities = DEFAULT_SEVERITIES if self.severities is None else tuple(
            Severity(name=s.name, aliases=tuple(s.aliases), description=s.description,
                     ack_within=s.ack_within, update_every=s.update_every, page=s.page)
            for s in self.severities)
        escalation = DEFAULT_ESCALATION if self.escalation is None else Escalation(
            levels=tuple(EscalationLevel(name=lv.name, after=lv.after, notify=tuple(lv.notify))
                         for lv in self.escalation.levels),
            by_type={k: tuple(v) for k, v in self.escalation.by_type.items()})
        return Policy(severities=severities, escalation=escalation,
                      channels=Channels(announce=self.channels.announce,
                                        prefix=self.channels.prefix),
                      roles=tuple(self.roles), timezone=self.timezone)


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
        return WarroomConfig.model_validate(data)
    except ValidationError as exc:
        raise errors.ConfigError(_format_errors(exc, text=text, source=source),
                                 source=source) from exc


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
