"""Bolt wiring: `/incident`, the card's buttons and the modals.

Slack payloads stop here: each listener turns one into a command's input model,
acks within Slack's 3 s (errors go in the ack body, ephemeral), then runs the
slow part. Nothing is written for bad input.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import structlog
from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

from bot import messages as m
from bot.core import errors
from bot.core.incident import Status
from bot.core.ports import Deps
from bot.slack import blocks
from bot.slack.parse import Request, parse
from bot.slack.war_room import SlackWarRoom
from commands import (ack, action, assign, close, customer, declare, escalate, note, pin, probe,
                      recover, remediate, report, resolve, severity, status, update)

log = structlog.get_logger(__name__)
COMMAND = "/incident"


def _ephemeral(text: str, **extra: Any) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, **extra}


def _request_key(body: dict[str, Any]) -> str:
    """Slack repeats a request with the same trigger_id; hash it (or the body) into a key."""
    seed = body.get("trigger_id") or json.dumps(body, sort_keys=True)
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


class Listeners:
    def __init__(self, deps: Deps, *, war_room: SlackWarRoom, probe_on_declare: bool = True) -> None:
        self.deps = deps
        self.war_room = war_room
        self.probe_on_declare = probe_on_declare
        self.types = [m.TYPE_GENERAL, *deps.policy.escalation.by_type.keys()]

    # ------------------------------------------------------------ /incident
    async def on_command(self, ack, command, respond, client) -> None:  # noqa: ANN001
        user, channel = command["user_id"], command.get("channel_id")
        try:
            req = parse(command.get("text", ""), policy=self.deps.policy)
        except errors.UsageError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        if req.sub == "declare":
            await self._declare_from_text(req, command=command, ack=ack, respond=respond,
                                          client=client)
            return
        if req.sub in {"probe", "resolve"}:
            await self._ack_then_run(req, user=user, channel=channel, ack=ack, respond=respond)
            return
        if req.sub == "recover":
            await self._recover_plan(req, user=user, channel=channel, ack=ack)
            return
        if req.sub in {"report", "close", "customer"}:
            await self._wrap_up_command(req, user=user, channel=channel, ack=ack,
                                        respond=respond, client=client,
                                        trigger_id=command.get("trigger_id", ""))
            return
        try:
            reply, rest = await self._run(req, user=user, channel=channel)
        except errors.WarroomError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        except ValidationError as exc:
            await ack(_ephemeral(m.invalid_input(_first_problem(exc), usage=m.USAGE.get(req.sub))))
            return
        await ack(reply)
        for page in rest:
            await respond(**page, response_type="ephemeral")

    async def _ack_then_run(self, req: Request, *, user: str, channel: str | None, ack,
                            respond) -> None:  # noqa: ANN001
        """Commands that may probe: cheap checks in the ack, the slow part after it."""
        target = {"actor": user, "channel_id": channel, "incident_id": req.incident_id}
        try:
            if req.sub == "probe":
                cmd = probe.ProbeInput(**target, services=req.services)
                probe.validate(cmd, self.deps)
                incident = await status.run(status.StatusInput(**target), self.deps)
                names = probe.services_for(incident, self.deps, named=req.services)
                await ack(_ephemeral(m.probe_started(count=len(names))))
                await self._probe(incident, named=req.services, actor=user, respond=respond)
                return
            rcmd = resolve.ResolveInput(**target, summary=req.text, force=req.force)
            if not await resolve.needs_verification(rcmd, self.deps):
                change = await resolve.run(rcmd, self.deps)
                await ack(self._resolved_reply(change, user=user))
                await self._after_resolve(change.incident, actor=user)
                return
            incident = await status.run(status.StatusInput(**target), self.deps)
            await ack(_ephemeral(m.resolve_checking(
                services=resolve.affected_services(incident, self.deps))))
        except errors.WarroomError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        try:
            change = await resolve.run(rcmd, self.deps)
        except errors.StillFailing as exc:
            await respond(**blocks.still_failing_message(m.render_error(exc), incident_id=exc.incident_id,
                                                         summary=exc.summary),
                          response_type="ephemeral", replace_original=False)
            return
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await respond(**self._resolved_reply(change, user=user), replace_original=False)
        await self._after_resolve(change.incident, actor=user)

    async def _after_resolve(self, incident, *, actor: str) -> None:  # noqa: ANN001
        """The resolution wrap-up: the report and the customer resolution draft."""
        try:
            await resolve.wrap_up(incident, self.deps, actor=actor)
        except errors.WarroomError as exc:
            log.warning("resolve.wrap_up_failed", incident_id=incident.id, error=repr(exc))

    async def _wrap_up_command(self, req: Request, *, user: str, channel: str | None, ack,
                               respond, client, trigger_id: str) -> None:  # noqa: ANN001
        target = {"actor": user, "channel_id": channel, "incident_id": req.incident_id}
        try:
            incident = await status.run(status.StatusInput(**target), self.deps)
            if req.sub == "close":
                if incident.is_open:
                    raise errors.NotResolvedYet(incident.id)
                if incident.closed_at is not None:
                    raise errors.NothingChanged(incident.id, what="status", value="closed")
        except errors.WarroomError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        if req.sub == "customer":
            await ack()
            kind = req.text or None
            chosen, text = await customer.draft(status.StatusInput(**target), self.deps,
                                                kind=kind)  # type: ignore[arg-type]
            await self._open_view(client, trigger_id=trigger_id,
                                  view=blocks.customer_modal(incident, kind=chosen, text=text),
                                  respond=respond)
            return
        await ack(_ephemeral(m.working_on(req.sub, incident_id=incident.id)))
        try:
            if req.sub == "report":
                await report.run(report.ReportInput(**target), self.deps)
                return
            change = await close.run(close.CloseInput(**target), self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await respond(response_type="in_channel", text=m.closed_reply(
            incident_id=change.incident.id, archived=self.deps.policy.channels.archive_on_close),
            replace_original=False)

    def _resolved_reply(self, change, *, user: str) -> dict[str, Any]:  # noqa: ANN001
        inc = change.incident
        return {"response_type": "in_channel", "text": m.resolved(
            incident_id=inc.id, by=user, took=inc.age(self.deps.clock.now()))}

    async def _probe(self, incident, *, named: list[str], actor: str | None, respond=None) -> None:  # noqa: ANN001
        bound = log.bind(incident_id=incident.id)
        try:
            result = await probe.probe_incident(incident, self.deps, named=named, actor=actor)
            bound.info("probe.done", pattern=result.report.triage.pattern.value,
                       failing=[s.name for s in result.report.failing])
        except errors.WarroomError as exc:
            bound.warning("probe.failed", error=repr(exc))
            if respond is not None:
                await respond(**_ephemeral(m.render_error(exc)), replace_original=False)

    async def _auto_probe(self, incident) -> None:  # noqa: ANN001
        prober = self.deps.prober
        if self.probe_on_declare and prober is not None and prober.probed_services() \
                and incident.channel_id:
            await self._probe(incident, named=[], actor=None)

    async def _run(self, req: Request, *, user: str, channel: str | None
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        deps, now = self.deps, self.deps.clock.now()
        target = {"actor": user, "channel_id": channel, "incident_id": req.incident_id}
        match req.sub:
            case "help":
                return _ephemeral(blocks.help_message(deps.policy)["text"]), []
            case "list":
                pages = blocks.incident_list(await status.list_open(deps), now=now)
                return {"response_type": "ephemeral", **pages[0]}, pages[1:]
            case "status":
                incident = await status.run(status.StatusInput(**target), deps)
                card = blocks.status_reply(incident, now=now, policy=deps.policy)
                return {"response_type": "ephemeral", **card}, []
            case "timeline":
                incident, events = await status.timeline(status.StatusInput(**target), deps)
                pages = blocks.timeline(incident, events)
                return {"response_type": "ephemeral", **pages[0]}, pages[1:]
            case "escalate":
                change = await escalate.run(escalate.EscalateInput(**target, reason=req.text),
                                            deps)
                level = change.incident.ladder.level
                name = change.incident.escalation.levels[level - 1].name
                return {"response_type": "in_channel", "text": m.escalated_reply(
                    incident_id=change.incident.id, level=level, name=name, by=user)}, []
            case "ack":
                change = await ack.run(ack.AckInput(**target), deps)
                inc = change.incident
                took = inc.time_to_acknowledge()
                assert took is not None
                return {"response_type": "in_channel",
                        "text": m.acknowledged(incident_id=inc.id, by=user, took=took)}, []
            case "sev":
                assert req.severity is not None
                change = await severity.run(severity.SeverityInput(**target,
                                                                   severity=req.severity), deps)
                old = change.incident.severity_history[-1].old or "?"
                return {"response_type": "in_channel", "text": m.severity_changed(
                    incident_id=change.incident.id, old=old, new=req.severity, by=user)}, []
            case "assign":
                assert req.role and req.user
                change = await assign.run(assign.AssignInput(**target, role=req.role,
                                                             user=req.user), deps)
                return {"response_type": "in_channel", "text": m.role_assigned(
                    incident_id=change.incident.id, role=req.role, user=req.user)}, []
            case "note":
                change = await note.run(note.NoteInput(**target, text=req.text), deps)
                return _ephemeral(m.note_added(incident_id=change.incident.id)), []
            case "action":
                change = await action.run(action.ActionInput(**target, text=req.text,
                                                             owner=req.user, due=req.due), deps)
                return {"response_type": "in_channel", "text": m.action_added(
                    incident_id=change.incident.id, text=req.text)}, []
            case "update":
                change = await update.run(update.UpdateInput(
                    **target, text=req.text,
                    status=Status(req.status) if req.status else None), deps)
                return _ephemeral(m.update_posted(incident_id=change.incident.id)), []
        raise errors.UnknownSubcommand(req.sub)

    async def _declare_from_text(self, req: Request, *, command, ack, respond, client) -> None:  # noqa: ANN001
        user = command["user_id"]
        if req.title is None:
            await ack()
            meta = json.dumps({"channel": command.get("channel_id"), "user": user,
                               "drill": req.drill})
            await self._open_view(client, trigger_id=command["trigger_id"],
                                  view=blocks.declare_modal(self.deps.policy, severity=req.severity,
                                                            private_metadata=meta,
                                                            types=self.types),
                                  respond=respond)
            return
        severity_name = req.severity or self.deps.policy.default_severity.name
        cmd = declare.DeclareInput(title=req.title, severity=severity_name, declared_by=user,
                                   request_key=_request_key(command), drill=req.drill)
        try:
            reservation = await declare.reserve(cmd, self.deps)
        except errors.WarroomError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        await ack(_ephemeral(f"{reservation.incident_id}: " +
                             m.declaring(severity=severity_name, title=req.title)))
        try:
            result = await declare.run(cmd, self.deps, reservation=reservation)
        except errors.WarroomError as exc:
            log.error("declare.failed", incident_id=reservation.incident_id, error=repr(exc))
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await respond(**_ephemeral(self._declared_text(result)), replace_original=False)
        if not result.repeated:
            await self._auto_probe(result.incident)

    @staticmethod
    def _declared_text(result: declare.Declared) -> str:
        inc = result.incident
        if result.repeated:
            return m.declare_repeated(incident_id=inc.id, channel_id=inc.channel_id)
        lines = [m.declared(incident_id=inc.id, channel_id=inc.channel_id)]
        lines += [m.declare_problem(incident_id=inc.id, step=p.step, error=p.error)
                  for p in result.problems]
        return "\n".join(lines)

    async def _open_view(self, client, *, trigger_id: str, view: dict[str, Any],
                         respond) -> str | None:  # noqa: ANN001
        """Open a modal; its view id, or None (the user was told why)."""
        try:
            response = await client.views_open(trigger_id=trigger_id, view=view)
            return str(response["view"]["id"])
        except Exception as exc:  # slack_sdk errors: tell the user, never crash the listener
            name = getattr(getattr(exc, "response", None), "get", lambda *_: None)("error")
            log.warning("views.open_failed", error=name or type(exc).__name__)
            text = m.MODAL_EXPIRED if name in {"expired_trigger_id", "invalid_trigger_id"} \
                else m.render_error(errors.ChatError("views.open", str(name)))
            await respond(**_ephemeral(text), replace_original=False)
            return None

    # ------------------------------------------------------------ buttons
    async def on_ack_button(self, ack, body, respond) -> None:  # noqa: ANN001
        await ack()
        user, incident_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            change = await ack_cmd(self.deps, actor=user, incident_id=incident_id)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        inc = change.incident
        took = inc.time_to_acknowledge()
        assert took is not None
        await self._say(inc, m.acknowledged(incident_id=inc.id, by=user, took=took))

    async def on_escalate_button(self, ack, body, respond) -> None:  # noqa: ANN001
        await ack()
        user, incident_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            await escalate.run(escalate.EscalateInput(actor=user, incident_id=incident_id),
                               self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)

    async def on_update_button(self, ack, body, respond, client) -> None:  # noqa: ANN001
        await ack()
        await self._modal_for(body, respond=respond, client=client, build=blocks.update_modal)

    async def on_resolve_button(self, ack, body, respond, client) -> None:  # noqa: ANN001
        await ack()
        await self._modal_for(body, respond=respond, client=client, build=blocks.resolve_modal)

    async def _modal_for(self, body, *, respond, client, build) -> None:  # noqa: ANN001
        try:
            incident = await self.deps.store.get(body["actions"][0]["value"])
            if not incident.is_open:
                raise errors.AlreadyResolved(incident.id, by=incident.resolved_by,
                                             at=incident.resolved_at)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await self._open_view(client, trigger_id=body["trigger_id"], view=build(incident),
                              respond=respond)

    async def _say(self, incident, text: str) -> None:  # noqa: ANN001
        try:
            await self.war_room.say(incident, text)
        except errors.ChatError as exc:
            log.warning("say.failed", incident_id=incident.id, error=exc.error)

    # ------------------------------------------------------------ modals
    async def on_declare_view(self, ack, body, view, client) -> None:  # noqa: ANN001
        values = _values(view)
        title = (values.get("title") or "").strip()
        problems = {}
        if not title:
            problems["title"] = m.MODAL_TITLE_REQUIRED
        elif len(title) > m.TITLE_MAX:
            problems["title"] = m.MODAL_TITLE_TOO_LONG
        severity_name = values.get("severity") or self.deps.policy.default_severity.name
        if self.deps.policy.find_severity(severity_name) is None:
            problems["severity"] = m.render_error(errors.UnknownSeverity(
                severity_name, known=self.deps.policy.severity_names()))
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()
        incident_type = values.get("incident_type")
        services = [s.strip() for s in (values.get("services") or "").split(",") if s.strip()]
        user = body["user"]["id"]
        cmd = declare.DeclareInput(
            title=title, severity=severity_name, declared_by=user,
            request_key=f"view-{view['id']}",
            incident_type=None if incident_type in (None, m.TYPE_GENERAL) else incident_type,
            services=services, description=values.get("description") or "",
            drill=bool(_meta(view).get("drill")))
        try:
            result = await declare.run(cmd, self.deps)
        except errors.WarroomError as exc:
            log.error("declare.failed", error=repr(exc))
            await self._tell(client, _meta(view).get("channel"), user, m.render_error(exc))
            return
        meta = _meta(view)
        if meta.get("channel"):
            try:
                await client.chat_postEphemeral(channel=meta["channel"], user=user,
                                                text=self._declared_text(result))
            except Exception as exc:  # the origin channel may not have the bot: not fatal
                log.info("declare.ephemeral_skipped", incident_id=result.incident.id,
                         error=type(exc).__name__)
        if not result.repeated:
            await self._auto_probe(result.incident)

    async def on_update_view(self, ack, body, view) -> None:  # noqa: ANN001
        values = _values(view)
        text = (values.get("text") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"text": m.UPDATE_TEXT_REQUIRED})
            return
        raw_status = values.get("status")
        actions = [a.strip() for a in (values.get("actions") or "").splitlines() if a.strip()]
        try:
            cmd = update.UpdateInput(
                actor=body["user"]["id"], incident_id=view["private_metadata"], text=text,
                status=Status(raw_status) if raw_status else None,
                impact=values.get("impact") or "", hypothesis=values.get("hypothesis") or "",
                actions=actions, eta=values.get("eta") or "")
        except (ValidationError, ValueError) as exc:
            await ack(response_action="errors", errors={"text": str(exc)[:150]})
            return
        try:
            await update.run(cmd, self.deps)
        except errors.WarroomError as exc:
            await ack(response_action="errors", errors={"text": m.render_error(exc)})
            return
        await ack()

    async def on_resolve_view(self, ack, body, view, client) -> None:  # noqa: ANN001
        values = _values(view)
        user = body["user"]["id"]
        cmd = resolve.ResolveInput(actor=user, incident_id=view["private_metadata"],
                                   summary=(values.get("summary") or "").strip())
        try:
            await resolve.needs_verification(cmd, self.deps)
        except errors.WarroomError as exc:
            await ack(response_action="errors", errors={"summary": m.render_error(exc)})
            return
        await ack()
        await self._resolve_and_say(cmd, user=user, client=client)

    async def _resolve_and_say(self, cmd, *, user: str, client) -> None:  # noqa: ANN001
        try:
            change = await resolve.run(cmd, self.deps)
        except errors.StillFailing as exc:
            incident = await self.deps.store.get(exc.incident_id)
            if incident.channel_id:
                message = blocks.still_failing_message(m.render_error(exc),
                                                       incident_id=exc.incident_id,
                                                       summary=exc.summary)
                try:
                    await client.chat_postEphemeral(channel=incident.channel_id, user=user,
                                                    **message)
                except Exception as post_exc:  # nothing else to tell: log it
                    log.warning("resolve.blocked_notice_failed", incident_id=exc.incident_id,
                                error=type(post_exc).__name__)
            return
        except errors.WarroomError as exc:
            log.info("resolve.refused", incident_id=cmd.incident_id, error=repr(exc))
            return
        inc = change.incident
        await self._say(inc, m.resolved(incident_id=inc.id, by=user,
                                        took=inc.age(self.deps.clock.now())))
        await self._after_resolve(inc, actor=user)

    async def on_run_diagnostics(self, ack, body, respond) -> None:  # noqa: ANN001
        await ack()
        user, incident_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            probe.validate(probe.ProbeInput(actor=user, incident_id=incident_id), self.deps)
            incident = await self.deps.store.get(incident_id)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await self._probe(incident, named=[], actor=user, respond=respond)

    async def on_resolve_anyway(self, ack, body, respond, client) -> None:  # noqa: ANN001
        await ack()
        user = body["user"]["id"]
        try:
            data = json.loads(body["actions"][0]["value"])
            cmd = resolve.ResolveInput(actor=user, incident_id=data["id"],
                                       summary=data.get("summary", ""), force=True)
        except (ValueError, KeyError, TypeError, ValidationError):
            await respond(**_ephemeral(m.BAD_BUTTON), replace_original=False)
            return
        try:
            change = await resolve.run(cmd, self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await respond(delete_original=True)
        inc = change.incident
        await self._say(inc, m.resolved(incident_id=inc.id, by=user,
                                        took=inc.age(self.deps.clock.now())))
        await self._after_resolve(inc, actor=user)

    async def on_customer_button(self, ack, body, respond, client) -> None:  # noqa: ANN001
        await ack()
        user, incident_id = body["user"]["id"], body["actions"][0]["value"]
        try:
            incident = await self.deps.store.get(incident_id)
            kind, text = await customer.draft(status.StatusInput(actor=user,
                                                                 incident_id=incident_id),
                                              self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        await self._open_view(client, trigger_id=body["trigger_id"],
                              view=blocks.customer_modal(incident, kind=kind, text=text),
                              respond=respond)

    async def on_customer_view(self, ack, body, view) -> None:  # noqa: ANN001
        values = _values(view)
        text = (values.get("text") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"text": m.CUSTOMER_TEXT_REQUIRED})
            return
        user = body["user"]["id"]
        cmd = customer.CustomerInput(actor=user, incident_id=view["private_metadata"],
                                     kind=values.get("kind") or "update", text=text)
        await ack()
        try:
            await customer.send(cmd, self.deps)
            incident = await self.deps.store.get(cmd.incident_id or "")
            await self.war_room.post_text(incident, m.customer_sent(kind=cmd.kind, by=user,
                                                                    text=text))
        except errors.WarroomError as exc:
            log.warning("customer.send_failed", incident_id=cmd.incident_id, error=repr(exc))

    async def on_reaction(self, event, ack=None) -> None:  # noqa: ANN001
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        cmd = pin.PinInput(channel_id=item.get("channel", ""), ts=item.get("ts", ""),
                           reaction=event.get("reaction", ""), by=event.get("user", ""))
        try:
            await pin.run(cmd, self.deps)
        except errors.WarroomError as exc:
            log.warning("timeline.pin_failed", channel=cmd.channel_id, error=repr(exc))

    # ------------------------------------------------------------ remediation
    async def on_remediate_button(self, ack, body, respond, client) -> None:  # noqa: ANN001
        await ack()
        user = body["user"]["id"]
        try:
            data = json.loads(body["actions"][0]["value"])
            cmd = remediate.RemediateInput(actor=user, incident_id=data["i"], service=data["s"],
                                           index=int(data["a"]))
        except (ValueError, KeyError, TypeError, ValidationError):
            await respond(**_ephemeral(m.BAD_BUTTON), replace_original=False)
            return
        try:
            incident, info = await remediate.request(cmd, self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)
            return
        assert self.deps.remediator is not None
        dry_run = self.deps.remediator.dry_run or info.dry_run or incident.drill
        # open at once (the trigger lives 3 s), then show the resolved target
        view_id = await self._open_view(
            client, trigger_id=body["trigger_id"],
            view=blocks.remediate_modal(incident, info, dry_run=dry_run), respond=respond)
        if view_id is None or info.replicas_max is not None:  # scale: the count is chosen here
            return
        try:
            planned = await self.deps.remediator.plan(info.service, info.index, {})
            view = blocks.remediate_modal(incident, info, dry_run=dry_run, planned=planned)
        except errors.WarroomError as exc:
            view = blocks.refused_modal(m.render_error(exc))
        try:
            await client.views_update(view_id=view_id, view=view)
        except Exception as exc:  # the modal closed meanwhile: nothing to update
            log.info("remediate.view_update_skipped", error=type(exc).__name__)

    async def on_remediate_view(self, ack, body, view, client) -> None:  # noqa: ANN001
        user = body["user"]["id"]
        values = _values(view)
        params: dict[str, str | int] = {}
        if values.get("replicas") not in (None, ""):
            try:
                params["replicas"] = int(str(values["replicas"]))
            except ValueError:
                await ack(response_action="errors", errors={"replicas": m.REPLICAS_LABEL})
                return
        meta = _meta(view)
        if values.get("pod"):
            params["pod"] = str(values["pod"]).strip()
        elif isinstance(meta.get("pod"), str):  # the pod the form showed
            params["pod"] = meta["pod"]
        try:
            cmd = remediate.RemediateInput(actor=user, incident_id=str(meta["i"]),
                                           service=str(meta["s"]), index=int(meta["a"]),
                                           params=params)
        except (KeyError, TypeError, ValueError, ValidationError):
            await ack()
            return
        await ack()  # confirm() checks permission again and records any refusal
        try:
            await remediate.confirm(cmd, self.deps)
        except errors.WarroomError as exc:
            await self._ephemeral_in(client, cmd, user, m.render_error(exc))

    async def _tell(self, client, channel: str | None, user: str, text: str) -> None:  # noqa: ANN001
        if not channel:
            return
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        except Exception as exc:  # nowhere else to say it: log it
            log.warning("tell.failed", error=type(exc).__name__)

    async def _ephemeral_in(self, client, cmd, user: str, text: str) -> None:  # noqa: ANN001
        try:
            incident = await self.deps.store.get(cmd.incident_id or "")
            if incident.channel_id:
                await client.chat_postEphemeral(channel=incident.channel_id, user=user, text=text)
        except Exception as exc:  # the refusal itself is on the timeline
            log.warning("remediate.notice_failed", error=type(exc).__name__)

    async def _recover_plan(self, req: Request, *, user: str, channel: str | None, ack) -> None:  # noqa: ANN001
        target = {"actor": user, "channel_id": channel, "incident_id": req.incident_id}
        try:
            incident = await status.run(status.StatusInput(**target), self.deps)
            tiers = recover.plan(incident, self.deps, named=req.services)
        except errors.WarroomError as exc:
            await ack(_ephemeral(m.render_error(exc)))
            return
        names = [s.service for tier in tiers for s in tier]
        message = blocks.recovery_plan_message(incident, tiers, services=names)
        if message is None:
            await ack(_ephemeral(m.RECOVER_TOO_MANY))
            return
        await ack({"response_type": "ephemeral", **message})

    async def on_recover_button(self, ack, body, respond) -> None:  # noqa: ANN001
        await ack()
        user = body["user"]["id"]
        try:
            data = json.loads(body["actions"][0]["value"])
            services = data.get("s") or []
            if not isinstance(services, list) or not all(isinstance(x, str) for x in services):
                raise ValueError("services")
            cmd = recover.RecoverInput(actor=user, incident_id=data["i"], services=services)
        except (ValueError, KeyError, TypeError, ValidationError):
            await respond(**_ephemeral(m.BAD_BUTTON), replace_original=False)
            return
        await respond(delete_original=True)
        try:
            await recover.run(cmd, self.deps)
        except errors.WarroomError as exc:
            await respond(**_ephemeral(m.render_error(exc)), replace_original=False)

    async def on_other_event(self) -> None:
        """Messages and other events warroom does not act on (keeps Bolt quiet)."""


async def ack_cmd(deps: Deps, *, actor: str, incident_id: str):  # noqa: ANN201
    return await ack.run(ack.AckInput(actor=actor, incident_id=incident_id), deps)


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    """Flatten view.state.values into {block_id: value} for the inputs warroom uses."""
    out: dict[str, str | None] = {}
    for block_id, actions in (view.get("state", {}).get("values") or {}).items():
        for element in actions.values():
            if "selected_option" in element:
                option = element.get("selected_option")
                out[block_id] = option.get("value") if option else None
            else:
                out[block_id] = element.get("value")
    return out


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def register(app: AsyncApp, deps: Deps, *, war_room: SlackWarRoom,
             probe_on_declare: bool = True) -> Listeners:
    listeners = Listeners(deps, war_room=war_room, probe_on_declare=probe_on_declare)
    app.command(COMMAND)(listeners.on_command)
    app.action(blocks.ACTION_ACK)(listeners.on_ack_button)
    app.action(blocks.ACTION_ESCALATE)(listeners.on_escalate_button)
    app.action(blocks.ACTION_POST_UPDATE)(listeners.on_update_button)
    app.action(blocks.ACTION_RESOLVE)(listeners.on_resolve_button)
    app.action(blocks.ACTION_RUN_DIAGNOSTICS)(listeners.on_run_diagnostics)
    app.action(blocks.ACTION_RESOLVE_ANYWAY)(listeners.on_resolve_anyway)
    app.action(blocks.ACTION_CUSTOMER)(listeners.on_customer_button)
    app.view(blocks.VIEW_CUSTOMER)(listeners.on_customer_view)
    app.event("reaction_added")(listeners.on_reaction)
    app.action(re.compile(rf"^{blocks.ACTION_REMEDIATE}(:\d+)?$"))(listeners.on_remediate_button)
    app.view(blocks.VIEW_REMEDIATE)(listeners.on_remediate_view)
    app.action(blocks.ACTION_RECOVER)(listeners.on_recover_button)
    app.event("message")(listeners.on_other_event)
    app.view(blocks.VIEW_DECLARE)(listeners.on_declare_view)
    app.view(blocks.VIEW_UPDATE)(listeners.on_update_view)
    app.view(blocks.VIEW_RESOLVE)(listeners.on_resolve_view)
    return listeners
