"""All three patterns on one Deployment, still a valid and locked-down pod.

- Sidecar: git-sync keeps the site in a volume that nginx serves read-only.
- Ambassador: Envoy on localhost:6379 splits Redis reads and writes (for the app's cache).
- Adapter: nginx's stub_status becomes Prometheus metrics; one PodMonitor lists the
  adapter, git-sync's and Envoy's metrics ports.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    SidecarGitSync,
    metrics_defaults,
    nginx_server_config,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .git_sync_nginx import add_nginx, mount_nginx_config


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "all-patterns", namespace="web")
    # One place for every adapter's PodMonitor in the chart: the label a stock
    # kube-prometheus-stack selects PodMonitors by (its Helm release's name).
    metrics_defaults(chart, pod_monitor_labels={"release": "kube-prometheus-stack"})
    web = add_nginx(chart)

    site = SidecarGitSync(
        chart,
        "site",
        workload=web,
        repo="https://github.com/example/site.git",
        ref="main",
        serve_dir="public",
    )
    mount_nginx_config(chart, web, nginx_server_config(site.content_path, stub_status=True))

    password = kplus.SecretValue(
        secret=kplus.Secret.from_secret_name(chart, "redis", "redis"), key="password"
    )
    cache = RedisAmbassador(
        chart,
        "cache",
        workload=web,
        primary="redis-primary.data.svc:6379",
        replicas=["redis-replicas.data.svc:6379"],
        password=password,
    )

    MetricsAdapter(
        chart,
        "metrics",
        workload=web,
        source=MetricsSource.nginx(),
        pod_monitor=True,
        also_scrape=[site, cache],
    )
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
