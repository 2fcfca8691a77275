"""Block Kit builders: pure functions from models to Slack payload dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.core.incident import Incident, Status, StatusUpdate, TimelineEvent
from bot.core.policy import DEFAULT_POLICY, Policy
from typing import TYPE_CHECKING

from bot.core.escalation import Step
from bot.core.triage import ProbeReport

# public contract: users build workflows on these action ids
ACTION_ACK = "incident_ack"
ACTION_POST_UPDATE = "incident_post_update"
ACTION_ESCALATE = "incident_escalate"
ACTION_RESOLVE = "incident_resolve"
ACTION_RUN_DIAGNOSTICS = "incident_run_diagnostics"
ACTION_RESOLVE_ANYWAY = "incident_resolve_anyway"
ACTION_CUSTOMER = "incident_draft_customer_update"
ACTION_REMEDIATE = "incident_remediate"
ACTION_RECOVER = "incident_recover_confirm"

VIEW_DECLARE = "incident_declare_modal"
VIEW_UPDATE = "incident_update_modal"
VIEW_RESOLVE = "incident_resolve_modal"
VIEW_CUSTOMER = "incident_customer_modal"
VIEW_REMEDIATE = "incident_remediate_modal"

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000

SEVERITY_EMOJI = [":red_circle:", ":large_orange_circle:", ":large_yellow_circle:",
                  ":large_blue_circle:"]
if TYPE_CHECKING:
    from bot.core.ports import ActionInfo, PlannedAction
    from bot.render import Templates

Block = dict[str, Any]
Message = dict[str, Any]


def _text(text: str, *, limit: int = MAX_SECTION) -> str:
    text = text or m.CARD_NONE
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, *, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _text(text, limit=limit), "emoji": True}


def _mrkdwn(text: str, *, limit: int = MAX_SECTION) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _text(text, limit=limit)}


def _field(label: str, value: str) -> dict[str, Any]:
    return _mrkdwn(f"*{label}*\n{value or m.CARD_NONE}", limit=MAX_FIELD)


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": _plain(text), "action_id": action_id,
                              "value": value}
    if style:
        button["style"] = style
    return button


def severity_badge(incident: Incident, policy: Policy | None = None) -> str:
    rank = 0
    if policy is not None and policy.find_severity(incident.severity) is not None:
        rank = policy.rank(incident.severity)
    emoji = SEVERITY_EMOJI[min(rank, len(SEVERITY_EMOJI) - 1)]
    desc = f" - {incident.policy.description}" if incident.policy.description else ""
    return f"{emoji} {incident.severity}{desc}"


def war_room_card(incident: Incident, *, now: datetime, policy: Policy | None = None,
                  templates: "Templates | None" = None) -> Message:
    """Seed 004's war-room template (rendered from `war_room_card.md.j2`), with buttons."""
    from bot.render import Templates

    templates = templates or Templates(policy=policy or DEFAULT_POLICY)
    body = templates.card(incident, now=now)
    header = f"{m.CARD_HEADER}: {incident.title}"
    if incident.drill:
        header = f"{m.DRILL_TAG} {header}"
    blocks: list[Block] = [
        {"type": "header", "text": _plain(header, limit=150)},
        *({"type": "section", "text": _mrkdwn(c)} for c in _chunks(body.splitlines())[:5]),
        {"type": "context", "elements": [_mrkdwn(
            f"Declared {m.when(incident.declared_at)} by {m.mention(incident.declared_by)}")]},
    ]
    if incident.probe_status:
        failing = [n for n, st in incident.probe_status.items() if st != "ok"]
        pattern = m.PATTERN_TITLES.get(incident.probe_pattern or "", "")
        line = " ".join(f"{m.PROBE_EMOJI.get(st, '')} {n}" for n, st in incident.probe_status.items())
        when = m.when(incident.probed_at) if incident.probed_at else ""
        blocks.insert(2, {"type": "section", "text": _mrkdwn(
            f"*Diagnostics* ({when}): {pattern}" + (f" - failing: {', '.join(failing)}" if failing else "")
            + f"\n{line}")})
    if incident.problems:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            ":warning: " + "; ".join(incident.problems[-5:]))]})
    if incident.is_open:
        buttons = []
        if incident.acknowledged_at is None:
            buttons.append(_button(m.CARD_BUTTON_ACK, ACTION_ACK, incident.id, style="primary"))
        buttons += [
            _button(m.CARD_BUTTON_UPDATE, ACTION_POST_UPDATE, incident.id),
            _button(m.CARD_BUTTON_ESCALATE, ACTION_ESCALATE, incident.id),
            _button(m.TRIAGE_BUTTON, ACTION_RUN_DIAGNOSTICS, incident.id),
            _button(m.CUSTOMER_BUTTON, ACTION_CUSTOMER, incident.id),
            _button(m.CARD_BUTTON_RESOLVE, ACTION_RESOLVE, incident.id, style="danger"),
        ]
        blocks.append({"type": "actions", "block_id": "incident_actions", "elements": buttons})
    fallback = m.card_fallback(incident_id=incident.id, severity=incident.severity,
                               title=incident.title, status=incident.status.value)
    return {"text": fallback, "blocks": blocks}


