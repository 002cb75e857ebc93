"""The ambassador's sharded and Redis Cluster topologies, measured with real programs: Debian's
redis-server (standalone shards; a 3-primary/3-replica cluster) and the real Envoy, run with
the config and command that were synthesized (tests/ambassador_harness.py translates paths only).

The figures each test prints (run with ``-s``) are the ones quoted in
docs/patterns/redis-ambassador.md, "Topologies".
"""

from __future__ import annotations

import collections
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import redis
import yaml

from constructs_lib import RedisAmbassador, RedisClusterTopology, RedisShard

from .ambassador_harness import PASSWORD, Ambassador, ambassador, container
from .programs import free_port, require
from .redis_cluster_servers import RedisClusterNodes, cluster_nodes, key_per_slot, redis_cluster
from .redis_servers import NO_RETRY, RedisServer, RestartableRedis, redis_server
from .test_integration_redis import app_session

pytestmark = pytest.mark.integration

KEYS = 100_000


def synthesize(*, auth: bool = False, client_auth: bool = False, **kw: Any) -> Ambassador:
    """The app's pod with an ambassador of the given topology props, on free loopback ports."""
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="app", image="example/app:1")
    secret = kplus.SecretValue(secret=kplus.Secret.from_secret_name(chart, "pw", "redis"), key="password")
    if auth:
        kw["password"] = secret
    if auth or client_auth:
        kw["client_password"] = secret
    if kw.get("development"):
        kw["development_port"] = free_port()
    port, stats_port = free_port(), free_port()
    RedisAmbassador(
        chart, "cache", workload=web, port=port, admin_port=free_port(), stats_port=stats_port, **kw
    )
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    env = {e["name"]: str(e["value"]) for e in container(docs, "app")["env"] if "value" in e}
    return Ambassador(port, stats_port, docs, env=env)


def client(amb: Ambassador, password: str | None = None) -> redis.Redis:
    """The app's client: REDIS_URL from the manifest, no retries (each error is seen)."""
    return redis.from_url(amb.url, password=password, decode_responses=True, retry=NO_RETRY)


def write_all(c: redis.Redis, keys: Sequence[str]) -> None:
    """SET key=key for every key, pipelined (no MULTI: the keys live on several servers)."""
    for start in range(0, len(keys), 5000):
        pipe = c.pipeline(transaction=False)
        for key in keys[start : start + 5000]:
            pipe.set(key, key)
        assert all(pipe.execute())


def read_all(c: redis.Redis, keys: Sequence[str]) -> list[Any]:
    values: list[Any] = []
    for start in range(0, len(keys), 5000):
        pipe = c.pipeline(transaction=False)
        for key in keys[start : start + 5000]:
            pipe.get(key)
        values += pipe.execute()
    return values


def misses(c: redis.Redis, keys: Sequence[str]) -> int:
    """Keys not found (nil) through the ambassador: each was written to another shard."""
    return sum(v is None for v in read_all(c, keys))


# --- sharded primaries ---------------------------------------------------------------------


def shards_of(servers: Sequence[RedisServer]) -> list[RedisShard]:
    return [RedisShard(f"127.0.0.1:{s.port}") for s in servers]


@pytest.mark.parametrize("hashing", ["maglev", "ring_hash"])
def test_sharded_keys_spread_evenly_and_stay_put(tmp_path: Path, hashing: str) -> None:
    """100k keys over 3 shards: the spread, the same shard after a restart and in another pod
    (shards listed in another order), hash tags kept together, and what a 4th shard moves."""
    keys = [f"user:{i}" for i in range(KEYS)]
    tagged = [f"{{cart:42}}:item{i}" for i in range(200)]
    with ExitStack() as stack:
        servers = [stack.enter_context(redis_server(tmp_path / f"shard{i}")) for i in range(4)]
        three = shards_of(servers[:3])
        pod_a = synthesize(shards=three, shard_hashing=hashing)
        pod_b = synthesize(shards=three[::-1], shard_hashing=hashing)
        grown = synthesize(shards=[*three, *shards_of(servers[3:])], shard_hashing=hashing)

        with ambassador(pod_a, tmp_path / "a"):
            started = time.monotonic()
            write_all(client(pod_a), keys + tagged)
            seconds = time.monotonic() - started
        counts = [s.client().dbsize() for s in servers[:3]]
        tag_homes = [s.client().exists(*tagged) for s in servers[:3]]
        even = (KEYS + len(tagged)) / 3
        spread = max(abs(n - even) / even for n in counts)
        with ambassador(pod_a, tmp_path / "a-restarted"):
            after_restart = misses(client(pod_a), keys)
        with ambassador(pod_b, tmp_path / "b"):
            other_pod = misses(client(pod_b), keys)
        with ambassador(grown, tmp_path / "grown"):
            moved = misses(client(grown), keys) / KEYS

    print(
        f"\n[{hashing}] {KEYS} keys in {seconds:.1f}s; per shard {counts} (max {spread:.1%} off even); "
        f"misses after restart {after_restart}, in another pod {other_pod}; "
        f"a 4th shard moved {moved:.1%} of the keys (1/4 = 25%)"
    )
    assert spread < 0.10
    assert sorted(tag_homes) == [0, 0, len(tagged)]  # every {cart:42} key on one shard
    assert after_restart == other_pod == 0
    assert 0.20 < moved < 0.30


