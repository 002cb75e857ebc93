"""What a MetricsAdapter converts: typed sources, each resolved to an exporter container.

A source is a value (``MetricsSource.statsd(...)``, ``.nginx(...)``...) that knows its
exporter: image, uid, args, the config file it renders, and the env the main container
needs. The adapter construct turns that plan into pod edits through the seam. This module
holds MetricsSource, ExporterPlan and one planning function per source kind (``_PLANNERS``);
the exporters' own rule types, checks and config files are in ``_statsd_rules.py`` (with
``_statsd_captures.py``), ``_json_metrics.py`` and ``_jmx_rules.py``.

Exporter facts (flags, ports, users) come from each project's README / main.go:
prometheus/statsd_exporter, nginx/nginx-prometheus-exporter, oliver006/redis_exporter,
prometheus-community/json_exporter, prometheus/jmx_exporter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cdk8s_plus_27 as kplus

from . import _checks
from ._containers import EnvSource, env_value
from ._errors import PropsError
from ._jmx_rules import JmxRule, render_jmx_rules
from ._json_metrics import JsonMetric, render_json_config
from ._statsd_rules import StatsdMapping, render_statsd_mapping

# Pinned exporter images (override with image=).
STATSD_IMAGE = "prom/statsd-exporter:v0.28.0"
NGINX_EXPORTER_IMAGE = "nginx/nginx-prometheus-exporter:1.4.2"
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.67.0"
JSON_EXPORTER_IMAGE = "quay.io/prometheuscommunity/json-exporter:v0.7.0"


@dataclass(frozen=True)
class ExporterPlan:
    """A source resolved against the adapter's port: everything the adapter adds to the pod."""

    image: str
    uid: int
    args: list[str]
    command: list[str] | None = None
    config_file: str | None = None  # file name inside the adapter's config directory
    config_text: str | None = None
    env: dict[str, EnvSource] = field(default_factory=dict)
    app_env: dict[str, EnvSource] = field(default_factory=dict)
    path: str = "/metrics"
    #: URL parameters Prometheus must send (json_exporter's module and target).
    params: dict[str, str] = field(default_factory=dict)
    #: Ports the exporter binds on 127.0.0.1 only: reserved in the pod, never declared.
    loopback_ports: list[tuple[int, kplus.Protocol]] = field(default_factory=list)
    #: Secret keys mounted as files in the adapter's secret directory: (value, file name).
    secret_files: list[tuple[kplus.SecretValue, str]] = field(default_factory=list)
    #: Default requests/limits: (cpu request m, cpu limit m, memory request Mi, limit Mi).
    resources: tuple[int, int, int, int] = (10, 200, 32, 64)


