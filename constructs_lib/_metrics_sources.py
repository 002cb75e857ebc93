"""What a MetricsAdapter converts: typed sources, each resolved to an exporter container.

A source is a value (``MetricsSource.statsd(...)``, ``.nginx(...)``...) that knows its
exporter: image, uid, args, the config file it renders, and the env the main container
needs. The adapter construct turns that plan into pod edits through the seam.

Exporter facts (flags, ports, users) come from each project's README / main.go:
prometheus/statsd_exporter, nginx/nginx-prometheus-exporter, oliver006/redis_exporter,
prometheus-community/json_exporter, prometheus/jmx_exporter.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import cdk8s
import cdk8s_plus_27 as kplus

from . import _checks
from ._containers import EnvSource, env_value
from ._errors import PropsError

# Pinned exporter images (override with image=).
STATSD_IMAGE = "prom/statsd-exporter:v0.28.0"
NGINX_EXPORTER_IMAGE = "nginx/nginx-prometheus-exporter:1.4.2"
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.67.0"
JSON_EXPORTER_IMAGE = "quay.io/prometheuscommunity/json-exporter:v0.7.0"

_E = TypeVar("_E", bound=enum.Enum)

# statsd_exporter's validation (pkg/mapper/mapping.go, mapper.go), applied here so a bad
# mapping fails at construction time instead of at the exporter's start.
_METRIC_NAME = re.compile(r"([a-zA-Z_]|(\$\{?[0-9]+\}?))([a-zA-Z0-9_]|(\$\{?[0-9]+\}?))*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]+")
_GLOB = re.compile(r"(\*|[a-zA-Z_](-?[a-zA-Z0-9_])*)(\.\*|\.[a-zA-Z0-9_](-?[a-zA-Z0-9_])*)*")
# ms -> s: the factor statsd_exporter already applies to |ms timers (pkg/line/line.go).
_MS_TO_S = 0.001


class StatsdMatchType(enum.Enum):
    GLOB = "glob"
    REGEX = "regex"


class StatsdObserver(enum.Enum):
    """How statsd timers and histograms become Prometheus metrics."""

    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class StatsdMetricType(enum.Enum):
    """``match_metric_type``: restrict a mapping to one statsd type."""

    COUNTER = "counter"
    GAUGE = "gauge"
    OBSERVER = "observer"


@dataclass(frozen=True)
class StatsdMapping:
    """One statsd_exporter mapping rule.

    Attributes:
        match: glob (``django.view.*.duration``) or regex matched against the statsd name.
            A regex is Go's (RE2 syntax, checked with RE2) and unanchored: it matches anywhere
            in the name unless it has ``^...$``.
        name: Prometheus metric name; ``$1``... refer to the glob's ``*``s or the regex's
            groups. A reference takes every letter, digit and ``_`` after the ``$``: write
            ``${1}_total``, not ``$1_total``. Default ``"dropped"`` for drop rules; required
            otherwise.
        labels: label name -> value (may use ``$1``..., and ``${name}`` for a regex's
            ``(?P<name>...)`` group).
        match_type: glob (default) or regex.
        drop: drop matching metrics instead of mapping them. Default False.
        match_metric_type: only match counters, gauges or observers. Default any.
        observer_type: histogram or summary for timers. Default the exporter's (summary).
        buckets: histogram buckets (ascending); needs ``observer_type=HISTOGRAM``.
        ttl: forget a series not updated for this long. Default never.
        scale: multiply each value by this factor, after statsd_exporter's own conversion.
            statsd_exporter already turns ``|ms`` timers into seconds (it divides them by
            1000 while parsing), so timers need no scale; ``scale`` is for values it does not
            convert: gauges and counters in other units, or ``|h``/``|d`` values. ``0.001`` on
            a mapping that can match timers is refused, because it would convert them twice
            (123 ms would be exported as 0.000123 s). Default none.
        help: metric help text. Default the exporter's.
    """

    match: str
    name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    match_type: StatsdMatchType = StatsdMatchType.GLOB
    drop: bool = False
    match_metric_type: StatsdMetricType | None = None
    observer_type: StatsdObserver | None = None
    buckets: Sequence[float] | None = None
    ttl: cdk8s.Duration | None = None
    scale: float | None = None
    help: str | None = None


@dataclass(frozen=True)
class JsonMetric:
    """One json_exporter metric: a JSONPath into the app's stats document.

    Attributes:
        name: Prometheus metric name.
        path: kubectl-style JSONPath, e.g. ``{.requests.total}``.
        type: ``value`` (one number) or ``object`` (labels + values per element).
        help: help text.
        labels: label name -> JSONPath (``object`` type).
        values: value suffix -> JSONPath (``object`` type).
        value_type: ``gauge`` (default), ``counter`` or ``untyped``.
    """

    name: str
    path: str
    type: str = "value"
    help: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    value_type: str = "gauge"


class JmxMetricType(enum.Enum):
    """A jmx_exporter rule's ``type`` (rules.md: GAUGE, COUNTER or UNTYPED; default UNTYPED)."""

    GAUGE = "GAUGE"
    COUNTER = "COUNTER"
    UNTYPED = "UNTYPED"


