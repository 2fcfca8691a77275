"""deploy/kubernetes: least privilege - the probe Role only reads what the probes read,
the actions Role only adds the verbs the action kinds call."""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"


def docs(name):
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def rules(name):
    role = next(d for d in docs(name) if d["kind"] == "Role")
    return {(g, r): set(rule["verbs"]) for rule in role["rules"]
            for g in rule["apiGroups"] for r in rule["resources"]}


def test_probe_role_is_read_only_and_covers_what_the_probe_reads():
    granted = rules("rbac-probes.yaml")
    assert all(verbs <= {"get", "list"} for verbs in granted.values())
    for needed in [("", "pods"), ("", "pods/log"), ("", "events"), ("apps", "deployments"),
                   ("apps", "replicasets")]:
        assert needed in granted


def test_actions_role_grants_only_the_verbs_actions_call():
    granted = rules("rbac-actions.yaml")
    assert granted == {("apps", "deployments"): {"patch"},
                       ("apps", "deployments/scale"): {"get", "patch"},
                       ("", "pods"): {"delete"}}


def test_deployment_runs_two_non_root_replicas_with_health_probes():
    (deployment,) = docs("deployment.yaml")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"secretRef": {"name": "warroom-slack"}} in container["envFrom"]
