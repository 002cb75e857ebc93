"""Every workload kind: a Job whose pod completes, with all three patterns.

- Sidecar: in a Job, git-sync runs only as the one-shot init container (the report
  templates are synced once, before the app starts); a looping sidecar would keep the pod
  running forever.
- Ambassador and adapter: Envoy and statsd_exporter never exit on their own, so they run as
  native sidecars (Kubernetes >= 1.29): they start before the report job and the kubelet
  stops them once it has exited, and the Job reaches Complete.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    SidecarGitSync,
    container_resources,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "job", namespace="reports")
    job = kplus.Job(chart, "nightly-report", backoff_limit=2)
    job.add_container(
        name="report",
        image="example/report-builder:5.0.1",
        args=["--templates", "$(TEMPLATES)"],
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(200, 1000, 256, 512),
    )
    SidecarGitSync(
        chart,
        "templates",
        workload=job,
        repo="https://git.example.com/reports/templates.git",
        ref="v5",
        content_env="TEMPLATES",
    )
    RedisAmbassador(
        chart,
        "cache",
        workload=job,
        primary="redis-primary.data.svc:6379",
        replicas=["redis-replicas.data.svc:6379"],
        native_sidecar=True,
    )
    MetricsAdapter(chart, "metrics", workload=job, source=MetricsSource.statsd(), native_sidecar=True)
    restricted_pod_security(job)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