@dataclass(frozen=True)
class JmxRule:
    """One jmx_exporter rule (prometheus/jmx_exporter docs/content/1.1.0/http-mode/rules.md).

    Rules apply in order; the first whose pattern matches an MBean attribute wins, and
    attributes no rule matches are not exported.

    Attributes:
        pattern: Java regex matched (unanchored) against
            ``domain<prop=value, ...><key, ...>attrName: value``. Default: everything.
        name: metric name; ``$1``/``${name}`` refer to the pattern's groups (``${name}`` to a
            ``(?<name>...)`` group). Default the exporter's own format. ``labels``, ``help`` and
            ``type`` need a ``name``.
        value: static value or group reference instead of the attribute's value.
        value_factor: multiply the value, e.g. 0.001 for milliseconds to seconds.
        labels: label name -> value (group references allowed in both).
        help: help text. Default the attribute's description.
        type: GAUGE, COUNTER or UNTYPED (the exporter's default).
        attr_name_snake_case: ``anAttrName`` becomes ``an_attr_name``. Default False.
        cache: cache the match result per bean name (wrong for rules that match on the value).
            Default False.
    """

    pattern: str | None = None
    name: str | None = None
    value: str | None = None
    value_factor: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    help: str | None = None
    type: JmxMetricType | None = None
    attr_name_snake_case: bool = False
    cache: bool = False


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


def render_statsd_mapping(where: str, mappings: Sequence[StatsdMapping]) -> str:
    """The statsd_exporter mapping file, checked against the exporter's own rules."""
    mappings = _checks.sequence_of(where, "mappings", mappings, StatsdMapping)
    rendered = [_statsd_rule(where, i, m) for i, m in enumerate(mappings)]
    _check_statsd_conflicts(where, mappings, rendered)
    return _checks.render_yaml({"mappings": rendered}, sort_keys=False)


def _statsd_rule(where: str, i: int, m: StatsdMapping) -> dict[str, Any]:
    """One mapping: its options checked in this order, rendered in this key order."""
    prop = f"mappings[{i}]"
    match_type = _checks.enum_member(where, f"{prop}.match_type", StatsdMatchType, m.match_type)
    observer = _optional_member(where, f"{prop}.observer_type", StatsdObserver, m.observer_type)
    metric_type = _optional_member(where, f"{prop}.match_metric_type", StatsdMetricType, m.match_metric_type)
    drop = _checks.boolean(where, f"{prop}.drop", m.drop)
    captures = _check_statsd_match(where, prop, m.match, match_type)
    rule: dict[str, Any] = {"match": m.match, "name": _statsd_name(where, prop, m.name, drop, captures)}
    if match_type is StatsdMatchType.REGEX:
        rule["match_type"] = "regex"
    if drop:
        rule["action"] = "drop"
    labels = _statsd_labels(where, prop, m.labels, captures)
    if labels:
        rule["labels"] = labels
    if metric_type is not None:
        rule["match_metric_type"] = metric_type.value
    if observer is not None:
        rule["observer_type"] = observer.value
    if m.buckets is not None:
        rule["histogram_options"] = {"buckets": _statsd_buckets(where, prop, m.buckets, observer)}
    if m.ttl is not None:
        ms = _checks.duration_at_least(where, f"{prop}.ttl", m.ttl, 1000, "use at least 1s")
        rule["ttl"] = _checks.go_duration(ms)
    if m.scale is not None:
        rule["scale"] = _statsd_scale(where, prop, m.scale, metric_type)
    if m.help is not None:
        rule["help"] = _checks.text(where, f"{prop}.help", m.help, fix="use one line of text")
    return rule


def _optional_member(where: str, prop: str, cls: type[_E], value: _E | str | None) -> _E | None:
    """An enum option whose None means the exporter's default."""
    return None if value is None else _checks.enum_member(where, prop, cls, value)


@dataclass(frozen=True)
class _StatsdCaptures:
    """What a mapping's name and label values may refer to: its glob's ``*``s, or its
    regex's groups (numbered, and named ones by name)."""

    regex: bool
    count: int  # '*'s of the glob, or capturing groups of the regex
    names: frozenset[str] = frozenset()


