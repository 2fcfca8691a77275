"""The kubernetes actions, with the real `kubernetes` client against the fake API server.

The request log of the fake (tests/fixtures/kubernetes.py) holds the method, path,
Content-Type and JSON body the client really sent; the tests assert them exactly.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.actions import executor
from bot.actions.models import (ActionRefused, KubernetesDeletePodAction,
                                KubernetesRolloutRestartAction, KubernetesScaleAction)
from bot.probes.checks import KubernetesSettings
from bot.probes.context import ProbeContext
from bot.store.embedded import free_port
from tests.conftest import T0


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def ctx(clock, http, kube_api) -> ProbeContext:
    return ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(host=kube_api.url))


def rollout(**kwargs) -> KubernetesRolloutRestartAction:
    return KubernetesRolloutRestartAction(deployment=kwargs.pop("deployment", "checkout"),
                                          **kwargs)


def scale(**kwargs) -> KubernetesScaleAction:
    kwargs.setdefault("min", 1)
    kwargs.setdefault("max", 6)
    return KubernetesScaleAction(deployment=kwargs.pop("deployment", "checkout"), **kwargs)


def delete_pod(**kwargs) -> KubernetesDeletePodAction:
    return KubernetesDeletePodAction(selector=kwargs.pop("selector", "app=checkout"), **kwargs)


# ---- rollout restart ----------------------------------------------------------------------


async def test_rollout_restart_sends_kubectls_strategic_merge_patch(kube_api, ctx, clock):
    kube_api.healthy_deployment("checkout", replicas=3, namespace="shop")
    action = rollout(namespace="shop")

    plan = await executor.plan(action, service="checkout", ctx=ctx)

    assert plan.kind == "kubernetes_rollout_restart" and plan.service == "checkout"
    assert plan.action == "rollout restart checkout"
    assert plan.target == "deployment shop/checkout"
    assert plan.description == (
        "kubectl rollout restart deployment/checkout -n shop (3 replicas replaced one by one): "
        "a strategic-merge PATCH setting the kubectl.kubernetes.io/restartedAt annotation, "
        f"on {kube_api.url}")
    assert kube_api.writes() == []  # planning changed nothing

    clock.advance(timedelta(seconds=7))
    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok and not result.dry_run, result
    assert result.summary == ("rollout restart of deployment/checkout -n shop started at "
                              "2026-12-01T14:23:07Z")
    [patch] = kube_api.writes()
    assert patch.method == "PATCH"
    assert patch.path == "/apis/apps/v1/namespaces/shop/deployments/checkout"
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.body == {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-12-01T14:23:07Z"}}}}}
    dep = kube_api.deployments[("shop", "checkout")]
    assert dep["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-12-01T14:23:07Z"}
    assert dep["metadata"]["generation"] == 2
    assert result.detail == ["deployment accepted the change (generation 2, 3 replicas)"]


async def test_rollout_restart_of_a_missing_deployment_is_refused_at_plan(kube_api, ctx):
    kube_api.healthy_deployment("payments", replicas=1)

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(rollout(), service="checkout", ctx=ctx)

    assert caught.value.code == ActionRefused.NOT_FOUND
    assert caught.value.reason == "deployment checkout not found in namespace default"


async def test_rollout_restart_forbidden_is_a_failed_result_naming_rbac(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=1)
    action = rollout()
    plan = await executor.plan(action, service="checkout", ctx=ctx)
    kube_api.deny(403, resource="deployments")

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok
    assert result.summary.startswith("failed: Kubernetes API answered 403 Forbidden: "
                                     "deployments is forbidden")
    assert "cannot patch" in result.summary and "RBAC" in result.summary


async def test_rollout_restart_dry_run_sends_no_patch(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=2)
    action = rollout()
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=True)

    assert result.ok and result.dry_run
    assert result.summary == f"dry run - would run: {plan.description}"
    assert kube_api.writes() == []
    assert "annotations" not in kube_api.deployments[("default", "checkout")]["spec"][
        "template"]["metadata"]


async def test_an_actions_own_dry_run_wins_over_the_callers(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=2)
    action = rollout(dry_run=True)
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.dry_run and kube_api.writes() == []


# ---- scale --------------------------------------------------------------------------------


async def test_scale_sends_kubectls_merge_patch_to_the_scale_subresource(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)
    action = scale()

    plan = await executor.plan(action, service="checkout", ctx=ctx, params={"replicas": "5"})

    assert plan.params == {"replicas": 5, "current": 3}
    assert plan.description == (
        "kubectl scale deployment/checkout -n default --replicas=5: from 3 to 5 replicas "
        f"(allowed 1..6), on {kube_api.url}")
    [read] = kube_api.requested("/scale")
    assert read.method == "GET"

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok, result
    assert result.summary == "scaled deployment/checkout -n default from 3 to 5 replicas"
    [patch] = kube_api.writes()
    assert (patch.method, patch.path) == (
        "PATCH", "/apis/apps/v1/namespaces/default/deployments/checkout/scale")
    assert patch.content_type == "application/merge-patch+json"
    assert patch.body == {"spec": {"replicas": 5}}
    assert kube_api.deployments[("default", "checkout")]["spec"]["replicas"] == 5
    assert result.detail == ["scale now wants 5 replicas, 3 exist"]


@pytest.mark.parametrize("replicas", [0, 7, "-1"])
async def test_scale_outside_min_max_is_refused_at_plan_without_calling_the_api(
        kube_api, ctx, replicas):
    kube_api.healthy_deployment("checkout", replicas=3)

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(scale(), service="checkout", ctx=ctx, params={"replicas": replicas})

    assert caught.value.code == ActionRefused.OUT_OF_BOUNDS
    assert caught.value.reason == (f"{int(replicas)} replicas is outside the allowed range 1..6 "
                                   "for deployment checkout")
    assert kube_api.requests == []


@pytest.mark.parametrize("params, reason", [
    ({}, "say replicas: the number of replicas, 1 to 6"),
    ({"replicas": "lots"}, "replicas must be a whole number, not 'lots'"),
    ({"replicas": 3, "pod": "x"}, "kubernetes_scale takes only replicas (got pod)"),
])
async def test_scale_with_bad_parameters_is_refused(kube_api, ctx, params, reason):
    kube_api.healthy_deployment("checkout", replicas=3)

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(scale(), service="checkout", ctx=ctx, params=params)

    assert caught.value.code == ActionRefused.BAD_PARAMS
    assert caught.value.reason == reason


async def test_scale_plan_tampered_outside_the_bounds_is_not_executed(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)
    action = scale()
    plan = await executor.plan(action, service="checkout", ctx=ctx, params={"replicas": 4})
    forged = plan.model_copy(update={"params": {"replicas": 60, "current": 3}})

    result = await executor.execute(action, forged, ctx=ctx, dry_run=False)

    assert not result.ok
    assert result.summary == ("60 replicas is outside the allowed range 1..6 for deployment "
                              "checkout")
    assert kube_api.writes() == []


async def test_scale_dry_run_sends_no_patch(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)
    action = scale()
    plan = await executor.plan(action, service="checkout", ctx=ctx, params={"replicas": 2})

    result = await executor.execute(action, plan, ctx=ctx, dry_run=True)

    assert result.ok and result.dry_run and "--replicas=2" in result.summary
    assert kube_api.writes() == []
    assert kube_api.deployments[("default", "checkout")]["spec"]["replicas"] == 3


# ---- delete pod ---------------------------------------------------------------------------


async def test_delete_pod_picks_the_first_not_ready_pod_and_deletes_only_it(kube_api, ctx):
    ready = kube_api.healthy_deployment("checkout", replicas=2)
    [broken] = [kube_api.add_pod("checkout", state="crashloop")]
    action = delete_pod()

    plan = await executor.plan(action, service="checkout", ctx=ctx)

    name, uid = broken["metadata"]["name"], broken["metadata"]["uid"]
    rs = broken["metadata"]["ownerReferences"][0]["name"]
    assert plan.params == {"pod": name, "uid": uid}
    assert plan.target == f"pod default/{name}"
    assert plan.description == (
        f"kubectl delete pod {name} -n default (Running, not ready: CrashLoopBackOff, first "
        f"not-ready pod, matches app=checkout); its ReplicaSet {rs} will create a "
        f"replacement, on {kube_api.url}")

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok, result
    assert result.summary == f"deleted pod {name} -n default"
    [delete] = kube_api.writes()
    assert (delete.method, delete.path) == ("DELETE", f"/api/v1/namespaces/default/pods/{name}")
    assert delete.body == {"preconditions": {"uid": uid}}
    assert ("default", name) not in kube_api.pods
    assert all(("default", p["metadata"]["name"]) in kube_api.pods for p in ready)


async def test_delete_pod_named_by_the_caller_must_match_the_selector(kube_api, ctx):
    [checkout] = kube_api.healthy_deployment("checkout", replicas=1)
    [payments] = kube_api.healthy_deployment("payments", replicas=1)
    action = delete_pod()

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(action, service="checkout", ctx=ctx,
                            params={"pod": payments["metadata"]["name"]})

    assert caught.value.code == ActionRefused.NOT_MATCHING
    assert caught.value.reason == (f"pod {payments['metadata']['name']} does not match "
                                   "app=checkout in namespace default: it is not deleted")

    plan = await executor.plan(action, service="checkout", ctx=ctx,
                               params={"pod": checkout["metadata"]["name"]})
    assert plan.params["pod"] == checkout["metadata"]["name"]
    assert "(Running, ready, matches app=checkout)" in plan.description
    assert kube_api.writes() == []


async def test_delete_pod_refuses_when_every_pod_is_ready_and_none_is_named(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=2)

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(delete_pod(), service="checkout", ctx=ctx)

    assert caught.value.code == ActionRefused.NO_TARGET
    assert caught.value.reason == ("all 2 pods matching app=checkout in namespace default are "
                                   "ready: name the pod to delete")


async def test_delete_pod_with_no_matching_pods_is_refused(kube_api, ctx):
    with pytest.raises(ActionRefused) as caught:
        await executor.plan(delete_pod(), service="checkout", ctx=ctx)

    assert caught.value.reason == "no pods match app=checkout in namespace default"


async def test_delete_pod_whose_labels_changed_since_the_plan_is_not_deleted(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=1)
    pod = kube_api.add_pod("checkout", state="unready")
    action = delete_pod()
    plan = await executor.plan(action, service="checkout", ctx=ctx)
    pod["metadata"]["labels"]["app"] = "quarantined"  # relabelled out of the selector

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok and "does not match app=checkout" in result.summary
    assert kube_api.writes() == []


async def test_delete_pod_replaced_under_the_same_name_is_not_deleted(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=1)
    pod = kube_api.add_pod("checkout", state="unready", name="checkout-0")
    action = delete_pod()
    plan = await executor.plan(action, service="checkout", ctx=ctx)
    pod["metadata"]["uid"] = "0f0f0f0f-new-pod"  # a new pod with the same name

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok
    assert result.summary == ("failed: the pod was replaced since the plan (its uid changed): "
                              "nothing was deleted")
    assert ("default", "checkout-0") in kube_api.pods


async def test_delete_pod_dry_run_sends_no_delete(kube_api, ctx):
    kube_api.add_deployment("checkout", replicas=1)
    pod = kube_api.add_pod("checkout", state="unready")
    action = delete_pod()
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=True)

    assert result.ok and result.dry_run
    assert kube_api.writes() == []
    assert ("default", pod["metadata"]["name"]) in kube_api.pods


# ---- the API itself -----------------------------------------------------------------------


async def test_unreachable_api_is_refused_at_plan_naming_the_url(clock, http):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    ctx = ProbeContext(clock=clock, http=http, kubernetes=KubernetesSettings(host=url))

    with pytest.raises(ActionRefused) as caught:
        await executor.plan(rollout(), service="checkout", ctx=ctx)

    assert caught.value.code == ActionRefused.UNAVAILABLE
    assert caught.value.reason == f"cannot reach the Kubernetes API at {url}: connection refused"


async def test_slow_api_makes_execute_time_out_within_the_actions_timeout(kube_api, ctx):
    import time

    kube_api.healthy_deployment("checkout", replicas=1)
    action = rollout(timeout="500ms")
    plan = await executor.plan(action, service="checkout", ctx=ctx)
    kube_api.delay = 3.0

    started = time.monotonic()
    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert time.monotonic() - started < 2
    assert not result.ok
    assert "did not answer in time" in result.summary or "did not finish" in result.summary
    assert result.elapsed_ms < 2000


async def test_a_plan_made_for_another_action_is_not_executed(kube_api, ctx):
    kube_api.healthy_deployment("checkout", replicas=3)
    plan = await executor.plan(scale(), service="checkout", ctx=ctx, params={"replicas": 2})

    result = await executor.execute(rollout(), plan, ctx=ctx, dry_run=False)

    assert not result.ok and "different action" in result.summary
    assert kube_api.writes() == []
    assert T0 == ctx.clock.now()