def test_sharded_reads_go_to_the_keys_shard(tmp_path: Path) -> None:
    """A read is never answered by a server that does not hold the key: every GET through the
    ambassador runs on the shard the SET ran on, and each shard's GET count is its SET count."""
    keys = [f"k{i}" for i in range(3000)]
    with ExitStack() as stack:
        servers = [stack.enter_context(redis_server(tmp_path / f"shard{i}")) for i in range(3)]
        amb = synthesize(shards=shards_of(servers))
        with ambassador(amb, tmp_path / "pod"):
            c = client(amb)
            write_all(c, keys)
            assert read_all(c, keys) == keys
        sets = [s.calls("set") for s in servers]
        gets = [s.calls("get") for s in servers]
    assert sets == gets
    assert sum(gets) == len(keys)
    assert min(gets) > 0


def test_a_shard_down_fails_its_own_keys_and_moves_no_other(tmp_path: Path) -> None:
    """No health check on the shards: a dead shard stays on the table, so its keys fail and every
    other key stays where it is (a health check would have moved its keys onto the others)."""
    keys = [f"k{i}" for i in range(3000)]
    down = RestartableRedis(tmp_path / "shard-down").start()
    with ExitStack() as stack:
        stack.callback(down.stop)
        servers = [stack.enter_context(redis_server(tmp_path / f"shard{i}")) for i in range(2)]
        amb = synthesize(
            shards=shards_of([*servers, down.server]), connect_timeout=cdk8s.Duration.millis(250)
        )
        with ambassador(amb, tmp_path / "pod"):
            c = client(amb)
            write_all(c, keys)
            on_down = set(down.server.client().keys("*"))
            down.stop()
            time.sleep(3)  # several of Envoy's health-check intervals, were there any
            outcomes: collections.Counter[str] = collections.Counter()
            for key in keys:
                try:
                    value = c.get(key)
                    outcomes["ok" if value == key else f"wrong {value!r}"] += 1
                except redis.exceptions.RedisError as err:
                    outcomes[f"{type(err).__name__}: {err}" + (" (its shard)" if key in on_down else "")] += 1
    print(f"\none of 3 shards down: {len(on_down)} of {len(keys)} keys on it; reads: {dict(outcomes)}")
    assert outcomes["ok"] == len(keys) - len(on_down)
    assert outcomes["ResponseError: upstream failure (its shard)"] == len(on_down)


def test_sharded_development_mode_behaves_like_production(tmp_path: Path) -> None:
    outcomes = {}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(redis_server(tmp_path / f"shard{i}", password=PASSWORD)) for i in range(3)
        ]
        prod = synthesize(shards=shards_of(servers), auth=True)
        with ambassador(prod, tmp_path / "prod"):
            outcomes["production"] = app_session(prod)
    dev = synthesize(shards=shards_of(servers), auth=True, development=True)
    with ambassador(dev, tmp_path / "dev"):
        outcomes["development"] = app_session(dev)
    assert outcomes["development"] == outcomes["production"]
    assert outcomes["production"]["set/get"] == "v"


# --- Redis Cluster ------------------------------------------------------------------------


@pytest.fixture(name="cluster", scope="module")
def cluster_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as nodes:
        yield nodes


def cluster_ambassador(nodes: RedisClusterNodes, **kw: Any) -> Ambassador:
    # One seed is enough: the slot map names every node.
    return synthesize(cluster=RedisClusterTopology(seeds=[f"127.0.0.1:{nodes.ports[0]}"], **kw))


