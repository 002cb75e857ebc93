"""Adapter: nginx's stub_status becomes Prometheus metrics on the pod's `metrics` port.

nginx answers /stub_status on localhost only; the nginx-prometheus-exporter in the same
pod scrapes it and serves the uniform endpoint (port `metrics`, `/metrics`).
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import MetricsAdapter, MetricsSource, nginx_server_config

# isort: split
import cdk8s

from .git_sync_nginx import add_nginx, mount_nginx_config


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "metrics-nginx", namespace="web")
    web = add_nginx(chart)
    mount_nginx_config(chart, web, nginx_server_config("/usr/share/nginx/html", stub_status=True))
    MetricsAdapter(
        chart,
        "metrics",
        workload=web,
        source=MetricsSource.nginx(scrape_uri="http://127.0.0.1:8080/stub_status"),
    )
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
