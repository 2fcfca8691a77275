"""Every sentence warroom shows a person: in Slack, on the CLI, in logs meant for operators.

This package is the one place for wording: this module (Slack replies, cards, config and
start-up errors), `bot.messages.probes` (what probes report) and `bot.messages.actions`
(what remediation says). Errors carry data (bot.core.errors); these modules word them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.core import errors
from bot.core.durations import format_duration

TITLE_MAX = 150
MANIFEST_HINT = ("create the Slack app from manifest.yml (https://api.slack.com/apps?new_app=1 "
                 "-> From an app manifest), install it to your workspace")

# ---------------------------------------------------------------- environment
ENV_MISSING_BOT_TOKEN = ("SLACK_BOT_TOKEN is not set: " + MANIFEST_HINT +
                         ", then copy the Bot User OAuth Token (xoxb-...) from OAuth & Permissions.")
ENV_BAD_BOT_TOKEN = "SLACK_BOT_TOKEN does not look like a bot token: it must start with xoxb-."
ENV_MISSING_SIGNING_SECRET = ("SLACK_SIGNING_SECRET is not set (HTTP mode needs it): copy the "
                              "Signing Secret from the app's Basic Information page, or set "
                              "SLACK_APP_TOKEN to use Socket Mode instead.")
ENV_MISSING_APP_TOKEN = ("SLACK_APP_TOKEN is not set (Socket Mode needs it): on the app's Basic "
                         "Information page create an App-Level Token with connections:write "
                         "(xapp-...), or run with --http.")
ENV_BAD_APP_TOKEN = "SLACK_APP_TOKEN does not look like an app-level token: it must start with xapp-."
ENV_BAD_API_URL = "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/."
ENV_BAD_PORT = "PORT must be a number between 1 and 65535."
REDIS_NOT_FOUND = ("REDIS_URL is not set and no redis-server was found to embed: install Redis "
                   "(apt-get install redis-server) or set REDIS_URL=redis://host:6379/0.")


def embedded_redis_started(*, url: str, data_dir: str) -> str:
    return (f"REDIS_URL is not set: started a private redis-server at {url} with AOF under "
            f"{data_dir} (set REDIS_URL for production and for several replicas).")


def redis_unreachable(url: str) -> str:
    return f"Redis at {url} does not answer: check REDIS_URL and that Redis is running."


def slack_auth_failed(error: str) -> str:
    return (f"Slack rejected SLACK_BOT_TOKEN ({error}): check the token, or reinstall the app "
            "from manifest.yml.")


def slack_unreachable(*, url: str, error: str) -> str:
    return f"Slack's Web API at {url} does not answer ({error}): check SLACK_API_URL and the network."


def serving(*, mode: str, host: str, port: int) -> str:
    return f"warroom is serving in {mode} mode on http://{host}:{port} (health: /healthz, /readyz)."


# ---------------------------------------------------------------- warroom stats (CLI)
STATS_BAD_SINCE = ("{value!r} is neither a duration like 30d, 12h, 90m nor a date like "
                   "2026-11-01")
STATS_NO_INCIDENTS = "No incidents declared since {since}."
STATS_NO_EMBEDDED_DATA = ("REDIS_URL is not set and {data_dir} holds no warroom data yet: no "
                          "incidents to count (set REDIS_URL to read another Redis).")
STATS_READING_COPY = ("REDIS_URL is not set: reading a copy of the embedded Redis data under "
                      "{data_dir}.")
STATS_NO_SLOS = ("No service has an slo in warroom.yml: add `slo: 99.95%` (or `slo: {target: "
                 "0.9995, period: 30d}`) to a service to see its error budget.")
STATS_SKIPPED = "{n} incident record(s) could not be read and were left out."
STATS_BREACHES_TITLE = "SLA breaches (acknowledgement later than ack_within)"
STATS_BUDGET_TITLE = "Error budget used by these incidents"
STATS_NOT_YET = "not yet"


def stats_title(*, since: datetime, window: str) -> str:
    return f"Incidents since {since:%Y-%m-%d %H:%M} UTC ({window})"


# ---------------------------------------------------------------- warroom sandbox (CLI)
SANDBOX_READY = ("warroom sandbox is running: open {url}\n"
                 "  a local Slack workspace (alice, bob, carol, dan), the bot, {what}\n"
                 "  clock: {speed}x real time · Redis data: {data_dir} · Ctrl-C stops everything")
SANDBOX_STOPPED = "warroom sandbox stopped."
SANDBOX_WHAT_DEMO = ("and a demo estate to diagnose (auth and checkout failing, recommendations "
                     "hanging)")
SANDBOX_WHAT_CONFIG = "probing the services of {path}"
SANDBOX_PORT_BUSY = "port {port} is in use: choose another with --port"
SANDBOX_BAD_SPEED = "--speed must be more than 0 (e.g. --speed 60 runs an hour a minute)"
SANDBOX_NO_REDIS = ("warroom sandbox runs its own redis-server and none was found on PATH: "
                    "install Redis (apt-get install redis-server) and run it again.")
SANDBOX_BAD_PORT = "--port must be between 0 and 65535 (0 picks a free port)"


# ---------------------------------------------------------------- config
CONFIG_NOT_A_DURATION = "'{value}' is not a duration like 90s, 15m, 1h"
CONFIG_NOT_A_CONTACT = "'{value}' is not a Slack user id (U..., W...) or user group id (S...)"
CONFIG_BAD_PREFIX = "'{value}' is not a channel prefix: use lowercase letters, digits, - and _ (at most 20)"
CONFIG_BAD_TIMEZONE = "'{value}' is not a time zone like UTC or Europe/Berlin"
CONFIG_NO_COMMANDER = "roles must include commander"
CONFIG_BAD_ROLE = "'{value}' is not a role name: use lowercase letters, digits and _"
CONFIG_DUPLICATE_SEVERITY = "'{value}' names two severities (it is already {other})"
CONFIG_CHECK_SHAPE = "a check is one kind with its settings, e.g. - http: {url: http://svc/health}"
CONFIG_UNKNOWN_CHECK = "'{value}' is not a check kind (known: {known})"
CONFIG_DUPLICATE_SERVICE = "service '{value}' is defined twice"
CONFIG_UNKNOWN_DEPENDENCY = "'{value}' is not a service in this file (services: {known})"
CONFIG_DEPENDENCY_CYCLE = "dependency cycle: {path}"
CONFIG_UNKNOWN_PATTERN = "'{value}' is not a failure pattern (patterns: {known})"
CONFIG_NO_TEMPLATES = "'{value}' is not a folder of templates"
CONFIG_NOT_A_MAPPING = "the file must be a mapping of settings (severities:, escalation:, ...)"
SLO_BAD_TARGET = ("'{value}' is not an SLO target: write a fraction between 0 and 1 like 0.9995, "
                  "or a percentage like '99.95%'")


def config_error(*, where: str, path: str, err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: {path}: unknown key (check the spelling)"
    if kind == "missing":
        return f"{where}: {path}: is required"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"{where}: {path}: " + CONFIG_UNKNOWN_CHECK.format(
            value=ctx.get("tag", "?"), known=ctx.get("expected_tags", "").replace("'", ""))
    if kind == "union_tag_not_found":
        return f"{where}: {path}: {CONFIG_CHECK_SHAPE}"
    text = err.get("msg", "")
    if text.startswith("Value error, "):
        text = text[len("Value error, "):]
    if "input" in err and kind in {"string_type", "bool_parsing", "list_type", "dict_type",
                                   "int_parsing", "bool_type"}:
        text = f"{err['input']!r}: {text[0].lower()}{text[1:]}"
    return f"{where}: {path}: {text}"


def config_yaml_error(*, where: str, exc: Exception) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: not valid YAML ({problem})"


def config_unreadable(*, path: str, exc: OSError) -> str:
    return f"{path}: cannot read the config file ({exc.strerror or exc})"


def config_summary(*, source: str, policy: Any) -> str:
    sev = ", ".join(s.name for s in policy.severities)
    levels = " -> ".join(lv.name for lv in policy.escalation.levels)
    announce = policy.channels.announce or "none"
    return (f"{source}: OK\n  severities: {sev}\n  escalation: {levels}\n"
            f"  roles: {', '.join(policy.roles)}\n  announcements channel: {announce}\n"
            f"  channel prefix: {policy.channels.prefix}\n  timezone: {policy.timezone}")


# ---------------------------------------------------------------- usage
USAGE = {
    "declare": "`/incident declare [SEVERITY] <title>` - e.g. `/incident declare P1 checkout is failing` (no title opens a form)",
    "status": "`/incident status` - in an incident channel, or `/incident status INC-...`",
    "update": "`/incident update [investigating|identified|monitoring] <what changed>`",
    "ack": "`/incident ack` - you have it; stops escalation",
    "sev": "`/incident sev <SEVERITY>` - e.g. `/incident sev P1`",
    "assign": "`/incident assign <role> <@user>` - e.g. `/incident assign tech_lead @ann`",
    "note": "`/incident note <text>` - adds to the timeline",
    "timeline": "`/incident timeline`",
    "resolve": "`/incident resolve [--force] [summary]` - re-checks failing services first",
    "probe": "`/incident probe [service ...]` - run diagnostics now",
    "action": "`/incident action <text> [@owner] [due YYYY-MM-DD]` - a post-incident action item",
    "report": "`/incident report` - (re)generate the post-incident report",
    "close": "`/incident close` - after resolve: generate the report if needed, archive",
    "drill": "`/incident drill [SEVERITY] <scenario>` - a practice incident, marked DRILL",
    "customer": "`/incident customer [initial|update|resolution]` - draft a customer message",
    "recover": "`/incident recover [service ...]` - restart tier by tier, checks between tiers",
    "list": "`/incident list` - every open incident",
    "escalate": "`/incident escalate [reason]`",
    "help": "`/incident help`",
}

HELP_TITLE = "warroom - incident response from Slack"
HELP_FOOTER = ("Inside an incident channel every command applies to that incident; elsewhere add "
               "the incident id, e.g. `/incident status INC-2026-12-01-001`.")


def help_text(*, severities: list[str], roles: list[str]) -> str:
    lines = [f"*{HELP_TITLE}*"]
    lines += [f"- {USAGE[k]}" for k in ("declare", "status", "update", "ack", "sev", "assign",
                                        "note", "timeline", "probe", "resolve", "action",
                                        "report", "close", "drill", "recover", "list")]
    lines.append(f"Severities: {', '.join(severities)}. Roles: {', '.join(roles)}.")
    lines.append(HELP_FOOTER)
    return "\n".join(lines)


def render_error(exc: errors.WarroomError) -> str:
    """One clear sentence (plus the right usage) for anything a user did wrong."""
    usage = getattr(exc, "usage", None)
    tail = f"\nUsage: {usage}" if usage else ""
    match exc:
        case errors.UnknownSubcommand():
            return (f"`{exc.word}` is not an /incident command. Try "
                    f"{', '.join('`' + k + '`' for k in USAGE)} - `/incident help` explains each.")
        case errors.UnknownSeverity():
            return f"`{exc.given}` is not a severity here. Severities: {'; '.join(exc.known)}.{tail}"
        case errors.MissingArgument():
            return f"Missing {exc.what}.{tail}"
        case errors.UnknownRole():
            return f"`{exc.given}` is not a role here. Roles: {', '.join(exc.known)}.{tail}"
        case errors.InvalidUser():
            return f"`{exc.given}` is not a Slack user: mention them, like @ann.{tail}"
        case errors.TitleTooLong():
            return f"That title is {exc.length} characters; keep it under {exc.limit}.{tail}"
        case errors.NoIncidentHere():
            listing = ", ".join(exc.open_ids[:10]) if exc.open_ids else "none"
            return ("This channel is not an incident channel: run the command in the incident's "
                    f"channel or name the incident (e.g. `/incident status INC-...`). Open incidents: {listing}.")
        case errors.IncidentNotFound():
            return f"There is no incident {exc.incident_id}. `/incident list` shows the open ones."
        case errors.AlreadyResolved():
            return f"{exc.incident_id} was already resolved by {mention(exc.by)} at {when(exc.at)}."
        case errors.AlreadyAcknowledged():
            return f"{exc.incident_id} was already acknowledged by {mention(exc.by)} at {when(exc.at)}."
        case errors.NothingChanged():
            return f"{exc.incident_id}: {exc.what} is already {exc.value}."
        case errors.UnknownService():
            return (f"Not in the services catalog: {', '.join(exc.given)}. "
                    f"Services: {', '.join(exc.known) or 'none'}.{tail}")
        case errors.NoServicesConfigured():
            return NO_SERVICES
        case errors.NotResolvedYet():
            return f"{exc.incident_id} is not resolved yet: `/incident resolve` first."
        case errors.NotAllowed():
            return (f"{mention(exc.user)} may not run \"{exc.action}\": only the incident "
                    "commander or people on its allow-list (remediation.allow) can.")
        case errors.Cooldown():
            return (f"{exc.service} was acted on less than {age(exc.cooldown)} ago "
                    "(remediation.cooldown): wait, or check whether the last action is still "
                    "taking effect.")
        case errors.NotThisIncident():
            return not_this_incident(exc.service)
        case errors.UnknownAction():
            return f"{exc.service} has no such action configured."
        case errors.ActionRefused():
            return f"Not run: {exc.reason}"
        case errors.NoEscalationLevels():
            return NO_LADDER
        case errors.StillFailing():
            return still_failing(incident_id=exc.incident_id, services=exc.services)
        case errors.UsageError():
            return f"That request is not valid.{tail}"
        case errors.StoreError():
            return "warroom could not reach its incident store; nothing was changed. Try again in a moment."
        case errors.ChatError():
            return f"Slack refused {exc.method} ({exc.error})."
        case _:
            return "Something went wrong; nothing was changed."


def not_this_incident(service: str) -> str:
    return f"{service} is not one of this incident's services (declared or probed)."


BAD_BUTTON = "That button's data is damaged or from an older warroom; run the command again."


def invalid_input(problem: str, *, usage: str | None) -> str:
    return f"That input is not valid ({problem})." + (f"\nUsage: {usage}" if usage else "")


def invalid_field(field: str, problem: str) -> str:
    return f"{field}: {problem}"


# ---------------------------------------------------------------- formatting
def mention(user: str | None) -> str:
    if not user:
        return "someone"
    if user.startswith("S"):
        return f"<!subteam^{user}>"
    return f"<@{user}>"


def when(at: object) -> str:
    if isinstance(at, datetime):
        return at.strftime("%Y-%m-%d %H:%M UTC")
    return str(at)


def clock_time(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def age(delta: timedelta) -> str:
    return format_duration(delta)


# ---------------------------------------------------------------- replies
def declaring(*, severity: str, title: str) -> str:
    return f"Declaring a {severity} incident: {title} - opening the war room..."


def declared(*, incident_id: str, channel_id: str | None) -> str:
    where = f" in <#{channel_id}>" if channel_id else ""
    return f"{incident_id} declared{where}."


def declare_repeated(*, incident_id: str, channel_id: str | None) -> str:
    where = f" (<#{channel_id}>)" if channel_id else ""
    return f"That request already declared {incident_id}{where}; nothing new was created."


def declare_problem(*, incident_id: str, step: str, error: str) -> str:
    return (f"{incident_id} is saved (see `/incident list`), but Slack failed at {step}: "
            f"`{error}`. warroom will keep the incident; fix the cause and run the step again.")


def problem_in_channel(*, step: str, error: str) -> str:
    return f":warning: Slack failed at {step}: `{error}`."


OPENING_FORM = "Opening the declare form..."
MODAL_TITLE = "Declare an incident"
MODAL_SUBMIT = "Declare"
MODAL_CLOSE = "Cancel"
MODAL_TITLE_LABEL = "Title"
MODAL_TITLE_HINT = "What is broken, in a few words"
MODAL_SEVERITY_LABEL = "Severity"
MODAL_TYPE_LABEL = "Incident type"
MODAL_SERVICES_LABEL = "Affected services"
MODAL_SERVICES_HINT = "Comma-separated, e.g. checkout, payments"
MODAL_DESCRIPTION_LABEL = "Description"
MODAL_TITLE_REQUIRED = "Give the incident a title."
MODAL_TITLE_TOO_LONG = f"Keep the title under {TITLE_MAX} characters."
MODAL_EXPIRED = ("Slack's form link expired before warroom could open it; run the command again. "
                 "Nothing was created.")
TYPE_GENERAL = "general"

UPDATE_MODAL_TITLE = "Post a status update"
UPDATE_MODAL_SUBMIT = "Post"
UPDATE_STATUS_LABEL = "Status"
UPDATE_TEXT_LABEL = "What changed"
UPDATE_IMPACT_LABEL = "Impact"
UPDATE_HYPOTHESIS_LABEL = "Current hypothesis"
UPDATE_ACTIONS_LABEL = "Actions in progress (one per line)"
UPDATE_ETA_LABEL = "ETA to resolution"
UPDATE_TEXT_REQUIRED = "Say what changed."

CUSTOMER_BUTTON = "Draft customer update"
CUSTOMER_MODAL_TITLE = "Customer update"
CUSTOMER_MODAL_SUBMIT = "Mark as sent"
CUSTOMER_KIND_LABEL = "Message"
CUSTOMER_TEXT_LABEL = "Text (edit before sending)"
CUSTOMER_TEXT_REQUIRED = "Write the message to send."
CUSTOMER_KIND_LABELS = {"initial": "Initial", "update": "Update", "resolution": "Resolution"}


def working_on(sub: str, *, incident_id: str) -> str:
    what = {"report": "Generating the post-incident report", "close": "Closing"}.get(sub, sub)
    return f"{what} for {incident_id}..."


RESOLVE_MODAL_TITLE = "Resolve incident"
RESOLVE_MODAL_SUBMIT = "Resolve"
RESOLVE_SUMMARY_LABEL = "Summary (what fixed it)"


def acknowledged(*, incident_id: str, by: str, took: timedelta) -> str:
    return f"{mention(by)} acknowledged {incident_id} after {age(took)}."


def severity_changed(*, incident_id: str, old: str, new: str, by: str) -> str:
    return f"{mention(by)} changed {incident_id} from {old} to {new}."


def role_assigned(*, incident_id: str, role: str, user: str) -> str:
    return f"{mention(user)} is now {role_label(role)} for {incident_id}."


def note_added(*, incident_id: str) -> str:
    return f"Note added to the {incident_id} timeline."


def update_posted(*, incident_id: str) -> str:
    return f"Update posted for {incident_id}."


def resolved(*, incident_id: str, by: str, took: timedelta) -> str:
    return f"{mention(by)} resolved {incident_id} after {age(took)}."


def mentions(members: list[str]) -> str:
    return " ".join(mention(u) for u in members) or "(nobody configured)"


def level_notice(*, reason: str, level: int, name: str, members: list[str], waited: str,
                 by: str | None, note: str, last: bool) -> str:
    who = mentions(members)
    match reason:
        case "declare":
            return f":pager: Paging level {level} - {name}: {who}"
        case "manual":
            text = f":arrow_double_up: {mention(by)} escalated to level {level} - {name}: {who}"
            return text + (f" ({note})" if note else "")
        case _ if last:
            return (f":rotating_light: No acknowledgement after {waited} - {name} is the last "
                    f"level; notifying them again: {who}")
        case _:
            return f":rotating_light: No acknowledgement after {waited} - escalating to {name}: {who}"


def level_dm(*, incident_id: str, severity: str, title: str, channel_id: str | None,
             level: int, name: str) -> str:
    room = f" in <#{channel_id}>" if channel_id else ""
    return (f":pager: You are paged for {incident_id} [{severity}] {title}{room} "
            f"(level {level}, {name}). Press Acknowledge if you have it.")


def reminder(*, incident_id: str, mentioned: list[str], every: str) -> str:
    return (f":memo: {mentions(mentioned)} no status update on {incident_id} for {every}. "
            "Post one - it is one click if nothing changed.")


def escalated_reply(*, incident_id: str, level: int, name: str, by: str) -> str:
    return f"{mention(by)} escalated {incident_id} to level {level} ({name})."
NO_LADDER = "No escalation levels are configured (escalation.levels in warroom.yml)."
NO_OPEN_INCIDENTS = "No open incidents. :white_check_mark:"
SLACK_FAILED_AFTER_SAVE = "Saved, but Slack failed to show it: {error}."


def role_label(role: str) -> str:
    return role.replace("_", " ")


def status_label(status: str) -> str:
    return status.upper()


# ---------------------------------------------------------------- probes
def no_answer_within(timeout: timedelta) -> str:
    return f"no answer within {format_duration(timeout) if timeout.total_seconds() >= 1 else str(int(timeout.total_seconds() * 1000)) + 'ms'}"


def probe_crashed(error: str) -> str:
    return f"the probe itself failed ({error})"


PROBE_EMOJI = {"ok": ":large_green_circle:", "degraded": ":large_yellow_circle:",
               "down": ":red_circle:", "error": ":warning:", "timeout": ":hourglass:"}
PATTERN_TITLES = {
    "single_service_down": "Single service down",
    "cascade_failure": "Cascade failure",
    "database_unreachable": "Database unreachable",
    "broker_failure": "Message broker failure",
    "gateway_not_routing": "API gateway not routing",
    "resource_exhaustion": "Out of memory / disk",
    "no_fault_found": "No fault found",
}
TRIAGE_HEADER = "Diagnostics"
TRIAGE_BUTTON = "Run diagnostics"
TRIAGE_EVIDENCE_THREAD = "Full evidence"
RESOLVE_ANYWAY_BUTTON = "Resolve anyway"


def triage_heading(*, incident_id: str, failing: int, total: int, seconds: float) -> str:
    state = "all green" if failing == 0 else f"{failing} of {total} failing"
    return f"{TRIAGE_HEADER} - {incident_id} - {state} ({seconds:.1f}s)"


def reason_text(code: str, *, service: str, detail: str) -> str:
    match code:
        case "all_ok":
            return f"all {detail} probed services answer their checks"
        case "exhausted_oom":
            return f"{service} was OOM-killed"
        case "exhausted_disk":
            return f"{service} is out of disk"
        case "exhausted_memory":
            return f"{service} is at its memory limit"
        case "database_down":
            return f"{service} (a database) is failing"
        case "broker_down":
            return f"{service} (a message broker) is failing"
        case "gateway_down_upstreams_ok":
            return f"{service} (gateway) is failing while its upstreams are healthy"
        case "cascade":
            return f"{service} failed and {detail} depend on it"
        case "also_explains":
            return f"{service} is a shared dependency of {detail}"
        case "single_down":
            return f"only {service} is failing; nothing it depends on is"
        case "independent_failures":
            return f"several unrelated services are failing: {detail}"
        case "other_roots":
            return f"other failures not explained by it: {detail}"
        case _:
            return f"{code} {service} {detail}".strip()


def first_failure_text(*, service: str | None, at: datetime | None, basis: str) -> str:
    if service is None:
        return CARD_NONE_TEXT
    if basis == "timestamps" and at is not None:
        return f"{service} (failing since {at.strftime('%H:%M:%S UTC')})"
    return f"{service} (by dependencies; no failure times observed)"


CARD_NONE_TEXT = "-"


def probe_started(*, count: int) -> str:
    return f"Running diagnostics on {count} service{'s' if count != 1 else ''}... the triage card follows in the channel."


def resolve_checking(*, services: list[str]) -> str:
    return (f"Checking that {', '.join(services)} are healthy before resolving... "
            "(`/incident resolve --force` skips the check)")


def still_failing(*, incident_id: str, services: dict[str, str]) -> str:
    lines = [f"{incident_id} is not resolved: these checks still fail -"]
    lines += [f"- *{name}*: {summary}" for name, summary in services.items()]
    lines.append("Fix them first, or press *Resolve anyway* (or `/incident resolve --force`).")
    return "\n".join(lines)


def regression(*, incident_id: str, services: list[str]) -> str:
    return (f":rotating_light: Regression while monitoring {incident_id}: "
            f"{', '.join(services)} failing again.")


def impact_from_probes(*, failing: list[str], at: datetime | None) -> str:
    when_text = f" (checks at {at.strftime('%H:%M UTC')})" if at else ""
    return ", ".join(failing) + when_text


def report_title(*, incident_id: str) -> str:
    return f"Post-incident report - {incident_id}"


def report_posted(*, incident_id: str) -> str:
    return (f":page_facing_up: Post-incident report for {incident_id} - 80% written from the "
            "timeline; fill in the _italic_ parts. `warroom report " + incident_id + "` prints it.")


def customer_sent(*, kind: str, by: str, text: str) -> str:
    return f":mega: Customer {kind} message sent by {mention(by)}:\n>{text}"


def customer_draft(*, kind: str, text: str) -> str:
    return (f":mega: Draft customer {kind} message (press *Draft customer update* to edit "
            f"and send):\n>{text}")


def closed_reply(*, incident_id: str, archived: bool) -> str:
    return f"{incident_id} is closed." + (" Archiving this channel." if archived else "")


def action_added(*, incident_id: str, text: str) -> str:
    return f"Action item added to {incident_id}: {text}"


def pinned_to_timeline(*, author: str | None) -> str:
    return f"Added {mention(author)}'s message to the timeline."


def not_an_incident_id(text: str) -> str:
    return f"'{text}' is not an incident id like INC-2026-12-01-001."


def no_report(incident_id: str) -> str:
    return (f"No report stored for {incident_id}: it is generated at resolve, or with "
            "`/incident report`.")


def template_error(text: str) -> str:
    return f"template error: {text}"


def sla_met(*, target: str) -> str:
    return f"met (target {target})"


def sla_breached(*, target: str) -> str:
    return f"BREACHED (target {target})"


def action_outcome(*, name: str, by: str, ok: bool, dry_run: bool, summary: str,
                   description: str) -> str:
    if dry_run:
        return f":test_tube: DRY RUN by {mention(by)} - would run: {description}"
    mark = ":white_check_mark:" if ok else ":x:"
    return f"{mark} {name} ({mention(by)}): {summary}"


def verification(*, service: str, healthy: bool, took: str) -> str:
    if healthy:
        return f":large_green_circle: {service} healthy again after {took}"
    return f":red_circle: {service} still down after {took}"


def recovery_step(*, tier: str, services: list[str], healthy: bool, last: bool) -> str:
    names = ", ".join(services)
    if healthy:
        tail = " Recovery complete." if last else " Next tier."
        return f":white_check_mark: Recovery: {tier} tier healthy ({names}).{tail}"
    return (f":octagonal_sign: Recovery stopped at the {tier} tier: {names} did not recover. "
            "The later tiers were not touched.")


def recovery_step_refused(*, service: str, why: str) -> str:
    return f":no_entry: Recovery could not restart {service}: {why}"


def recovery_plan(*, tiers: list[tuple[str, list[tuple[str, str]]]]) -> str:
    lines = ["*Recovery plan* (tier by tier; each tier must pass its checks before the next):"]
    for i, (tier, steps) in enumerate(tiers, 1):
        parts = [f"{svc} ({what})" for svc, what in steps]
        lines.append(f"{i}. {tier}: " + ", ".join(parts))
    return "\n".join(lines)


RECOVER_BUTTON = "Start recovery"
RECOVER_TOO_MANY = ("That plan names too many services to carry on a button: name fewer, "
                    "e.g. `/incident recover postgres auth`.")


def fix_for(*, service: str) -> str:
    return f"*Fix {service}* (confirmation first; allowed responders only):"
REMEDIATE_MODAL_TITLE = "Confirm action"
REMEDIATE_MODAL_SUBMIT = "Run it"
REMEDIATE_DRY_SUBMIT = "Dry run"
REPLICAS_LABEL = "Replicas"
POD_LABEL = "Pod (empty: the first pod that is not ready)"
NO_RESTART_ACTION = "wait for checks only"


def remediate_modal_text(*, description: str, dry_run: bool, service: str) -> str:
    head = ":test_tube: *Dry run* - nothing will change." if dry_run else ":warning: This will run now:"
    return f"{head}\n`{description}`\nThen warroom re-runs the checks of *{service}* until it is healthy."


NO_SERVICES = ("No services with checks are configured: add a `services:` catalog to "
               "warroom.yml (see README, Diagnostics) to run probes.")


# ---------------------------------------------------------------- cards
CARD_HEADER = "Incident War Room"
DRILL_TAG = "[DRILL]"
CARD_BUTTON_ACK = "Acknowledge"
CARD_BUTTON_UPDATE = "Post update"
CARD_BUTTON_ESCALATE = "Escalate"
CARD_BUTTON_RESOLVE = "Resolve"
CARD_NOT_YET = "not yet"


def card_escalation(*, level: int, name: str) -> str:
    return f"paging level {level} ({name})"


def card_breach(*, target: str) -> str:
    return f":warning: response target {target} breached"
CARD_NONE = "-"
CARD_UNKNOWN = "unknown"


def card_fallback(*, incident_id: str, severity: str, title: str, status: str) -> str:
    return f"{incident_id} [{severity}] {title} - {status_label(status)}"


def announce_declared(*, severity: str, title: str) -> str:
    return f":rotating_light: {severity} INCIDENT: {title}"


def announce_severity(*, severity: str, title: str, old: str) -> str:
    return f":arrow_up_down: {severity} INCIDENT (was {old}): {title}"


def announce_resolved(*, severity: str, title: str) -> str:
    return f":white_check_mark: RESOLVED {severity} INCIDENT: {title}"


def update_heading(*, incident_id: str, status: str) -> str:
    return f"Status update - {incident_id} - {status_label(status)}"


LIST_HEADER = "Open incidents"


def list_more(count: int) -> str:
    return f"...and {count} more (ask for `/incident list` in a channel with fewer open incidents)"


TIMELINE_HEADER = "Timeline"


def timeline_event(kind: str, *, actor: str | None, text: str, data: dict[str, str]) -> str:
    who = mention(actor) if actor else "warroom"
    match kind:
        case "declared":
            return f"{who} declared {data.get('severity', '')}: {text}"
        case "channel_created":
            return f"war room <#{data.get('channel', '')}> opened"
        case "responders_invited":
            invited = data.get("invited", "")
            people = ", ".join(mention(u) for u in invited.split(",") if u) or "nobody"
            out = f"invited {people}"
            if data.get("failed"):
                out += f" (failed: {data['failed']})"
            return out
        case "card_posted":
            return "war-room card posted and pinned"
        case "announced":
            return f"announced in <#{data.get('channel', '')}>"
        case "acknowledged":
            return f"{who} acknowledged"
        case "severity_changed":
            return f"{who} changed severity {data.get('old')} -> {data.get('new')}"
        case "role_assigned":
            return f"{who} made {mention(data.get('user'))} {role_label(data.get('role', ''))}"
        case "status_changed":
            return f"status {data.get('old', '').upper()} -> {data.get('new', '').upper()}"
        case "update_posted":
            return f"{who} posted an update: {text}"
        case "note":
            return f"{who} noted: {text}"
        case "resolved":
            return f"{who} resolved" + (f": {text}" if text else "")
        case "slack_failed":
            return f"Slack failed at {data.get('step')}: {data.get('error')}"
        case "probe_run":
            failing = data.get("failing") or "none"
            return (f"diagnostics: {PATTERN_TITLES.get(data.get('pattern', ''), '?')}"
                    f" (failing: {failing})")
        case "probe_result":
            extra = f" - {data['summary']}" if data.get("summary") else ""
            return f"check {data.get('service')}: {data.get('status', '').upper()}{extra}"
        case "regression":
            return f"regression: {data.get('services')} failing again"
        case "escalated":
            verb = "repeated" if data.get("repeat") else "notified"
            return (f"{verb} level {data.get('level')} {data.get('name')} ({data.get('reason')}): "
                    + ", ".join(mention(u) for u in data.get("members", "").split(",") if u))
        case "ack_target_breached":
            return "acknowledgement target breached"
        case "reminder_sent":
            return "status-update reminder sent"
        case "paged":
            return f"paged: {data.get('result')}"
        case "pinned_message":
            return f"{who} (pinned): {text}"
        case "customer_update":
            return f"{who} sent the customer {data.get('kind', '')} message: {text}"
        case "action_item":
            owner = f" (owner {mention(data['owner'])})" if data.get("owner") else ""
            due = f", due {data['due']}" if data.get("due") else ""
            return f"{who} added action item: {text}{owner}{due}"
        case "report_generated":
            return "post-incident report generated"
        case "closed":
            return f"{who} closed the incident"
        case "remediation_requested":
            return f"{who} requested {text}"
        case "remediation_refused":
            return f"refused {text} for {who}: {data.get('reason')}"
        case "remediation_confirmed":
            dry = " (dry run)" if data.get("dry_run") else ""
            return f"{who} confirmed{dry}: {text}"
        case "remediation_result":
            ok = "ok" if data.get("ok") == "yes" else "FAILED"
            return f"action result ({ok}): {text}"
        case "remediation_verified":
            state = "healthy" if data.get("healthy") == "yes" else "still down"
            return f"{data.get('service')} {state} after {data.get('seconds')}s"
        case "recovery":
            state = "recovered" if data.get("healthy") == "yes" else "did NOT recover"
            return f"recovery: {data.get('tier')} tier ({data.get('services')}) {state}"
        case "resolve_blocked":
            return f"{who} tried to resolve; still failing: {data.get('failing')}"
        case _:
            return f"{who} {kind} {text}".strip()