def commandstats(nodes: RedisClusterNodes, command: str) -> dict[str, int]:
    """Calls of ``command`` by role, summed over the nodes."""
    by_role: dict[str, int] = collections.Counter()
    roles = {s["port"]: s["role"] for s in nodes.shards()}
    for port in nodes.ports:
        stats = nodes.client(port).info("commandstats")
        by_role[roles[port]] += int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))
    return dict(by_role)


def test_cluster_a_plain_client_reads_and_writes_every_slot(
    tmp_path: Path, cluster: RedisClusterNodes
) -> None:
    """redis-py at its defaults (no cluster client): a key of each of the 16384 slots."""
    keys = key_per_slot()
    amb = cluster_ambassador(cluster)
    with ambassador(amb, tmp_path / "pod"):
        plain = redis.from_url(amb.url)  # the app's code at defaults
        before = commandstats(cluster, "get")
        for start in range(0, len(keys), 4096):
            pipe = plain.pipeline(transaction=False)
            for key in keys[start : start + 4096]:
                pipe.set(key, key)
            assert all(pipe.execute())
        values = []
        for start in range(0, len(keys), 4096):
            pipe = plain.pipeline(transaction=False)
            for key in keys[start : start + 4096]:
                pipe.get(key)
            values += pipe.execute()
        after = commandstats(cluster, "get")
        # Unpipelined too, one key per primary's slot range.
        assert [plain.get(keys[s]) for s in (0, 8000, 16383)] == [keys[s].encode() for s in (0, 8000, 16383)]
    assert [v.decode() for v in values] == keys
    served = {role: after.get(role, 0) - before.get(role, 0) for role in ("primary", "replica")}
    print(f"\nRedis Cluster: {len(keys)} slots written and read back; GETs served by {served}")
    assert served == {"primary": len(keys), "replica": 0}  # read_policy "master", the default


def test_cluster_prefer_replica_reads_replicas_from_the_first_refresh(
    tmp_path: Path, cluster: RedisClusterNodes
) -> None:
    """read_policy "prefer_replica": how long after Envoy is ready reads reach a replica (three
    fresh Envoys, slot-map refresh every 5s, Envoy's default)."""
    key = key_per_slot()[0]
    delays = []
    for run in range(3):
        amb = cluster_ambassador(cluster, read_policy="prefer_replica")
        with ambassador(amb, tmp_path / f"pod{run}"):
            ready = time.monotonic()
            c = client(amb)
            c.set(key, "v")
            before = commandstats(cluster, "get").get("replica", 0)
            while commandstats(cluster, "get").get("replica", 0) == before:
                assert c.get(key) == "v"
                assert time.monotonic() - ready < 10
                time.sleep(0.1)
            delays.append(time.monotonic() - ready)
    shown = ", ".join(f"{d:.1f}" for d in delays)
    print(f"\nprefer_replica: first read served by a replica {shown}s after Envoy was ready")
    assert max(delays) < 7


#: Share of reads a replica served, by read_policy (Envoy 1.40; see RedisClusterTopology).
READ_POLICY_SHARES = {
    "master": (0.0, 0.0),
    "prefer_master": (0.0, 0.0),
    "replica": (1.0, 1.0),
    "prefer_replica": (1.0, 1.0),  # from the first slot-map refresh on
    "any": (0.3, 0.7),
}


@pytest.mark.parametrize("policy", list(READ_POLICY_SHARES))
def test_cluster_read_policy(tmp_path: Path, cluster: RedisClusterNodes, policy: str) -> None:
    keys = key_per_slot()[::8]  # 2048 slots, on every primary
    amb = cluster_ambassador(cluster, read_policy=policy, refresh_rate=cdk8s.Duration.seconds(1))
    with ambassador(amb, tmp_path / "pod"):
        c = client(amb)
        write_all(c, keys)
        time.sleep(1.5)  # replication, and the first slot-map refresh
        before = commandstats(cluster, "get")
        assert read_all(c, keys) == keys
        after = commandstats(cluster, "get")
    on_replicas = (after.get("replica", 0) - before.get("replica", 0)) / len(keys)
    print(f"\nread_policy {policy}: {on_replicas:.0%} of {len(keys)} GETs served by replicas")
    low, high = READ_POLICY_SHARES[policy]
    assert low <= on_replicas <= high


