"""Every workload kind: a Redis StatefulSet whose ACL file comes from git, with Redis metrics.

- Per-pod storage: each Redis pod keeps its append-only file on its own PersistentVolumeClaim
  (``volume_claim_template``: cdk8s-plus-27 has no claim templates, and a JSON patch loses the
  size), which every check of the library treats as a volume of the pod.

- Sidecar: git-sync keeps ``users.acl`` (a private ops repository) in a volume; Redis
  loads it through ``--aclfile $(ACL_ROOT)/users.acl`` and ``ACL LOAD`` picks up a push.
- Adapter: redis_exporter turns ``INFO`` into Prometheus metrics; the PodMonitor selects the
  StatefulSet's pods by the StatefulSet's own selector.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    SidecarGitSync,
    container_resources,
    metrics_defaults,
    restricted_pod_security,
    volume_claim_template,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

REDIS_IMAGE = "redis:7.4.2-alpine"
REDIS_UID = 999  # the image's redis user


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "statefulset", namespace="data")
    # One place for every adapter's PodMonitor in the chart: the label a stock
    # kube-prometheus-stack selects PodMonitors by (its Helm release's name).
    metrics_defaults(chart, pod_monitor_labels={"release": "kube-prometheus-stack"})
    redis = kplus.StatefulSet(
        chart,
        "sessions",
        replicas=3,
        containers=[
            kplus.ContainerProps(
                name="redis",
                image=REDIS_IMAGE,
                command=["redis-server"],
                # Durable: the append-only file lives on the pod's own claim, mounted at /data.
                args=["--appendonly", "yes", "--dir", "/data", "--aclfile", "$(ACL_ROOT)/users.acl"],
                ports=[kplus.ContainerPort(number=6379, name="redis")],
                security_context=kplus.ContainerSecurityContextProps(user=REDIS_UID, group=REDIS_UID),
                resources=container_resources(100, 1000, 256, 512),
                readiness=kplus.Probe.from_tcp_socket(port=6379),
            )
        ],
    )
    data = volume_claim_template(redis, "data", storage=cdk8s.Size.gibibytes(5))
    data.mount(redis.containers[0], "/data")
    SidecarGitSync(
        chart,
        "acl",
        workload=redis,
        repo="https://git.example.com/ops/redis-acl.git",
        ref="main",
        mount_path="/etc/redis-acl",
        content_env="ACL_ROOT",
    )
    MetricsAdapter(
        chart,
        "metrics",
        workload=redis,
        source=MetricsSource.redis(address="redis://127.0.0.1:6379"),
        pod_monitor=True,
        annotations=False,
    )
    restricted_pod_security(redis)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
