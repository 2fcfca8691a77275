"""Action config models: one-key mappings like checks, strict, with located errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from pydantic import BaseModel, Field, ValidationError

from bot.actions.models import (ACTION_KINDS, ActionEntry, DockerRestartAction, HttpPostAction,
                                KubernetesDeletePodAction, KubernetesRolloutRestartAction,
                                KubernetesScaleAction, parse_actions)

ACTIONS = """
actions:
  - docker_restart: {container: checkout}
  - docker_restart: {compose_service: worker, compose_project: shop, restart_timeout: 3}
  - kubernetes_rollout_restart: {namespace: shop, deployment: checkout, allow: [U0ALICE, S0SRE]}
  - kubernetes_scale: {namespace: shop, deployment: checkout, min: 2, max: 10, timeout: 2m}
  - kubernetes_delete_pod: {namespace: shop, selector: "app=checkout", name: kick a pod}
  - http_post:
      url: "http://checkout:8080/admin/breaker/reset"
      headers: {X-Api-Key: abc}
      body: {breaker: payments}
      dry_run: true
"""


class Service(BaseModel):
    """What the lead's ServiceConfig will hold: `actions: list[ActionEntry]`."""

    actions: list[ActionEntry] = Field(default_factory=list)


def parse(text: str) -> Service:
    return Service.model_validate(yaml.safe_load(text))


def errors_of(text: str) -> list[tuple[tuple, str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse(text)
    return [(tuple(e["loc"]), e["type"], e["msg"]) for e in caught.value.errors()]


def test_every_kind_parses_from_a_one_key_mapping():
    service = parse(ACTIONS)

    kinds = [a.kind for a in service.actions]
    assert kinds == ["docker_restart", "docker_restart", "kubernetes_rollout_restart",
                     "kubernetes_scale", "kubernetes_delete_pod", "http_post"]
    docker, compose, rollout, scale, delete, post = service.actions
    assert isinstance(docker, DockerRestartAction) and docker.container == "checkout"
    assert docker.restart_timeout == 10 and docker.timeout == timedelta(seconds=60)
    assert docker.allow == [] and docker.dry_run is False
    assert compose.compose_service == "worker" and compose.compose_project == "shop"
    assert compose.restart_timeout == 3
    assert isinstance(rollout, KubernetesRolloutRestartAction)
    assert rollout.allow == ["U0ALICE", "S0SRE"]
    assert isinstance(scale, KubernetesScaleAction) and (scale.min, scale.max) == (2, 10)
    assert scale.timeout == timedelta(minutes=2)
    assert isinstance(delete, KubernetesDeletePodAction) and delete.selector == "app=checkout"
    assert isinstance(post, HttpPostAction) and post.dry_run is True
    assert post.headers == {"X-Api-Key": "abc"} and post.body == {"breaker": "payments"}
    assert post.expect_status == [200, 201, 202, 204]


def test_names_are_derived_from_the_kind_and_target_unless_given():
    names = [a.name for a in parse(ACTIONS).actions]
    assert names == ["restart checkout", "restart worker", "rollout restart checkout",
                     "scale checkout", "kick a pod",
                     "POST http://checkout:8080/admin/breaker/reset"]


def test_a_derived_http_name_never_shows_credentials():
    [action] = parse_actions([{"http_post": {
        "url": "https://ops:hunter2@breaker.internal/reset?token=abc123&force=1"}}])
    assert action.name == "POST https://ops@breaker.internal/reset?force=1"


def test_the_explicit_kind_form_and_models_are_accepted_too():
    actions = parse_actions([{"kind": "kubernetes_scale", "deployment": "web", "max": 3},
                             DockerRestartAction(container="db")])
    assert [a.kind for a in actions] == ["kubernetes_scale", "docker_restart"]
    assert actions[0].min == 0


def test_action_kinds_names_every_kind():
    assert list(ACTION_KINDS) == ["docker_restart", "kubernetes_rollout_restart",
                                  "kubernetes_scale", "kubernetes_delete_pod", "http_post"]
    for kind, model in ACTION_KINDS.items():
        assert model.model_fields["kind"].default == kind


def test_an_unknown_kind_is_named_with_the_known_ones():
    [(loc, kind, msg)] = errors_of("actions:\n  - docker_restrat: {container: checkout}\n")
    assert loc == ("actions", 0) and kind == "action_kind"
    assert msg == ("'docker_restrat' is not an action kind (known: docker_restart, "
                   "kubernetes_rollout_restart, kubernetes_scale, kubernetes_delete_pod, "
                   "http_post)")


@pytest.mark.parametrize("item", ["- restart", "- {docker_restart: {container: a}, http_post: {}}",
                                  "- docker_restart: checkout"])
def test_anything_but_a_one_key_mapping_is_refused(item):
    [(loc, kind, msg)] = errors_of(f"actions:\n  {item}\n")
    assert loc == ("actions", 0) and kind == "action_shape"
    assert msg == ("an action is a one-key mapping naming its kind, like "
                   "- docker_restart: {container: checkout}")


def test_min_above_max_is_refused():
    [(loc, kind, msg)] = errors_of(
        "actions:\n  - kubernetes_scale: {deployment: web, min: 5, max: 3}\n")
    assert loc == ("actions", 0, "kubernetes_scale") and kind == "scale_bounds"
    assert msg == "min (5) must be at most max (3)"


@pytest.mark.parametrize("body, field", [
    ("{deployment: web, min: -1, max: 3}", "min"),
    ("{deployment: web, max: -2}", "max"),
    ("{deployment: web}", "max"),
])
def test_scale_bounds_must_be_given_and_not_negative(body, field):
    [(loc, _, _)] = errors_of(f"actions:\n  - kubernetes_scale: {body}\n")
    assert loc == ("actions", 0, "kubernetes_scale", field)


@pytest.mark.parametrize("body", ["{}", "{container: a, compose_service: b}"])
def test_docker_restart_needs_exactly_one_target(body):
    [(loc, kind, msg)] = errors_of(f"actions:\n  - docker_restart: {body}\n")
    assert loc == ("actions", 0, "docker_restart") and kind == "docker_target"
    assert msg == "give exactly one of container or compose_service"


def test_unknown_keys_bad_durations_contacts_and_urls_are_located():
    text = """
actions:
  - docker_restart: {container: a, restart_timout: 3}
  - kubernetes_rollout_restart: {deployment: web, timeout: 5x}
  - kubernetes_delete_pod: {selector: app=web, allow: [alice]}
  - http_post: {url: "ftp://breaker/reset"}
"""
    found = {loc: (kind, msg) for loc, kind, msg in errors_of(text)}
    assert found[("actions", 0, "docker_restart", "restart_timout")][0] == "extra_forbidden"
    assert found[("actions", 1, "kubernetes_rollout_restart", "timeout")][1] == (
        "'5x' is not a duration like 90s, 15m, 1h")
    assert found[("actions", 2, "kubernetes_delete_pod", "allow", 0)][1] == (
        "'alice' is not a Slack user id (U..., W...) or user group id (S...)")
    assert found[("actions", 3, "http_post", "url")][0] == "string_pattern_mismatch"


def test_actions_are_frozen():
    action = DockerRestartAction(container="a")
    with pytest.raises(ValidationError):
        action.container = "b"  # type: ignore[misc]
