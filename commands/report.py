"""The post-incident report: rendered from the timeline, uploaded, kept in Redis."""

from __future__ import annotations

import re

from pydantic import BaseModel

from bot.core import errors, incident as inc
from bot.core.incident import EventKind, Incident, TimelineEvent
from bot.core.ports import Deps
from commands.target import Target, find_incident


class ReportInput(Target):
    pass


class Report(BaseModel):
    incident: Incident
    markdown: str
    uploaded: bool


async def generate(incident: Incident, deps: Deps, *, actor: str | None) -> Report:
    assert deps.templates is not None
    events = await deps.store.timeline(incident.id)
    markdown = await _readable(deps.templates.report(incident, events), incident, deps)
    await deps.store.save_report(incident.id, markdown)
    uploaded = True
    try:
        await deps.chat.upload_report(incident, markdown)
    except errors.ChatError:
        uploaded = False
    now = deps.clock.now()
    change = await deps.store.mutate(incident.id, lambda cur: inc.record(
        cur, TimelineEvent(at=now, kind=EventKind.report_generated, actor=actor,
                           data={"uploaded": "yes" if uploaded else "no"}), report_at=now))
    return Report(incident=change.incident, markdown=markdown, uploaded=uploaded)


_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


async def _readable(markdown: str, incident: Incident, deps: Deps) -> str:
    """A file is read outside Slack: mentions become @names, the war room its #name."""
    try:
        names = await deps.chat.user_names(_USER.findall(markdown))
    except errors.ChatError:
        names = {}
    text = _USER.sub(lambda m: f"@{names.get(m.group(1), m.group(1))}", markdown)
    if incident.channel_id and incident.channel_name:
        text = text.replace(f"<#{incident.channel_id}>", f"#{incident.channel_name}")
    return text


async def run(cmd: ReportInput, deps: Deps) -> Report:
    return await generate(await find_incident(cmd, deps), deps, actor=cmd.actor)
