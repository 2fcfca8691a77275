"""Every sentence the probes (http, tcp, redis, postgres, rabbitmq, docker, kubernetes,
prometheus) show a person.

Summaries are one short line ("503 in 42 ms", "refused"); evidence lines support
them. Keeping the words here keeps them consistent across probes and easy to change.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.probe import ProbeStatus

if TYPE_CHECKING:
    from bot.probes.docker import Observed

SNIPPET_CHARS = 500   # longest body snippet put in evidence
MAX_NAMED = 10        # most queues / components named in evidence


# --- numbers -------------------------------------------------------------------------------

def ms(value: float) -> str:
    """42 ms, 0.4 ms, 1.2 s."""
    if value >= 10_000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def duration(value: timedelta) -> str:
    return ms(value.total_seconds() * 1000)


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def size(n: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- shared by all probes --------------------------------------------------------------------

REFUSED = "refused"
HOST_NOT_FOUND = "host not found"
UNREACHABLE = "unreachable"
CONNECTION_CLOSED = "connection closed without an answer"


def timed_out(timeout: timedelta) -> str:
    return f"no answer in {duration(timeout)}"


def probe_failed(exc: BaseException) -> str:
    return f"probe failed: {type(exc).__name__}"


def error_line(exc: BaseException) -> str:
    """The exception as one evidence line (redacted by the caller)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def over_limit(what: str, ratio: float, limit: float) -> str:
    return f"{what} at {percent(ratio)}, above the {percent(limit)} limit"


# --- http ------------------------------------------------------------------------------------

def http_status(status: int, latency_ms: float) -> str:
    return f"{status} in {ms(latency_ms)}"


def http_slow(status: int, latency_ms: float, limit: timedelta) -> str:
    return f"{status} in {ms(latency_ms)}, slower than {duration(limit)}"


def http_unexpected(status: int, expected: int) -> str:
    return f"expected HTTP {expected}, got {status}"


def http_latency_over(latency_ms: float, limit: timedelta) -> str:
    return f"answered in {ms(latency_ms)}, over the {duration(limit)} limit"


def http_body(snippet: str) -> str:
    return f"body: {snippet}"


def http_health(status: str, failing: list[str]) -> str:
    if failing:
        shown = ", ".join(failing[:MAX_NAMED])
        return f"health {status} ({shown})"
    return f"health {status}"


def health_overall(status: str) -> str:
    return f"actuator health: {status}"


def health_component(path: str, status: str, details: str) -> str:
    return f"{path}: {status} — {details}" if details else f"{path}: {status}"


def http_connect_failed(detail: str) -> str:
    return f"could not connect: {detail}"


def http_timeout_detail(timeout: timedelta) -> str:
    return f"no response within {duration(timeout)}"


# --- tcp -------------------------------------------------------------------------------------

def tcp_connected(connect_ms: float) -> str:
    return f"connected in {ms(connect_ms)}"


def tcp_refused(target: str) -> str:
    return f"nothing accepts connections on {target}"


# --- redis -----------------------------------------------------------------------------------

def redis_pong(ping_ms: float) -> str:
    return f"PONG in {ms(ping_ms)}"


def redis_memory(ratio: float) -> str:
    return f"memory {percent(ratio)} of maxmemory"


def redis_memory_line(used: int, maxmemory: int) -> str:
    if maxmemory:
        return (f"memory: {size(used)} used of {size(maxmemory)} maxmemory"
                f" ({percent(used / maxmemory)})")
    return f"memory: {size(used)} used, no maxmemory set"


def redis_clients(ratio: float) -> str:
    return f"clients {percent(ratio)} of maxclients"


def redis_clients_line(connected: int, maxclients: int | None) -> str:
    if maxclients:
        return (f"clients: {connected} connected of {maxclients} maxclients"
                f" ({percent(connected / maxclients)})")
    return f"clients: {connected} connected"


REDIS_AUTH = "authentication failed"
REDIS_AUTH_HINT = "the server wants a password (NOAUTH) or refused the one given (WRONGPASS)"
REDIS_LOADING = "loading its dataset"
REDIS_REPLY_ERROR = "error reply"


# --- postgres --------------------------------------------------------------------------------

def pg_ready(select_ms: float) -> str:
    return f"SELECT 1 in {ms(select_ms)}"


def pg_connections(used: int, maximum: int) -> str:
    return f"{used} of {maximum} connections ({percent(used / maximum)})"


def pg_connections_line(used: int, maximum: int) -> str:
    return f"connections: {used} in use of max_connections {maximum} ({percent(used / maximum)})"


