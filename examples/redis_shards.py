"""Ambassador over sharded Redis primaries: the app talks to one Redis on localhost; Envoy puts
each key on one of three primaries by consistent hashing (Maglev), so the data set and the
write load are split three ways. Keys with the same ``{tag}`` share a shard, so the app can
keep a multi-key operation on one shard. Every command of a key, reads included, goes to its
shard's primary (for sharding with reads from replicas, see examples/redis_cluster.py).

The three shards are plain cdk8s-plus Deployments here, each behind a ClusterIP Service (one
address per shard: each address is a host on the hash table). The Secret ``redis`` (key
``password``) is created out of band.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador, RedisShard, container_resources, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .redis_ambassador import REDIS_IMAGE, REDIS_UID, add_app


def shard(chart: cdk8s.Chart, id: str, password: kplus.SecretValue) -> kplus.Service:
    """One shard: a single redis-server (an ephemeral cache: data lives in memory)."""
    dep = kplus.Deployment(chart, id, replicas=1)
    c = dep.add_container(
        name="redis",
        image=REDIS_IMAGE,
        command=["redis-server"],
        # Kubernetes expands $(REDIS_PASSWORD) from the Secret; the manifest holds no value.
        args=["--save", "", "--appendonly", "no", "--requirepass", "$(REDIS_PASSWORD)"],
        ports=[kplus.ContainerPort(number=6379, name="redis")],
        security_context=kplus.ContainerSecurityContextProps(user=REDIS_UID, group=REDIS_UID),
        resources=container_resources(100, 1000, 256, 512),
        readiness=kplus.Probe.from_tcp_socket(port=6379),
    )
    c.env.add_variable("REDIS_PASSWORD", kplus.EnvValue.from_secret_value(password))
    c.mount("/data", kplus.Volume.from_empty_dir(chart, f"{id}-data", "data"))
    restricted_pod_security(dep)
    return dep.expose_via_service(ports=[kplus.ServicePort(port=6379, name="redis")], name=id)


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-shards", namespace="shop")
    password = kplus.SecretValue(
        secret=kplus.Secret.from_secret_name(chart, "redis", "redis"), key="password"
    )
    shards = [shard(chart, f"redis-shard-{i}", password) for i in range(3)]
    cache = RedisAmbassador(
        chart,
        "cache",
        workload=add_app(chart),
        # A shard's place on the hash table is its name (default: the primary's host:port);
        # naming them keeps every key where it is if a Service is ever renamed or moved.
        shards=[RedisShard(s, name=f"shard-{i}") for i, s in enumerate(shards)],
        password=password,  # Envoy AUTHs to every shard
        client_password=password,  # and the app AUTHs to Envoy (REDIS_PASSWORD)
    )
    assert cache.url == "redis://127.0.0.1:6379"
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