def announcement(incident: Incident, *, kind: str, old_severity: str | None = None,
                 templates: "Templates | None" = None, update: StatusUpdate | None = None
                 ) -> Message:
    """Seed 004's internal Slack template (`announcement.md.j2`)."""
    from bot.render import Templates

    templates = templates or Templates()
    text = templates.announcement(incident, kind=kind, old_severity=old_severity, update=update)
    head = text.splitlines()[0] if text else incident.id
    return {"text": head.replace("*", "")[:3000],
            "blocks": [{"type": "section", "text": _mrkdwn(c)} for c in _chunks(text.splitlines())][:MAX_BLOCKS]}


def update_message(incident: Incident, update: StatusUpdate, *,
                   templates: "Templates | None" = None) -> Message:
    """A posted status update (`update.md.j2`)."""
    from bot.render import Templates

    templates = templates or Templates()
    text = templates.update(incident, update)
    heading = m.update_heading(incident_id=incident.id, status=update.status.value)
    return {"text": f"{heading}: {update.text}"[:3000],
            "blocks": [{"type": "section", "text": _mrkdwn(c)} for c in _chunks(text.splitlines())][:MAX_BLOCKS]}


BUTTON_VALUE_MAX = 2000  # Slack's limit on a button's value


def _fit(base: dict[str, Any], key: str, text: str) -> str:
    """JSON for a button value with `text` under `key`, shortened until it fits."""
    import json

    cut = len(text)
    while True:
        value = json.dumps({**base, key: text[:cut]}, ensure_ascii=False)
        if len(value) <= BUTTON_VALUE_MAX or cut == 0:
            return value
        cut = max(0, cut - max(len(value) - BUTTON_VALUE_MAX, 16))


EVIDENCE_ON_CARD = 3  # lines per failing check on the card; the rest go to the thread


def remediation_buttons(incident: Incident, report: ProbeReport,
                        actions: dict[str, list["ActionInfo"]]) -> list[Block]:
    """Buttons next to each failing service that has declared actions."""
    import json

    out: list[Block] = []
    for svc in report.failing:
        infos = actions.get(svc.name) or []
        if not infos:
            continue
        elements = [_button(info.name[:75], f"{ACTION_REMEDIATE}:{info.index}",
                            json.dumps({"i": incident.id, "s": svc.name, "a": info.index}))
                    for info in infos[:5]]  # action ids unique within the block
        out.append({"type": "section", "text": _mrkdwn(m.fix_for(service=svc.name))})
        out.append({"type": "actions", "block_id": f"fix_{svc.name}"[:255], "elements": elements})
        if len(out) >= 10:
            break
    return out


