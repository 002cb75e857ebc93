"""Every workload kind: a node agent DaemonSet that emits StatsD, with a metrics adapter.

One agent per node sends StatsD to $STATSD_HOST:$STATSD_PORT (127.0.0.1:9125, set by the
adapter); statsd_exporter maps it to Prometheus metrics, and the PodMonitor selects the
DaemonSet's pods by the DaemonSet's own selector.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    StatsdMapping,
    container_resources,
    metrics_defaults,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "daemonset", namespace="monitoring")
    # One place for every adapter's PodMonitor in the chart: the label a stock
    # kube-prometheus-stack selects PodMonitors by (its Helm release's name).
    metrics_defaults(chart, pod_monitor_labels={"release": "kube-prometheus-stack"})
    agent = kplus.DaemonSet(chart, "node-agent")
    agent.add_container(
        name="agent",
        image="example/node-agent:2.1.0",
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(20, 200, 32, 64),
    )
    MetricsAdapter(
        chart,
        "metrics",
        workload=agent,
        source=MetricsSource.statsd(
            mappings=[
                StatsdMapping(
                    match="agent.disk.*.free_bytes", name="node_agent_disk_free_bytes", labels={"mount": "$1"}
                )
            ]
        ),
        pod_monitor=True,
    )
    restricted_pod_security(agent)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