class MetricsSource:
    """What the main container exports. Build one with a factory classmethod:
    :meth:`statsd`, :meth:`nginx`, :meth:`redis`, :meth:`json`, :meth:`jmx` or :meth:`custom`.

    Attributes:
        kind: ``"statsd"``, ``"nginx"``...
        default_port: the exporter's conventional HTTP port.
    """

    def __init__(self, _kind: str, _default_port: int, _options: dict[str, Any], /) -> None:
        """Internal: the factories call this; their options are checked when an adapter uses the source."""
        kind, default_port, options = _kind, _default_port, _options
        self.kind = kind
        self.default_port = default_port
        self._options = options

    def __repr__(self) -> str:
        return f"MetricsSource.{self.kind}(...)"

    # --- factories -----------------------------------------------------------------

    @classmethod
    def statsd(
        cls,
        *,
        mappings: Sequence[StatsdMapping] = (),
        statsd_port: int = 9125,
        host_env: str | None = "STATSD_HOST",
        port_env: str | None = "STATSD_PORT",
        image: str = STATSD_IMAGE,
    ) -> MetricsSource:
        """The app sends StatsD (UDP and TCP) to ``127.0.0.1:statsd_port``; statsd_exporter maps it.

        The main container gets ``STATSD_HOST``/``STATSD_PORT`` (names configurable, None omits).
        The StatsD port is bound on 127.0.0.1 only, so it is reserved in the pod (no other
        container may use it) but not declared as a container port: nothing outside the pod
        can reach it. Exporter web port default 9102 (statsd_exporter's).
        """
        return cls(
            "statsd",
            9102,
            dict(
                mappings=mappings,
                statsd_port=statsd_port,
                host_env=host_env,
                port_env=port_env,
                image=image,
            ),
        )

    @classmethod
    def nginx(
        cls, *, scrape_uri: str = "http://127.0.0.1:8080/stub_status", image: str = NGINX_EXPORTER_IMAGE
    ) -> MetricsSource:
        """nginx ``stub_status`` (enable it on localhost in the server config). Default port 9113."""
        return cls("nginx", 9113, dict(scrape_uri=scrape_uri, image=image))

    @classmethod
    def redis(
        cls,
        *,
        address: str = "redis://127.0.0.1:6379",
        password_map: kplus.SecretValue | None = None,
        image: str = REDIS_EXPORTER_IMAGE,
    ) -> MetricsSource:
        """Redis ``INFO`` via redis_exporter. Default port 9121.

        ``password_map`` is a Secret key holding redis_exporter's password file: a JSON map
        from address to password, e.g. ``{"redis://127.0.0.1:6379": "..."}``. The exporter
        uses a password only for the addresses in that map, so its ``/scrape?target=``
        endpoint cannot hand the password to another host (a global REDIS_PASSWORD would:
        oliver006/redis_exporter#1104). A plain password is therefore not accepted.
        """
        return cls("redis", 9121, dict(address=address, password_map=password_map, image=image))

    @classmethod
    def json(
        cls,
        *,
        url: str,
        metrics: Sequence[JsonMetric],
        module: str = "default",
        image: str = JSON_EXPORTER_IMAGE,
    ) -> MetricsSource:
        """An app-specific JSON stats endpoint, via json_exporter. Default port 7979.

        json_exporter is a multi-target exporter: it serves ``/probe?module=..&target=..``,
        not ``/metrics``; the adapter's discovery carries those parameters.
        """
        return cls("json", 7979, dict(url=url, metrics=metrics, module=module, image=image))

    @classmethod
    def jmx(
        cls,
        *,
        image: str,
        jmx_port: int,
        rules: Sequence[JmxRule | Mapping[str, Any]] = (),
        lowercase_output_name: bool = True,
        options_env: str | None = "JAVA_TOOL_OPTIONS",
        command: Sequence[str] | None = None,
        uid: int = 10001,
    ) -> MetricsSource:
        """A JVM's remote JMX on 127.0.0.1:``jmx_port``, via jmx_exporter's standalone HTTP server.

        Default port 9404. ``rules`` are ``JmxRule`` values, or dicts with jmx_exporter's own
        keys (``pattern``, ``name``, ``valueFactor``...) checked the same way: an unknown key is
        an error that names the key it resembles. No rules exports every attribute under the
        exporter's default names.

        The app's JVM must open remote JMX: the main container gets ``options_env`` (default
        ``JAVA_TOOL_OPTIONS``, which every HotSpot JVM reads) set to
        ``MetricsSource.jmx_java_options(jmx_port)``. An app that already sets that variable is
        a ``CollisionError``: pass another name its start script reads (``JDK_JAVA_OPTIONS``,
        Tomcat's ``CATALINA_OPTS``), or ``None`` and add the flags yourself. JMX listens on
        127.0.0.1 without authentication or TLS: only containers of the same pod, which share
        its network namespace, can connect, and the port is reserved in the pod.

        ``image``: jmx_exporter publishes its standalone server as a jar only (GitHub releases,
        Maven Central; docs/content/1.5.0/standalone/_index.md), with no container image, so
        pin one you trust whose entrypoint runs ``java -jar jmx_prometheus_standalone.jar``
        (Bitnami's ``bitnamilegacy/jmx-exporter:1.1.0`` does; Bitnami no longer updates it) or
        set ``command``. The adapter passes ``<port> <config.yaml>`` as args. The exporter is a
        JVM: it gets 128Mi/256Mi memory by default and a heap of half its limit.
        """
        return cls(
            "jmx",
            9404,
            dict(
                jmx_port=jmx_port,
                rules=rules,
                image=image,
                command=command,
                uid=uid,
                lowercase_output_name=lowercase_output_name,
                options_env=options_env,
            ),
        )

    @staticmethod
    def jmx_java_options(jmx_port: int) -> str:
        """The JVM flags that open remote JMX on 127.0.0.1:``jmx_port`` for jmx_exporter.

        Property names and defaults from the JDK's ConnectorBootstrap
        (src/jdk.management.agent/share/classes/sun/management/jmxremote/ConnectorBootstrap.java):
        ``port`` starts the connector; ``rmi.port`` pins the RMI server to the same port (it is
        random otherwise); ``host`` binds both to loopback; ``java.rmi.server.hostname`` makes
        the RMI stub name 127.0.0.1 rather than the pod IP; ``authenticate`` and ``ssl`` default
        to true and are turned off (``local.only`` keeps its default, true: the exporter
        connects from 127.0.0.1).
        """
        return " ".join(
            [
                f"-Dcom.sun.management.jmxremote.port={jmx_port}",
                f"-Dcom.sun.management.jmxremote.rmi.port={jmx_port}",
                "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Dcom.sun.management.jmxremote.ssl=false",
            ]
        )

    @classmethod
    def custom(
        cls,
        *,
        image: str,
        port: int,
        args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        path: str = "/metrics",
        uid: int = 65534,
    ) -> MetricsSource:
        """Any exporter image that serves Prometheus text on ``port`` at ``path``."""
        return cls("custom", port, dict(image=image, args=args, command=command, path=path, uid=uid))

    # --- resolution ------------------------------------------------------------------

    def _plan(self, where: str, port: int, config_dir: str, secret_dir: str) -> ExporterPlan:
        """Check the options and resolve them for an exporter listening on ``port``.

        The image is checked first, for every kind; the kind's planning function in
        ``_PLANNERS`` (``_plan_statsd``, ``_plan_nginx``...) checks and resolves the rest.
        """
        image = _checks.pinned_image(where, "source.image", self._options["image"])
        ctx = _PlanContext(where=where, port=port, config_dir=config_dir, secret_dir=secret_dir, image=image)
        return _PLANNERS.get(self.kind, _plan_custom)(ctx, self._options)


