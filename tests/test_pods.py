"""Every example and every cell of the composition matrix runs as real pods (podman kube play;
see tests/pods/), so the containers of a pod share network namespace, IPC and volumes as on a
node, with the synthesized securityContext, env, volumes and resources applied as written.

Per pod: every container that has an image here runs (a Job's app containers: exited 0), none
restarts, every probe of the manifest passes the way the kubelet runs it, every Envoy's Redis
clusters are healthy (authenticated health checks; a Sentinel ambassador's ROLE-checked write
cluster: exactly its primary), a SET and a GET through every ambassador URL of the app's env
succeed, and every scrape target of the pod's discovery answers Prometheus text. Containers
whose image no reachable registry packages (git-sync, statsd_exporter, jmx_exporter) are left
out of the pod and listed in the printed table (README, "Pods that run").

The Redis examples run against real redis-servers in pods of their own (OUTSIDE; EXTRA_HOSTS for
names no Service defines; PREPARE for what needs the pods running, e.g. forming a Redis Cluster),
and EXTRA checks where the ambassador put the data: over sharded primaries, a Redis Cluster, and
Sentinel-managed data nodes.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml
from redis.crc import key_slot

from examples import EXAMPLES
from examples.redis_sentinel import DATA_NODES

from .matrix import CELLS, Cell
from .pods import PodSet
from .pods.runner import PodSetError
from .pods.scenarios import KEY, check_ambassadors, check_scrapes, metrics, redis_batch, redis_cli

pytestmark = pytest.mark.integration

#: The Secrets the examples reference (created out of band in a real cluster).
SECRETS = {
    "redis": {"password": "pods-test-password"},
    "redis-cluster": {"password": "pods-test-cluster-password"},
}
#: Where the runs' tables go (build/ is not committed).
REPORT = Path(__file__).resolve().parent.parent / "build" / "pod-runs.txt"
#: How long the pods must run without a restart before the probes.
SETTLE_SECONDS = 8
#: What a left-out git-sync would have fetched, where the app cannot start without it:
#: workload -> volume -> path -> text (README, "Pods that run").
SEEDS = {
    "statefulset": {
        "sessions": {"git-sync-root": {"redis-acl/users.acl": "user default on nopass ~* &* +@all\n"}}
    },
    # httpd refuses to start on a DocumentRoot that does not exist (AH00526); Tomcat starts, but
    # its root web app fails to (a PreResources base that does not exist).
    "git-sync-apache": {"web": {"git-sync-root": {"site/public/index.html": "synced\n"}}},
    "git-sync-tomcat": {"web": {"git-sync-root": {"site/public/index.html": "synced\n"}}},
}
#: Exporters whose target runs in the pod: their `<exporter>_up` must be 1.
UP = {
    "metrics-nginx": {"web": "nginx_up"},
    "all-patterns": {"web": "nginx_up"},
    "statefulset": {"sessions": "redis_up"},
}


def docs_of(build: Callable[[cdk8s.App], Any]) -> list[dict[str, Any]]:
    app = cdk8s.App()
    build(app)
    return [d for d in yaml.safe_load_all(app.synth_yaml()) if d]


def redis_server(chart: cdk8s.Chart, name: str, *, replica_of: str | None = None, auth: bool = False) -> None:
    """A redis-server Deployment and its Service ``name``, as a team that runs Redis would (the
    examples reach such servers in namespace ``data``; `redis-ambassador` defines its own)."""
    args = ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
    args += ["--requirepass", "$(REDIS_PASSWORD)", "--masterauth", "$(REDIS_PASSWORD)"] if auth else []
    args += ["--replicaof", replica_of, "6379"] if replica_of else []
    dep = kplus.Deployment(chart, name)
    redis = dep.add_container(
        name="redis",
        image="redis:7.4.2-alpine",
        command=["redis-server"],
        args=args,
        ports=[kplus.ContainerPort(number=6379)],
        security_context=kplus.ContainerSecurityContextProps(user=999, group=999),
    )
    if auth:
        secret = kplus.Secret.from_secret_name(chart, f"{name}-pw", "redis")
        redis.env.add_variable(
            "REDIS_PASSWORD",
            kplus.EnvValue.from_secret_value(kplus.SecretValue(secret=secret, key="password")),
        )
    redis.mount("/data", kplus.Volume.from_empty_dir(chart, f"{name}-data", "data"))  # sync temp files
    dep.expose_via_service(ports=[kplus.ServicePort(port=6379)], name=name)


def data_namespace(app: cdk8s.App, *, auth: bool) -> None:
    """``redis-primary.data.svc`` and ``redis-replicas.data.svc``, which all-patterns, job and
    cronjob reach."""
    chart = cdk8s.Chart(app, "data", namespace="data")
    redis_server(chart, "redis-primary", auth=auth)
    redis_server(chart, "redis-replicas", replica_of="redis-primary.data.svc", auth=auth)


def redis_cluster_nodes(app: cdk8s.App, count: int = 6) -> None:
    """``count`` redis-servers in cluster mode in namespace ``data`` (password: Secret
    ``redis-cluster``), each announcing its pod IP (``status.podIP``, as Bitnami's chart does),
    behind the Service ``redis-cluster`` (the seed; here it resolves to the first node). They
    become one cluster in :func:`_create_cluster`, once the pods run."""
    chart = cdk8s.Chart(app, "data", namespace="data")
    secret = kplus.Secret.from_secret_name(chart, "redis-cluster-pw", "redis-cluster")
    for i in range(count):
        dep = kplus.Deployment(chart, f"redis-cluster-{i}")
        dep.pod_metadata.add_label("app.kubernetes.io/name", "redis-cluster")
        redis = dep.add_container(
            name="redis",
            image="redis:7.4.2-alpine",
            command=["redis-server"],
            args=[
                *("--save", "", "--appendonly", "no", "--protected-mode", "no"),
                *("--requirepass", "$(REDIS_PASSWORD)", "--masterauth", "$(REDIS_PASSWORD)"),
                *("--cluster-enabled", "yes", "--cluster-config-file", "/data/nodes.conf"),
                *("--cluster-node-timeout", "2000", "--cluster-announce-ip", "$(POD_IP)"),
                # A replica is in CLUSTER SLOTS (so in Envoy's view) once its replication offset is
                # not 0: once synced (no 5 s diskless delay first) and its primary sent something
                # (a PING every repl-ping-replica-period: 10 s by default; measured 9 s to show).
                *("--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1"),
            ],
            ports=[kplus.ContainerPort(number=6379), kplus.ContainerPort(number=16379, name="bus")],
            security_context=kplus.ContainerSecurityContextProps(user=999, group=999),
        )
        redis.env.add_variable("POD_IP", kplus.EnvValue.from_field_ref(kplus.EnvFieldPaths.POD_IP))
        redis.env.add_variable(
            "REDIS_PASSWORD",
            kplus.EnvValue.from_secret_value(kplus.SecretValue(secret=secret, key="password")),
        )
        redis.mount("/data", kplus.Volume.from_empty_dir(chart, f"redis-cluster-{i}-data", "data"))
    seed = kplus.Service(
        chart,
        "redis-cluster-service",
        metadata=cdk8s.ApiObjectMetadata(name="redis-cluster"),
        ports=[kplus.ServicePort(port=6379)],
    )
    seed.select_label("app.kubernetes.io/name", "redis-cluster")


def sentinel_data_nodes(app: cdk8s.App) -> None:
    """The data nodes of the Sentinel example (Bitnami ``redis`` chart, release ``redis``): one
    primary, two replicas of it, password from Secret ``redis``; one pod each, named by
    EXTRA_HOSTS as the chart's per-pod DNS names. No sentinels: the ambassador never asks them,
    it finds the primary by ROLE (failover is measured in bench/sentinel_failover.py)."""
    chart = cdk8s.Chart(app, "data", namespace="data")
    redis_server(chart, "redis-node-0", auth=True)
    for i in (1, 2):
        redis_server(chart, f"redis-node-{i}", replica_of="redis-node-0.data.svc", auth=True)


#: The servers outside each example that its ambassadors reach.
OUTSIDE: dict[str, Callable[[cdk8s.App], None]] = {
    "all-patterns": lambda app: data_namespace(app, auth=True),
    "job": lambda app: data_namespace(app, auth=False),
    "cronjob": lambda app: data_namespace(app, auth=False),
    # The second ambassador's Redis, run by another team in namespace data (no password).
    "redis-ambassador": lambda app: redis_server(
        cdk8s.Chart(app, "data", namespace="data"), "sessions-redis"
    ),
    "redis-cluster": redis_cluster_nodes,
    "redis-sentinel": sentinel_data_nodes,
}
#: Names no Service defines -> a Service (its pod's IP): the Sentinel chart's per-pod DNS names.
EXTRA_HOSTS: dict[str, dict[str, str]] = {
    "redis-sentinel": {node.split(":")[0]: f"redis-node-{i}" for i, node in enumerate(DATA_NODES)},
}


def run(
    name: str,
    docs: list[dict[str, Any]],
    extra: Callable[[PodSet], list[str]] | None = None,
    prepare: Callable[[PodSet], list[str]] | None = None,
) -> None:
    """``prepare``: what must happen once the pods run, before they settle (e.g. forming a Redis
    Cluster); ``extra``: checks after the common ones. Both return lines for the report."""
    with PodSet(docs, secrets=SECRETS, seed=SEEDS.get(name), extra_hosts=EXTRA_HOSTS.get(name)) as pods:
        started = time.monotonic()
        prepared = prepare(pods) if prepare else []
        time.sleep(max(0.0, started + SETTLE_SECONDS - time.monotonic()))  # the pods ran meanwhile
        results = pods.probe_all()
        print(f"\n== {name}\n{pods.report(results)}")
        for pod in pods:
            assert pod.problem() is None, f"{pod.workload}: {pod.problem()}"
            for container in pod.play.containers:
                assert pod.restarts(container) == 0, (pod.workload, container, pod.logs(container)[-2000:])
        failed = [r for r in results if not r.ok]
        assert not failed, failed
        lines = prepared + check_ambassadors(pods, SECRETS) + check_scrapes(pods, docs, up=UP.get(name))
        lines += extra(pods) if extra else []
        print("\n".join(f"    {line}" for line in lines))
        # Every run's table, also where pytest captures the output (make test, CI).
        REPORT.parent.mkdir(exist_ok=True)
        with REPORT.open("a") as out:
            out.write(f"== {name}\n{pods.report(results)}\n" + "".join(f"    {line}\n" for line in lines))


def _primary_and_replica(pods: PodSet) -> list[str]:
    """`redis-ambassador`: the write landed on the primary, and a read through the ambassador was
    served by a replica, not by the primary."""
    password = SECRETS["redis"]["password"]
    api, primary, replica = pods["-api-"], pods["redis-primary"], pods["redis-replicas"]
    assert redis_cli(primary, "redis", 6379, password, "get", KEY) == f"{api.workload}-6379"

    def gets(pod: Any) -> int:
        stats = redis_cli(pod, "redis", 6379, password, "info", "commandstats")
        found = re.search(r"cmdstat_get:calls=(\d+)", stats)
        return int(found[1]) if found else 0

    before = (gets(primary), gets(replica))
    for _ in range(5):
        redis_cli(api, "api", 6379, password, "get", KEY)
    after = (gets(primary), gets(replica))
    assert after[0] == before[0], "a read reached the primary"
    assert after[1] == before[1] + 5, (before, after)
    return [f"{primary.workload}: has the key; 5 GETs via the ambassador: replica +5, primary +0"]


def _dev_redis(pods: PodSet) -> list[str]:
    """`redis-ambassador-dev`: the app's write went through Envoy into the pod's own Redis."""
    api = pods["api"]
    assert redis_cli(api, "redis-ambassador-redis", 16379, None, "get", KEY) == f"{api.workload}-6379"
    return [f"{api.workload}: the key is in redis-ambassador-redis (127.0.0.1:16379), written via Envoy"]


def _keys_on(pod: Any, password: str, pattern: str) -> set[str]:
    return set(redis_cli(pod, "redis", 6379, password, "keys", pattern).split())


def _sharded(pods: PodSet) -> list[str]:
    """`redis-shards`: keys written through the ambassador are spread over the shard primaries
    (Maglev by shard name), each key on exactly one, and read back through it."""
    password = SECRETS["redis"]["password"]
    api = pods["-api-"]
    keys = [f"{KEY}-shard-{i}" for i in range(24)]
    assert redis_batch(api, "api", 6379, password, [["set", k, k] for k in keys]) == ["OK"] * len(keys)
    assert redis_batch(api, "api", 6379, password, [["get", k] for k in keys]) == keys
    held = {i: _keys_on(pods[f"redis-shard-{i}"], password, f"{KEY}-shard-*") for i in range(3)}
    counts = {k: sum(k in on for on in held.values()) for k in keys}
    assert all(n == 1 for n in counts.values()), counts
    assert sum(bool(on) for on in held.values()) > 1, held
    return [
        f"{len(keys)} keys SET+GET through Envoy from api; each on exactly one shard: "
        + ", ".join(f"shard-{i} {len(on)}" for i, on in held.items())
    ]


def _cluster_pods(pods: PodSet) -> list[Any]:
    return [pods[f"redis-cluster-{i}-"] for i in range(6)]


def _create_cluster(pods: PodSet) -> list[str]:
    """`redis-cluster`: join the six nodes (3 primaries, 3 replicas: ``redis-cli --cluster
    create``, by pod IP, from the first node) and wait until every node says cluster_state:ok and
    its ``CLUSTER SLOTS`` names all six (every primary with its replica): Envoy asks any node for
    the slot map, and a node that has not heard of a replica yet (gossip) leaves it out."""
    password = SECRETS["redis-cluster"]["password"]
    nodes = _cluster_pods(pods)
    auth = ["-a", password, "--no-auth-warning"]
    create = ["redis-cli", *auth, "--cluster", "create", *(f"{n.ip}:6379" for n in nodes)]
    proc = nodes[0].exec("redis", [*create, "--cluster-replicas", "1", "--cluster-yes"], timeout=60)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    # Every node's view, asked from the first node over the pods' network (one exec a round).
    views = "; ".join(
        f"echo @@; {shlex.join(['redis-cli', '-h', n.ip, *auth, 'cluster', 'info'])} | grep cluster_state; "
        f"{shlex.join(['redis-cli', '-h', n.ip, *auth, 'cluster', 'slots'])}"
        for n in nodes
    )
    deadline = time.monotonic() + 30
    while True:
        proc = nodes[0].exec("redis", ["sh", "-c", views])
        # Per node: its cluster_state line, then CLUSTER SLOTS one element a line (the IPs among them).
        seen = [part.split() for part in proc.stdout.split("@@")[1:]]
        ips = {n.ip for n in nodes}
        if len(seen) == len(nodes) and all(
            "cluster_state:ok" in view and {w for w in view if w.count(".") == 3} == ips for view in seen
        ):
            break
        assert time.monotonic() < deadline, (proc.stdout[-3000:], proc.stderr[-1000:])
        time.sleep(0.5)
    return [f"redis-cluster: 6 nodes joined (3 primaries, 3 replicas) at {', '.join(n.ip for n in nodes)}"]


def _cluster_keys() -> list[str]:
    """Keys in several slots: three in each third of the slot space (one primary's range each,
    as ``redis-cli --cluster create`` assigns them)."""
    keys: list[str] = []
    for third in range(3):
        n = 0
        while sum(key_slot(k.encode()) * 3 // 16384 == third for k in keys) < 3:
            key = f"{KEY}-slot-{third}-{n}"
            if key_slot(key.encode()) * 3 // 16384 == third:
                keys.append(key)
            n += 1
    return keys


def _cluster(pods: PodSet) -> list[str]:
    """`redis-cluster`: Envoy learnt all 6 nodes from the seed; keys in several slots SET and
    GET through the ambassador; each key is on exactly one primary, every primary has some; the
    GETs were served by replicas (``read_policy="replica"``), never by a primary."""
    password = SECRETS["redis-cluster"]["password"]
    api = pods["-api-"]
    nodes = _cluster_pods(pods)
    deadline = time.monotonic() + 15  # Envoy asks for the slot map every 5 s (cluster_refresh_rate)
    while True:
        samples = metrics(f"http://{api.ip}:9902/metrics")
        members = {
            metric: v
            for (metric, labels), v in samples.items()
            if metric.startswith("envoy_cluster_membership_")
            and dict(labels)["envoy_cluster_name"] == "redis_cluster"
        }
        if members["envoy_cluster_membership_total"] == members["envoy_cluster_membership_healthy"] == 6:
            break
        assert time.monotonic() < deadline, (members, _envoy_hosts(api, "redis-ambassador"))
        time.sleep(0.5)
    keys = _cluster_keys()
    slots = sorted(key_slot(k.encode()) for k in keys)
    assert redis_batch(api, "api", 6379, password, [["set", k, k] for k in keys]) == ["OK"] * len(keys)
    deadline = time.monotonic() + 15  # the replicas may trail the write
    while (got := redis_batch(api, "api", 6379, password, [["get", k] for k in keys])) != keys:
        assert time.monotonic() < deadline, got
        time.sleep(0.5)
    primaries = [n for n in nodes if redis_cli(n, "redis", 6379, password, "role").split()[0] == "master"]
    assert len(primaries) == 3, [n.workload for n in primaries]
    held = {n.workload: _keys_on(n, password, f"{KEY}-slot-*") for n in primaries}
    counts = {k: sum(k in on for on in held.values()) for k in keys}
    assert all(c == 1 for c in counts.values()), counts
    assert all(held.values()), held

    def gets(node: Any) -> int:
        stats = redis_cli(node, "redis", 6379, password, "info", "commandstats")
        found = re.search(r"cmdstat_get:calls=(\d+)", stats)
        return int(found[1]) if found else 0

    on_primaries = sum(gets(n) for n in primaries)
    on_replicas = sum(gets(n) for n in nodes if n not in primaries)
    assert on_primaries == 0, f"{on_primaries} GETs reached a primary"
    assert on_replicas >= len(keys), on_replicas
    return [
        "Envoy redis_cluster: 6/6 hosts healthy, learnt from the seed redis-cluster.data.svc",
        f"{len(keys)} keys in slots {slots}: SET+GET through Envoy from api; each on exactly one "
        "primary: " + ", ".join(str(len(on)) for on in held.values()),
        f"GETs served by replicas {on_replicas}, by primaries 0",
    ]


def _envoy_hosts(pod: Any, container: str) -> dict[str, dict[str, str]]:
    """cluster -> host -> health_flags, from Envoy's admin ``/clusters`` (on 127.0.0.1 in the
    pod: read from inside, through the shared loopback)."""
    fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9901/clusters').read().decode())"
    proc = pod.exec(container, ["python3", "-c", fetch])
    assert proc.returncode == 0, proc.stderr
    hosts: dict[str, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[2] == "health_flags":
            hosts.setdefault(parts[0], {})[parts[1]] = parts[3]
    return hosts


def _sentinel(pods: PodSet) -> list[str]:
    """`redis-sentinel`: Envoy's write cluster has the primary as its one healthy host (its ROLE
    check AUTHs with the password the ``sh -c`` script rendered from the Secret), the read
    cluster every node; a SET through the ambassador landed on the primary (the replicas refuse
    writes) and a GET through it reads it back."""
    password = SECRETS["redis"]["password"]
    api = pods["-api-"]
    nodes = [pods[f"redis-node-{i}"] for i in range(3)]
    assert redis_cli(nodes[0], "redis", 6379, password, "role").split()[0] == "master"
    hosts = _envoy_hosts(api, "redis-ambassador")
    healthy = {c: sorted(h.split(":")[0] for h, f in hs.items() if f == "healthy") for c, hs in hosts.items()}
    assert healthy["redis_primary"] == [nodes[0].ip], (hosts, [n.ip for n in nodes])
    assert healthy["redis_replicas"] == sorted(n.ip for n in nodes), hosts
    value = f"{api.workload}-sentinel"
    key = f"{KEY}-sentinel"
    assert redis_cli(api, "api", 6379, password, "set", key, value) == "OK"
    assert redis_cli(nodes[0], "redis", 6379, password, "get", key) == value
    deadline = time.monotonic() + 15  # a GET may go to a replica that is still behind
    while (got := redis_cli(api, "api", 6379, password, "get", key)) != value:
        assert time.monotonic() < deadline, got
        time.sleep(0.5)
    return [
        # ROLE without the AUTH the script rendered gets NOAUTH: a healthy primary shows it worked.
        f"Envoy redis_primary (ROLE check, AUTH rendered by sh -c): healthy {healthy['redis_primary']}"
        f" = redis-node-0 (master); redis_replicas: healthy {healthy['redis_replicas']}",
        f"SET through Envoy landed on the primary redis-node-0 ({nodes[0].ip}); GET through Envoy ok",
    ]


EXTRA: dict[str, Callable[[PodSet], list[str]]] = {
    "redis-ambassador": _primary_and_replica,
    "redis-ambassador-dev": _dev_redis,
    "redis-shards": _sharded,
    "redis-cluster": _cluster,
    "redis-sentinel": _sentinel,
}
#: What must happen once the pods run, before the checks.
PREPARE: dict[str, Callable[[PodSet], list[str]]] = {"redis-cluster": _create_cluster}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_as_pods(name: str) -> None:
    def build(app: cdk8s.App) -> None:
        EXAMPLES[name](app)
        if name in OUTSIDE:
            OUTSIDE[name](app)

    run(name, docs_of(build), EXTRA.get(name), PREPARE.get(name))


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.name)
def test_matrix_cell_runs_as_a_pod(cell: Cell) -> None:
    run(cell.name, docs_of(cell.build))


def test_two_envoys_with_hot_restart_clash_in_one_pod() -> None:
    """What `--disable-hot-restart` fixes, shown by the runner: without it the second Envoy of a
    pod cannot bind the hot-restart socket (shared network namespace) and exits."""
    docs = docs_of(next(c for c in CELLS if c.name == "two-ambassadors").build)
    for doc in docs:
        if doc["kind"] == "Deployment":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                if c.get("command") == ["envoy"]:
                    c["args"].remove("--disable-hot-restart")
    with pytest.raises(PodSetError) as err, PodSet(docs, secrets=SECRETS):
        pass
    assert re.search(r"(redis-ambassador|sessions) restarted \d+ times", str(err.value))
    assert "unable to bind domain socket with base_id=0" in str(err.value)