def _check_statsd_match(where: str, prop: str, match: Any, match_type: StatsdMatchType) -> _StatsdCaptures:
    """``match``: one line; a statsd_exporter glob, or a regex Go's regexp accepts. Returns
    what the name and labels may refer to."""
    _checks.text(where, f"{prop}.match", match, fix="use e.g. 'app.*.requests'")
    if match_type is StatsdMatchType.REGEX:
        return _go_regexp(where, f"{prop}.match", match)
    if not _GLOB.fullmatch(match):
        raise PropsError(
            where,
            f"{prop}.match",
            match,
            "not a statsd_exporter glob (dot-separated names and *)",
            "use e.g. 'django.view.*.duration', or match_type=StatsdMatchType.REGEX",
        )
    # Each '*' is one capture (pkg/mapper/fsm: AddState returns the number of '*' fields).
    return _StatsdCaptures(regex=False, count=match.count("*"))


# --- StatsD regexes: Go's regexp, checked with RE2 ----------------------------------------
# statsd_exporter compiles a regex mapping's match with Go's regexp, as is: per upstream
# pkg/mapper/mapper.go, `regexp.Compile(currentMapping.Match)` with no anchors added, matched
# with FindStringSubmatchIndex (so unanchored: the regex may match anywhere in the statsd name
# unless it has ^...$), and the name and every label value filled in with
# Regexp.ExpandString. (A glob is turned into an FSM instead; its name and labels are filled
# in by pkg/mapper/fsm/formatter.go.) The library does not anchor or rewrite the regex either:
# it renders it unchanged.
#
# The library checks the regex with RE2 (the google-re2 binding): Go's regexp/syntax is a port
# of RE2's parser and takes the same syntax (Perl-like: no look-arounds, back-references,
# atomic groups, possessive quantifiers, comments or \Z; \z, \pL, \Q...\E and (?P<name>...)
# work). Where RE2 in C++ and Go's regexp/syntax differ, the Go side is applied on top:
#   - \C (any byte): RE2 accepts it; Go refuses it ("invalid escape sequence").
#   - group names: RE2 accepts Unicode letters; Go only ASCII letters, digits and '_'
#     (regexp/syntax isValidCaptureName). Duplicate names: both accept them.
#   - (?<name>...): Go reads it only since Go 1.22 (RE2 since 2023). The library cannot tell
#     which Go an image (the pinned one, or image=) was built with, so it refuses it and
#     asks for (?P<name>...), which every Go version reads.
#   - repeat counts: both refuse {n} above 1000, and nested repeats whose product exceeds
#     1000 ((a{2}){501}): Go's repeatIsValid, RE2's RepetitionWalker. Nothing to add.
#   - size: Go refuses a program of more than ~3.3M instructions (ErrLarge); RE2 with its
#     default 8 MiB budget ("pattern too large") stops far below that, so it refuses all Go
#     refuses, and also a few huge regexes Go would take (\pL{500}: RE2 compiles UTF-8 bytes).
#   - nesting: Go refuses parse trees deeper than 1000 (ErrNestingDepth); RE2 has no such
#     limit. The library counts parentheses and refuses more than _MAX_GROUP_DEPTH levels, a
#     depth whose parse tree always stays under Go's limit (at most 4 tree levels a group).
#   - Unicode: \p{...} names come from each side's tables; Go 1.21+ and RE2 since 2023 both
#     have Unicode 15.0's categories and scripts (\p{Kawi} yes, Unicode 16's \p{Garay} no).
# Sources: the Go side from Go's src/regexp/syntax/parse.go (no Go toolchain here runs it); the
# RE2 side is what google-re2 does, pinned by tests/test_regex_rules.py.
_MAX_GROUP_DEPTH = 200
_GO_CAPTURE_NAME = re.compile(r"[A-Za-z0-9_]+")
_RE2_FIX = (
    "statsd_exporter compiles it with Go's regexp: write RE2 syntax "
    "(https://github.com/google/re2/wiki/Syntax), without look-arounds, back-references, atomic "
    "groups or possessive quantifiers; \\z ends the name"
)


@functools.cache
def _re2() -> Any:
    """google-re2, imported on first use: only regex mappings need it."""
    import re2  # type: ignore[import-untyped]

    return re2


def _go_regexp(where: str, prop: str, regex: str) -> _StatsdCaptures:
    """A statsd mapping's regex, as Go's regexp.Compile would take it (see above); its groups."""

    def refuse(problem: str, fix: str = _RE2_FIX) -> PropsError:
        return PropsError(where, prop, regex, f"not a Go regular expression (RE2): {problem}", fix)

    re2 = _re2()
    options = re2.Options()
    options.log_errors = False  # RE2 would log every pattern it refuses to stderr
    try:
        compiled = re2.compile(regex, options)
    except UnicodeEncodeError:
        raise refuse("not valid UTF-8 (a lone surrogate)", "remove the surrogate character") from None
    except re2.error as err:  # the reason as RE2 states it, in bytes
        reason = err.args[0] if err.args else b""
        raise refuse(reason.decode() if isinstance(reason, bytes) else str(reason)) from None
    go_only = _go_only_problem(regex)
    if go_only is not None:
        raise refuse(*go_only)
    names = frozenset(str(n) for n in compiled.groupindex)
    for name in sorted(names):
        if not _GO_CAPTURE_NAME.fullmatch(name):
            raise refuse(
                f"invalid named capture: (?P<{name}> (Go's group names are ASCII letters, digits and '_')",
                "rename the group with ASCII letters, digits and '_'",
            )
    return _StatsdCaptures(regex=True, count=int(compiled.groups), names=names)