def triage_card(incident: Incident, report: ProbeReport,
                actions: dict[str, list["ActionInfo"]] | None = None
                ) -> tuple[Message, list[Message]]:
    """The triage card and its thread replies (full evidence), within Slack's limits."""
    t = report.triage
    seconds = (report.finished_at - report.started_at).total_seconds()
    heading = m.triage_heading(incident_id=incident.id, failing=len(report.failing),
                               total=len(report.services), seconds=seconds)
    status_lines = []
    evidence_lines: list[str] = []
    for svc in report.services:
        summary = "; ".join(c.summary for c in svc.checks if c.status.failing) or \
            "; ".join(c.summary for c in svc.checks)
        status_lines.append(f"{m.PROBE_EMOJI.get(svc.status.value, '')} *{svc.name}* "
                            f"{svc.status.value.upper()} - {summary}")
        for check in svc.checks:
            if not check.status.failing:
                continue
            for line in check.evidence[:EVIDENCE_ON_CARD]:
                evidence_lines.append(f"*{svc.name}* {check.kind}: {line}")
    reasons = "\n".join(f"- {m.reason_text(r.code, service=r.service, detail=r.detail)}"
                        for r in t.reasons)
    radius = t.blast_radius
    blocks: list[Block] = [
        {"type": "header", "text": _plain(heading, limit=150)},
        *({"type": "section", "text": _mrkdwn(c)} for c in _chunks(status_lines)[:10]),
        {"type": "section", "text": _mrkdwn(
            f"*Suspected pattern: {m.PATTERN_TITLES[t.pattern.value]}*\n{reasons}")},
        {"type": "section", "fields": [
            _field("First failure", m.first_failure_text(service=t.first_failure,
                                                          at=t.first_failure_at,
                                                          basis=t.first_failure_basis)),
            _field("Shared dependency", t.shared_dependency or m.CARD_NONE),
            _field("Failing", ", ".join(radius.failing)),
            _field("Downstream impact", ", ".join(radius.downstream)),
            _field("Depends on", ", ".join(radius.upstream)),
            _field("Recovery order", " -> ".join(t.recovery_order)),
        ]},
    ]
    if evidence_lines:
        blocks += [{"type": "section", "text": _mrkdwn(c)}
                   for c in _chunks(["*Evidence*", *evidence_lines])[:5]]
    steps = [f"*Runbook{f' ({t.runbook_service})' if t.runbook_service else ''}*"]
    steps += ["_Check_"] + [f"{i}. {c}" for i, c in enumerate(t.runbook.check, 1)] if t.runbook.check else []
    steps += ["_Fix_"] + [f"- {f}" for f in t.runbook.fix] if t.runbook.fix else []
    if t.runbook.link:
        steps.append(f"<{t.runbook.link}|Runbook>")
    blocks += [{"type": "section", "text": _mrkdwn(c)} for c in _chunks(steps)[:3]]
    blocks += remediation_buttons(incident, report, actions or {})
    blocks.append({"type": "actions", "block_id": "triage_actions", "elements": [
        _button(m.TRIAGE_BUTTON, ACTION_RUN_DIAGNOSTICS, incident.id)]})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[:MAX_BLOCKS - 1] + blocks[-1:]
    fallback = f"{heading}: {m.PATTERN_TITLES[t.pattern.value]}"
    thread: list[Message] = []
    full = []
    for svc in report.failing:
        for check in svc.checks:
            if check.status.failing:
                full.append(f"*{svc.name}* {check.kind} `{check.target}` - {check.summary}")
                full += [f"> {line}" for line in check.evidence]
    if full:
        thread = paged(m.TRIAGE_EVIDENCE_THREAD, full, fallback=m.TRIAGE_EVIDENCE_THREAD)
    return {"text": fallback, "blocks": blocks}, thread


def level_dm(incident: Incident, step: Step) -> Message:
    text = m.level_dm(incident_id=incident.id, severity=incident.severity, title=incident.title,
                      channel_id=incident.channel_id, level=step.level, name=step.name)
    if incident.drill:
        text = f"{m.DRILL_TAG} {text}"
    return {"text": text, "blocks": [
        {"type": "section", "text": _mrkdwn(text)},
        {"type": "actions", "block_id": "page_actions", "elements": [
            _button(m.CARD_BUTTON_ACK, ACTION_ACK, incident.id, style="primary")]}]}


def reminder_message(incident: Incident, *, mentioned: list[str]) -> Message:
    every = m.age(incident.policy.update_every) if incident.policy.update_every else ""
    text = m.reminder(incident_id=incident.id, mentioned=mentioned, every=every)
    return {"text": text, "blocks": [
        {"type": "section", "text": _mrkdwn(text)},
        {"type": "actions", "block_id": "reminder_actions", "elements": [
            _button(m.CARD_BUTTON_UPDATE, ACTION_POST_UPDATE, incident.id, style="primary")]}]}


