"""The WarRoom port on Slack's Web API (slack_sdk AsyncWebClient).

Slack failures become `ChatError` here (`raise … from exc`); 429s were already
retried by the client's rate-limit handler before they reach this module.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages as m
from bot.core import errors
from bot.core.clock import Clock
from bot.core.durations import format_duration
from bot.core.escalation import Step, interval_after
from bot.core.incident import EventKind, Incident, StatusUpdate, TimelineEvent
from bot.core.policy import Policy
from bot.core.ports import ChannelRef, IncidentStore, InviteResult
from bot.core.triage import ProbeReport
from bot.render import Templates
from bot.slack import blocks

log = structlog.get_logger(__name__)


def _error_name(exc: SlackClientError) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


class SlackWarRoom:
    def __init__(self, client: AsyncWebClient, *, store: IncidentStore, clock: Clock,
                 policy: Policy, templates: Templates | None = None,
                 actions: Callable[[str], list[Any]] | None = None,
                 on_error: Callable[[str, str], None] | None = None) -> None:
        self._client = client
        self._on_error = on_error  # metrics: (method, error) of each failed call
        self._templates = templates or Templates(policy=policy)
        self._actions = actions  # service -> declared remediation actions (ActionInfo)
        self._store = store
        self._clock = clock
        self._policy = policy
        self._dirty: dict[str, bool] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._effects: set[asyncio.Task[None]] = set()
        self._order: dict[str, asyncio.Lock] = {}

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client.api_call(method, json=kwargs)
        except SlackClientError as exc:
            if self._on_error is not None:
                self._on_error(method, _error_name(exc))
            raise errors.ChatError(method, _error_name(exc)) from exc
        return response.data if isinstance(response.data, dict) else {}

    # ------------------------------------------------------------ channels
    async def create_channel(self, name: str) -> ChannelRef:
        try:
            data = await self._call("conversations.create", name=name, is_private=False)
        except errors.ChatError as exc:
            if exc.error == "name_taken":
                raise errors.ChannelNameTaken(name) from exc
            raise
        channel = data["channel"]
        return ChannelRef(id=channel["id"], name=channel["name"])

    async def _expand(self, ids: list[str]) -> list[str]:
        people: list[str] = []
        for item in ids:
            if item.startswith("S"):
                data = await self._call("usergroups.users.list", usergroup=item)
                people += data.get("users", [])
            else:
                people.append(item)
        return list(dict.fromkeys(people))

    async def post_action_outcome(self, incident: Incident, info: Any, plan: Any, outcome: Any,
                                  *, by: str) -> None:
        text = m.action_outcome(name=info.name, by=by, ok=outcome.ok, dry_run=outcome.dry_run,
                                summary=outcome.summary, description=plan.description)
        if outcome.detail:
            text += "\n" + "\n".join(f"> {line}" for line in outcome.detail[:10])
        await self.post_text(incident, text)

    async def post_verification(self, incident: Incident, *, service: str, healthy: bool,
                                took: Any, report: ProbeReport) -> None:
        text = m.verification(service=service, healthy=healthy, took=format_duration(took))
        if not healthy:
            for svc in report.failing:
                for check in svc.checks:
                    if check.status.failing:
                        text += f"\n> {svc.name} {check.kind}: {check.summary}"
        await self.post_text(incident, text)

    async def post_recovery_step(self, incident: Incident, tier: str, services: list[str], *,
                                 healthy: bool, last: bool) -> None:
        await self.post_text(incident, m.recovery_step(tier=tier, services=services,
                                                       healthy=healthy, last=last))

    async def user_names(self, ids: list[str]) -> dict[str, str]:
        """Display names for user ids (ids that cannot be looked up are left out)."""
        names: dict[str, str] = {}
        for user in dict.fromkeys(ids):
            try:
                data = await self._call("users.info", user=user)
            except errors.ChatError:
                continue
            profile = data.get("user", {}).get("profile", {})
            names[user] = (profile.get("display_name") or data.get("user", {}).get("real_name")
                           or data.get("user", {}).get("name") or user)
        return names

    async def post_recovery_refused(self, incident: Incident, service: str,
                                    error: errors.WarroomError) -> None:
        await self.post_text(incident, m.recovery_step_refused(service=service,
                                                               why=m.render_error(error)))

    async def group_members(self, ids: list[str]) -> list[str]:
        return await self._expand(ids)

    async def invite(self, channel_id: str, users: list[str]) -> InviteResult:
        """One call for everybody; if Slack fails it (one bad id fails all), one call each."""
        people = await self._expand(users)
        result = InviteResult()
        if not people:
            return result
        try:
            await self._call("conversations.invite", channel=channel_id, users=",".join(people))
            result.invited = people
            return result
        except errors.ChatError as exc:
            if exc.error not in {"already_in_channel", "user_not_found", "cant_invite_self",
                                 "cant_invite", "user_is_restricted", "user_is_ultra_restricted",
                                 "user_disabled", "not_allowed_token_type", "ura_max_channels"}:
                raise
        for person in people:
            try:
                await self._call("conversations.invite", channel=channel_id, users=person)
                result.invited.append(person)
            except errors.ChatError as exc:
                if exc.error in {"already_in_channel", "cant_invite_self"}:
                    result.invited.append(person)
                else:
                    result.failed[person] = exc.error
        return result

    # ------------------------------------------------------------ messages
    async def post_card(self, incident: Incident) -> str:
        card = blocks.war_room_card(incident, now=self._clock.now(), policy=self._policy,
                                    templates=self._templates)
        data = await self._call("chat.postMessage", channel=incident.channel_id, **card)
        return str(data["ts"])

    async def pin(self, channel_id: str, ts: str) -> None:
        try:
            await self._call("pins.add", channel=channel_id, timestamp=ts)
        except errors.ChatError as exc:
            if exc.error != "already_pinned":
                raise

    async def refresh_card(self, incident_id: str) -> None:
        """Coalesce: at most one chat.update in flight per incident, then one more if needed."""
        if incident_id in self._running:
            self._dirty[incident_id] = True
            return
        task = asyncio.create_task(self._refresh_loop(incident_id))
        self._running[incident_id] = task

    async def _refresh_loop(self, incident_id: str) -> None:
        bound = log.bind(incident_id=incident_id)
        try:
            while True:
                self._dirty[incident_id] = False
                incident = await self._store.get(incident_id)
                if incident.channel_id and incident.card_ts:
                    card = blocks.war_room_card(incident, now=self._clock.now(),
                                                policy=self._policy, templates=self._templates)
                    try:
                        await self._call("chat.update", channel=incident.channel_id,
                                         ts=incident.card_ts, **card)
                    except errors.ChatError as exc:
                        bound.warning("card.update_failed", error=exc.error)
                    # another replica may have changed the incident while this update was
                    # in flight (and its newer card may have landed first): render again
                    if (await self._store.get(incident_id)).version != incident.version:
                        self._dirty[incident_id] = True
                if not self._dirty.get(incident_id):
                    break
        except Exception:  # a background task must never die silently
            bound.exception("card.refresh_crashed")
        finally:
            self._running.pop(incident_id, None)
            self._dirty.pop(incident_id, None)

    async def announce(self, incident: Incident, *, kind: str) -> None:
        channel = self._policy.channels.announce
        if not channel:
            return
        old = None
        if kind == "severity_changed" and len(incident.severity_history) > 1:
            old = incident.severity_history[-1].old
        message = blocks.announcement(incident, kind=kind, old_severity=old,
                                      templates=self._templates, update=incident.last_update
                                      if kind == "update" else None)
        await self._call("chat.postMessage", channel=channel, **message)

    async def post_update(self, incident: Incident, update: StatusUpdate) -> None:
        """In the incident channel and in the announcements channel."""
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id,
                             **blocks.update_message(incident, update, templates=self._templates))
        await self.announce(incident, kind="update")

    async def post_text(self, incident: Incident, text: str) -> None:
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id, text=text,
                             blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": c}}
                                     for c in blocks._chunks(text.splitlines())][:50])

    async def post_customer_draft(self, incident: Incident, *, kind: str, text: str) -> None:
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id,
                             **blocks.customer_draft_message(incident, kind=kind, text=text))

    async def upload_report(self, incident: Incident, markdown: str) -> None:
        if not incident.channel_id:
            return
        try:
            await self._client.files_upload_v2(
                channel=incident.channel_id, content=markdown,
                filename=f"{incident.id}-postmortem.md", title=m.report_title(incident_id=incident.id),
                initial_comment=m.report_posted(incident_id=incident.id))
        except SlackClientError as exc:
            raise errors.ChatError("files.uploadV2", _error_name(exc)) from exc

    async def archive(self, incident: Incident) -> None:
        if incident.channel_id:
            await self._call("conversations.archive", channel=incident.channel_id)

    async def message_text(self, channel_id: str, ts: str) -> tuple[str, str | None]:
        """The text and author of one message (for pinning it to the timeline)."""
        data = await self._call("conversations.history", channel=channel_id, latest=ts,
                                inclusive=True, limit=1)
        for message in data.get("messages", []):
            if message.get("ts") == ts:
                return str(message.get("text", "")), message.get("user")
        return "", None

    async def post_problem(self, incident: Incident, *, step: str, error: str) -> None:
        if not incident.channel_id:
            return
        await self._call("chat.postMessage", channel=incident.channel_id,
                         text=m.problem_in_channel(step=step, error=error))

    async def say(self, incident: Incident, text: str) -> None:
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id, text=text)

    async def post_triage(self, incident: Incident, report: ProbeReport) -> None:
        if not incident.channel_id:
            return
        actions = {s.name: self._actions(s.name) for s in report.failing} if self._actions else {}
        card, thread = blocks.triage_card(incident, report, actions)
        data = await self._call("chat.postMessage", channel=incident.channel_id, **card)
        for page in thread:
            await self._call("chat.postMessage", channel=incident.channel_id,
                             thread_ts=data["ts"], **page)

    async def post_regression(self, incident: Incident, report: ProbeReport,
                              regressed: list[str]) -> None:
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id,
                             **blocks.regression_message(incident, report, regressed))

    async def notify_level(self, incident: Incident, step: Step, *, reason: str,
                           by: str | None = None, note: str = "") -> None:
        """Channel message naming the level; invites (groups expanded); a DM each with
        Acknowledge when the severity pages."""
        levels = incident.escalation.levels
        waited = format_duration(interval_after(levels, max(step.level - 1, 1))
                                 if not step.repeat else interval_after(levels, step.level))
        text = m.level_notice(reason=reason, level=step.level, name=step.name,
                              members=step.members, waited=waited, by=by, note=note,
                              last=step.repeat)
        if incident.drill:
            text = f"{m.DRILL_TAG} {text}"
        if incident.channel_id:
            try:  # the DMs below must go out even when the channel is gone
                await self._call("chat.postMessage", channel=incident.channel_id, text=text)
                if reason != "declare":  # declare already invited level 1
                    await self.invite(incident.channel_id, step.members)
            except errors.ChatError as exc:
                log.warning("escalate.channel_notice_failed", incident_id=incident.id,
                            error=exc.error)
        if not incident.pages:
            return
        dm = blocks.level_dm(incident, step)
        try:
            people = await self._expand(step.members)
        except errors.ChatError as exc:
            log.warning("escalate.group_lookup_failed", incident_id=incident.id, error=exc.error)
            people = [p for p in step.members if not p.startswith("S")]
        for person in people:
            try:
                opened = await self._call("conversations.open", users=person)
                await self._call("chat.postMessage", channel=opened["channel"]["id"], **dm)
            except errors.ChatError as exc:
                log.warning("escalate.dm_failed", incident_id=incident.id, user=person,
                            error=exc.error)

    async def remind(self, incident: Incident, *, mentioned: list[str]) -> None:
        if incident.channel_id:
            await self._call("chat.postMessage", channel=incident.channel_id,
                             **blocks.reminder_message(incident, mentioned=mentioned))

    def spawn(self, incident_id: str, effect: Any) -> None:
        """Run a side effect after the reply (an awaitable), in order per incident; a
        failure is logged and put on the timeline, never raised at the user."""
        lock = self._order.setdefault(incident_id, asyncio.Lock())

        async def run() -> None:
            async with lock:
                try:
                    await effect
                except errors.ChatError as exc:
                    log.warning("effect.failed", incident_id=incident_id, method=exc.method,
                                error=exc.error)
                    with contextlib.suppress(errors.StoreError):
                        await self._store.append(incident_id, TimelineEvent(
                            at=self._clock.now(), kind=EventKind.slack_failed,
                            data={"step": exc.method, "error": exc.error}))
                except Exception:
                    log.exception("effect.crashed", incident_id=incident_id)

        task = asyncio.create_task(run())
        self._effects.add(task)
        task.add_done_callback(self._effects.discard)

    async def drain(self) -> None:
        """Wait for background card refreshes and side effects (shutdown, tests)."""
        while self._running or self._effects:
            await asyncio.gather(*list(self._running.values()), *list(self._effects),
                                 return_exceptions=True)