PG_TOO_MANY = "too many connections"
PG_TOO_MANY_HINT = "the server refuses new connections: all connection slots are in use"
PG_STARTING = "starting up"
PG_SHUTTING_DOWN = "shutting down"
PG_RECOVERY = "in recovery"
PG_NOT_ACCEPTING = "the database system is not accepting connections"
PG_AUTH = "authentication failed"
PG_REJECTED = "connection rejected"
PG_QUERY_FAILED = "query failed"


# --- rabbitmq --------------------------------------------------------------------------------

def rmq_ok(health_ms: float, queues: int) -> str:
    return f"node ok in {ms(health_ms)}, {plural(queues, 'queue')}"


def rmq_degraded(problems: int, deepest: str, depth: int) -> str:
    return f"{plural(problems, 'queue')} backing up, deepest {deepest} at {depth}"


def rmq_node_failed(reason: str) -> str:
    return f"node check failed: {reason}" if reason else "node check failed"


def rmq_alarm(node: str, resource: str) -> str:
    return f"alarm: {resource} on {node}"


def rmq_queue_line(name: str, vhost: str, messages: int, consumers: int, reasons: list[str]) -> str:
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return (f"queue {name} on vhost {vhost}: {plural(messages, 'message')}, "
            f"{plural(consumers, 'consumer')}{why}")


def rmq_over_depth(limit: int) -> str:
    return f"over {limit}"


RMQ_NO_CONSUMERS = "no consumers"


def rmq_more(n: int) -> str:
    return f"… and {n} more"


def rmq_http_error(status: int, path: str) -> str:
    return f"management API answered {status} for {path}"


RMQ_UNAUTHORIZED = "management API refused the credentials (401)"
RMQ_FORBIDDEN = "management API forbids this user (403): it needs the monitoring tag"
RMQ_BAD_JSON = "management API answered something that is not JSON"


# --- docker ----------------------------------------------------------------------------------

NO_SUCH_CONTAINER = "no such container"
ENGINE_UNREACHABLE = "Docker engine unreachable"
PERMISSION_DENIED = "permission denied on the Docker socket"
DOCKER_API_ERROR = "Docker API error"
DOCKER_PROBE_FAILED = "docker probe failed"
DOCKER_NO_ANSWER = "no answer"
DOCKER_NO_ANSWER_IN_TIME = "no answer in time"
DOCKER_DETAIL_PERMISSION_DENIED = "permission denied"
DOCKER_DETAIL_NO_SOCKET = "no such socket"
DOCKER_DETAIL_REFUSED = "connection refused"


def docker_timed_out(timeout: timedelta) -> str:
    return f"Docker did not answer within {_docker_seconds(timeout)}"


def engine_evidence(socket: str, detail: str) -> str:
    return f"socket {socket}: {detail}"


def not_found_evidence(container: str | None, labels: list[str]) -> str:
    if container is not None:
        return f"no container named or with id '{container}'"
    return f"no container (running or stopped) with labels {', '.join(labels)}"


def state_phrase(c: Observed) -> str:
    if c.state in ("exited", "dead") and c.exit_code is not None:
        return f"{c.state} ({c.exit_code})"
    if c.state == "restarting" and c.exit_code is not None:
        return f"restarting (last exit {c.exit_code})"
    if c.state == "created":
        return "created, never started"
    return c.state


def container_summary(c: Observed, *, memory_high: float) -> str:
    words = state_phrase(c)
    if c.health is not None:
        words += ", health starting" if c.health == "starting" else f", {c.health}"
    if c.oom_killed:
        words += " OOM-killed"
    if c.crash_loop and not c.oom_killed:
        words += " crash-looping"
    if c.restart_count:
        words += f" after {plural(c.restart_count, 'restart')}"
    if c.memory_ratio is not None and c.memory_ratio > memory_high:
        words += f", memory at {c.memory_ratio:.0%} of limit"
    return words


def replicas_summary(observed: list[Observed], worst_one: Observed, *,
                     memory_high: float) -> str:
    ok = sum(1 for c in observed if c.status is ProbeStatus.ok)
    head = f"{ok}/{len(observed)} replicas ok"
    if worst_one.status is ProbeStatus.ok:
        return head
    return f"{head}; {worst_one.name}: {container_summary(worst_one, memory_high=memory_high)}"


def state_evidence(c: Observed) -> str:
    line = f"{c.name}: {state_phrase(c)}"
    if c.image:
        line += f", image {c.image}"
    if c.started_at:
        line += f", started {docker_when(c.started_at)}"
    if c.finished_at and c.state != "running":
        line += f", finished {docker_when(c.finished_at)}"
    return line