def _go_only_problem(regex: str) -> tuple[str, str] | None:
    """What Go's regexp refuses in a regex RE2 accepted: \\C, (?<name>, or groups nested too
    deep. Walks the regex outside character classes and \\Q...\\E quotes (RE2 already checked
    that they are well formed); (problem, fix) or None."""
    i, depth, in_class = 0, 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            escaped = regex[i + 1 : i + 2]
            if escaped == "Q" and not in_class:
                end = regex.find("\\E", i + 2)
                i = len(regex) if end < 0 else end + 2
                continue
            if escaped == "C":
                return (
                    "invalid escape sequence: \\C (Go has no \\C; RE2 in C++ reads it as any byte)",
                    "use . for any character",
                )
            i += 2
        elif in_class:
            if regex.startswith("[:", i) and regex.find(":]", i + 2) >= 0:
                i = regex.find(":]", i + 2) + 2  # [:alpha:]; RE2 refused any other [:...:]
                continue
            in_class = c != "]"
            i += 1
        elif c == "[":
            i += 1
            i += regex.startswith("^", i)
            i += regex.startswith("]", i)  # a ']' first in the class is literal
            in_class = True
        else:
            if c == "(" and regex.startswith("(?<", i):
                return (
                    "(?<name>...) is a named group only since Go 1.22, older statsd_exporter builds "
                    "refuse it",
                    "write (?P<name>...), which every Go version reads",
                )
            depth += (c == "(") - (c == ")")
            if depth > _MAX_GROUP_DEPTH:
                return (
                    f"groups nested more than {_MAX_GROUP_DEPTH} deep (Go refuses parse trees deeper than "
                    "1000: expression nests too deeply)",
                    "flatten the regex",
                )
            i += 1
    return None


def _check_statsd_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    """Every ``$`` reference in a name or label value is one the exporter fills in: a ``*``
    of the glob, or a group of the regex. An unknown one would silently become ''."""
    check = _check_regex_refs if captures.regex else _check_glob_refs
    check(where, prop, text, captures)


# pkg/mapper/fsm/formatter.go: templateReplaceCaptureRE. A capture that is not a number from
# 1 to the count of '*'s is replaced with '' (so are names: a glob has no named captures).
_GLOB_REF = re.compile(r"\$\{?([a-zA-Z0-9_$]+)\}?")


def _check_glob_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    stars = captures.count
    for m in _GLOB_REF.finditer(text):
        ref, capture = m.group(0), m.group(1)
        if capture.isdigit() and 1 <= int(capture) <= stars:
            continue
        if capture.isdigit():
            problem = f"{ref} refers to '*' number {int(capture)}, but the glob has {stars} '*'"
            fix = f"refer to a '*' of the glob: $1 to ${stars}"
            if stars <= 1:
                fix = (
                    "refer to the glob's '*' as $1"
                    if stars
                    else "add a '*' to the glob or remove the reference"
                )
        else:
            problem = (
                f"{ref} refers to {capture!r}, which is not the number of a '*' (statsd_exporter reads "
                "every letter, digit, '_' and '$' after the '$')"
            )
            fix = _braced_ref_fix(capture) or (
                "refer to a '*' of the glob as $1 or ${1} (named groups need a regex: "
                "match_type=StatsdMatchType.REGEX)"
            )
        raise PropsError(where, prop, text, f"{problem}; statsd_exporter would fill in an empty string", fix)


def _check_regex_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    """Go's Regexp.Expand: ``$$`` is a '$'; ``$name``/``${name}`` takes the longest run of
    letters, digits and '_'; a name of ASCII digits (no leading 0) is a group number (0 the
    whole match); any other '$' stays as it is."""
    i = 0
    while (i := text.find("$", i)) >= 0:
        if text.startswith("$$", i):
            i += 2
            continue
        ref, name = _go_expand_ref(text, i)
        if ref is None:
            i += 1  # not a reference: Go copies the '$'
            continue
        i += len(ref)
        number = int(name) if name.isascii() and name.isdigit() and name == str(int(name)) else None
        if number is not None and number <= captures.count:
            continue
        if number is None and name in captures.names:
            continue
        groups = f"{captures.count} group(s)" + (
            f", named {', '.join(sorted(captures.names))}" if captures.names else ", none named"
        )
        if number is not None:
            problem = f"{ref} refers to group {number}, but the regex has {groups}"
            fix = "refer to a group of the regex ($0 is the whole match)"
        elif name.isascii() and name.isdigit():  # a leading 0: Go reads it as a name
            problem = f"{ref} is a name to Go (a number with a leading 0), and the regex has {groups}"
            fix = f"write ${int(name)}"
        else:
            problem = f"{ref} refers to a group named {name!r}, but the regex has {groups}"
            fix = _braced_ref_fix(name) or f"name a group (?P<{name}>...) or refer to one the regex has"
        raise PropsError(where, prop, text, f"{problem}; statsd_exporter would fill in an empty string", fix)


