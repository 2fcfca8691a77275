"""The prometheus probe against a real Prometheus and Alertmanager (tests/fixtures/prometheus.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from bot.core.probe import ProbeStatus
from bot.probes import prometheus
from bot.probes.checks import PrometheusCheck, PrometheusSettings
from bot.probes.context import ProbeContext
from bot.store.embedded import free_port
from tests.conftest import T0


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def context(clock, http, *, url: str | None, alertmanager_url: str | None = None,
            service: str = "checkout", **settings) -> ProbeContext:
    return ProbeContext(clock=clock, http=http, service=service, prometheus=PrometheusSettings(
        url=url, alertmanager_url=alertmanager_url, **settings))


@pytest.fixture
def metrics_ctx(clock, http, prometheus_stack) -> ProbeContext:
    """Prometheus only: the query alone decides."""
    return context(clock, http, url=prometheus_stack.url)


def alerts_ctx(clock, http, stack, service: str) -> ProbeContext:
    return context(clock, http, url=stack.url, alertmanager_url=stack.alertmanager_url,
                   service=service)


def text(result) -> str:
    return "\n".join([result.summary, *result.evidence])


# ---------------------------------------------------------------- the query


async def test_value_within_thresholds_is_ok(metrics_ctx, prometheus_stack):
    check = PrometheusCheck(query='http_requests_total{job="checkout",status="200"}',
                            warn_above=5000, critical_above=10000)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.ok, text(result)
    assert result.summary == "value 1027"
    assert result.facts == {"metric_value": 1027.0}
    port = prometheus_stack.exporter.port
    assert result.evidence == [f'http_requests_total{{instance="127.0.0.1:{port}", '
                               f'job="checkout", status="200"}} = 1027']
    assert result.failed_since is None
    assert result.kind == "prometheus" and result.observed_at == T0


async def test_counter_bumped_over_critical_above_is_down(metrics_ctx, prometheus_stack):
    query = 'sum(http_requests_total{job="checkout",status="503"})'
    check = PrometheusCheck(query=query, warn_above=50, critical_above=100)
    prometheus_stack.exporter.set("http_requests_total", 10, type="counter", job="checkout",
                                  status="503")
    await prometheus_stack.await_samples(query, lambda r: r and float(r[0]["value"][1]) == 10)

    before = await prometheus.probe(check, ctx=metrics_ctx)
    prometheus_stack.exporter.inc("http_requests_total", 500, job="checkout", status="503")
    await prometheus_stack.await_samples(query, lambda r: r and float(r[0]["value"][1]) >= 510)
    after = await prometheus.probe(check, ctx=metrics_ctx)

    assert before.status is ProbeStatus.ok and before.facts["metric_value"] == 10
    assert after.status is ProbeStatus.down
    assert after.summary == "510 > 100 (critical)"
    assert after.facts["metric_value"] == 510


async def test_value_over_warn_above_is_degraded(metrics_ctx):
    check = PrometheusCheck(query="checkout_latency_seconds", warn_above=0.3, critical_above=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.degraded
    assert result.summary == "0.42 > 0.3 (warning)"
    assert 'quantile="0.99"' in result.evidence[0]


async def test_value_under_critical_below_is_down(metrics_ctx):
    check = PrometheusCheck(query="checkout_up", critical_below=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.down
    assert result.summary == "0 < 1 (critical)"
    assert result.facts["metric_value"] == 0


async def test_worst_series_first_and_at_most_five(metrics_ctx):
    check = PrometheusCheck(query="queue_depth", warn_above=1000, critical_above=5000)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.down and result.facts["metric_value"] == 5100
    assert len(result.evidence) == 6 and result.evidence[-1] == "... and 2 more series"
    assert 'queue="orders-6"' in result.evidence[0] and result.evidence[0].endswith("= 5100")
    assert result.evidence[1].endswith("= 950")


async def test_below_threshold_judges_the_lowest_series(metrics_ctx):
    check = PrometheusCheck(query="queue_depth", warn_below=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.degraded and result.summary == "0 < 1 (warning)"
    assert 'queue="orders-5"' in result.evidence[0]


async def test_scalar_result_is_compared_too(metrics_ctx):
    result = await prometheus.probe(PrometheusCheck(query="1 + 1", critical_above=1),
                                    ctx=metrics_ctx)

    assert result.status is ProbeStatus.down and result.summary == "2 > 1 (critical)"


async def test_empty_result_is_ok_with_no_samples(metrics_ctx):
    check = PrometheusCheck(query='http_requests_total{job="nonexistent"}', critical_above=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.ok and result.summary == "no samples"
    assert result.facts == {"metric_value": None}


async def test_empty_result_counts_as_zero_for_a_below_threshold(metrics_ctx):
    check = PrometheusCheck(query='up{job="nonexistent"}', critical_below=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.down and result.summary == "0 < 1 (critical)"
    assert "no samples (counted as 0" in result.evidence[0]


async def test_bad_promql_is_an_error_with_prometheus_message(metrics_ctx):
    check = PrometheusCheck(query="sum(rate(http_requests_total[5m])", critical_above=1)

    result = await prometheus.probe(check, ctx=metrics_ctx)

    assert result.status is ProbeStatus.error
    assert result.summary.startswith("Prometheus query failed: bad_data: ")
    assert "parse error" in result.summary


async def test_range_vector_query_is_an_error(metrics_ctx):
    result = await prometheus.probe(PrometheusCheck(query="checkout_up[1m]"), ctx=metrics_ctx)

    assert result.status is ProbeStatus.error
    assert "returned a matrix" in result.summary


async def test_no_prometheus_url_is_an_error(clock, http):
    result = await prometheus.probe(PrometheusCheck(query="up"),
                                    ctx=context(clock, http, url=None))

    assert result.status is ProbeStatus.error
    assert result.summary.startswith("no Prometheus URL configured")


async def test_unreachable_prometheus_is_an_error_quickly(clock, http):
    url = f"http://127.0.0.1:{free_port()}"

    started = time.monotonic()
    result = await prometheus.probe(PrometheusCheck(query="up"), ctx=context(clock, http, url=url))

    assert time.monotonic() - started < 2
    assert result.status is ProbeStatus.error
    assert result.summary == f"cannot reach Prometheus at {url}: connection refused"


async def test_hanging_prometheus_times_out_within_the_check_timeout(clock, http,
                                                                    prometheus_stack):
    ctx = context(clock, http, url=f"{prometheus_stack.exporter.url}/slow")

    started = time.monotonic()
    result = await prometheus.probe(
        PrometheusCheck(query="up", timeout=timedelta(milliseconds=300)), ctx=ctx)

    assert time.monotonic() - started < 1.5
    assert result.status is ProbeStatus.timeout


# ---------------------------------------------------------------- the alerts


async def test_critical_alert_firing_for_the_service_is_down(clock, http, prometheus_stack,
                                                             firing_alerts):
    [alert] = [a for a in firing_alerts if a["labels"]["alertname"] == "CheckoutDown"]
    check = PrometheusCheck(query='http_requests_total{job="checkout",status="200"}',
                            critical_above=1e6)

    result = await prometheus.probe(check, ctx=alerts_ctx(clock, http, prometheus_stack,
                                                          "checkout"))

    assert result.status is ProbeStatus.down
    assert result.facts == {"metric_value": 1027.0, "alerts_firing": 1}
    assert result.summary == "value 1027; 1 alert firing: CheckoutDown"
    [line] = [e for e in result.evidence if e.startswith("alert ")]
    assert line.startswith("alert CheckoutDown firing (severity critical) since ")
    assert line.endswith(f": checkout is down on 127.0.0.1:{prometheus_stack.exporter.port}")
    assert result.failed_since == prometheus._parse_time(alert["startsAt"])


async def test_warning_alert_for_the_service_is_degraded(clock, http, prometheus_stack,
                                                         firing_alerts):
    check = PrometheusCheck(query="payments_error_ratio")

    result = await prometheus.probe(check, ctx=alerts_ctx(clock, http, prometheus_stack,
                                                          "payments"))

    assert result.status is ProbeStatus.degraded
    assert "PaymentsErrorRate" in result.summary and result.facts["alerts_firing"] == 1
    assert any("severity warning" in e for e in result.evidence)


async def test_alerts_of_other_services_are_ignored(clock, http, prometheus_stack,
                                                    firing_alerts):
    check = PrometheusCheck(query='http_requests_total{job="checkout",status="200"}')

    result = await prometheus.probe(check, ctx=alerts_ctx(clock, http, prometheus_stack,
                                                          "search"))

    assert result.status is ProbeStatus.ok, text(result)
    assert result.facts["alerts_firing"] == 0
    assert "CheckoutDown" not in text(result) and "PaymentsErrorRate" not in text(result)


async def test_silenced_alert_is_not_counted(clock, http, prometheus_stack, firing_alerts):
    check = PrometheusCheck(query="inventory_lag_seconds")

    result = await prometheus.probe(check, ctx=alerts_ctx(clock, http, prometheus_stack,
                                                          "inventory"))

    assert result.status is ProbeStatus.ok and result.facts["alerts_firing"] == 0


async def test_service_label_is_configurable(clock, http, prometheus_stack, firing_alerts):
    ctx = context(clock, http, url=prometheus_stack.url,
                  alertmanager_url=prometheus_stack.alertmanager_url, service="critical",
                  service_label="severity")

    result = await prometheus.probe(PrometheusCheck(query="1"), ctx=ctx)

    assert result.status is ProbeStatus.down and "CheckoutDown" in result.summary


async def test_unreachable_alertmanager_is_an_error(clock, http, prometheus_stack):
    am = f"http://127.0.0.1:{free_port()}"
    ctx = context(clock, http, url=prometheus_stack.url, alertmanager_url=am)

    result = await prometheus.probe(PrometheusCheck(query="1"), ctx=ctx)

    assert result.status is ProbeStatus.error
    assert f"cannot reach Alertmanager at {am}: connection refused" in result.summary
    assert result.facts["metric_value"] == 1