def regression_message(incident: Incident, report: ProbeReport, regressed: list[str]) -> Message:
    text = m.regression(incident_id=incident.id, services=regressed)
    lines = [text]
    for svc in report.services:
        if svc.name in regressed:
            for check in svc.checks:
                if check.status.failing:
                    lines.append(f"*{svc.name}* {check.kind}: {check.summary}")
                    lines += [f"> {e}" for e in check.evidence[:EVIDENCE_ON_CARD]]
    return {"text": text, "blocks": [{"type": "section", "text": _mrkdwn(c)}
                                     for c in _chunks(lines)[:MAX_BLOCKS]]}


def still_failing_message(text: str, *, incident_id: str, summary: str) -> Message:
    import json

    value = _fit({"id": incident_id}, "summary", summary)
    return {"text": text, "blocks": [
        {"type": "section", "text": _mrkdwn(text)},
        {"type": "actions", "block_id": "resolve_anyway", "elements": [
            _button(m.RESOLVE_ANYWAY_BUTTON, ACTION_RESOLVE_ANYWAY, value, style="danger")]}]}


def _chunks(lines: list[str], *, limit: int = MAX_SECTION) -> list[str]:
    out: list[str] = []
    cur = ""
    for line in lines:
        line = line if len(line) < limit else line[: limit - 2] + "…"
        if cur and len(cur) + 1 + len(line) > limit:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        out.append(cur)
    return out


def paged(header: str, lines: list[str], *, fallback: str) -> list[Message]:
    """Split long listings into messages inside Slack's block and text limits."""
    sections = [{"type": "section", "text": _mrkdwn(c)} for c in _chunks(lines)]
    per_page = MAX_BLOCKS - 1
    pages: list[Message] = []
    for start in range(0, max(len(sections), 1), per_page):
        blocks: list[Block] = [{"type": "header", "text": _plain(header, limit=150)}]
        blocks += sections[start:start + per_page]
        pages.append({"text": fallback, "blocks": blocks})
    return pages


def incident_line(incident: Incident, *, now: datetime) -> str:
    room = f" <#{incident.channel_id}>" if incident.channel_id else ""
    ack = "" if incident.acknowledged_at is None else " · acked"
    return (f"*{incident.id}* [{incident.severity}] {incident.title} - "
            f"{m.status_label(incident.status.value)}{ack} · {m.age(incident.age(now))}{room}")


def incident_list(incidents: list[Incident], *, now: datetime) -> list[Message]:
    if not incidents:
        return [{"text": m.NO_OPEN_INCIDENTS}]
    lines = [incident_line(i, now=now) for i in incidents]
    return paged(f"{m.LIST_HEADER} ({len(incidents)})", lines, fallback=m.LIST_HEADER)


def timeline(incident: Incident, events: list[TimelineEvent]) -> list[Message]:
    lines = [f"`{m.clock_time(e.at)}` " + m.timeline_event(e.kind.value, actor=e.actor,
                                                           text=e.text, data=e.data)
             for e in sorted(events, key=lambda e: e.at)]
    return paged(f"{m.TIMELINE_HEADER} - {incident.id}", lines, fallback=m.TIMELINE_HEADER)


def status_reply(incident: Incident, *, now: datetime, policy: Policy | None = None) -> Message:
    card = war_room_card(incident, now=now, policy=policy)
    card["blocks"] = [b for b in card["blocks"] if b["type"] != "actions"]
    return card


def help_message(policy: Policy) -> Message:
    text = m.help_text(severities=[s.name for s in policy.severities], roles=list(policy.roles))
    return {"text": text}


