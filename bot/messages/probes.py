"""Every sentence the network probes (http, tcp, redis, postgres, rabbitmq) show a person.

Summaries are one short line ("503 in 42 ms", "refused"); evidence lines support
them. Keeping the words here keeps them consistent across probes and easy to change.
"""

from __future__ import annotations

from datetime import timedelta

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