def _go_expand_ref(text: str, i: int) -> tuple[str | None, str]:
    """The reference at ``text[i] == '$'`` as Go's regexp extract() reads it: (the reference
    text, its name), or (None, '') if the '$' is literal."""
    j = i + 1
    brace = text.startswith("{", j)
    j += brace
    start = j
    while j < len(text) and (
        text[j] == "_" or unicodedata.category(text[j])[0] == "L" or text[j].isdecimal()
    ):
        j += 1  # Go: '_', unicode.IsLetter (L*) or unicode.IsDigit (Nd)
    name = text[start:j]
    if not name or (brace and not text.startswith("}", j)):
        return None, ""
    return text[i : j + brace], name


def _braced_ref_fix(capture: str) -> str | None:
    """``1_total`` -> "write ${1}_total": a number run into the text after it."""
    m = re.match(r"([0-9]+)([^0-9].*)", capture)
    return f"write ${{{m.group(1)}}}{m.group(2)} to end the reference after the number" if m else None


def _statsd_name(where: str, prop: str, name: Any, drop: bool, captures: _StatsdCaptures) -> str:
    """``name``: a metric name with ``$1``-style references; ``"dropped"`` by default for drop rules."""
    name = name if name is not None else ("dropped" if drop else None)
    if name is None:
        raise PropsError(
            where,
            f"{prop}.name",
            None,
            "a mapping needs a metric name",
            "pass name='app_requests_total' (or drop=True)",
        )
    if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
        raise PropsError(
            where,
            f"{prop}.name",
            name,
            "not a valid Prometheus metric name",
            "use letters, digits, '_' and $1-style references (no ':', '.' or '-')",
        )
    _check_statsd_refs(where, f"{prop}.name", name, captures)
    return name


def _statsd_labels(where: str, prop: str, labels: Any, captures: _StatsdCaptures) -> dict[str, str]:
    """``labels``, sorted by name; empty if none. Values may refer to the match's captures."""
    checked = _checks.string_mapping(where, f"{prop}.labels", labels)
    for label in checked:
        if not isinstance(label, str) or not _LABEL_NAME.fullmatch(label):
            raise PropsError(
                where,
                f"{prop}.labels",
                label,
                "not a label name statsd_exporter accepts",
                "use at least two characters of letters, digits and '_', not starting with a digit",
            )
    for label, value in checked.items():
        _check_statsd_refs(where, f"{prop}.labels.{label}", value, captures)
    return dict(sorted(checked.items()))


def _statsd_buckets(where: str, prop: str, buckets: Any, observer: StatsdObserver | None) -> list[float]:
    """``buckets``: strictly ascending finite numbers, for a histogram observer only."""
    if isinstance(buckets, str | bytes) or not isinstance(buckets, list | tuple):
        raise PropsError(
            where, f"{prop}.buckets", buckets, "not a list of numbers", "use e.g. [0.01, 0.1, 1, 10]"
        )
    buckets = list(buckets)
    if observer is not StatsdObserver.HISTOGRAM:
        raise PropsError(
            where,
            f"{prop}.buckets",
            buckets,
            "buckets need a histogram observer",
            "pass observer_type=StatsdObserver.HISTOGRAM",
        )
    if (
        not buckets
        or any(isinstance(b, bool) or not isinstance(b, int | float) or not math.isfinite(b) for b in buckets)
        or buckets != sorted(set(buckets))
    ):
        raise PropsError(
            where,
            f"{prop}.buckets",
            buckets,
            "not strictly ascending numbers",
            "use e.g. [0.01, 0.1, 1, 10]",
        )
    return [float(b) for b in buckets]


def _statsd_scale(where: str, prop: str, scale: Any, metric_type: StatsdMetricType | None) -> float:
    """``scale``: a non-zero factor, and not ms -> s on a mapping that can match timers."""
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or scale == 0
    ):
        raise PropsError(where, f"{prop}.scale", scale, "not a non-zero number", "use e.g. 1024")
    if scale == _MS_TO_S and metric_type in (None, StatsdMetricType.OBSERVER):
        raise PropsError(
            where,
            f"{prop}.scale",
            scale,
            "statsd_exporter already exports |ms timers in seconds (pkg/line/line.go divides them "
            "by 1000; pkg/exporter/exporter.go applies scale afterwards), so 123 ms would become "
            "0.000123 s",
            "remove scale for timers; to rescale |h or |d values sent in milliseconds, send them as "
            "|ms timers instead, or restrict the mapping with match_metric_type=GAUGE or COUNTER",
        )
    return float(scale)