@dataclass(frozen=True)
class _PlanContext:
    """What a planning function resolves a source's options against."""

    where: str
    port: int  # the exporter's metrics port
    config_dir: str
    secret_dir: str
    image: str  # the source's image, already checked

    @property
    def listen(self) -> str:
        """The exporter's ``--web.listen-address`` flag for the metrics port."""
        return f"--web.listen-address=:{self.port}"


# --- planning: one function per source kind ----------------------------------------------
# Each checks its source's options in a fixed order (the first bad option is the error
# reported) and returns what the adapter adds to the pod.


def _plan_statsd(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    statsd_port = _side_port(ctx, "source.statsd_port", o["statsd_port"])
    text = render_statsd_mapping(ctx.where, o["mappings"])
    app_env = _statsd_app_env(ctx.where, o["host_env"], o["port_env"], statsd_port)
    return ExporterPlan(
        # Dockerfile: USER nobody (65534) since v0.22.4.
        image=ctx.image,
        uid=65534,
        config_file="mapping.yaml",
        config_text=text,
        app_env=app_env,
        loopback_ports=[(statsd_port, kplus.Protocol.UDP), (statsd_port, kplus.Protocol.TCP)],
        args=[
            ctx.listen,
            "--web.telemetry-path=/metrics",
            # StatsD stays inside the pod: only the app on localhost sends to it.
            f"--statsd.listen-udp=127.0.0.1:{statsd_port}",
            f"--statsd.listen-tcp=127.0.0.1:{statsd_port}",
            f"--statsd.mapping-config={ctx.config_dir}/mapping.yaml",
        ],
    )


def _side_port(ctx: _PlanContext, prop: str, value: Any) -> int:
    """The port the app talks to the exporter on (StatsD) or the exporter to the app (JMX)."""
    side_port = _checks.port_number(ctx.where, prop, value)
    if side_port == ctx.port:
        raise PropsError(ctx.where, prop, side_port, "same as the metrics port", "choose another port")
    return side_port


def _statsd_app_env(where: str, host_env: Any, port_env: Any, statsd_port: int) -> dict[str, EnvSource]:
    """``STATSD_HOST``/``STATSD_PORT`` for the main container (names configurable, None omits)."""
    names = _checks.env_names(where, {"source.host_env": host_env, "source.port_env": port_env})
    values = {"source.host_env": "127.0.0.1", "source.port_env": str(statsd_port)}
    return {name: env_value(values[prop]) for prop, name in names.items() if name is not None}


def _plan_nginx(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    uri = _local_url(ctx.where, "source.scrape_uri", o["scrape_uri"])
    # build/Dockerfile: FROM scratch (a static binary, any uid works; its USER is 1001).
    return ExporterPlan(
        image=ctx.image,
        uid=65534,
        args=[f"--nginx.scrape-uri={uri}", ctx.listen, "--web.telemetry-path=/metrics"],
    )


def _plan_redis(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    address = _redis_address(ctx.where, o["address"])
    args = [f"--redis.addr={address}", ctx.listen, "--web.telemetry-path=/metrics"]
    password_map = _checks.secret_value(ctx.where, "source.password_map", o["password_map"])
    secrets = []
    if password_map is not None:
        args.append(f"--redis.password-file={ctx.secret_dir}/passwords.json")
        secrets.append((password_map, "passwords.json"))
    # docker/Dockerfile: USER 59000:59000.
    return ExporterPlan(image=ctx.image, uid=59000, args=args, secret_files=secrets)


def _redis_address(where: str, address: Any) -> str:
    m = re.fullmatch(r"rediss?://[^\s\x00-\x1f\x7f:@/]{1,253}(:(?P<port>[0-9]{1,5}))?", str(address))
    if not isinstance(address, str) or m is None or not 1 <= int(m["port"] or 6379) <= 65535:
        raise PropsError(
            where,
            "source.address",
            address,
            "not a redis:// address without credentials",
            "use e.g. 'redis://127.0.0.1:6379' and pass password_map= as a SecretValue",
        )
    return address


def _plan_json(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    url = _local_url(ctx.where, "source.url", o["url"])
    module = _json_module(ctx.where, o["module"])
    text = render_json_config(ctx.where, module, o["metrics"])
    return ExporterPlan(
        image=ctx.image,
        uid=65534,  # Dockerfile: USER nobody
        config_file="config.yml",
        config_text=text,
        args=[f"--config.file={ctx.config_dir}/config.yml", ctx.listen],
        path="/probe",
        params={"module": module, "target": url},
    )


def _json_module(where: str, module: Any) -> str:
    if not isinstance(module, str) or not re.fullmatch(r"[a-z0-9_]{1,63}", module):
        raise PropsError(where, "source.module", module, "not a module name", "use e.g. 'default'")
    return module


def _plan_jmx(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    jmx_port = _side_port(ctx, "source.jmx_port", o["jmx_port"])
    config = _jmx_config(ctx.where, jmx_port, o["rules"], o["lowercase_output_name"])
    app_env = _jmx_app_env(ctx.where, o["options_env"], jmx_port)
    return ExporterPlan(
        image=ctx.image,
        uid=_positive_uid(ctx.where, o["uid"]),
        config_file="config.yaml",
        config_text=_checks.render_yaml(config),
        command=_command(ctx.where, o["command"]),
        args=[str(ctx.port), f"{ctx.config_dir}/config.yaml"],
        app_env=app_env,
        # The app's JVM binds it on 127.0.0.1: no other container may take it.
        loopback_ports=[(jmx_port, kplus.Protocol.TCP)],
        # The standalone exporter is a JVM (the image's entrypoint is `java -jar`, so the
        # JVM itself must read the flag): a heap of half the container's memory limit
        # leaves the rest to metaspace, code cache and thread stacks. No hsperfdata file: the
        # root filesystem is read-only under restricted_pod_security.
        env={"JAVA_TOOL_OPTIONS": env_value("-XX:MaxRAMPercentage=50.0 -XX:-UsePerfData")},
        resources=(50, 500, 128, 256),
    )


def _jmx_config(where: str, jmx_port: int, rules: Any, lowercase_output_name: Any) -> dict[str, Any]:
    """jmx_exporter's config.yaml: the app's JMX address, name case, and the rules."""
    rendered = render_jmx_rules(where, rules)
    return {
        "hostPort": f"127.0.0.1:{jmx_port}",
        "lowercaseOutputName": _checks.boolean(where, "source.lowercase_output_name", lowercase_output_name),
        "rules": rendered or [{"pattern": ".*"}],
    }


def _jmx_app_env(where: str, options_env: Any, jmx_port: int) -> dict[str, EnvSource]:
    """``options_env`` (default ``JAVA_TOOL_OPTIONS``) for the main container, opening remote JMX."""
    (name,) = _checks.env_names(where, {"source.options_env": options_env}).values()
    app_env = {}
    if name is not None:
        app_env[name] = env_value(MetricsSource.jmx_java_options(jmx_port))
    return app_env


def _plan_custom(ctx: _PlanContext, o: Mapping[str, Any]) -> ExporterPlan:
    path = _custom_path(ctx.where, o["path"])
    return ExporterPlan(
        image=ctx.image,
        uid=_positive_uid(ctx.where, o["uid"]),
        args=_checked_args(ctx.where, o["args"]),
        command=_command(ctx.where, o["command"]),
        path=path,
    )


def _custom_path(where: str, path: Any) -> str:
    if not isinstance(path, str) or not re.fullmatch(r"/[^?#\s\x00-\x1f\x7f]*", path):
        raise PropsError(
            where, "source.path", path, "not an absolute URL path without a query", "use e.g. '/metrics'"
        )
    return path


#: Source kind -> its planning function. Any other kind is planned as ``custom``.
_PLANNERS: dict[str, Callable[[_PlanContext, Mapping[str, Any]], ExporterPlan]] = {
    "statsd": _plan_statsd,
    "nginx": _plan_nginx,
    "redis": _plan_redis,
    "json": _plan_json,
    "jmx": _plan_jmx,
    "custom": _plan_custom,
}


def _command(where: str, command: Any) -> list[str] | None:
    return None if command is None else _checked_args(where, command, prop="source.command")


def _checked_args(where: str, args: Any, prop: str = "source.args") -> list[str]:
    # Each arg is checked for credentials (redis://:password@, https://token@, --x.password=...):
    # the manifest would carry them.
    return _checks.string_list(where, prop, args)


def _positive_uid(where: str, uid: Any) -> int:
    return _checks.int_range(
        where, "source.uid", uid, 1, _checks.MAX_ID, "the adapter must not run as root: use a non-root uid"
    )


def _local_url(where: str, prop: str, url: str) -> str:
    m = (
        re.fullmatch(r"https?://(127\.0\.0\.1|localhost)(:(?P<port>[0-9]{1,5}))?(/[^\s\x00-\x1f\x7f]*)?", url)
        if isinstance(url, str)
        else None
    )
    if m is None or not 1 <= int(m["port"] or 80) <= 65535:
        raise PropsError(
            where,
            prop,
            url,
            "not a URL of the main container on localhost",
            "use e.g. 'http://127.0.0.1:8080/stub_status' (the adapter shares the pod's network)",
        )
    return _checks.no_credentials(where, prop, url)