def _traffic(
    amb: Ambassador, keys: Sequence[str], stop: threading.Event, events: list[tuple[float, str, float]]
) -> None:
    """SET then GET each key in turn until ``stop``: (start time, outcome, latency) per command."""
    c = client(amb)
    i = 0
    while not stop.is_set():
        key = keys[i % len(keys)]
        for command in ("set", "get"):
            started = time.monotonic()
            try:
                result = c.set(key, key) if command == "set" else c.get(key)
                outcome = "ok" if result in (True, key) else f"wrong value {result!r}"
            except redis.exceptions.RedisError as err:
                outcome = f"{type(err).__name__}: {err}"
            events.append((started, outcome, time.monotonic() - started))
        i += 1
        time.sleep(0.002)


def _summary(events: list[tuple[float, str, float]], since: float) -> tuple[float, dict[str, int], float]:
    """Seconds from ``since`` to the end of the last failed command, the errors, the slowest call."""
    failed = [(t, o, d) for t, o, d in events if o != "ok" and t >= since]
    errors = dict(collections.Counter(o for _, o, _ in failed))
    window = max((t + d - since for t, _, d in failed), default=0.0)
    slowest = max((d for t, _, d in events if t >= since), default=0.0)
    return window, errors, slowest


def test_cluster_failover_of_a_primary(tmp_path: Path, cluster: RedisClusterNodes) -> None:
    """CLUSTER FAILOVER on the replica of the primary of slot 0, while the app writes and reads
    keys of that primary's slots through the ambassador."""
    keys = key_per_slot()
    primary = cluster.owner(0)
    shards = cluster.shards()
    (primary_id,) = [s["id"] for s in shards if s["port"] == primary]
    (replica,) = [s["port"] for s in shards if s["of"] == primary_id]
    own = [keys[s] for s in next(s["slots"] for s in shards if s["port"] == primary)][:500]
    amb = cluster_ambassador(cluster)
    events: list[tuple[float, str, float]] = []
    stop = threading.Event()
    with ambassador(amb, tmp_path / "pod"):
        worker = threading.Thread(target=_traffic, args=(amb, own, stop, events))
        worker.start()
        time.sleep(1.0)
        started = time.monotonic()
        assert cluster.client(replica).execute_command("CLUSTER FAILOVER") in ("OK", True)
        deadline = time.monotonic() + 20
        while cluster.client(replica).execute_command("ROLE")[0] != "master":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        promoted = time.monotonic() - started
        time.sleep(3.0)
        stop.set()
        worker.join()
    window, errors, slowest = _summary(events, started)
    writes = sum(1 for t, _, _ in events if t >= started) // 2
    print(
        f"\nfailover: replica promoted after {promoted:.2f}s; commands failed until {window:.2f}s "
        f"after CLUSTER FAILOVER; errors {errors or 'none'}; slowest command {slowest * 1000:.0f} ms; "
        f"{writes} SET+GET pairs during and after"
    )
    assert window < 5.0
    assert cluster.owner(0) == replica