def _check_statsd_conflicts(
    where: str, mappings: Sequence[StatsdMapping], rendered: list[dict[str, Any]]
) -> None:
    """Same metric name, different type or label names: the exporter loads the file but then
    drops every conflicting event at run time (registry.go: "metric with name ... is already
    registered", counted in statsd_exporter_events_conflict_total). Refuse it here."""
    seen: dict[str, tuple[int, tuple[Any, ...]]] = {}
    for i, (m, rule) in enumerate(zip(mappings, rendered, strict=True)):
        if m.drop or "$" in rule["name"]:
            continue  # templated names cannot be compared before run time
        shape = (
            rule.get("match_metric_type"),
            rule.get("observer_type"),
            tuple(sorted(rule.get("labels", {}))),
        )
        first = seen.setdefault(rule["name"], (i, shape))
        if first[1] != shape:
            raise PropsError(
                where,
                f"mappings[{i}].name",
                rule["name"],
                f"mappings[{first[0]}] already defines this metric with another type or label names; "
                "statsd_exporter would drop these events as conflicts at run time",
                "give the metric another name, or the same match_metric_type/observer_type and label names",
            )


def render_json_config(where: str, module: str, metrics: Sequence[JsonMetric]) -> str:
    if not metrics:
        raise PropsError(where, "source.metrics", [], "no metrics", "pass at least one JsonMetric")
    metrics = _checks.sequence_of(where, "source.metrics", metrics, JsonMetric)
    rendered = []
    for i, m in enumerate(metrics):
        if not isinstance(m.name, str) or not _METRIC_NAME.fullmatch(m.name) or "$" in m.name:
            raise PropsError(
                where,
                f"source.metrics[{i}].name",
                m.name,
                "not a Prometheus metric name",
                "use letters, digits and '_'",
            )
        if not (isinstance(m.path, str) and re.fullmatch(r"\{[^\x00-\x1f\x7f]*\}", m.path)):
            raise PropsError(
                where,
                f"source.metrics[{i}].path",
                m.path,
                "not a JSONPath in braces",
                "use e.g. '{.requests.total}'",
            )
        # Copied into the ConfigMap: the credential check every copied text gets.
        _checks.no_credentials(where, f"source.metrics[{i}].path", m.path)
        if m.type not in ("value", "object"):
            raise PropsError(
                where, f"source.metrics[{i}].type", m.type, "unknown type", "use 'value' or 'object'"
            )
        if m.value_type not in ("gauge", "counter", "untyped"):
            raise PropsError(
                where,
                f"source.metrics[{i}].value_type",
                m.value_type,
                "unknown value type",
                "use 'gauge', 'counter' or 'untyped'",
            )
        entry: dict[str, Any] = {"name": m.name, "path": m.path, "type": m.type, "valuetype": m.value_type}
        if m.help is not None:
            entry["help"] = _checks.text(
                where, f"source.metrics[{i}].help", m.help, fix="use one line of text"
            )
        for key, value in (("labels", m.labels), ("values", m.values)):
            if value:
                entry[key] = dict(
                    sorted(_checks.string_mapping(where, f"source.metrics[{i}].{key}", value).items())
                )
        rendered.append(entry)
    return _checks.render_yaml({"modules": {module: {"metrics": rendered}}}, sort_keys=False)


# jmx_exporter's rule keys (rules.md) -> JmxRule fields, in the order they are rendered.
_JMX_RULE_KEYS = {
    "pattern": "pattern",
    "name": "name",
    "value": "value",
    "valueFactor": "value_factor",
    "labels": "labels",
    "help": "help",
    "type": "type",
    "attrNameSnakeCase": "attr_name_snake_case",
    "cache": "cache",
}
# Java's Matcher.replaceAll (which jmx_exporter applies to name, value, help and labels) reads
# `$1` and `${name}`; any other `$` throws "Illegal group reference" at scrape time.
_JAVA_NAMED_REF = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")
_JMX_METRIC_NAME = re.compile(r"(?:[a-zA-Z_:]|\$\d+|\$\{\w+\})(?:[a-zA-Z0-9_:]|\$\d+|\$\{\w+\})*")
_JMX_LABEL_NAME = re.compile(r"(?:[a-zA-Z_]|\$\d+|\$\{\w+\})(?:[a-zA-Z0-9_]|\$\d+|\$\{\w+\})*")


def render_jmx_rules(where: str, rules: Any) -> list[dict[str, Any]]:
    """jmx_exporter's ``rules:`` list, each rule checked as the exporter would use it."""
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, list | tuple):
        raise PropsError(
            where,
            "source.rules",
            type(rules).__name__,
            "not a list of JmxRule",
            "pass rules=[JmxRule(pattern='...', name='...')]",
        )
    return [_jmx_rule(where, f"source.rules[{i}]", rule) for i, rule in enumerate(rules)]


