"""Ambassador in front of a Redis Cluster: the app uses a plain Redis client on localhost; Envoy
learns the cluster's slot map (``CLUSTER SLOTS``), sends each key to its slot's node, follows
``MOVED``/``ASK`` itself while slots move or a replica takes over, and sends reads to the
replicas (``read_policy="replica"``: every shard of this cluster has one).

The cluster (3 primaries, 3 replicas, cluster mode on) is run by another team in namespace
``data``, e.g. with the Bitnami ``redis-cluster`` chart; its Service is the seed Envoy asks for
the slot map. The Secret ``redis-cluster`` (key ``password``) is created out of band.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador, RedisClusterTopology

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .redis_ambassador import add_app


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-cluster", namespace="shop")
    password = kplus.SecretValue(
        secret=kplus.Secret.from_secret_name(chart, "redis-cluster", "redis-cluster"), key="password"
    )
    cache = RedisAmbassador(
        chart,
        "cache",
        workload=add_app(chart),
        cluster=RedisClusterTopology(
            seeds=["redis-cluster.data.svc:6379"],
            # Reads from the replicas; they may trail a write just made, and during a resharding
            # a key being moved can read as nil (measured; the default "master" never does).
            read_policy="replica",
        ),
        password=password,  # Envoy AUTHs to every node
        client_password=password,  # and the app AUTHs to Envoy (REDIS_PASSWORD)
    )
    assert cache.url == "redis://127.0.0.1:6379"
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
