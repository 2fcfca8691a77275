"""Guarded remediation: the actions a service declares, planned and then executed.

`bot.actions.models` holds the config models (light: safe to import from settings);
`bot.actions.executor` plans and runs them (imports the Docker/Kubernetes SDK glue).
"""

from bot.actions.models import (ACTION_KINDS, Action, ActionEntry, ActionError, ActionPlan,
                                ActionRefused, ActionResult, DockerRestartAction,
                                HttpPostAction, KubernetesDeletePodAction,
                                KubernetesRolloutRestartAction, KubernetesScaleAction,
                                parse_actions, unwrap_action)

__all__ = ["ACTION_KINDS", "Action", "ActionEntry", "ActionError", "ActionPlan",
           "ActionRefused", "ActionResult", "DockerRestartAction", "HttpPostAction",
           "KubernetesDeletePodAction", "KubernetesRolloutRestartAction",
           "KubernetesScaleAction", "parse_actions", "unwrap_action"]
