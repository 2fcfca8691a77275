"""The check kinds a service can declare in `warroom.yml`, as pydantic models.

A check is written as a one-key mapping, the key naming its kind:

    checks:
      - http: {url: "http://checkout:8080/health", expect_status: 200, timeout: 2s}
      - docker: {container: checkout}
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.core.durations import parse_duration

NOT_A_DURATION = "'{value}' is not a duration like 90s, 15m, 1h"


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    try:
        if text.endswith("ms") and text[:-2].isdigit() and int(text[:-2]) > 0:
            return timedelta(milliseconds=int(text[:-2]))
        return parse_duration(text)
    except ValueError:
        raise PydanticCustomError("duration", NOT_A_DURATION, {"value": value}) from None


# Like bot.settings.Duration, plus milliseconds (`500ms`) for latencies.
ProbeDuration = Annotated[timedelta, BeforeValidator(_duration)]
Ratio = Annotated[float, Field(gt=0, le=1)]


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timeout: ProbeDuration = timedelta(seconds=2)


class HttpCheck(_Check):
    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: int = 200
    max_latency: ProbeDuration | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class TcpCheck(_Check):
    kind: Literal["tcp"] = "tcp"
    host: str
    port: int = Field(gt=0, lt=65536)


class DockerCheck(_Check):
    kind: Literal["docker"] = "docker"
    container: str | None = None
    compose_service: str | None = None
    compose_project: str | None = None
    timeout: ProbeDuration = timedelta(seconds=5)
    log_lines: int = Field(default=200, gt=0, le=5000)
    restart_threshold: int = Field(default=3, ge=1)  # restarts that mean crash-looping

    @model_validator(mode="after")
    def _one_target(self) -> "DockerCheck":
        if (self.container is None) == (self.compose_service is None):
            raise PydanticCustomError("docker_target",
                                      "give exactly one of container or compose_service", {})
        return self


class KubernetesCheck(_Check):
    kind: Literal["kubernetes"] = "kubernetes"
    namespace: str = "default"
    selector: str
    deployment: str | None = None  # default: the pods' owning deployment, if any
    timeout: ProbeDuration = timedelta(seconds=5)
    log_lines: int = Field(default=100, gt=0, le=5000)
    restart_threshold: int = Field(default=3, ge=1)
    events_within: ProbeDuration = timedelta(minutes=30)


class PrometheusCheck(_Check):
    kind: Literal["prometheus"] = "prometheus"
    query: str = Field(min_length=1)
    warn_above: float | None = None
    critical_above: float | None = None
    warn_below: float | None = None
    critical_below: float | None = None
    timeout: ProbeDuration = timedelta(seconds=5)


class RedisCheck(_Check):
    kind: Literal["redis"] = "redis"
    url: str = Field(pattern=r"^(rediss?|unix)://")
    max_memory_used: Ratio | None = None
    max_clients_used: Ratio | None = None


class PostgresCheck(_Check):
    kind: Literal["postgres"] = "postgres"
    dsn: str = Field(pattern=r"^postgres(ql)?://")
    max_connections_used: Ratio = 0.9
    timeout: ProbeDuration = timedelta(seconds=3)


class RabbitmqCheck(_Check):
    kind: Literal["rabbitmq"] = "rabbitmq"
    management_url: str = Field(pattern=r"^https?://")
    username: str = "guest"
    password: str = "guest"
    vhost: str | None = None
    max_queue_depth: int = Field(default=10000, ge=0)
    timeout: ProbeDuration = timedelta(seconds=3)


Check = (HttpCheck | TcpCheck | DockerCheck | KubernetesCheck | PrometheusCheck | RedisCheck
         | PostgresCheck | RabbitmqCheck)
CHECK_KINDS: dict[str, type[BaseModel]] = {
    "http": HttpCheck, "tcp": TcpCheck, "docker": DockerCheck, "kubernetes": KubernetesCheck,
    "prometheus": PrometheusCheck, "redis": RedisCheck, "postgres": PostgresCheck,
    "rabbitmq": RabbitmqCheck,
}


class DockerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str | None = None  # default: DOCKER_HOST / the local socket


class KubernetesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    host: str | None = None  # an API server URL (no auth): tests and kubectl proxy


class PrometheusSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = Field(default=None, pattern=r"^https?://")
    alertmanager_url: str | None = Field(default=None, pattern=r"^https?://")
    service_label: str = "service"  # alert label that names the service
