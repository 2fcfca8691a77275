"""The kubernetes probe, with the real `kubernetes` client against the fake API server."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from bot.core.probe import ProbeStatus
from bot.probes import kubernetes
from bot.probes.checks import KubernetesCheck, KubernetesSettings
from bot.probes.context import ProbeContext
from bot.store.embedded import free_port
from tests.conftest import T0


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def ctx(clock, http, kube_api) -> ProbeContext:
    return ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(host=kube_api.url),
                        service="checkout")


def check(**kwargs) -> KubernetesCheck:
    return KubernetesCheck(selector=kwargs.pop("selector", "app=checkout"), **kwargs)


def text(result) -> str:
    return "\n".join([result.summary, *result.evidence])


async def test_healthy_deployment_with_three_ready_pods_is_ok(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.ok, text(result)
    assert result.summary == "3/3 ready"
    assert result.facts == {"pods_ready": 3, "pods_total": 3, "restart_count": 0,
                            "crash_loop": False, "oom_killed": False, "replicas_available": 3,
                            "replicas_desired": 3, "pending_reason": None}
    assert result.failed_since is None and result.observed_at == T0
    assert result.kind == "kubernetes" and result.target == "default/app=checkout"
    # the deployment was found through the pods' ReplicaSet owner; no log was read
    assert kube_api.requested("/replicasets/") and kube_api.requested("/deployments/checkout")
    assert not kube_api.requested("/log")


async def test_crash_looping_oom_killed_pod_is_down_with_panic_line_and_token_redacted(
        kube_api, ctx):
    [pod] = kube_api.crash_looping_deployment("checkout", replicas=1, restarts=12)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "0/1 ready, CrashLoopBackOff (12 restarts), OOMKilled"
    assert result.facts["crash_loop"] is True and result.facts["oom_killed"] is True
    assert result.facts["restart_count"] == 12
    assert (result.facts["pods_ready"], result.facts["pods_total"]) == (0, 1)
    body = text(result)
    assert "panic: runtime error: invalid memory address or nil pointer dereference" in body
    assert "ERROR payments client: 401 from /v1/charge token=" in body  # the line is shown ...
    assert "abc123" not in body                                        # ... with the token masked
    assert "last terminated: OOMKilled, exit code 137" in body
    assert "Warning BackOff pod/" in body and "Back-off restarting failed container app" in body
    # the log of the instance that died, from the failing container, tail as configured
    [log] = kube_api.requested("/log")
    assert log.path == f"/api/v1/namespaces/default/pods/{pod['metadata']['name']}/log"
    assert log.query == {"container": "app", "previous": "true", "tailLines": "100"}
    # earliest proof: the first Unhealthy warning, 25 minutes ago
    assert result.failed_since == T0 - timedelta(minutes=25)


async def test_pending_unschedulable_pod_is_down_with_the_scheduler_message(kube_api, ctx):
    kube_api.pending_deployment("checkout", replicas=1)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.facts["pending_reason"] == "Unschedulable"
    assert "Pending: Unschedulable" in result.summary
    assert "0/3 nodes are available: 3 Insufficient memory" in text(result)
    assert "Warning FailedScheduling" in text(result)  # eventTime-style scheduler event
    assert not kube_api.requested("/log")  # nothing ran: no log to read
    assert result.failed_since == T0 - timedelta(minutes=12)


async def test_one_unschedulable_pod_beside_ready_ones_is_degraded(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=2)
    kube_api.add_pod("checkout", state="pending", started_ago=timedelta(minutes=3))

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.degraded
    assert result.summary.startswith("2/3 ready")
    assert result.facts["pending_reason"] == "Unschedulable"
    assert "Insufficient memory" in text(result)


async def test_partially_available_deployment_is_degraded_with_the_unready_pods_log(
        kube_api, ctx):
    kube_api.partial_deployment("checkout", replicas=3, ready=2)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.degraded
    assert result.summary == "2/3 ready"
    assert (result.facts["replicas_available"], result.facts["replicas_desired"]) == (2, 3)
    body = text(result)
    assert "deployment checkout: 2/3 available" in body
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503 (x120)" in body
    assert "ERROR health: postgres ping failed" in body
    [log] = kube_api.requested("/log")
    assert "previous" not in log.query or log.query["previous"] == "false"
    assert result.failed_since == T0 - timedelta(minutes=20)


async def test_no_pods_matching_the_selector_is_down(kube_api, ctx):
    kube_api.healthy_deployment("payments")

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "no pods match app=checkout in namespace default"
    assert result.facts["pods_total"] == 0 and result.facts["pods_ready"] == 0


async def test_set_based_selector_matches_pods(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=2)
    kube_api.healthy_deployment("payments", replicas=1)

    result = await kubernetes.probe(check(selector="app in (checkout,payments),app!=web"),
                                    ctx=ctx)

    assert result.status is ProbeStatus.ok and result.summary == "3/3 ready"
    assert result.facts["replicas_desired"] == 3  # both owning deployments


async def test_image_pull_back_off_is_down_with_the_reason(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=1)
    kube_api.add_pod("checkout", state="waiting", waiting_reason="ImagePullBackOff")

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.facts["pending_reason"] == "ImagePullBackOff"
    assert "Pending: ImagePullBackOff" in result.summary
    assert "Back-off pulling image" in text(result)


async def test_container_restarting_again_and_again_while_ready_is_a_crash_loop(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=1)
    kube_api.add_pod("checkout", restarts=6, terminated_reason="Error", exit_code=2,
                     last_terminated_ago=timedelta(minutes=2))

    result = await kubernetes.probe(check(restart_threshold=3), ctx=ctx)

    assert result.status is ProbeStatus.down
    assert result.facts["crash_loop"] is True and result.facts["oom_killed"] is False
    assert result.summary == "1/1 ready, crash-looping (6 restarts)"
    assert "last terminated: Error, exit code 2 at 14:21:00Z" in text(result)
    assert result.failed_since == T0 - timedelta(minutes=2)


async def test_an_old_oom_kill_outside_events_within_is_not_down(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=2)
    kube_api.add_pod("checkout")
    kube_api.add_pod("checkout", restarts=1, last_terminated_ago=timedelta(hours=3))

    result = await kubernetes.probe(check(events_within=timedelta(minutes=30)), ctx=ctx)

    assert result.status is ProbeStatus.ok, text(result)
    assert result.facts["oom_killed"] is False and result.facts["restart_count"] == 1


async def test_evicted_pod_is_reported_but_not_counted(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)
    kube_api.add_pod("checkout", state="evicted")

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.ok and result.facts["pods_total"] == 3


async def test_warning_events_older_than_events_within_are_ignored(kube_api, ctx):
    [pod, *_] = kube_api.partial_deployment("checkout", replicas=3, ready=3)
    kube_api.add_event(pod, reason="FailedMount", message="old trouble",
                       first_ago=timedelta(hours=3), last_ago=timedelta(hours=2))

    result = await kubernetes.probe(check(events_within=timedelta(minutes=30)), ctx=ctx)

    assert result.status is ProbeStatus.ok
    assert "old trouble" not in text(result)


async def test_named_deployment_is_read_directly(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)

    result = await kubernetes.probe(check(deployment="checkout"), ctx=ctx)

    assert result.status is ProbeStatus.ok
    assert not kube_api.requested("/replicasets/")
    assert result.target == "default/app=checkout (deployment checkout)"


async def test_named_deployment_that_does_not_exist_is_an_error(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=1)

    result = await kubernetes.probe(check(deployment="chekout"), ctx=ctx)

    assert result.status is ProbeStatus.error
    assert "deployment chekout not found in namespace default" in result.summary


async def test_forbidden_is_an_error_that_names_403(kube_api, ctx):
    kube_api.healthy_deployment("checkout")
    kube_api.deny(403)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.error
    assert result.summary == "403 Forbidden"
    assert 'pods is forbidden: User "system:serviceaccount:ops:warroom" cannot list' in text(result)
    assert "RBAC" in text(result)


async def test_unauthorized_is_an_error_that_names_401(kube_api, ctx):
    kube_api.deny(401)

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.error and result.summary == "401 Unauthorized"


async def test_events_forbidden_still_judges_the_pods(kube_api, ctx):
    kube_api.crash_looping_deployment("checkout")
    kube_api.deny(403, resource="events")

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.down and result.facts["crash_loop"] is True
    assert "could not read events: 403 Forbidden" in text(result)


async def test_unreachable_api_is_an_error_quickly_naming_the_url(clock, http):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    ctx = ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(host=url))

    started = time.monotonic()
    result = await kubernetes.probe(check(), ctx=ctx)

    assert time.monotonic() - started < 2
    assert result.status is ProbeStatus.error
    assert result.summary == f"cannot reach the Kubernetes API at {url}: connection refused"


async def test_slow_api_times_out_within_the_check_timeout(kube_api, ctx):
    kube_api.healthy_deployment("checkout")
    kube_api.delay = 2.0

    started = time.monotonic()
    result = await kubernetes.probe(check(timeout=timedelta(milliseconds=400)), ctx=ctx)

    assert time.monotonic() - started < 1.5
    assert result.status is ProbeStatus.timeout


async def test_bad_kubeconfig_is_an_error(clock, http, tmp_path):
    ctx = ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(
        kubeconfig=str(tmp_path / "missing-kubeconfig")))

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.error
    assert "cannot load the Kubernetes configuration" in result.summary


async def test_kubeconfig_context_is_loaded_into_a_private_configuration(kube_api, clock, http,
                                                                       tmp_path):
    from kubernetes import client as k8s

    kube_api.healthy_deployment("checkout", replicas=1)
    config = tmp_path / "kubeconfig"
    config.write_text(f"""
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {{server: "{kube_api.url}"}}
- name: elsewhere
  cluster: {{server: "http://127.0.0.1:1"}}
users:
- name: bot
  user: {{token: not-a-real-token}}
contexts:
- name: fake
  context: {{cluster: fake, user: bot}}
- name: other
  context: {{cluster: elsewhere, user: bot}}
current-context: other
""")
    default_host = k8s.Configuration.get_default_copy().host
    ctx = ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(
        kubeconfig=str(config), context="fake"))

    result = await kubernetes.probe(check(), ctx=ctx)

    assert result.status is ProbeStatus.ok, text(result)
    assert k8s.Configuration.get_default_copy().host == default_host


async def test_one_api_client_is_shared_by_the_checks_of_a_run(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=1)

    first = await kubernetes.probe(check(), ctx=ctx)
    second = await kubernetes.probe(check(), ctx=ctx.for_service("payments"))

    assert first.status is second.status is ProbeStatus.ok
    assert len(ctx.cache) == 1