def _jmx_rule(where: str, prop: str, rule: Any) -> dict[str, Any]:
    """One rule: its fields checked in this order, rendered in jmx_exporter's key order."""
    r, props = _jmx_rule_fields(where, prop, rule)
    groups = _java_regex_groups(where, props.at("pattern"), r.pattern)
    out: dict[str, Any] = {}
    if r.pattern is not None:
        out["pattern"] = r.pattern
    out.update(_jmx_texts(where, props, r, groups))
    if r.value_factor is not None:
        out["valueFactor"] = _jmx_value_factor(where, props.at("value_factor"), r.value_factor)
    labels = _jmx_labels(where, props.at("labels"), r.labels, groups)
    if labels:
        out["labels"] = labels
    if r.type is not None:
        out["type"] = _checks.enum_member(where, props.at("type"), JmxMetricType, r.type).value
    _check_jmx_name_given(where, props, r, out)
    for f in ("attr_name_snake_case", "cache"):
        if _checks.boolean(where, props.at(f), getattr(r, f)):
            out[{"attr_name_snake_case": "attrNameSnakeCase"}.get(f, f)] = True
    return out


@dataclass(frozen=True)
class _JmxRuleProps:
    """How errors name a rule's fields: by jmx_exporter's keys (``valueFactor``) for a dict
    rule, by JmxRule's fields (``value_factor``) for a JmxRule."""

    prop: str  # the rule, e.g. source.rules[0]
    key_of: Mapping[str, str]  # JmxRule field -> the name the caller used

    def at(self, f: str) -> str:
        return f"{self.prop}.{self.key_of[f]}"


def _jmx_rule_fields(where: str, prop: str, rule: Any) -> tuple[JmxRule, _JmxRuleProps]:
    """The rule as a JmxRule (a dict's keys checked first), and how its errors name its fields."""
    if isinstance(rule, Mapping):
        _check_jmx_rule_keys(where, prop, rule)
        key_of = {f: k for k, f in _JMX_RULE_KEYS.items()}
        return JmxRule(**{_JMX_RULE_KEYS[k]: v for k, v in rule.items()}), _JmxRuleProps(prop, key_of)
    if isinstance(rule, JmxRule):
        return rule, _JmxRuleProps(prop, {f: f for f in _JMX_RULE_KEYS.values()})
    raise PropsError(
        where,
        prop,
        type(rule).__name__,
        "not a JmxRule",
        "build it with JmxRule(pattern='...', name='...')",
    )


def _check_jmx_rule_keys(where: str, prop: str, rule: Mapping[Any, Any]) -> None:
    """Every key of a dict rule is one of jmx_exporter's; an unknown one names the key it resembles."""
    for key in rule:
        if key not in _JMX_RULE_KEYS:
            import difflib  # only on this error path: keeps `import constructs_lib` lean

            close = difflib.get_close_matches(str(key), list(_JMX_RULE_KEYS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PropsError(
                where,
                prop,
                key,
                "not a jmx_exporter rule key",
                f"{hint}a rule takes {', '.join(_JMX_RULE_KEYS)} (or build it with JmxRule(...))",
            )


def _jmx_texts(where: str, props: _JmxRuleProps, r: JmxRule, groups: _JavaGroups) -> dict[str, Any]:
    """``name``, ``value`` and ``help`` (those given): one line each, ``name`` a metric name,
    every ``$`` a group the pattern has."""
    out: dict[str, Any] = {}
    for f, pattern in (("name", _JMX_METRIC_NAME), ("value", None), ("help", None)):
        text = getattr(r, f)
        if text is None:
            continue
        _checks.text(where, props.at(f), text, fix=f"pass {props.key_of[f]}='...' on one line")
        if pattern is not None and not pattern.fullmatch(text):
            raise PropsError(
                where,
                props.at(f),
                text,
                "not a Prometheus metric name",
                "use letters, digits, '_', ':' and $1-style group references",
            )
        _java_group_refs(where, props.at(f), text, groups)
        out[f] = text
    return out


def _jmx_value_factor(where: str, prop: str, vf: Any) -> float:
    """``value_factor``: a non-zero finite number."""
    if isinstance(vf, bool) or not isinstance(vf, int | float) or not math.isfinite(vf) or vf == 0:
        raise PropsError(where, prop, vf, "not a non-zero number", "use e.g. 0.001")
    return float(vf)


def _jmx_labels(where: str, prop: str, labels: Any, groups: _JavaGroups) -> dict[str, str]:
    """``labels``, sorted by name; empty if none. Names and values may refer to the pattern's groups."""
    checked = _checks.string_mapping(where, prop, labels)
    for label, label_value in checked.items():
        if not _JMX_LABEL_NAME.fullmatch(label) or label.startswith("__"):
            raise PropsError(
                where,
                prop,
                label,
                "not a Prometheus label name",
                "use letters, digits and '_' (not starting with a digit or '__'), and $1-style references",
            )
        _java_group_refs(where, prop, label, groups)
        _java_group_refs(where, prop, label_value, groups)
    return dict(sorted(checked.items()))


def _check_jmx_name_given(where: str, props: _JmxRuleProps, r: JmxRule, out: Mapping[str, Any]) -> None:
    """``labels``, ``help`` and ``type`` (as rendered in ``out``) need the rule's ``name``."""
    for f in ("labels", "help", "type"):
        if f in out and r.name is None:
            # rules.md: "`name` must be set to use this" (labels, help, type).
            raise PropsError(
                where, props.at(f), out[f], "jmx_exporter ignores it without a name", "give the rule a name"
            )


@dataclass(frozen=True)
class _JavaGroups:
    """A jmx_exporter pattern's capturing groups: how many, and the names of the named ones."""

    count: int = 0
    names: frozenset[str] = frozenset()


# Java's named group: (?<name>...), the name an ASCII letter then letters and digits
# (java.util.regex.Pattern.groupname).
_JAVA_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z][A-Za-z0-9]*)>")


