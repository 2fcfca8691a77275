"""The one error tree of warroom.

    WarroomError
     ├── UsageError               bad input from a user; nothing was written
     │    ├── UnknownSubcommand
     │    ├── UnknownSeverity
     │    ├── MissingArgument
     │    ├── UnknownRole
     │    ├── InvalidUser
 │    ├── TitleTooLong
 │    ├── UnknownService
 │    └── NoServicesConfigured
     ├── IncidentError            the request is valid but the incident disagrees
     │    ├── NoIncidentHere
     │    ├── IncidentNotFound
     │    ├── AlreadyResolved
     │    ├── AlreadyAcknowledged
     │    └── NothingChanged
     ├── ConfigError              warroom.yml or the environment is wrong
     ├── StoreError               Redis failed (translated from redis-py)
     │    └── VersionConflict     optimistic write lost too many races
     └── ChatError                Slack failed (translated from slack_sdk)
          └── ChannelNameTaken

Errors carry data, never sentences: `bot.messages` renders them for people.
"""

from __future__ import annotations


class WarroomError(Exception):
    """Base of every error warroom raises on purpose."""


class UsageError(WarroomError):
    """The user typed something warroom cannot act on."""

    def __init__(self, *, usage: str | None = None) -> None:
        super().__init__(self.__class__.__name__)
        self.usage = usage


class UnknownSubcommand(UsageError):
    def __init__(self, word: str) -> None:
        super().__init__(usage=None)
        self.word = word


class UnknownSeverity(UsageError):
    def __init__(self, given: str, *, known: list[str], usage: str | None = None) -> None:
        super().__init__(usage=usage)
        self.given = given
        self.known = known


class MissingArgument(UsageError):
    def __init__(self, what: str, *, usage: str) -> None:
        super().__init__(usage=usage)
        self.what = what


class UnknownRole(UsageError):
    def __init__(self, given: str, *, known: list[str], usage: str) -> None:
        super().__init__(usage=usage)
        self.given = given
        self.known = known


class InvalidUser(UsageError):
    def __init__(self, given: str, *, usage: str) -> None:
        super().__init__(usage=usage)
        self.given = given


class TitleTooLong(UsageError):
    def __init__(self, length: int, *, limit: int, usage: str) -> None:
        super().__init__(usage=usage)
        self.length = length
        self.limit = limit


class UnknownService(UsageError):
    def __init__(self, given: list[str], *, known: list[str], usage: str) -> None:
        super().__init__(usage=usage)
        self.given = given
        self.known = known


class NoServicesConfigured(UsageError):
    def __init__(self) -> None:
        super().__init__(usage=None)


class IncidentError(WarroomError):
    """The incident's state does not allow the request."""


class NoIncidentHere(IncidentError):
    def __init__(self, *, open_ids: list[str]) -> None:
        super().__init__("no incident in this channel")
        self.open_ids = open_ids


class IncidentNotFound(IncidentError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


class AlreadyResolved(IncidentError):
    def __init__(self, incident_id: str, *, by: str | None, at: object) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id
        self.by = by
        self.at = at


class AlreadyAcknowledged(IncidentError):
    def __init__(self, incident_id: str, *, by: str | None, at: object) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id
        self.by = by
        self.at = at


class NothingChanged(IncidentError):
    def __init__(self, incident_id: str, *, what: str, value: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id
        self.what = what
        self.value = value


class NotResolvedYet(IncidentError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


class NotAllowed(IncidentError):
    def __init__(self, incident_id: str, *, user: str, action: str) -> None:
        super().__init__(incident_id)
        self.incident_id, self.user, self.action = incident_id, user, action


class Cooldown(IncidentError):
    def __init__(self, incident_id: str, *, service: str, cooldown: object) -> None:
        super().__init__(incident_id)
        self.incident_id, self.service, self.cooldown = incident_id, service, cooldown


class NotThisIncident(IncidentError):
    def __init__(self, incident_id: str, *, service: str) -> None:
        super().__init__(incident_id)
        self.incident_id, self.service = incident_id, service


class UnknownAction(IncidentError):
    def __init__(self, service: str, index: int) -> None:
        super().__init__(service)
        self.service, self.index = service, index


class ActionRefused(IncidentError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoEscalationLevels(IncidentError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


class StillFailing(IncidentError):
    def __init__(self, incident_id: str, *, services: dict[str, str], summary: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id
        self.services = services  # name -> one-line summary of what is still wrong
        self.summary = summary    # the resolve summary the user gave, to resolve anyway


class ConfigError(WarroomError):
    """Configuration is invalid; `errors` holds one located problem per line."""

    def __init__(self, errors: list[str], *, source: str | None = None) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.source = source


class StoreError(WarroomError):
    """The incident store failed."""


class VersionConflict(StoreError):
    def __init__(self, incident_id: str) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


class ChatError(WarroomError):
    """A Slack call failed after its retries; `error` is Slack's error name."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


class ChannelNameTaken(ChatError):
    def __init__(self, name: str) -> None:
        super().__init__("conversations.create", "name_taken")
        self.name = name