# ---------------------------------------------------------------- modals
def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _plain(label, limit=2000),
                    "element": element, "optional": optional}
    if hint:
        block["hint"] = _plain(hint, limit=2000)
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def declare_modal(policy: Policy, *, severity: str | None, private_metadata: str,
                  types: list[str]) -> dict[str, Any]:
    options = [_option(f"{s.name} - {s.description}"[:75] if s.description else s.name, s.name)
               for s in policy.severities]
    chosen = policy.find_severity(severity) if severity else policy.default_severity
    sev_el: dict[str, Any] = {"type": "static_select", "action_id": "severity",
                              "options": options}
    if chosen is not None:
        sev_el["initial_option"] = next(o for o in options if o["value"] == chosen.name)
    type_options = [_option(t, t) for t in types]
    return {
        "type": "modal", "callback_id": VIEW_DECLARE, "private_metadata": private_metadata,
        "title": _plain(m.MODAL_TITLE, limit=24), "submit": _plain(m.MODAL_SUBMIT, limit=24),
        "close": _plain(m.MODAL_CLOSE, limit=24),
        "blocks": [
            _input("title", m.MODAL_TITLE_LABEL, {"type": "plain_text_input", "action_id": "title",
                                                  "max_length": m.TITLE_MAX},
                   hint=m.MODAL_TITLE_HINT),
            _input("severity", m.MODAL_SEVERITY_LABEL, sev_el),
            _input("incident_type", m.MODAL_TYPE_LABEL,
                   {"type": "static_select", "action_id": "incident_type",
                    "options": type_options, "initial_option": type_options[0]}),
            _input("services", m.MODAL_SERVICES_LABEL,
                   {"type": "plain_text_input", "action_id": "services"},
                   optional=True, hint=m.MODAL_SERVICES_HINT),
            _input("description", m.MODAL_DESCRIPTION_LABEL,
                   {"type": "plain_text_input", "action_id": "description", "multiline": True},
                   optional=True),
        ],
    }


def _impact(incident: Incident) -> str:
    """The impact to prefill: the latest triage's failing services, else what was said."""
    failing = [f"{name} {status}" for name, status in incident.probe_status.items()
               if status != "ok"]
    if failing:
        return m.impact_from_probes(failing=failing, at=incident.probed_at)
    return incident.impact


def update_modal(incident: Incident) -> dict[str, Any]:
    status_options = [_option(m.status_label(s.value), s.value)
                      for s in Status if s is not Status.resolved]
    current = next(o for o in status_options if o["value"] == incident.status.value)
    last = incident.last_update.text if incident.last_update else ""

    def text_el(action_id: str, initial: str, *, multiline: bool = False) -> dict[str, Any]:
        el: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id,
                              "multiline": multiline}
        if initial:
            el["initial_value"] = initial[:3000]
        return el

    return {
        "type": "modal", "callback_id": VIEW_UPDATE, "private_metadata": incident.id,
        "title": _plain(m.UPDATE_MODAL_TITLE[:24], limit=24),
        "submit": _plain(m.UPDATE_MODAL_SUBMIT, limit=24),
        "close": _plain(m.MODAL_CLOSE, limit=24),
        "blocks": [
            _input("status", m.UPDATE_STATUS_LABEL,
                   {"type": "static_select", "action_id": "status", "options": status_options,
                    "initial_option": current}),
            _input("text", m.UPDATE_TEXT_LABEL, text_el("text", last, multiline=True)),
            _input("impact", m.UPDATE_IMPACT_LABEL, text_el("impact", _impact(incident)),
                   optional=True),
            _input("hypothesis", m.UPDATE_HYPOTHESIS_LABEL,
                   text_el("hypothesis", incident.hypothesis), optional=True),
            _input("actions", m.UPDATE_ACTIONS_LABEL,
                   text_el("actions", "\n".join(incident.actions_in_progress), multiline=True),
                   optional=True),
            _input("eta", m.UPDATE_ETA_LABEL, text_el("eta", incident.eta), optional=True),
        ],
    }


def resolve_modal(incident: Incident) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": VIEW_RESOLVE, "private_metadata": incident.id,
        "title": _plain(m.RESOLVE_MODAL_TITLE, limit=24),
        "submit": _plain(m.RESOLVE_MODAL_SUBMIT, limit=24),
        "close": _plain(m.MODAL_CLOSE, limit=24),
        "blocks": [_input("summary", m.RESOLVE_SUMMARY_LABEL,
                          {"type": "plain_text_input", "action_id": "summary", "multiline": True},
                          optional=True)],
    }


