"""The remediation actions a service can declare in `warroom.yml`, as pydantic models.

Like checks, an action is written as a one-key mapping, the key naming its kind:

    actions:
      - docker_restart: {container: checkout}
      - kubernetes_scale: {namespace: shop, deployment: checkout, min: 2, max: 10}
      - http_post: {url: "http://checkout:8080/admin/breaker/reset", dry_run: true}

Nothing runs that is not declared. Every action has a `name` (derived from its kind and
target when not given), an `allow` list (Slack user ids U.../W... or user group ids S...),
`dry_run` and a `timeout` for running it.

`ActionEntry` is the list item type for a config model: it unwraps the one-key mapping
and names an unknown kind itself, so `actions: list[ActionEntry]` is all a model needs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter,
                      model_validator)
from pydantic_core import PydanticCustomError

from bot.messages import actions as w
from bot.core.errors import WarroomError
from bot.core.redact import safe_url
from bot.probes.checks import ProbeDuration

_CONTACT = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def _contact(value: Any) -> str:
    text = str(value).strip()
    if not _CONTACT.match(text):
        raise PydanticCustomError("contact", w.CONFIG_NOT_A_CONTACT, {"value": value})
    return text


Contact = Annotated[str, BeforeValidator(_contact)]


# ---- errors -----------------------------------------------------------------------------


class ActionError(WarroomError):
    """Base of the errors the action executors raise on purpose."""


class ActionRefused(ActionError):
    """`plan` will not offer this action: bad parameters, no such target, or the target
    could not be looked up. `reason` is one sentence fit to show the user (redacted);
    `code` says which, for callers that branch on it."""

    BAD_PARAMS = "bad_params"          # unknown, missing or malformed parameter
    OUT_OF_BOUNDS = "out_of_bounds"    # scale outside min..max
    NOT_FOUND = "not_found"            # container / deployment / pod does not exist
    NOT_MATCHING = "not_matching"      # the pod does not match the action's selector
    NO_TARGET = "no_target"            # no not-ready pod to pick
    UNAVAILABLE = "unavailable"        # the engine / API could not be reached or refused us
    MISMATCH = "mismatch"              # a plan handed back for another action

    def __init__(self, reason: str, *, code: str = BAD_PARAMS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


# ---- what plan and execute hand back ---------------------------------------------------


class ActionPlan(BaseModel):
    """The concrete thing confirming will run, resolved without changing anything.

    Plain data (JSON round-trips), so a caller can keep it between the confirmation modal
    and the press of the button; `execute` runs exactly this plan and nothing else.
    """

    model_config = ConfigDict(frozen=True)
    kind: str
    service: str
    action: str          # the action's name
    description: str     # exactly what will run where (redacted)
    target: str          # what it acts on, short: "container checkout", "deployment shop/web"
    params: dict[str, str | int] = Field(default_factory=dict)  # resolved: ids, replicas, pod


class ActionResult(BaseModel):
    ok: bool
    dry_run: bool
    summary: str                      # one line (redacted)
    detail: list[str] = Field(default_factory=list)  # supporting lines (redacted)
    elapsed_ms: float


# ---- the action kinds -------------------------------------------------------------------


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = Field(default=None, min_length=1, max_length=80)
    allow: list[Contact] = Field(default_factory=list)
    dry_run: bool = False
    timeout: ProbeDuration = timedelta(seconds=60)

    def _target_words(self) -> str:
        """What the default name says the action acts on; each kind names its target."""
        return self.kind

    @model_validator(mode="after")
    def _default_name(self) -> "_Action":
        if self.name is None:
            # frozen: set the derived value once, during validation
            object.__setattr__(self, "name", w.default_name(self.kind, self._target_words()))
        return self


class DockerRestartAction(_Action):
    kind: Literal["docker_restart"] = "docker_restart"
    container: str | None = Field(default=None, min_length=1)
    compose_service: str | None = Field(default=None, min_length=1)
    compose_project: str | None = Field(default=None, min_length=1)
    restart_timeout: int = Field(default=10, ge=0, le=600)  # seconds `docker restart -t`

    @model_validator(mode="after")
    def _one_target(self) -> "DockerRestartAction":
        if (self.container is None) == (self.compose_service is None):
            raise PydanticCustomError("docker_target", w.CONFIG_DOCKER_TARGET, {})
        return self

    def _target_words(self) -> str:
        return str(self.container or self.compose_service)


class KubernetesRolloutRestartAction(_Action):
    kind: Literal["kubernetes_rollout_restart"] = "kubernetes_rollout_restart"
    namespace: str = Field(default="default", min_length=1)
    deployment: str = Field(min_length=1)

    def _target_words(self) -> str:
        return self.deployment


class KubernetesScaleAction(_Action):
    kind: Literal["kubernetes_scale"] = "kubernetes_scale"
    namespace: str = Field(default="default", min_length=1)
    deployment: str = Field(min_length=1)
    min: int = Field(default=0, ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> "KubernetesScaleAction":
        if self.min > self.max:
            raise PydanticCustomError("scale_bounds", w.CONFIG_SCALE_BOUNDS,
                                      {"min": self.min, "max": self.max})
        return self

    def _target_words(self) -> str:
        return self.deployment


class KubernetesDeletePodAction(_Action):
    kind: Literal["kubernetes_delete_pod"] = "kubernetes_delete_pod"
    namespace: str = Field(default="default", min_length=1)
    selector: str = Field(min_length=1)

    def _target_words(self) -> str:
        return self.selector


class HttpPostAction(_Action):
    kind: Literal["http_post"] = "http_post"
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=lambda: [200, 201, 202, 204], min_length=1)

    def _target_words(self) -> str:
        return safe_url(self.url)


Action = (DockerRestartAction | KubernetesRolloutRestartAction | KubernetesScaleAction
          | KubernetesDeletePodAction | HttpPostAction)
ACTION_KINDS: dict[str, type[BaseModel]] = {
    "docker_restart": DockerRestartAction,
    "kubernetes_rollout_restart": KubernetesRolloutRestartAction,
    "kubernetes_scale": KubernetesScaleAction,
    "kubernetes_delete_pod": KubernetesDeletePodAction,
    "http_post": HttpPostAction,
}


def unwrap_action(value: Any) -> Any:
    """`{docker_restart: {...}}` -> `{kind: docker_restart, ...}`; an unknown kind or a
    mapping that is not one key is reported here, in the action's own words."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("action_shape", w.CONFIG_ACTION_SHAPE, {})
    if "kind" in value:
        kind, body = value["kind"], value
    elif len(value) == 1:
        kind, inner = next(iter(value.items()))
        if inner is None:
            inner = {}
        if not isinstance(inner, dict):
            raise PydanticCustomError("action_shape", w.CONFIG_ACTION_SHAPE, {})
        body = {"kind": kind, **inner}
    else:
        raise PydanticCustomError("action_shape", w.CONFIG_ACTION_SHAPE, {})
    if kind not in ACTION_KINDS:
        raise PydanticCustomError("action_kind", w.CONFIG_UNKNOWN_ACTION,
                                  {"value": kind, "known": ", ".join(ACTION_KINDS)})
    return body


ActionEntry = Annotated[Annotated[Action, Field(discriminator="kind")],
                        BeforeValidator(unwrap_action)]

_ACTIONS = TypeAdapter(list[ActionEntry])


def parse_actions(value: Any) -> list[Action]:
    """Validate a service's `actions:` list (raises pydantic's ValidationError)."""
    return _ACTIONS.validate_python(value)
