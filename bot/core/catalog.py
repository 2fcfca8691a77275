"""The services catalog: what depends on what, and in which tier it lives."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Tier(StrEnum):
    """Recovery order, first to last (seed 000: infrastructure before the apps)."""

    infrastructure = "infrastructure"
    core = "core"
    business = "business"
    gateway = "gateway"
    worker = "worker"

    @property
    def order(self) -> int:
        return list(Tier).index(self)


class Runbook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    check: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    link: str | None = None


class Service(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    tier: Tier = Tier.business
    depends_on: tuple[str, ...] = ()
    runbook: Runbook | None = None


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    services: tuple[Service, ...] = ()
    runbooks: dict[str, Runbook] = Field(default_factory=dict)  # per-pattern overrides

    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def get(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def dependents(self, name: str) -> list[str]:
        """Everything that depends on `name`, directly or transitively (downstream impact)."""
        out: list[str] = []
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for svc in self.services:
                if current in svc.depends_on and svc.name not in out and svc.name != name:
                    out.append(svc.name)
                    frontier.append(svc.name)
        return out

    def dependencies(self, name: str) -> list[str]:
        """Everything `name` depends on, transitively (upstream)."""
        out: list[str] = []
        svc = self.get(name)
        frontier = list(svc.depends_on) if svc else []
        while frontier:
            current = frontier.pop(0)
            if current in out or current == name:
                continue
            out.append(current)
            dep = self.get(current)
            if dep:
                frontier += list(dep.depends_on)
        return out

    def mentioned_in(self, text: str) -> list[str]:
        """Catalog names that appear as words in `text` (e.g. a declare title)."""
        import re

        words = set(re.findall(r"[a-z0-9][a-z0-9_-]*", text.lower()))
        return [s.name for s in self.services if s.name.lower() in words]


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path [a, b, …, a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None and nxt in edges:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None
