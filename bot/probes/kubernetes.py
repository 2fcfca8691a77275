"""Kubernetes probe: the pods behind a label selector, their events, logs and deployment.

One `ApiClient` per probe run (kept in `ctx.cache`), built from `ctx.kubernetes`:
a plain API URL (`host`, e.g. kubectl proxy), the in-cluster service account, or a
kubeconfig (+ context) loaded into a fresh `Configuration` (the client's global
default is never touched). Every SDK call is blocking and runs through
`ctx.blocking` with a per-request `_request_timeout` taken from what is left of
`check.timeout`; the whole probe also runs under `asyncio.timeout`.

Status:
  ok        every pod Running and Ready, and the deployment fully available
  degraded  some but not all pods ready, or 0 < available replicas < desired
  down      no pod matches, no pod is ready, a container is crash-looping
            (waiting in CrashLoopBackOff, or >= restart_threshold restarts with the
            last one within events_within while not ready, or within the last 10
            minutes even if ready) or was OOMKilled in its latest restart (finished
            within events_within), or the deployment has 0 of >0 replicas available
  error     the API refused us (401/403), could not be reached, or the config is bad
  timeout   no answer within check.timeout

Facts: pods_ready, pods_total, restart_count, crash_loop, oom_killed,
replicas_available, replicas_desired, pending_reason (a Kubernetes reason word
such as "Unschedulable" or "ImagePullBackOff"; the message goes to evidence).
Pods being deleted and finished pods (Succeeded/Failed, e.g. Evicted) are left out
of the counts unless nothing else matches.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3.exceptions as u3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.api.apps_v1_api import AppsV1Api
from kubernetes.client.api.core_v1_api import CoreV1Api
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.util.retry import Retry

from bot.core.probe import (FACT_CRASH_LOOP, FACT_OOM_KILLED, FACT_PENDING_REASON,
                            FACT_PODS_READY, FACT_PODS_TOTAL, FACT_REPLICAS_AVAILABLE,
                            FACT_REPLICAS_DESIRED, FACT_RESTART_COUNT, CheckResult, Fact,
                            ProbeStatus)
from bot.core.redact import redact
from bot.messages import probes as w
from bot.probes.checks import KubernetesCheck, KubernetesSettings
from bot.probes.context import ProbeContext

# ---------------------------------------------------------------- reasons

CRASH_LOOP = "CrashLoopBackOff"
OOM_KILLED = "OOMKilled"
BAD_WAITING_REASONS = frozenset({
    "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull",
    "InvalidImageName", "CreateContainerConfigError", "CreateContainerError",
    "RunContainerError", "PreCreateHookError", "PostStartHookError",
})


# ---------------------------------------------------------------- limits

CACHE_KEY = "kubernetes.api_client"
MAX_EVENT_PODS = 20     # pods whose events are read (failing pods first)
MAX_LOG_PODS = 3        # failing pods whose log tail is read
MAX_POD_LINES = 5       # failing pods described in evidence
MAX_EVENTS = 5          # newest Warning events shown
MAX_LOG_LINES = 5       # error lines shown per log
FALLBACK_LOG_LINES = 3  # last lines shown when a failing log has no error line
MAX_LINE = 300          # characters per evidence line
MIN_REQUEST_TIMEOUT = 0.05
FLAP_WINDOW = timedelta(minutes=10)  # > CrashLoopBackOff's 5 min cap: a loop dies this often

_ERROR_LINE = re.compile(
    r"(?i)\b(?:error|err|fatal|panic|exception|traceback|critical|segfault|oom)\b"
    r"|[A-Za-z]+(?:Error|Exception)\b|\blevel=(?:error|fatal|crit)")


# ---------------------------------------------------------------- the probe


async def probe(check: KubernetesCheck, *, ctx: ProbeContext) -> CheckResult:
    started = time.monotonic()
    observed_at = ctx.clock.now()
    seconds = check.timeout.total_seconds()
    target = _target(check)
    run = _Run(check=check, ctx=ctx, now=_aware(observed_at),
               deadline=asyncio.get_running_loop().time() + seconds)
    try:
        async with asyncio.timeout(seconds):
            outcome = await run.execute()
    except TimeoutError:
        outcome = _Outcome(ProbeStatus.timeout, w.k8s_timed_out(seconds),
                           [w.k8s_timed_out(seconds)])
    except Exception as exc:  # noqa: BLE001 - a probe never raises
        outcome = _failure(exc, run.api_url)
    return CheckResult(
        kind=check.kind, target=target, status=outcome.status, summary=_clip(redact(outcome.summary)),
        evidence=[_clip(redact(line)) for line in outcome.evidence],
        facts=outcome.facts, elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        observed_at=observed_at,
        failed_since=outcome.failed_since if outcome.status.failing else None)


@dataclass
class _Outcome:
    status: ProbeStatus
    summary: str
    evidence: list[str] = field(default_factory=list)
    facts: dict[str, Fact] = field(default_factory=dict)
    failed_since: datetime | None = None


@dataclass
class _Container:
    name: str
    ready: bool
    restarts: int
    crash_loop: bool = False
    oom: bool = False
    bad_reason: str | None = None      # ImagePullBackOff, ...
    waiting_reason: str | None = None  # any waiting reason (also ContainerCreating)
    terminated_at: datetime | None = None
    restarted: bool = False            # a previous instance exists (logs: previous=True)
    notes: list[str] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return (not self.ready or self.crash_loop or self.oom or self.bad_reason is not None)

    @property
    def badness(self) -> int:
        return (4 * self.crash_loop + 3 * self.oom + 2 * (self.bad_reason is not None)
                + (not self.ready))


@dataclass
class _Pod:
    name: str
    phase: str
    ready: bool
    containers: list[_Container]
    finished: bool          # Succeeded / Failed
    deleting: bool
    replica_set: str | None
    pending_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    since: list[datetime] = field(default_factory=list)

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers)

    @property
    def crash_loop(self) -> bool:
        return any(c.crash_loop for c in self.containers)

    @property
    def oom(self) -> bool:
        return any(c.oom for c in self.containers)

    @property
    def failing(self) -> bool:
        return (not self.ready or self.phase != "Running" or self.crash_loop or self.oom
                or any(c.bad_reason for c in self.containers))

    def worst_container(self) -> _Container | None:
        failing = [c for c in self.containers if c.failing]
        return max(failing, key=lambda c: c.badness, default=None)


@dataclass(frozen=True)
class _LogLine:
    pod: str
    container: str
    previous: bool
    text: str

    def __hash__(self) -> int:  # sibling pods print the same lines: show each once
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LogLine) and other.text == self.text


@dataclass
class _Deployment:
    name: str
    available: int
    desired: int
    notes: list[str]


class _Run:
    def __init__(self, *, check: KubernetesCheck, ctx: ProbeContext, now: datetime,
                 deadline: float) -> None:
        self.check, self.ctx, self.now, self.deadline = check, ctx, now, deadline
        self.api_url: str | None = ctx.kubernetes.host
        self.window_start = now - check.events_within

    def _remaining(self) -> float:
        return max(MIN_REQUEST_TIMEOUT, self.deadline - asyncio.get_running_loop().time())

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.ctx.blocking(fn, *args, _request_timeout=self._remaining(), **kwargs)

    async def execute(self) -> _Outcome:
        sdk = await _sdk(self.ctx)
        self.api_url = sdk.api.configuration.host
        core, apps = sdk.core, sdk.apps
        check = self.check
        listing = await self._call(core.list_namespaced_pod, check.namespace,
                                   label_selector=check.selector)
        all_pods = [self._pod(p) for p in (listing.items or [])]
        counted = ([p for p in all_pods if not p.finished and not p.deleting]
                   or [p for p in all_pods if not p.deleting] or all_pods)
        failing = [p for p in counted if p.failing]
        notes: list[str] = []

        event_pods = (failing + [p for p in counted if not p.failing])[:MAX_EVENT_PODS]
        results = await asyncio.gather(
            self._deployments(apps, counted, notes),
            self._events(core, [p.name for p in event_pods], notes),
            *(self._log(core, p) for p in failing[:MAX_LOG_PODS]),
            return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                if isinstance(result, (asyncio.CancelledError, TimeoutError)):
                    raise result
                notes.append(w.lookup_failed("details", _brief(result)))
        deployments = results[0] if isinstance(results[0], list) else []
        events = results[1] if isinstance(results[1], list) else []
        logs = list(dict.fromkeys(line for r in results[2:] if isinstance(r, list)
                                  for line in r))  # the same line from sibling pods once
        return self._judge(counted, [p for p in all_pods if p not in counted], failing,
                           deployments, events, logs, notes)

    # ------------------------------------------------------------ reading

    def _pod(self, pod: Any) -> _Pod:
        meta, status = pod.metadata, pod.status
        phase = (status.phase if status else None) or "Unknown"
        conditions = {c.type: c for c in ((status.conditions if status else None) or [])}
        ready_cond = conditions.get("Ready")
        ready = ready_cond is not None and ready_cond.status == "True"
        owner = next((o.name for o in (meta.owner_references or [])
                      if o.kind == "ReplicaSet" and o.controller), None)
        inits = (status.init_container_statuses if status else None) or []
        mains = (status.container_statuses if status else None) or []
        view = _Pod(name=meta.name, phase=phase, ready=ready,
                    containers=([self._container(cs, init=True) for cs in inits]
                                + [self._container(cs) for cs in mains]),
                    finished=phase in ("Succeeded", "Failed"),
                    deleting=meta.deletion_timestamp is not None, replica_set=owner)
        if view.finished:
            view.notes.append(w.pod_finished(view.name, phase, status.reason if status else None,
                                           status.message if status else None))
            return view
        scheduled = conditions.get("PodScheduled")
        if phase == "Pending":
            if scheduled is not None and scheduled.status == "False":
                view.pending_reason = scheduled.reason or "Unschedulable"
                view.notes.append(w.pod_unscheduled(view.pending_reason, scheduled.message))
            else:
                waiting = [c for c in view.containers if c.waiting_reason]
                waiting.sort(key=lambda c: c.badness, reverse=True)
                view.pending_reason = waiting[0].waiting_reason if waiting else None
            start = (status.start_time if status else None) or meta.creation_timestamp
            if start:
                view.since.append(_aware(start))
        for c in view.containers:
            view.notes.extend(c.notes)
            if c.failing and c.terminated_at:
                view.since.append(c.terminated_at)
        if not ready and ready_cond is not None and ready_cond.last_transition_time:
            view.since.append(_aware(ready_cond.last_transition_time))
        return view

    def _container(self, cs: Any, *, init: bool = False) -> _Container:
        c = _Container(name=cs.name, ready=bool(cs.ready), restarts=cs.restart_count or 0)
        state, last = cs.state, cs.last_state
        waiting = state.waiting if state else None
        terminated = state.terminated if state else None
        previous = last.terminated if last else None
        if init and terminated is not None and terminated.exit_code == 0:
            c.ready = True  # an init container that completed is done, not failing
            return c
        c.restarted = c.restarts > 0 or previous is not None
        if waiting and waiting.reason:
            c.waiting_reason = waiting.reason
            if waiting.reason == CRASH_LOOP:
                c.crash_loop = True
            elif waiting.reason in BAD_WAITING_REASONS:
                c.bad_reason = waiting.reason
            if waiting.reason in BAD_WAITING_REASONS or not c.ready:
                message = _one_line(waiting.message)
                if waiting.reason == CRASH_LOOP and message:
                    message = message.split(" restarting", 1)[0]  # "back-off 5m0s"
                c.notes.append(w.container_waiting(c.name, waiting.reason, message))
        if terminated is not None:
            at = _aware(terminated.finished_at) if terminated.finished_at else None
            c.notes.append(w.container_terminated(c.name, terminated.reason, terminated.exit_code,
                                                at, previous=False))
            if terminated.reason == OOM_KILLED and self._recent(at):
                c.oom = True
            if terminated.exit_code:
                c.terminated_at = at
        if previous is not None:
            at = _aware(previous.finished_at) if previous.finished_at else None
            recent = self._recent(at)
            if previous.reason == OOM_KILLED and recent:
                c.oom = True
            # restarting again and again, caught between two back-offs (running, and
            # ready when it has no readiness probe)
            if (c.restarts >= self.check.restart_threshold and at is not None and recent
                    and (not c.ready or at >= self.now - FLAP_WINDOW)):
                c.crash_loop = True
            if recent or c.failing:
                c.notes.append(w.container_terminated(c.name, previous.reason, previous.exit_code,
                                                    at, previous=True))
                c.terminated_at = c.terminated_at or at
        if (state is not None and state.running is not None and not c.ready and not init):
            c.notes.append(w.container_not_ready(c.name))
        if c.restarts and (c.failing or c.restarts >= self.check.restart_threshold):
            c.notes.append(w.container_restarts(c.name, c.restarts))
        return c

    def _recent(self, at: datetime | None) -> bool:
        return at is None or at >= self.window_start

    async def _deployments(self, apps: Any, pods: list[_Pod], notes: list[str]) -> list[_Deployment]:
        ns = self.check.namespace
        names: list[str] = []
        if self.check.deployment:
            names = [self.check.deployment]
        else:
            replica_sets = list(dict.fromkeys(p.replica_set for p in pods if p.replica_set))[:3]
            for rs_name in replica_sets:
                try:
                    rs = await self._call(apps.read_namespaced_replica_set, rs_name, ns)
                except ApiException as exc:
                    notes.append(w.lookup_failed(f"replicaset {rs_name}", _api_error_text(exc)))
                    continue
                for ref in rs.metadata.owner_references or []:
                    if ref.kind == "Deployment" and ref.name not in names:
                        names.append(ref.name)
        found: list[_Deployment] = []
        for name in names:
            try:
                dep = await self._call(apps.read_namespaced_deployment, name, ns)
            except ApiException as exc:
                if exc.status == 404 and self.check.deployment:
                    found.append(_Deployment(name, 0, -1, [w.deployment_not_found(name, ns)]))
                else:
                    notes.append(w.lookup_failed(f"deployment {name}", _api_error_text(exc)))
                continue
            desired = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
            st = dep.status
            available = (st.available_replicas if st else None) or 0
            dep_notes = []
            for cond in (st.conditions if st else None) or []:
                bad = ((cond.type in ("Available", "Progressing") and cond.status == "False")
                       or (cond.type == "ReplicaFailure" and cond.status == "True"))
                if bad:
                    dep_notes.append(w.deployment_condition(cond.type, cond.status, cond.reason,
                                                          _one_line(cond.message)))
            found.append(_Deployment(name, available, desired, dep_notes))
        return found

    async def _events(self, core: Any, names: list[str], notes: list[str]) -> list[tuple]:
        async def for_pod(name: str) -> list[Any]:
            listing = await self._call(core.list_namespaced_event, self.check.namespace,
                                       field_selector=f"involvedObject.name={name}")
            return listing.items or []

        batches = await asyncio.gather(*(for_pod(n) for n in names), return_exceptions=True)
        events: list[tuple] = []
        refused: str | None = None
        for batch in batches:
            if isinstance(batch, ApiException):
                refused = refused or _api_error_text(batch)
                continue
            if isinstance(batch, BaseException):
                raise batch
            for ev in batch:
                if (ev.type or "") != "Warning":
                    continue
                last = _event_last(ev)
                if last is not None and last < self.window_start:
                    continue
                first = _event_first(ev) or last
                obj = ev.involved_object
                events.append((last, first, ev.reason or "", (obj.kind or "Pod") if obj else "Pod",
                               (obj.name or "") if obj else "", _one_line(ev.message) or "",
                               ev.count or (ev.series.count if ev.series else None)))
        if refused:
            notes.append(w.lookup_failed("events", refused))
        return events

    async def _log(self, core: Any, pod: _Pod) -> list[str]:
        container = pod.worst_container()
        if container is None or (pod.phase == "Pending" and not container.restarted):
            return []  # nothing has run yet: no log to read
        # the instance that died holds the interesting lines; a waiting container has no
        # current instance at all
        previous = container.restarted and (container.crash_loop or container.oom
                                             or container.waiting_reason is not None)
        try:
            text = await self._call(core.read_namespaced_pod_log, pod.name, self.check.namespace,
                                    container=container.name, tail_lines=self.check.log_lines,
                                    previous=previous)
        except ApiException as exc:
            if not previous or exc.status != 400:
                return [w.lookup_failed(w.k8s_log_of(pod.name, container.name),
                                        _api_error_text(exc))]
            previous = False  # no previous instance after all: read the current one
            text = await self._call(core.read_namespaced_pod_log, pod.name, self.check.namespace,
                                    container=container.name, tail_lines=self.check.log_lines)
        lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
        picked = [ln for ln in lines if _ERROR_LINE.search(ln)][-MAX_LOG_LINES:]
        if not picked:
            picked = lines[-FALLBACK_LOG_LINES:]
        return [_LogLine(pod.name, container.name, previous, redact(ln)) for ln in picked]

    # ------------------------------------------------------------ judging

    def _judge(self, pods: list[_Pod], uncounted: list[_Pod], failing: list[_Pod],
               deployments: list[_Deployment], events: list[tuple], logs: list[str],
               notes: list[str]) -> _Outcome:
        check = self.check
        total = len(pods)
        ready = sum(p.ready for p in pods)
        restarts = sum(p.restarts for p in pods)
        crash_loop = any(p.crash_loop for p in pods)
        oom = any(p.oom for p in pods)
        pending = next((p.pending_reason for p in pods if p.pending_reason), None)
        bad_reasons = list(dict.fromkeys(c.bad_reason for p in pods for c in p.containers
                                         if c.bad_reason and c.bad_reason != pending))
        known = [d for d in deployments if d.desired >= 0]
        missing = [d for d in deployments if d.desired < 0]
        available = sum(d.available for d in known) if known else None
        desired = sum(d.desired for d in known) if known else None

        facts: dict[str, Fact] = {
            FACT_PODS_READY: ready, FACT_PODS_TOTAL: total, FACT_RESTART_COUNT: restarts,
            FACT_CRASH_LOOP: crash_loop, FACT_OOM_KILLED: oom,
            FACT_REPLICAS_AVAILABLE: available, FACT_REPLICAS_DESIRED: desired,
            FACT_PENDING_REASON: pending,
        }

        if total == 0:
            status = ProbeStatus.down
        elif ready == 0 or crash_loop or oom:
            status = ProbeStatus.down
        elif desired and available == 0:
            status = ProbeStatus.down
        elif ready < total or (desired is not None and available is not None
                               and available < desired):
            status = ProbeStatus.degraded
        else:
            status = ProbeStatus.ok
        if missing and status is ProbeStatus.ok:
            status = ProbeStatus.error  # the configured deployment does not exist

        parts = ([w.no_pods(check.selector, check.namespace)] if total == 0
                 else [w.summary_counts(ready, total)])
        if desired is not None and (available, desired) != (ready, total):
            parts.append(w.summary_available(available or 0, desired))
        if crash_loop:
            back_off = any(c.waiting_reason == CRASH_LOOP for p in pods for c in p.containers)
            parts.append(w.summary_crash_loop(restarts, back_off=back_off))
        if oom:
            parts.append(OOM_KILLED)
        if pending:
            parts.append(w.summary_pending(pending))
        parts.extend(bad_reasons)
        if missing:
            parts.append(w.deployment_not_found(missing[0].name, check.namespace))

        evidence: list[str] = []
        if total == 0:
            evidence.append(w.no_pods(check.selector, check.namespace))
        for p in failing[:MAX_POD_LINES]:
            evidence.append(w.pod_line(p.name, p.phase, p.ready, p.notes))
        if len(failing) > MAX_POD_LINES:
            evidence.append(w.more_pods(len(failing) - MAX_POD_LINES))
        evidence.extend(line for p in uncounted[:MAX_POD_LINES] for line in p.notes)
        for d in deployments:
            evidence.append(d.notes[0] if d.desired < 0
                            else w.deployment_line(d.name, d.available, d.desired, d.notes))
        newest = sorted(events, key=lambda e: e[0] or datetime.min.replace(tzinfo=UTC),
                        reverse=True)[:MAX_EVENTS]
        evidence.extend(w.event_line(e[0], e[2], e[3], e[4], e[5], e[6]) for e in newest)
        evidence.extend(w.log_line(ln.pod, ln.container, ln.previous, ln.text)
                        if isinstance(ln, _LogLine) else ln for ln in logs)
        evidence.extend(notes)

        since = [t for p in failing for t in p.since]
        since.extend(e[1] for e in events if e[1] is not None)
        return _Outcome(status, ", ".join(parts), evidence, facts, min(since, default=None))


# ---------------------------------------------------------------- the client


@dataclass(frozen=True)
class _Sdk:
    api: Any   # kubernetes.client.ApiClient
    core: Any  # CoreV1Api
    apps: Any  # AppsV1Api


async def _sdk(ctx: ProbeContext) -> _Sdk:
    """One ApiClient per run, shared by every kubernetes check of the run.

    Built in a worker thread: loading a kubeconfig reads files (and may run an exec
    credential plugin), which must not block the event loop. The SDK itself is
    imported with this module (it takes most of a second), so the first check of a
    process does not spend its timeout on imports.
    """
    key = f"{CACHE_KEY}:{ctx.kubernetes.model_dump_json()}"
    task = ctx.cache.get(key)
    if task is None:
        task = asyncio.ensure_future(ctx.blocking(_build_client, ctx.kubernetes))
        ctx.cache[key] = task
    return await asyncio.shield(task)


def _build_client(settings: KubernetesSettings) -> _Sdk:
    cfg = k8s.Configuration()  # a fresh one: the client's global default stays untouched
    if settings.host:
        cfg.host = settings.host.rstrip("/")
    elif settings.in_cluster:
        k8s_config.load_incluster_config(client_configuration=cfg)
    else:
        k8s_config.load_kube_config(config_file=settings.kubeconfig, context=settings.context,
                                client_configuration=cfg, persist_config=False)
    # one quick retry (a stale keep-alive connection), never a status retry or a back-off
    cfg.retries = Retry(total=1, status=0, backoff_factor=0, raise_on_status=False)
    api = k8s.ApiClient(configuration=cfg)
    return _Sdk(api=api, core=CoreV1Api(api), apps=AppsV1Api(api))


# ---------------------------------------------------------------- failures


def _failure(exc: BaseException, api_url: str | None) -> _Outcome:
    url = api_url or "(unknown URL)"
    if isinstance(exc, ApiException):
        if exc.status in (0, None):
            text = _one_line(exc.reason) or w.NO_HTTP_ANSWER
            return _Outcome(ProbeStatus.error, w.api_unreachable(url, text),
                            [w.api_unreachable(url, text)])
        evidence = [w.api_refused(exc.status, exc.reason or "", _status_message(exc))]
        if exc.status == 401:
            evidence.append(w.API_UNAUTHORIZED_HINT)
        elif exc.status == 403:
            evidence.append(w.API_FORBIDDEN_HINT)
        return _Outcome(ProbeStatus.error, f"{exc.status} {exc.reason or ''}".strip(), evidence)
    if isinstance(exc, (ConfigException, FileNotFoundError)):
        return _Outcome(ProbeStatus.error, w.config_failed(_brief(exc)),
                        [w.config_failed(_brief(exc))])
    reason = exc.reason if isinstance(exc, u3.MaxRetryError) and exc.reason else exc
    # NewConnectionError subclasses ConnectTimeoutError: test it first
    if isinstance(reason, u3.TimeoutError) and not isinstance(reason, u3.NewConnectionError):
        return _Outcome(ProbeStatus.timeout, w.timed_out_request(url), [w.timed_out_request(url)])
    if isinstance(reason, (u3.HTTPError, OSError)):
        why = _connection_reason(reason)
        return _Outcome(ProbeStatus.error, w.api_unreachable(url, why),
                        [w.api_unreachable(url, why)])
    return _Outcome(ProbeStatus.error, w.k8s_probe_failed(_brief(exc)),
                    [w.k8s_probe_failed(_brief(exc))])


def _connection_reason(exc: BaseException) -> str:
    text = str(exc)
    low = text.lower()
    if "refused" in low:
        return w.K8S_CONNECTION_REFUSED
    if "name or service not known" in low or "nodename nor servname" in low or \
            "failed to resolve" in low or "temporary failure in name resolution" in low:
        return w.K8S_NAME_UNRESOLVED
    if "certificate" in low or "ssl" in low:
        return w.tls_failed(_one_line(text))
    return _one_line(text) or type(exc).__name__


def _status_message(exc: Any) -> str | None:
    """The `message` of the Kubernetes Status object the API answered with."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return _one_line(body)[:200]
    return _one_line(data.get("message")) if isinstance(data, dict) else None


def _api_error_text(exc: Any) -> str:
    message = _status_message(exc)
    return f"{exc.status} {exc.reason or ''}".strip() + (f": {message}" if message else "")


# ---------------------------------------------------------------- helpers


def _target(check: KubernetesCheck) -> str:
    base = f"{check.namespace}/{check.selector}"
    return f"{base} (deployment {check.deployment})" if check.deployment else base


def _event_last(ev: Any) -> datetime | None:
    for value in (ev.last_timestamp, ev.series.last_observed_time if ev.series else None,
                  ev.event_time, ev.first_timestamp, ev.metadata.creation_timestamp
                  if ev.metadata else None):
        if value is not None:
            return _aware(value)
    return None


def _event_first(ev: Any) -> datetime | None:
    for value in (ev.first_timestamp, ev.event_time):
        if value is not None:
            return _aware(value)
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(str(text).split())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def _brief(exc: BaseException) -> str:
    text = _one_line(str(exc)) or ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__