def _java_regex_groups(where: str, prop: str, pattern: Any) -> _JavaGroups:
    """Check a jmx_exporter pattern (java.util.regex) as far as Python's re can; return its
    capturing groups. Java-only syntax is rewritten first (\\Q..\\E quoting, \\p{..} classes,
    (?<name>..) groups); Python-only syntax ((?P<..>)) is refused. The pattern is copied into
    the ConfigMap, so it gets the credential check every copied text gets."""
    if pattern is None:
        return _JavaGroups()
    if not isinstance(pattern, str) or not pattern:
        raise PropsError(where, prop, pattern, "not a non-empty regex", "use e.g. 'java.lang<type=Memory>'")
    _checks.text(where, prop, pattern, fix="write the pattern on one line")
    if "(?P" in pattern:
        raise PropsError(
            where,
            prop,
            pattern,
            "(?P...) is Python syntax; Java rejects it",
            "use (?<name>...) and \\k<name>",
        )
    python = re.sub(r"\\Q(.*?)(?:\\E|$)", lambda m: re.escape(m.group(1)), pattern, flags=re.DOTALL)
    python = re.sub(r"\\[pP](?:\{\w+\}|[A-Za-z])", r"\\w", python)
    python = _JAVA_NAMED_GROUP.sub(r"(?P<\1>", python)
    python = re.sub(r"\\k<([A-Za-z][A-Za-z0-9]*)>", r"(?P=\1)", python)
    try:
        compiled = re.compile(python)
    except re.error as err:
        raise PropsError(where, prop, pattern, f"invalid regex ({err})", "fix the regex") from None
    # The names Python saw are exactly the (?<name> groups Java sees: \Q..\E was escaped first.
    return _JavaGroups(compiled.groups, frozenset(compiled.groupindex))


def _java_group_refs(where: str, prop: str, text: str, groups: _JavaGroups) -> None:
    """Every ``$`` must be a group reference the pattern has: jmx_exporter fills in the text with
    Matcher.replaceAll, which throws at scrape time otherwise. Read as Java's
    Matcher.appendExpandedReplacement reads it: ``\\x`` is a literal x (a trailing ``\\``
    throws); ``${name}`` names a group (an ASCII letter, then letters and digits); ``$`` and
    digits is a group number: the first digit always, each further digit while the number
    stays a group of the pattern (``$12`` with one group is group 1, then "2")."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 == len(text):
                raise PropsError(
                    where,
                    prop,
                    text,
                    "a trailing '\\' (Java's Matcher would throw: character to be escaped is missing)",
                    "write \\\\ for a '\\'",
                )
            i += 2
        elif c != "$":
            i += 1
        elif m := _JAVA_NAMED_REF.match(text, i + 1):
            if m.group(1) not in groups.names:
                named = ", ".join(sorted(groups.names)) or "none"
                raise PropsError(
                    where,
                    prop,
                    text,
                    f"${{{m.group(1)}}} but the pattern has no group named {m.group(1)!r} (named groups: "
                    f"{named}); Java's Matcher would throw 'No group with name' at scrape time",
                    f"name a group of the pattern (?<{m.group(1)}>...) or refer to one it has",
                )
            i = m.end()
        elif text[i + 1 : i + 2].isascii() and text[i + 1 : i + 2].isdigit():
            number, i = int(text[i + 1]), i + 2
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                if number * 10 + int(text[i]) > groups.count:
                    break
                number, i = number * 10 + int(text[i]), i + 1
            if number > groups.count:
                raise PropsError(
                    where,
                    prop,
                    text,
                    f"${number} but the pattern has {groups.count} group(s)",
                    "refer to a group of the pattern",
                )
        else:
            raise PropsError(
                where,
                prop,
                text,
                "a '$' that is not a group reference",
                "write $1 or ${name}, or \\$ for a '$'",
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