def restart_evidence(c: Observed, threshold: int) -> str:
    policy = c.restart_policy or "no"
    line = f"{c.name}: restarted {plural(c.restart_count, 'time')} (restart policy {policy}"
    line += f", crash-loop threshold {threshold})"
    return line + (" - crash-looping" if c.crash_loop else "")


def oom_evidence(c: Observed) -> str:
    limit = (f" (memory limit {_docker_bytes(c.memory_limit_config)})"
             if c.memory_limit_config else "")
    return f"{c.name}: killed by the kernel for running out of memory{limit}"


def health_evidence(c: Observed) -> str:
    line = f"{c.name}: health {c.health}"
    if c.failing_streak:
        line += f", {plural(c.failing_streak, 'failed check')} in a row"
    if c.health_output:
        line += f": {c.health_output}"
    return line


def stats_evidence(c: Observed) -> str:
    parts = []
    if c.memory_used is not None and c.memory_limit:
        parts.append(f"memory {_docker_bytes(c.memory_used)} of {_docker_bytes(c.memory_limit)} "
                     f"({c.memory_ratio:.0%})")
    if c.cpu_percent is not None:
        parts.append(f"CPU {c.cpu_percent:.1f}%")
    return f"{c.name}: " + ", ".join(parts)


def log_evidence(c: Observed, line: str) -> str:
    return f"{c.name} log: {line}"


def unread_evidence(c: Observed, what: str, reason: str) -> str:
    return f"{c.name}: {what} not read ({reason})"