def customer_modal(incident: Incident, *, kind: str, text: str) -> dict[str, Any]:
    options = [_option(m.CUSTOMER_KIND_LABELS[k], k) for k in ("initial", "update", "resolution")]
    chosen = next(o for o in options if o["value"] == kind)
    return {
        "type": "modal", "callback_id": VIEW_CUSTOMER, "private_metadata": incident.id,
        "title": _plain(m.CUSTOMER_MODAL_TITLE, limit=24),
        "submit": _plain(m.CUSTOMER_MODAL_SUBMIT, limit=24),
        "close": _plain(m.MODAL_CLOSE, limit=24),
        "blocks": [
            _input("kind", m.CUSTOMER_KIND_LABEL, {"type": "static_select", "action_id": "kind",
                                                   "options": options, "initial_option": chosen}),
            _input("text", m.CUSTOMER_TEXT_LABEL, {"type": "plain_text_input", "action_id": "text",
                                                   "multiline": True,
                                                   "initial_value": text[:3000]}),
        ],
    }


def customer_draft_message(incident: Incident, *, kind: str, text: str) -> Message:
    body = m.customer_draft(kind=kind, text=text)
    return {"text": body[:3000], "blocks": [
        {"type": "section", "text": _mrkdwn(body)},
        {"type": "actions", "block_id": "customer_actions", "elements": [
            _button(m.CUSTOMER_BUTTON, ACTION_CUSTOMER, incident.id)]}]}


def remediate_modal(incident: Incident, info: "ActionInfo", *, dry_run: bool,
                    planned: "PlannedAction | None" = None) -> dict[str, Any]:
    """The confirmation; with `planned`, it names the resolved target (container id, pod)
    and carries the chosen pod so the confirmation runs exactly what it showed."""
    import json

    description = planned.description if planned is not None else info.description
    blocks_: list[Block] = [{"type": "section", "text": _mrkdwn(m.remediate_modal_text(
        description=description, dry_run=dry_run, service=info.service))}]
    if info.replicas_max is not None:
        blocks_.append(_input("replicas", m.REPLICAS_LABEL, {
            "type": "number_input", "action_id": "replicas", "is_decimal_allowed": False,
            "min_value": str(info.replicas_min or 0), "max_value": str(info.replicas_max)}))
    if info.kind == "kubernetes_delete_pod":
        blocks_.append(_input("pod", m.POD_LABEL, {"type": "plain_text_input",
                                                   "action_id": "pod"}, optional=True))
    return {
        "type": "modal", "callback_id": VIEW_REMEDIATE,
        "private_metadata": json.dumps({"i": incident.id, "s": info.service, "a": info.index,
                                        **({"pod": planned.params["pod"]} if planned is not None
                                           and "pod" in planned.params else {})}),
        "title": _plain(m.REMEDIATE_MODAL_TITLE, limit=24),
        "submit": _plain(m.REMEDIATE_DRY_SUBMIT if dry_run else m.REMEDIATE_MODAL_SUBMIT,
                         limit=24),
        "close": _plain(m.MODAL_CLOSE, limit=24),
        "blocks": blocks_,
    }


def recovery_plan_message(incident: Incident, tiers: list[list[Any]], *,
                          services: list[str]) -> Message | None:
    import json

    rows = [(tier[0].tier, [(s.service, s.action.name if s.action else m.NO_RESTART_ACTION)
                            for s in tier]) for tier in tiers]
    text = m.recovery_plan(tiers=rows)
    value = json.dumps({"i": incident.id, "s": services}, ensure_ascii=False)
    if len(value) > BUTTON_VALUE_MAX or len(text) > MAX_SECTION:
        return None  # the button could not carry (or the card show) the whole plan
    return {"text": text[:3000], "blocks": [
        {"type": "section", "text": _mrkdwn(text)},
        {"type": "actions", "block_id": "recover_actions", "elements": [
            _button(m.RECOVER_BUTTON, ACTION_RECOVER, value, style="danger")]}]}


def refused_modal(text: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": VIEW_REMEDIATE + "_refused",
            "title": _plain(m.REMEDIATE_MODAL_TITLE, limit=24),
            "close": _plain(m.MODAL_CLOSE, limit=24),
            "blocks": [{"type": "section", "text": _mrkdwn(text)}]}
