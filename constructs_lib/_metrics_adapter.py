"""Adapter pattern: one uniform Prometheus endpoint for every app, whatever it exports.

An exporter container in the pod converts the main container's own monitoring output
(StatsD, nginx stub_status, Redis INFO, JMX, app JSON) into Prometheus exposition on a
container port named ``metrics`` at ``/metrics``. Discovery is the same for every app: one
mechanism, ``prometheus.io/*`` pod annotations (default) or a Prometheus Operator ``PodMonitor``
(both only when asked for: a Prometheus that reads both would scrape every pod twice).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks, _jsii_calls
from ._additions import Annotation, AppEnv, ConfigFiles, LoopbackPort, PodAdditions, SecretFiles
from ._checks import Workload
from ._containers import (
    ContainerKind,
    ContainerSpec,
    HttpProbe,
    Mount,
    Port,
    checked_resources,
    container_resources,
)
from ._errors import PropsError
from ._metrics_sources import ExporterPlan, MetricsSource
from ._pod import HeldUntilSynth, PodSeam, pattern_seam
from ._workload_kinds import SELECTING_WORKLOADS, kplus_container


class MetricsEndpoint(Protocol):
    """Anything in the pod that serves Prometheus metrics on a named port (SidecarGitSync,
    RedisAmbassador, another MetricsAdapter)."""

    @property
    def metrics_port_name(self) -> str | None: ...

    @property
    def metrics_path(self) -> str: ...

    @property
    def workload(self) -> Workload: ...


class MetricsDiscovery(enum.Enum):
    """How Prometheus finds the adapter's endpoint.

    ``ANNOTATIONS``: ``prometheus.io/scrape|port|path`` pod annotations, which the
    ``kubernetes-pods`` job of Prometheus' example kubernetes_sd config and the
    prometheus-community ``prometheus`` chart relabel into targets. ``POD_MONITOR``: a
    ``monitoring.coreos.com/v1`` PodMonitor for the Prometheus Operator. ``BOTH`` is for a
    migration between the two (a Prometheus that reads both scrapes every pod twice);
    ``NONE`` leaves discovery to you (e.g. ``service=True`` and your own ServiceMonitor).
    """

    ANNOTATIONS = "annotations"
    POD_MONITOR = "pod-monitor"
    BOTH = "both"
    NONE = "none"


class MetricsAdapter(HeldUntilSynth, constructs.Construct):
    """Expose the main container's metrics in the uniform model: port ``metrics``, ``/metrics``.

    Args:
        scope: construct scope.
        id: construct id.
        workload: the workload whose app exports the metrics (Deployment, StatefulSet,
            DaemonSet, Job, CronJob or Pod).
        deployment: older name of ``workload`` (pass one of the two).
        source: what the app exports, e.g. ``MetricsSource.statsd(mappings=[...])``.
        port: the exporter's HTTP port. Default: the exporter's conventional port
            (statsd 9102, nginx 9113, redis 9121, json 7979, jmx 9404), or the next port above it
            that no container of the pod uses.
        port_name: name of that container port (at most 15 characters). Default ``metrics``.
        discovery: ``MetricsDiscovery.ANNOTATIONS`` (default), ``POD_MONITOR``, ``BOTH`` or
            ``NONE``. Pass it, or the older booleans below, not both.
        annotations: older switch for the ``prometheus.io/*`` pod annotations (one port per
            pod by convention). Default: on unless ``pod_monitor=True``.
        pod_monitor: older switch for the Prometheus Operator ``PodMonitor`` (listing this
            adapter and ``also_scrape``). ``pod_monitor=True`` alone now turns the annotations
            off; ``annotations=True, pod_monitor=True`` keeps both. Default False.
        pod_monitor_labels: labels on the PodMonitor: what the Prometheus resource's
            ``podMonitorSelector`` must match. kube-prometheus-stack selects
            ``release: <its Helm release name>`` by default, e.g.
            ``{"release": "kube-prometheus-stack"}``; without it the PodMonitor is ignored.
        also_scrape: other metrics endpoints of the same pod (e.g. a SidecarGitSync, a
            RedisAmbassador) that the PodMonitor lists too; needs the PodMonitor.
        scrape_interval: PodMonitor scrape interval. Default Prometheus' global interval.
        service: also create a ClusterIP Service exposing the metrics port (for
            ServiceMonitors or ad-hoc scraping). Default False.
        native_sidecar: run the exporter as a native sidecar (Kubernetes >= 1.29): it starts
            before the app and is stopped after it. Required in Jobs, CronJobs and Pods that
            never restart, whose pods could not complete with a classic sidecar. Default False.
        name: container name and volume-name prefix. Default ``metrics-adapter``.
        container_name: the main container. Default: the workload's only app container.
        resources: exporter requests/limits. Default 10m/32Mi requests, 200m/64Mi limits
            (the Go exporters); 50m/128Mi, 500m/256Mi for jmx_exporter, a JVM.

    Attributes:
        port, port_name: the exporter's HTTP port and its container port name.
        scrape_path, scrape_params: what Prometheus requests (json_exporter: ``/probe`` with
            module and target).
        discovery: the discovery mechanism in use.
        pod_monitor: the PodMonitor, or None; ``service``: the metrics Service, or None.
        config_map: the exporter's config (mapping file...), or None.
        container: the exporter container; ``main_container``: the app it reads.
        source: the MetricsSource.
        name: container name and prefix of its volumes.
        workload: the workload attached to (``deployment`` is its older name).
    """

    #: Dropped once App.synth() wrote the workload (HeldUntilSynth); the PodMonitor lets go with it.
    _HELD = ("props", "container", "source")

    def let_go(self) -> None:
        super().let_go()
        monitor = getattr(self, "pod_monitor", None)  # unset if __init__ failed after attaching
        if monitor is not None:
            monitor.let_go()

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        workload: Workload | None = None,
        deployment: Workload | None = None,
        source: MetricsSource,
        port: int | None = None,
        port_name: str = "metrics",
        discovery: MetricsDiscovery | None = None,
        annotations: bool | None = None,
        pod_monitor: bool | None = None,
        pod_monitor_labels: Mapping[str, str] | None = None,
        also_scrape: Sequence[MetricsEndpoint] = (),
        scrape_interval: cdk8s.Duration | None = None,
        service: bool = False,
        native_sidecar: bool = False,
        name: str = "metrics-adapter",
        container_name: str | None = None,
        resources: kplus.ContainerResources | None = None,
    ) -> None:
        """Attach the pattern to ``workload``; every prop is described in the class docstring."""
        given = _checks.props_of(MetricsAdapterProps, locals())
        super().__init__(scope, id)
        where, self.workload, seam = pattern_seam(scope, id, workload, deployment)
        self.deployment = self.workload
        props = self.props = check_props(where, given, seam, _defaults_for(scope))
        selector = seam.selector  # read before attach drops the pod's index
        attached = seam.attach(self, render(props), where=where)
        self.main_container_name, self.name, self.source = props.main, props.name, props.source
        self.port, self.port_name, self.discovery = props.port, props.port_name, props.discovery
        self.scrape_path = props.plan.path  # what Prometheus requests (json_exporter: /probe)
        self.scrape_params = dict(props.plan.params)  # and its URL parameters
        self.config_map: kplus.ConfigMap | None = attached.config_map
        (self.container,) = attached.containers
        # --- discovery ---
        self.pod_monitor: _PodMonitor | None = None
        if props.pod_monitor:
            with _jsii_calls.library_only():  # a new object: no workload's rendering changes
                self.pod_monitor = _PodMonitor.attach(
                    self,
                    "pod-monitor",
                    self.workload,
                    selector,
                    pod_monitor_endpoints(props),
                    labels=props.pod_monitor_labels,
                    where=where,
                )
        self.service: kplus.Service | None = None
        if props.service:
            self.service = kplus.Service(
                self,
                "service",
                selector=self.workload,
                ports=[kplus.ServicePort(port=self.port, target_port=self.port, name=self.port_name)],
            )

    @property
    def main_container(self) -> kplus.Container:
        """The app container (the cdk8s-plus object you added)."""
        return kplus_container(self.workload, self.main_container_name)

    @property
    def metrics_port_name(self) -> str:
        return self.port_name

    @property
    def metrics_params(self) -> dict[str, str]:
        return dict(self.scrape_params)

    @property
    def metrics_path(self) -> str:
        return self.scrape_path


# --- props -> checks ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MetricsAdapterProps:
    """The keyword arguments of :class:`MetricsAdapter` as given (each is described, with its
    default, in the class docstring). :func:`check_props` checks them all, in one place."""

    workload: Workload | None = None
    deployment: Workload | None = None
    source: MetricsSource
    port: int | None = None
    port_name: str = "metrics"
    discovery: MetricsDiscovery | None = None
    annotations: bool | None = None
    pod_monitor: bool | None = None
    pod_monitor_labels: Mapping[str, str] | None = None
    also_scrape: Sequence[MetricsEndpoint] = ()
    scrape_interval: cdk8s.Duration | None = None
    service: bool = False
    native_sidecar: bool = False
    name: str = "metrics-adapter"
    container_name: str | None = None
    resources: kplus.ContainerResources | None = None


#: A metrics endpoint of the pod, as the PodMonitor lists it: (port name, path, params).
Endpoint = tuple[str, str, dict[str, str]]

_ANNOTATING = (MetricsDiscovery.ANNOTATIONS, MetricsDiscovery.BOTH)
_MONITORING = (MetricsDiscovery.POD_MONITOR, MetricsDiscovery.BOTH)


@dataclass(frozen=True, slots=True)
class CheckedMetricsAdapter:
    """The props checked, with every default resolved: all that :func:`render` reads."""

    name: str
    main: str  # the app container
    source: MetricsSource
    plan: ExporterPlan  # the source resolved against the port and directories below
    port: int
    port_name: str
    config_dir: str
    secret_dir: str
    discovery: MetricsDiscovery
    also_scrape: tuple[Endpoint, ...]  # the peers' endpoints, for the PodMonitor
    pod_monitor_labels: dict[str, str]
    scrape_interval: str | None  # a Prometheus duration
    service: bool
    native_sidecar: bool
    container_kind: ContainerKind
    resources: kplus.ContainerResources | None

    @property
    def annotations(self) -> bool:
        return self.discovery in _ANNOTATING

    @property
    def pod_monitor(self) -> bool:
        return self.discovery in _MONITORING


def check_props(
    where: str, props: MetricsAdapterProps, seam: PodSeam, defaults: MetricsDefaults | None = None
) -> CheckedMetricsAdapter:
    """Every prop checked and every default resolved (some from the pod: a free port, the app
    container, the container kind; some from :func:`metrics_defaults` of a scope above), before
    anything is added. ``where`` is the pattern's path. The checks run in a fixed order: the first
    bad prop is the error reported."""
    defaults = defaults or MetricsDefaults()
    resources = checked_resources(where, props.resources)
    also_scrape = props.also_scrape
    if isinstance(also_scrape, str) or not isinstance(also_scrape, list | tuple):
        raise PropsError(
            where,
            "also_scrape",
            type(also_scrape).__name__,
            "not a list",
            "pass also_scrape=[site, cache]",
        )
    exporter = _check_exporter(where, props, seam)
    modes = _check_modes(where, props, defaults)
    source = exporter["source"]
    plan = source._plan(where, exporter["port"], exporter["config_dir"], exporter["secret_dir"])
    scrape = _check_scrape(where, props, modes["discovery"], seam.workload, defaults)
    main = seam.main_container(props.container_name, where=where)
    container_kind = seam.looping_kind(modes["native_sidecar"], where=where)
    if plan.secret_files:
        (first, _), *rest = plan.secret_files
        if any(v.secret is not first.secret for v, _ in rest):
            raise PropsError(where, "source", source, "secret files from several Secrets", "use one Secret")
    return CheckedMetricsAdapter(
        main=main,
        plan=plan,
        container_kind=container_kind,
        resources=resources,
        **exporter,
        **modes,
        **scrape,
    )


def _check_exporter(where: str, props: MetricsAdapterProps, seam: PodSeam) -> dict[str, Any]:
    """The exporter: its source, its name (and directories), its metrics port and port name."""
    source, port = props.source, props.port
    if not isinstance(source, MetricsSource):
        raise PropsError(
            where,
            "source",
            source,
            "not a MetricsSource",
            "build one with MetricsSource.statsd(...), .nginx(), .redis(), .json(), .jmx() or .custom()",
        )
    name = _checks.dns_label(where, "name", props.name)
    if source.kind == "custom" and port is not None and port != source.default_port:
        raise PropsError(
            where,
            "port",
            port,
            f"the custom exporter listens on {source.default_port} (source.port)",
            "set the port once, in MetricsSource.custom(port=...)",
        )
    # Left out: the exporter's conventional port, or the next free one (a second adapter).
    default_port = seam.free_port(source.default_port) if source.kind != "custom" else None
    port = _checks.port_number(where, "port", _checks.or_default(port, default_port or source.default_port))
    return dict(
        source=source,
        name=name,
        port=port,
        port_name=_checks.port_name(where, "port_name", props.port_name),
        config_dir=f"/etc/{name}",
        secret_dir=f"/etc/{name}-auth",
    )


def _check_modes(where: str, props: MetricsAdapterProps, defaults: MetricsDefaults) -> dict[str, Any]:
    """The discovery mechanism (the scope's default when no discovery prop is given), the Service,
    the native sidecar."""
    discovery = props.discovery
    if discovery is None and props.annotations is None and props.pod_monitor is None:
        discovery = defaults.discovery
    return dict(
        discovery=_discovery(where, discovery, props.annotations, props.pod_monitor),
        service=_checks.boolean(where, "service", props.service),
        native_sidecar=_checks.boolean(where, "native_sidecar", props.native_sidecar),
    )


def _check_scrape(
    where: str,
    props: MetricsAdapterProps,
    discovery: MetricsDiscovery,
    workload: Workload,
    defaults: MetricsDefaults,
) -> dict[str, Any]:
    """What the PodMonitor lists and how: the peers' endpoints, its labels (the scope's default
    labels, then the adapter's own), the interval (the adapter's, else the scope's default)."""
    others = _other_endpoints(where, workload, props.also_scrape)
    pod_monitor = discovery in _MONITORING
    if others and not pod_monitor:
        raise PropsError(
            where,
            "also_scrape",
            [e[0] for e in others],
            "prometheus.io annotations can name one port per pod",
            "pass discovery=MetricsDiscovery.POD_MONITOR (or pod_monitor=True) so the PodMonitor "
            "lists every port",
        )
    labels, scrape_interval = props.pod_monitor_labels, props.scrape_interval
    if not pod_monitor and (labels or scrape_interval is not None):
        raise PropsError(
            where,
            "pod_monitor_labels" if labels else "scrape_interval",
            labels or scrape_interval,
            "only used by the PodMonitor",
            "pass discovery=MetricsDiscovery.POD_MONITOR (or pod_monitor=True)",
        )
    checked_labels = _pod_monitor_labels(where, labels)
    interval = defaults.scrape_interval if pod_monitor else None
    if scrape_interval is not None:
        interval = _checks.go_duration(
            _checks.duration_at_least(where, "scrape_interval", scrape_interval, 1000, "use at least 1s")
        )
    if pod_monitor:
        checked_labels = dict(sorted({**defaults.pod_monitor_labels, **checked_labels}.items()))
    return dict(also_scrape=tuple(others), pod_monitor_labels=checked_labels, scrape_interval=interval)


def _other_endpoints(
    where: str, workload: Workload, also_scrape: Sequence[MetricsEndpoint]
) -> list[Endpoint]:
    """(port name, path, params) of the peers; they must serve metrics in this very pod.

    A peer without a metrics port right now (git-sync with metrics=False, or in a Job without
    a native sidecar) is left out, so switching a peer's mode needs no change here. (An
    ambassador in development mode keeps its Envoy stats port, and is listed.)
    """
    found: dict[str, Endpoint] = {}
    for i, other in enumerate(also_scrape):
        owner = getattr(other, "workload", None)
        # `is` first: comparing paths costs two jsii round trips per side.
        if not isinstance(owner, Workload) or (
            owner is not workload and _checks.path_of(owner) != _checks.path_of(workload)
        ):
            raise PropsError(
                where,
                f"also_scrape[{i}]",
                type(other).__name__,
                f"it is not attached to this {type(workload).__name__}",
                "list only patterns attached to the same workload (its pods carry their ports)",
            )
        port_name = getattr(other, "metrics_port_name", None)
        ep_path = getattr(other, "metrics_path", None)
        params = getattr(other, "metrics_params", {})
        if not (
            (port_name is None or isinstance(port_name, str))
            and isinstance(ep_path, str)
            and isinstance(params, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
        ):
            raise PropsError(
                where,
                f"also_scrape[{i}]",
                type(other).__name__,
                "not a MetricsEndpoint (metrics_port_name, metrics_path, metrics_params)",
                "list SidecarGitSync, RedisAmbassador or MetricsAdapter objects",
            )
        if port_name is not None:
            found.setdefault(port_name, (port_name, ep_path, dict(params)))
    return list(found.values())


def _discovery(
    where: str, discovery: Any, annotations: bool | None, pod_monitor: bool | None
) -> MetricsDiscovery:
    """One mechanism unless both are asked for; the older booleans still work."""
    if discovery is not None:
        for prop, value in (("annotations", annotations), ("pod_monitor", pod_monitor)):
            if value is not None:
                raise PropsError(
                    where,
                    prop,
                    value,
                    "discovery= already chooses the mechanism",
                    "pass only discovery= (MetricsDiscovery.BOTH for annotations and a PodMonitor)",
                )
        chosen: MetricsDiscovery = _checks.enum_member(where, "discovery", MetricsDiscovery, discovery)
        return chosen
    monitor = pod_monitor is not None and _checks.boolean(where, "pod_monitor", pod_monitor)
    # pod_monitor=True alone switches the annotations off: a Prometheus that reads both scrapes twice.
    annotate = not monitor if annotations is None else _checks.boolean(where, "annotations", annotations)
    if annotate and monitor:
        return MetricsDiscovery.BOTH
    if monitor:
        return MetricsDiscovery.POD_MONITOR
    return MetricsDiscovery.ANNOTATIONS if annotate else MetricsDiscovery.NONE


@dataclass(frozen=True, slots=True)  # slots: a chart keeps it for the process's life
class MetricsDefaults:
    """Discovery defaults of every MetricsAdapter below a scope (see :func:`metrics_defaults`)."""

    discovery: MetricsDiscovery | None = None
    pod_monitor_labels: Mapping[str, str] = field(default_factory=dict)
    scrape_interval: str | None = None  # a Prometheus duration


#: Whether :func:`metrics_defaults` ran in this process (else no adapter walks its scopes).
_DEFAULTS_SET = False


def metrics_defaults(
    scope: constructs.Construct,
    *,
    discovery: MetricsDiscovery | None = None,
    pod_monitor_labels: Mapping[str, str] | None = None,
    scrape_interval: cdk8s.Duration | None = None,
) -> MetricsDefaults:
    """Set the discovery defaults once for every :class:`MetricsAdapter` created below ``scope``
    (an app, a chart or any construct above the adapters), e.g. the label a stock
    kube-prometheus-stack selects PodMonitors by::

        metrics_defaults(app, discovery=MetricsDiscovery.POD_MONITOR,
                         pod_monitor_labels={"release": "kube-prometheus-stack"})

    An adapter's own props win: its ``discovery``/``annotations``/``pod_monitor`` replace the
    default mechanism, its ``pod_monitor_labels`` are added to (and override) the default labels,
    its ``scrape_interval`` replaces the default. The labels and interval apply only to adapters
    that make a PodMonitor. Defaults of a nearer scope (a chart) replace those of a farther one
    (the app) as a whole. Call it before creating the adapters; calling it again for the same
    scope replaces its defaults.
    """
    where = f"metrics_defaults({_checks.path_of(scope) or 'app'})"
    chosen = (
        None if discovery is None else _checks.enum_member(where, "discovery", MetricsDiscovery, discovery)
    )
    interval = None
    if scrape_interval is not None:
        ms = _checks.duration_at_least(where, "scrape_interval", scrape_interval, 1000, "use at least 1s")
        interval = _checks.go_duration(ms)
    defaults = MetricsDefaults(chosen, _pod_monitor_labels(where, pod_monitor_labels), interval)
    _checks.memo(scope)["metrics_defaults"] = defaults  # kept with the scope, freed with it
    global _DEFAULTS_SET
    _DEFAULTS_SET = True
    return defaults


def _defaults_for(scope: constructs.Construct) -> MetricsDefaults | None:
    """The defaults of the nearest scope at or above ``scope`` that has some (no node round trip
    unless :func:`metrics_defaults` was called in this process)."""
    node: Any = scope
    while _DEFAULTS_SET and node is not None:
        known: MetricsDefaults | None = _checks.recalled(node, "metrics_defaults")
        if known is not None:
            return known
        node = node.node.scope
    return None


def _pod_monitor_labels(where: str, labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    checked = _checks.string_mapping(where, "pod_monitor_labels", labels)
    for key, value in checked.items():
        _checks.label(where, "pod_monitor_labels", key, value)
    return dict(sorted(checked.items()))


# --- checked props -> render (pure: no pod, no seam, no node) ---------------------------


def render(c: CheckedMetricsAdapter) -> PodAdditions:
    """What the metrics adapter adds to the pod, from the checked props alone."""
    plan = c.plan
    config = None
    if plan.config_file is not None and plan.config_text is not None:
        config = ConfigFiles(c.name, {plan.config_file: plan.config_text}, c.config_dir)
    secrets = None
    if plan.secret_files:  # one Secret (check_props)
        items = {value.key: file for value, file in plan.secret_files}
        secrets = SecretFiles(f"{c.name}-auth", plan.secret_files[0][0].secret, items, c.secret_dir, 0o440)
    mounts = [config.mount] if config is not None else []
    mounts += [secrets.mount] if secrets is not None else []
    return PodAdditions(
        owner=c.name,
        containers=[(_exporter(c, mounts), c.container_kind)],
        config=config,
        secrets=[secrets] if secrets is not None else [],
        app_env=[AppEnv(c.main, env_name, value, "source.env") for env_name, value in plan.app_env.items()],
        annotations=_annotations(c),
        # StatsD, JMX: bound on the pod's 127.0.0.1
        loopback_ports=[
            LoopbackPort(number, f"source.{c.source.kind}_port", protocol)
            for number, protocol in plan.loopback_ports
        ],
        # The pod's fsGroup makes the kubelet add group read to the 0440 Secret files.
        fs_group=plan.uid if secrets is not None else None,
    )


def _exporter(c: CheckedMetricsAdapter, mounts: list[Mount]) -> ContainerSpec:
    """The exporter container: its metrics port, probes, config and Secret mounts."""
    plan = c.plan
    ports = [Port(c.port_name, c.port, name_prop="port_name", number_prop="port")]
    # Every exporter serves its own /metrics; probe that (json_exporter's /probe needs a target).
    probe = HttpProbe(path="/metrics", port=c.port, period_seconds=10, timeout_seconds=2)
    return ContainerSpec(
        name=c.name,
        image=plan.image,
        # Go exporters idle at a few MiB and spend CPU only while a scrape runs.
        resources=c.resources or container_resources(*plan.resources),
        uid=plan.uid,
        gid=plan.uid,
        command=plan.command,
        args=plan.args,
        ports=ports,
        mounts=mounts,
        env=plan.env,
        readiness=probe,
        liveness=HttpProbe(
            path="/metrics", port=c.port, period_seconds=20, timeout_seconds=2, failure_threshold=3
        ),
    )


def _annotations(c: CheckedMetricsAdapter) -> list[Annotation]:
    """The ``prometheus.io/*`` pod annotations, when they are the discovery mechanism."""
    if not c.annotations:
        return []
    found = [
        Annotation("prometheus.io/scrape", "true", "annotations"),
        Annotation("prometheus.io/port", str(c.port), "annotations"),
        Annotation("prometheus.io/path", c.plan.path, "annotations"),
    ]
    # json_exporter's module/target: the prometheus-community chart maps
    # prometheus.io/param_<name> annotations to URL parameters.
    found += [Annotation(f"prometheus.io/param_{k}", v, "annotations") for k, v in c.plan.params.items()]
    return found


def pod_monitor_endpoints(c: CheckedMetricsAdapter) -> list[PodMetricsEndpoint]:
    """What the PodMonitor lists: this adapter's endpoint, then the peers' (``also_scrape``)."""
    return [
        PodMetricsEndpoint(port_name, path, dict(params), c.scrape_interval)
        for port_name, path, params in [(c.port_name, c.plan.path, c.plan.params), *c.also_scrape]
    ]


@dataclass(frozen=True)
class PodMetricsEndpoint:
    """One ``spec.podMetricsEndpoints[]`` entry of a PodMonitor: the fields the adapter sets.

    Typed from the Prometheus Operator API (pkg/apis/monitoring/v1/podmonitor_types.go); the
    tests validate the rendered object against the CRD schema (via the CRD-generated models of
    PyPI ``cloudcoil-models-prometheus-operator``). ``port`` is a container port NAME.
    """

    port: str
    path: str = "/metrics"
    params: Mapping[str, str] = field(default_factory=dict)
    #: A Prometheus duration ('15s'); None: the Prometheus resource's scrapeInterval.
    interval: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"port": self.port, "path": self.path}
        if self.params:
            out["params"] = {k: [v] for k, v in self.params.items()}
        if self.interval is not None:
            out["interval"] = self.interval
        return out


#: The label cdk8s-plus gives each workload's pods and selects them by (one value per workload).
_ADDR_LABEL = "cdk8s.io/metadata.addr"


class _PodMonitor(HeldUntilSynth, cdk8s.ApiObject):
    """Prometheus Operator ``monitoring.coreos.com/v1`` PodMonitor (podmonitor_types.go).

    The selector follows each kind's own: a Deployment, StatefulSet or DaemonSet selects its
    pods by its ``matchLabels``; a Job's selector is generated by the API server
    (``batch.kubernetes.io/controller-uid``) and a Pod has none, so for Jobs, CronJobs and Pods
    it is the pod template's labels (cdk8s-plus gives every pod ``cdk8s.io/metadata.addr``).

    :meth:`attach` writes the selector the workload has when the adapter attaches, if it holds
    cdk8s-plus's ``cdk8s.io/metadata.addr`` label: that label names this workload's pods alone,
    so labels the user selects by later cannot change what it selects. Without it (the
    workload built with ``select=False``) the selector is only known once the app synthesizes
    (``deployment.select(...)``): :class:`_LatePodMonitor` renders it then.
    """

    @staticmethod
    def attach(
        scope: constructs.Construct,
        id: str,
        target: Workload,
        selector: Mapping[str, str],
        endpoints: list[PodMetricsEndpoint],
        *,
        labels: dict[str, str],
        where: str,
    ) -> _PodMonitor:
        if _ADDR_LABEL in selector:
            return _PodMonitor(scope, id, endpoints, selector, labels=labels)
        late = _LatePodMonitor(scope, id, endpoints, {}, labels=labels)
        late.target, late.where = target, where
        return late

    #: Dropped once App.synth() wrote the workload (HeldUntilSynth): a late PodMonitor is written by then.
    _HELD = ("endpoints",)

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        endpoints: list[PodMetricsEndpoint],
        selector: Mapping[str, str],
        *,
        labels: dict[str, str],
    ) -> None:
        #: What the PodMonitor lists (a tuple: a static PodMonitor's spec is written at attach).
        self.endpoints = tuple(endpoints)
        super().__init__(
            scope,
            id,
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=cdk8s.ApiObjectMetadata(labels=labels),
        )
        if selector:  # Python's ApiObject takes no spec prop: it goes in as a patch
            self.add_json_patch(cdk8s.JsonPatch.add("/spec", self._spec(selector)))

    def _spec(self, selector: Mapping[str, str]) -> dict[str, Any]:
        return {
            "podMetricsEndpoints": [e.to_json() for e in self.endpoints],
            "selector": {"matchLabels": dict(sorted(selector.items()))},
        }


class _LatePodMonitor(_PodMonitor):
    """A PodMonitor whose selector is read from the workload when the app synthesizes."""

    #: The workload, and the adapter's path for messages (set by :meth:`_PodMonitor.attach`).
    target: Workload
    where: str

    def to_json(self) -> Any:
        doc = super().to_json()
        target = self.target
        if isinstance(target, SELECTING_WORKLOADS):
            match = dict(target.match_labels)
        else:
            match = dict(target.pod_metadata.to_json().get("labels", {}))
        if not match:
            # An empty selector would select every pod of the namespace.
            raise PropsError(
                self.where,
                "pod_monitor",
                True,
                f"the {type(target).__name__} selects its pods by no label (select=False), so the "
                "PodMonitor would select every pod of the namespace",
                "call select(...) on the workload, or keep cdk8s-plus's default selector",
            )
        doc["spec"] = self._spec(match)
        return doc
