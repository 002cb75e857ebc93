"""Ambassador in front of a Sentinel-managed Redis: the app talks to one Redis on localhost; Envoy
sends writes to whichever data node is the primary now (a ``ROLE`` health check on every node),
and reads to every live node. When Sentinel promotes a replica, writes follow it without the app
knowing Sentinel exists: no Sentinel client, no reconnect logic.

The Redis deployment is run by another team in namespace ``data`` with Bitnami's ``redis`` chart,
release ``redis``: ``architecture=replication``, ``sentinel.enabled=true``,
``replica.replicaCount=3``, ``auth.existingSecret=redis`` (key ``password``). That is the
StatefulSet ``redis-node`` (a redis and a sentinel container per pod) behind the headless Service
``redis-headless``; each pod's own DNS name is a data node here. Set the chart's
``sentinel.downAfterMilliseconds`` low (3000 here; the chart's default is 60000): writes fail for
about that long plus 2 s after the primary dies (measured: 4.99-5.30 s at 3000). The Secret
``redis`` (key ``password``) is created out of band in namespace ``shop`` too.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador, RedisSentinelTopology

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .redis_ambassador import add_app

#: The chart's data nodes: <statefulset>-<ordinal>.<headless service>.<namespace>.svc.cluster.local.
DATA_NODES = [f"redis-node-{i}.redis-headless.data.svc.cluster.local:6379" for i in range(3)]


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-sentinel", namespace="shop")
    password = kplus.SecretValue(
        secret=kplus.Secret.from_secret_name(chart, "redis", "redis"), key="password"
    )
    cache = RedisAmbassador(
        chart,
        "cache",
        workload=add_app(chart),
        # require_replica (default True): a primary gets writes only while a replica is attached,
        # so a node restarted empty that still says "master" never takes (and loses) writes.
        sentinel=RedisSentinelTopology(servers=DATA_NODES),
        # Envoy AUTHs to every node; its ROLE check gets the AUTH from this Secret's file when the
        # container starts (the ConfigMap holds a placeholder, never the password).
        password=password,
        client_password=password,  # and the app AUTHs to Envoy (REDIS_PASSWORD)
    )
    assert cache.url == "redis://127.0.0.1:6379"
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
