"""Every workload kind: a bare Pod (a debugging or one-off service pod) with all three patterns.

A Pod whose restart policy is ``Always`` behaves like one replica of a Deployment: classic
sidecars work on Kubernetes 1.27. Discovery selects the Pod by its own labels.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    SidecarGitSync,
    metrics_defaults,
    nginx_server_config,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .git_sync_nginx import NGINX_IMAGE, NGINX_UID


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "pod", namespace="web")
    # One place for every adapter's PodMonitor in the chart: the label a stock
    # kube-prometheus-stack selects PodMonitors by (its Helm release's name).
    metrics_defaults(chart, pod_monitor_labels={"release": "kube-prometheus-stack"})
    pod = kplus.Pod(chart, "preview")
    nginx = pod.add_container(
        name="nginx",
        image=NGINX_IMAGE,
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=NGINX_UID, group=NGINX_UID),
        readiness=kplus.Probe.from_http_get("/healthz", port=8080),
    )
    nginx.mount("/tmp", kplus.Volume.from_empty_dir(chart, "nginx-tmp", "nginx-tmp"))
    site = SidecarGitSync(
        chart,
        "site",
        workload=pod,
        repo="https://github.com/example/site.git",
        ref="preview",
        serve_dir="public",
    )
    conf = kplus.ConfigMap(
        chart, "nginx-conf", data={"default.conf": nginx_server_config(site.content_path, stub_status=True)}
    )
    nginx.mount(
        "/etc/nginx/conf.d", kplus.Volume.from_config_map(chart, "nginx-conf-volume", conf, name="nginx-conf")
    )
    cache = RedisAmbassador(chart, "cache", workload=pod, development=True)
    MetricsAdapter(
        chart,
        "metrics",
        workload=pod,
        source=MetricsSource.nginx(),
        pod_monitor=True,
        also_scrape=[site, cache],
    )
    restricted_pod_security(pod)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
