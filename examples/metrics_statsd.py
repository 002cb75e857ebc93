"""Adapter: a Django app that emits StatsD gets Prometheus metrics without a code change.

The app sends StatsD to $STATSD_HOST:$STATSD_PORT (127.0.0.1:9125, set by the adapter);
statsd_exporter maps the dotted names to labelled Prometheus metrics.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsDiscovery,
    MetricsSource,
    StatsdMapping,
    StatsdMetricType,
    StatsdObserver,
    container_resources,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "metrics-statsd", namespace="shop")
    api = kplus.Deployment(chart, "api", replicas=2)
    api.add_container(
        name="django",
        image="example/shop-django:3.2.0",
        ports=[kplus.ContainerPort(number=8000, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(100, 1000, 256, 512),
        readiness=kplus.Probe.from_http_get("/healthz", port=8000),
    )
    MetricsAdapter(
        chart,
        "metrics",
        workload=api,
        source=MetricsSource.statsd(
            mappings=[
                StatsdMapping(
                    match="django.view.*.duration",
                    name="django_view_duration_seconds",
                    labels={"view": "$1"},
                    observer_type=StatsdObserver.HISTOGRAM,
                    # The app sends |ms timers; statsd_exporter exports them in seconds itself.
                    buckets=[0.01, 0.05, 0.1, 0.5, 1, 5],
                ),
                StatsdMapping(
                    match="django.view.*.status.*",
                    name="django_responses_total",
                    labels={"view": "$1", "status": "$2"},
                    match_metric_type=StatsdMetricType.COUNTER,
                ),
                StatsdMapping(match="django.debug.*", drop=True),
            ]
        ),
        # For the Prometheus Operator: a PodMonitor instead of the prometheus.io annotations.
        # kube-prometheus-stack selects PodMonitors labelled release=<its Helm release name>.
        discovery=MetricsDiscovery.POD_MONITOR,
        pod_monitor_labels={"release": "kube-prometheus-stack"},
    )
    restricted_pod_security(api)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
