"""The seeds' runbook steps for each failure pattern (seed 000 "Common Incident Patterns").

`{service}` is replaced with the root-cause service when the runbook is shown.
Config can override any pattern (`runbooks:`) or any service (`services[].runbook`).
"""

from __future__ import annotations

from bot.core.catalog import Runbook

DEFAULT_RUNBOOKS: dict[str, Runbook] = {
    "single_service_down": Runbook(
        check=("docker compose ps {service} - is the container running?",
               "docker compose logs {service} - any panic/fatal errors?",
               "Container restart count - is it crash-looping?",
               "Memory/CPU usage - resource exhaustion?"),
        fix=("docker compose restart {service}",
             "If crash-looping: check logs, fix code, rebuild",
             "If resource issue: increase limits")),
    "cascade_failure": Runbook(
        check=("Which service failed FIRST? (check timestamps)",
               "Is it a shared dependency? (database, broker, cache)",
               "Are circuit breakers tripping?",
               "Is there a retry storm amplifying the failure?"),
        fix=("Fix the root cause service first: {service}",
             "Other services should recover automatically",
             "If not: restart dependent services in dependency order")),
    "database_unreachable": Runbook(
        check=("docker compose ps {service} - container running?",
               "Can connect manually? - psql connection test",
               "Connection pool exhausted? - check pool config",
               "Disk space? - docker system df",
               "Too many connections? - check max_connections"),
        fix=("Restart database container",
             "If data volume corrupted: restore from backup",
             "If pool exhausted: restart services to reset pools")),
    "broker_failure": Runbook(
        check=("docker compose ps {service} - container running?",
               "Broker management UI - topic/queue health?",
               "Consumer group status - lag increasing?",
               "ZooKeeper (if Kafka) - running?",
               "Disk space for broker logs"),
        fix=("Restart broker (consumers will resume from last offset)",
             "If ZooKeeper issue: restart ZooKeeper first, then broker",
             "Check for poison messages in DLQ")),
    "gateway_not_routing": Runbook(
        check=("Gateway container running?",
               "Upstream services reachable from gateway network?",
               "Gateway config correct? (routes, ports)",
               "DNS resolution working within Docker network?"),
        fix=("Restart gateway", "Verify Docker network connectivity",
             "Check gateway route configuration")),
    "resource_exhaustion": Runbook(
        check=("docker stats - memory usage per container",
               "docker system df - disk usage",
               "Database WAL/log files - growing unbounded?",
               "Broker log segments - retention policy correct?"),
        fix=("docker system prune - remove unused images/volumes",
             "Increase container memory limits",
             "Set proper log rotation and retention")),
    "no_fault_found": Runbook(
        check=("What is broken? (which endpoint / feature / flow)",
               "Who is affected? (all users / specific users / internal only)",
               "Is it getting worse? (spreading / stable / recovering)",
               "Add the failing service's checks to warroom.yml so warroom can see it"),
        fix=()),
}
