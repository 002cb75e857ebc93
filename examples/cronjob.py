"""Every workload kind: a CronJob that warms a cache through the Redis ambassador.

The pod inside the CronJob's job template gets the same treatment as a Job's: Envoy runs as
a native sidecar (Kubernetes >= 1.29) and is stopped when the warmer exits; git-sync (the
list of keys to warm) keeps syncing as a native sidecar too, while the warmer runs.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador, SidecarGitSync, container_resources, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "cronjob", namespace="shop")
    warmer = kplus.CronJob(chart, "cache-warmer", schedule=cdk8s.Cron.schedule(minute="*/15"))
    warmer.add_container(
        name="warmer",
        image="example/cache-warmer:1.3.0",
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(50, 500, 64, 128),
    )
    SidecarGitSync(
        chart,
        "keys",
        workload=warmer,
        repo="https://git.example.com/shop/warm-keys.git",
        ref="main",
        content_env="KEYS_DIR",
        native_sidecar=True,
    )
    RedisAmbassador(
        chart,
        "cache",
        workload=warmer,
        primary="redis-primary.data.svc:6379",
        replicas=["redis-replicas.data.svc:6379"],
        native_sidecar=True,
    )
    restricted_pod_security(warmer)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
