"""Incident policy: severities, escalation ladder, roles, channels.

These are the pure domain shapes; `bot.settings` loads them from `warroom.yml`.
An incident keeps a snapshot of its severity and ladder from the moment it was
declared, so editing the config never changes a running escalation.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

_SEVERITY_SHAPE = re.compile(r"^(?:p|sev-?)\d+$", re.IGNORECASE)


def _fold(word: str) -> str:
    return word.strip().lower()


class Severity(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    ack_within: timedelta | None = None
    update_every: timedelta | None = None
    page: bool = False

    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class EscalationLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    after: timedelta | None = None
    notify: tuple[str, ...] = ()
    webhook: str | None = None        # POST a JSON notification (paging beyond Slack)
    pagerduty_key: str | None = None  # PagerDuty Events API v2 routing key


class Escalation(BaseModel):
    model_config = ConfigDict(frozen=True)

    levels: tuple[EscalationLevel, ...] = ()
    by_type: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def first_responders(self, incident_type: str | None) -> list[str]:
        """Who is called at declare: level 1 plus the incident type's contacts."""
        people: list[str] = list(self.levels[0].notify) if self.levels else []
        if incident_type:
            people += [p for p in self.by_type.get(incident_type, ()) if p not in people]
        return people


class Channels(BaseModel):
    model_config = ConfigDict(frozen=True)

    announce: str | None = None
    prefix: str = "inc"
    drill_prefix: str = "drill"
    archive_on_close: bool = True


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True)

    severities: tuple[Severity, ...]
    escalation: Escalation = Escalation()
    channels: Channels = Channels()
    roles: tuple[str, ...] = ("commander", "tech_lead", "comms_lead")
    timezone: str = "UTC"
    timeline_reaction: str = "pushpin"

    def severity_names(self) -> list[str]:
        return [s.name for s in self.severities]

    def find_severity(self, word: str) -> Severity | None:
        """The severity named or aliased by `word`, case-insensitively."""
        folded = _fold(word)
        for severity in self.severities:
            if folded in {_fold(n) for n in severity.names()}:
                return severity
        return None

    def looks_like_severity(self, word: str) -> bool:
        """True for a configured name/alias or the shapes P<n>, SEV<n>, SEV-<n>."""
        return self.find_severity(word) is not None or bool(_SEVERITY_SHAPE.match(word))

    def severity(self, name: str) -> Severity:
        found = self.find_severity(name)
        if found is None:
            raise KeyError(name)
        return found

    def rank(self, name: str) -> int:
        """0 for the most severe."""
        return self.severity_names().index(self.severity(name).name)

    @property
    def default_severity(self) -> Severity:
        """What `declare <title>` without a severity uses: the middle of the list (P3 by default)."""
        return self.severities[min(2, len(self.severities) - 1)]


def _m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity(name="P1", aliases=("SEV1", "SEV-1", "critical"),
             description="Complete outage or data loss",
             ack_within=_m(15), update_every=_m(15), page=True),
    Severity(name="P2", aliases=("SEV2", "SEV-2", "high"),
             description="Major feature broken, one service down",
             ack_within=_m(60), update_every=_m(30), page=True),
    Severity(name="P3", aliases=("SEV3", "SEV-3", "medium"),
             description="Degraded performance, intermittent errors",
             ack_within=_m(240), update_every=_m(30), page=False),
    Severity(name="P4", aliases=("SEV4", "SEV-4", "low"),
             description="Minor issue, cosmetic, non-blocking",
             ack_within=_m(1440), update_every=None, page=False),
)

DEFAULT_ESCALATION = Escalation(levels=(
    EscalationLevel(name="On-call engineer"),
    EscalationLevel(name="Engineering manager", after=_m(15)),
    EscalationLevel(name="VP Engineering", after=_m(30)),
))

DEFAULT_POLICY = Policy(severities=DEFAULT_SEVERITIES, escalation=DEFAULT_ESCALATION)