def docker_when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _docker_seconds(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"


def _docker_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


# --- kubernetes ------------------------------------------------------------------------------

def summary_counts(ready: int, total: int) -> str:
    return f"{ready}/{total} ready"


def summary_available(available: int, desired: int) -> str:
    return f"{available}/{desired} available"


def summary_crash_loop(restarts: int, *, back_off: bool) -> str:
    what = "CrashLoopBackOff" if back_off else "crash-looping"
    return f"{what} ({restarts} restart{'' if restarts == 1 else 's'})"


def summary_pending(reason: str) -> str:
    return f"Pending: {reason}"


def no_pods(selector: str, namespace: str) -> str:
    return f"no pods match {selector} in namespace {namespace}"


def pod_line(name: str, phase: str, ready: bool, notes: list[str]) -> str:
    state = f"{phase}, {'ready' if ready else 'not ready'}"
    return f"pod {name}: {state}" + (f"; {'; '.join(notes)}" if notes else "")


def container_waiting(container: str, reason: str, message: str | None) -> str:
    return f"container {container} waiting: {reason}" + (f" ({message})" if message else "")


def container_terminated(container: str, reason: str | None, exit_code: int | None,
                         at: datetime | None, *, previous: bool) -> str:
    what = "last terminated" if previous else "terminated"
    code = f", exit code {exit_code}" if exit_code is not None else ""
    when = f" at {_k8s_hhmm(at)}" if at else ""
    return f"container {container} {what}: {reason or 'unknown reason'}{code}{when}"


def container_not_ready(container: str) -> str:
    return f"container {container} running but not ready"


def container_restarts(container: str, restarts: int) -> str:
    return f"container {container} restarted {restarts} time{'' if restarts == 1 else 's'}"


def pod_unscheduled(reason: str, message: str | None) -> str:
    return f"not scheduled: {reason}" + (f" - {message}" if message else "")


def pod_finished(name: str, phase: str, reason: str | None, message: str | None) -> str:
    tail = f": {reason}" if reason else ""
    tail += f" ({message})" if message else ""
    return f"pod {name}: {phase}{tail} (not counted)"


def more_pods(count: int) -> str:
    return f"... and {count} more failing pod{'' if count == 1 else 's'}"


def event_line(at: datetime | None, reason: str, kind: str, name: str, message: str,
               count: int | None) -> str:
    times = f" (x{count})" if count and count > 1 else ""
    when = f"{_k8s_hhmm(at)} " if at else ""
    return f"event {when}Warning {reason} {kind.lower()}/{name}: {message}{times}"


def log_line(pod: str, container: str, previous: bool, line: str) -> str:
    which = " (previous)" if previous else ""
    return f"log {pod}/{container}{which}: {line}"


def deployment_line(name: str, available: int, desired: int, notes: list[str]) -> str:
    return (f"deployment {name}: {summary_available(available, desired)}"
            + (f"; {'; '.join(notes)}" if notes else ""))


def deployment_condition(kind: str, status: str, reason: str | None,
                         message: str | None) -> str:
    return (f"{kind}={status}" + (f" {reason}" if reason else "")
            + (f": {message}" if message else ""))


def deployment_not_found(name: str, namespace: str) -> str:
    return f"deployment {name} not found in namespace {namespace}"


def lookup_failed(what: str, error: str) -> str:
    return f"could not read {what}: {error}"


def api_refused(status: int, reason: str, message: str | None) -> str:
    return f"Kubernetes API answered {status} {reason}" + (f": {message}" if message else "")


API_UNAUTHORIZED_HINT = ("the API server did not accept the credentials (401 Unauthorized): "
                         "check the kubeconfig user / service-account token")
API_FORBIDDEN_HINT = ("the credentials lack RBAC permission (403 Forbidden): warroom needs get/list "
                      "on pods, pods/log, events, and apps deployments/replicasets")


K8S_CONNECTION_REFUSED = "connection refused"
K8S_NAME_UNRESOLVED = "the host name does not resolve"
NO_HTTP_ANSWER = "no HTTP answer"


def tls_failed(detail: str | None) -> str:
    return f"TLS failed ({detail})"


def api_unreachable(url: str, why: str) -> str:
    return f"cannot reach the Kubernetes API at {url}: {why}"


def config_failed(error: str) -> str:
    return f"cannot load the Kubernetes configuration: {error}"


def k8s_timed_out(seconds: float) -> str:
    return f"no answer from the Kubernetes API within {seconds:g}s"


def timed_out_request(url: str) -> str:
    return f"the Kubernetes API at {url} did not answer in time"


def k8s_probe_failed(error: str) -> str:
    return f"kubernetes probe failed: {error}"


def k8s_log_of(pod: str, container: str) -> str:
    return f"the log of {pod}/{container}"


def _k8s_hhmm(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%SZ")


# --- prometheus ------------------------------------------------------------------------------

NO_URL = ("no Prometheus URL configured: set prometheus.url in warroom.yml "
          "(e.g. http://prometheus:9090)")
NO_SAMPLES = "no samples"
NO_SAMPLES_AS_ZERO = "no samples (counted as 0 for the below threshold)"
UNNAMED_ALERT = "(unnamed alert)"
PROM_CONNECTION_REFUSED = "connection refused"
PROM_NAME_UNRESOLVED = "the host name does not resolve"
NOT_ALERTS = "not a list of alerts"
EMPTY_BODY = "an empty body"
PROM_UNKNOWN_RESULT_TYPE = "result of unknown type"


def value_summary(value: float) -> str:
    return f"value {fmt(value)}"


def breach_summary(value: float, op: str, threshold: float, level: str) -> str:
    return f"{fmt(value)} {op} {fmt(threshold)} ({level})"


def series_line(labels: dict[str, str], value: float) -> str:
    return f"{selector(labels)} = {fmt(value)}"


def more_series(count: int) -> str:
    return f"... and {count} more series"


def alerts_summary(names: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(names))
    return f"{len(names)} alert{'' if len(names) == 1 else 's'} firing: {shown}"


def alert_line(name: str, severity: str | None, summary: str | None,
               starts_at: datetime | None) -> str:
    sev = f" (severity {severity})" if severity else ""
    since = f" since {starts_at.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}" if starts_at else ""
    text = f": {summary}" if summary else ""
    return f"alert {name} firing{sev}{since}{text}"


def more_alerts(count: int) -> str:
    return f"... and {count} more firing alert{'' if count == 1 else 's'}"


def query_failed(error_type: str | None, error: str | None) -> str:
    return f"Prometheus query failed: {error_type or 'error'}: {error or 'no detail'}"


def query_warning(text: str) -> str:
    return f"Prometheus warning: {text}"


def not_instant(result_type: str) -> str:
    return (f"the query returned a {result_type}; use a query that returns an instant vector "
            "or a scalar (drop the [range] or wrap it, e.g. rate(...[5m]))")


def bad_answer(service: str, status: int, detail: str) -> str:
    return f"{service} answered HTTP {status}: {detail}"


def prom_unreachable(service: str, url: str, why: str) -> str:
    return f"cannot reach {service} at {url}: {why}"


def prom_timed_out(seconds: float) -> str:
    return f"no answer from Prometheus/Alertmanager within {seconds:g}s"


def prom_probe_failed(error: str) -> str:
    return f"prometheus probe failed: {error}"


def fmt(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def selector(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    if not name and not rest:
        return "{}"
    return f"{name}{{{rest}}}" if rest else name
