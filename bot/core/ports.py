"""Ports: what the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from typing import Any, Protocol

from pydantic import BaseModel, Field

from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.core.escalation import Step
from bot.core.incident import Change, Incident, StatusUpdate, TimelineEvent
from bot.core.policy import Policy
from bot.core.triage import ProbeReport


class IncidentStore(Protocol):
    async def reserve(self, request_key: str, day: date) -> tuple[date, int, bool]:
        """(day, seq) for the incident a request declares; fresh=False when seen before."""
    async def claim_once(self, key: str, value: str) -> str | None:
        """Record `value` under `key` unless present; return the earlier value if any."""
    async def create(self, change: Change) -> Incident | None:
        """Save a new incident; None when it exists already."""
    async def append(self, incident_id: str, event: TimelineEvent) -> None: ...
    async def get(self, incident_id: str) -> Incident: ...
    async def mutate(self, incident_id: str, fn: Callable[[Incident], Change]) -> Change: ...
    async def by_channel(self, channel_id: str) -> str | None: ...
    async def list_open(self) -> list[Incident]: ...
    async def timeline(self, incident_id: str) -> list[TimelineEvent]: ...
    async def save_report(self, incident_id: str, markdown: str) -> None: ...
    async def report(self, incident_id: str) -> str | None: ...
    async def lease(self, key: str, *, seconds: float) -> bool:
        """True for the one caller that takes `key` until it expires (replica election)."""


class InviteResult(BaseModel):
    invited: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class ChannelRef(BaseModel):
    id: str
    name: str


class WarRoom(Protocol):
    """The chat side of an incident, in domain words (Slack lives behind it)."""

    async def create_channel(self, name: str) -> ChannelRef: ...
    async def invite(self, channel_id: str, users: list[str]) -> InviteResult: ...
    async def post_card(self, incident: Incident) -> str: ...
    async def pin(self, channel_id: str, ts: str) -> None: ...
    async def refresh_card(self, incident_id: str) -> None:
        """Bring the pinned card up to date (coalesced; may run in the background)."""
    async def announce(self, incident: Incident, *, kind: str) -> None: ...
    async def post_update(self, incident: Incident, update: StatusUpdate) -> None: ...
    async def post_problem(self, incident: Incident, *, step: str, error: str) -> None: ...
    async def say(self, incident: Incident, text: str) -> None:
        """A short line in the incident channel (who acknowledged, who resolved, …)."""
    async def post_triage(self, incident: Incident, report: ProbeReport) -> None:
        """The triage card in the incident channel (long evidence in a thread)."""
    async def post_regression(self, incident: Incident, report: ProbeReport,
                              regressed: list[str]) -> None: ...
    async def notify_level(self, incident: Incident, step: Step, *, reason: str,
                           by: str | None = None, note: str = "") -> None:
        """Channel message naming the level, invite every member, DM each with Acknowledge."""
    async def remind(self, incident: Incident, *, mentioned: list[str]) -> None: ...
    async def post_text(self, incident: Incident, text: str) -> None: ...
    async def upload_report(self, incident: Incident, markdown: str) -> None: ...
    async def post_customer_draft(self, incident: Incident, *, kind: str, text: str) -> None: ...
    async def archive(self, incident: Incident) -> None: ...
    async def message_text(self, channel_id: str, ts: str) -> tuple[str, str | None]: ...
    async def post_action_outcome(self, incident: Incident, info: ActionInfo,
                                  plan: PlannedAction, outcome: ActionOutcome, *,
                                  by: str) -> None: ...
    async def post_verification(self, incident: Incident, *, service: str, healthy: bool,
                                took: timedelta, report: ProbeReport) -> None: ...
    async def post_recovery_step(self, incident: Incident, tier: str, services: list[str], *,
                                 healthy: bool, last: bool) -> None: ...
    async def post_recovery_refused(self, incident: Incident, service: str,
                                    error: Exception) -> None: ...
    def spawn(self, incident_id: str, effect: Any) -> None:
        """Run a side effect (an awaitable) after the reply; failures are logged."""
    async def group_members(self, ids: list[str]) -> list[str]:
        """User ids, with user groups (S…) expanded."""
    async def user_names(self, ids: list[str]) -> dict[str, str]: ...


class Timers(Protocol):
    async def schedule(self, kind: str, incident_id: str, token: str, *, due: datetime) -> None: ...


class Pager(Protocol):
    """Paging beyond Slack (webhooks, PagerDuty); never raises, records what it sent."""

    async def trigger(self, incident: Incident, step: Step) -> list[str]: ...
    async def acknowledge(self, incident: Incident) -> list[str]: ...
    async def resolve(self, incident: Incident) -> list[str]: ...


class ActionInfo(BaseModel):
    """One declared remediation action, as the Slack side shows it."""

    service: str
    index: int
    name: str
    kind: str
    description: str            # what will run where (from config)
    allow: list[str] = Field(default_factory=list)
    dry_run: bool = False
    replicas_min: int | None = None  # kubernetes_scale asks for a replica count
    replicas_max: int | None = None
    restarts: bool = False      # usable by ordered recovery (a restart kind)


class PlannedAction(BaseModel):
    description: str
    params: dict[str, str | int] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)  # the adapter's own plan, handed back


class ActionOutcome(BaseModel):
    ok: bool
    dry_run: bool
    summary: str
    detail: list[str] = Field(default_factory=list)


class Remediator(Protocol):
    global_allow: list[str]
    dry_run: bool
    cooldown_seconds: float
    verify_timeout_seconds: float
    verify_interval_seconds: float

    def actions_for(self, service: str) -> list[ActionInfo]: ...
    async def plan(self, service: str, index: int, params: dict[str, str | int]
                   ) -> PlannedAction: ...
    async def execute(self, service: str, index: int, plan: PlannedAction, *,
                      dry_run: bool) -> ActionOutcome: ...


class Renderer(Protocol):
    def report(self, incident: Incident, events: list[TimelineEvent]) -> str: ...
    def customer(self, incident: Incident, *, kind: str) -> str: ...


class Prober(Protocol):
    def probed_services(self) -> list[str]: ...
    def unknown(self, names: list[str]) -> list[str]: ...
    async def run(self, names: list[str] | None = None) -> ProbeReport: ...


@dataclass(frozen=True, kw_only=True)
class Deps:
    store: IncidentStore
    chat: WarRoom
    clock: Clock
    policy: Policy
    catalog: Catalog = Catalog()
    prober: Prober | None = None
    timers: Timers | None = None
    pager: Pager | None = None
    metrics: Any = None  # bot.metrics.Metrics: observe(change) after store writes
    templates: "Renderer | None" = None
    remediator: "Remediator | None" = None