@pytest.mark.parametrize("policy", ["master", "prefer_replica"])
def test_cluster_resharding_under_traffic(tmp_path: Path, cluster: RedisClusterNodes, policy: str) -> None:
    """``redis-cli --cluster reshard`` moves 500 slots (one key each) from one primary to another
    while the app writes and reads keys of exactly those slots through the ambassador."""
    keys = key_per_slot()
    shards = [s for s in cluster.shards() if s["role"] == "primary"]
    source, target = shards[0], shards[1]
    moving = source["slots"][:500]
    amb = cluster_ambassador(cluster, read_policy=policy, refresh_rate=cdk8s.Duration.seconds(1))
    events: list[tuple[float, str, float]] = []
    stop = threading.Event()
    with ambassador(amb, tmp_path / "pod"):
        write_all(client(amb), [keys[s] for s in moving])
        time.sleep(1.5)  # the first slot-map refresh: prefer_replica reads replicas from here
        worker = threading.Thread(target=_traffic, args=(amb, [keys[s] for s in moving], stop, events))
        worker.start()
        time.sleep(0.5)
        started = time.monotonic()
        subprocess.run(
            [
                require("redis-cli", "redis-tools"),
                "--cluster",
                "reshard",
                f"127.0.0.1:{source['port']}",
                "--cluster-from",
                source["id"],
                "--cluster-to",
                target["id"],
                "--cluster-slots",
                "500",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        took = time.monotonic() - started
        cluster.wait_ok()
        time.sleep(1.0)
        stop.set()
        worker.join()
        assert read_all(client(amb), [keys[s] for s in moving]) == [keys[s] for s in moving]
    window, errors, slowest = _summary(events, started)
    commands = sum(1 for t, _, _ in events if t >= started)
    print(
        f"\nresharding ({policy}): 500 slots moved in {took:.2f}s; {commands} commands on those slots "
        f"meanwhile; errors {errors or 'none'} (failures until {window:.2f}s); "
        f"slowest command {slowest * 1000:.0f} ms"
    )
    assert all(cluster.owner(s) == target["port"] for s in moving[:5])
    if policy == "master":
        assert not errors  # ASK and MOVED followed by the proxy: nothing reaches the app
    else:
        # A replica serves reads of a slot being moved from its primary's data: a key already
        # migrated reads as nil. Writes never failed.
        assert set(errors) <= {"wrong value None"}


def test_cluster_down_when_the_proxy_starts(tmp_path: Path) -> None:
    """The proxy is ready while the cluster is unreachable (commands fail), and serves the
    cluster once it is up: at the next slot-map refresh."""
    nodes = cluster_nodes(tmp_path / "cluster")
    amb = synthesize(cluster=RedisClusterTopology(seeds=[f"127.0.0.1:{n.port}" for n in nodes[:3]]))
    with ambassador(amb, tmp_path / "pod"):  # returns once /ready answers 200
        c = client(amb)
        with pytest.raises(redis.exceptions.ResponseError, match="no upstream host"):
            c.get("k")
        with redis_cluster(tmp_path / "cluster", nodes):
            up = time.monotonic()
            while True:
                try:
                    assert c.set("k", "v")
                    break
                except redis.exceptions.ResponseError:
                    assert time.monotonic() - up < 15
                    time.sleep(0.1)
            served = time.monotonic() - up
            assert c.get("k") == "v"
    print(
        f"\ncluster down at start: proxy ready; first command served {served:.1f}s after the cluster was up"
    )


def test_cluster_development_mode_behaves_like_production(tmp_path: Path, cluster: RedisClusterNodes) -> None:
    """The app meets one redis-server in the pod behind the same proxy settings (redirection,
    read policy, hash tags) and the same AUTH to the proxy."""
    prod = synthesize(cluster=RedisClusterTopology(seeds=[f"127.0.0.1:{cluster.ports[0]}"]), client_auth=True)
    dev = synthesize(
        cluster=RedisClusterTopology(seeds=[f"127.0.0.1:{cluster.ports[0]}"]),
        client_auth=True,
        development=True,
    )
    outcomes = {}
    for name, amb in (("production", prod), ("development", dev)):
        with ambassador(amb, tmp_path / name):
            outcomes[name] = app_session(amb)
    assert outcomes["development"] == outcomes["production"]
    assert outcomes["production"]["set/get"] == "v"


def test_cluster_primary_crash(tmp_path: Path, cluster: RedisClusterNodes) -> None:
    """The primary of slot 0 is killed (no manual failover): the cluster promotes its replica
    after cluster-node-timeout (1s here), and the proxy learns the new slot map. The last test of
    the module: the cluster is left with that node down."""
    keys = key_per_slot()
    primary = cluster.owner(0)
    shards = cluster.shards()
    (primary_id,) = [s["id"] for s in shards if s["port"] == primary]
    (replica,) = [s["port"] for s in shards if s["of"] == primary_id]
    own = [keys[s] for s in next(s["slots"] for s in shards if s["port"] == primary)][:500]
    (node,) = [n for n in cluster.nodes if n.port == primary]
    amb = cluster_ambassador(cluster)
    events: list[tuple[float, str, float]] = []
    stop = threading.Event()
    with ambassador(amb, tmp_path / "pod"):
        worker = threading.Thread(target=_traffic, args=(amb, own, stop, events))
        worker.start()
        time.sleep(1.0)
        started = time.monotonic()
        node.stop()
        deadline = time.monotonic() + 30
        while cluster.client(replica).execute_command("ROLE")[0] != "master":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        promoted = time.monotonic() - started
        time.sleep(4.0)
        stop.set()
        worker.join()
    window, errors, slowest = _summary(events, started)
    print(
        f"\ncrash: replica promoted after {promoted:.2f}s; commands failed until {window:.2f}s after "
        f"the kill; errors {errors or 'none'}; slowest command {slowest * 1000:.0f} ms"
    )
    assert window < promoted + 6.0  # the promotion, then one slot-map refresh at most
    assert all(o == "ok" for t, o, _ in events if t > started + window)
