"""Adapter pattern: one uniform Prometheus endpoint for every app, whatever it exports.

An exporter container in the pod converts the main container's own monitoring output
(StatsD, nginx stub_status, Redis INFO, JMX, app JSON) into Prometheus exposition on a
container port named ``metrics`` at ``/metrics``. Discovery is the same for every app:
``prometheus.io/*`` pod annotations and/or a Prometheus Operator ``PodMonitor``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
from ._checks import Workload
from ._errors import ConstructsLibError, PropsError
from ._metrics_sources import MetricsSource
from ._pod import ContainerSpec, HttpProbe, Mount, PodSeam, Port, container_resources


class MetricsEndpoint(Protocol):
    """Anything in the pod that serves Prometheus metrics on a named port (SidecarGitSync,
    RedisAmbassador, another MetricsAdapter)."""

    @property
    def metrics_port_name(self) -> str | None: ...

    @property
    def metrics_path(self) -> str: ...

    @property
    def workload(self) -> Workload: ...


class MetricsAdapter(constructs.Construct):
    """Expose the main container's metrics in the uniform model: port ``metrics``, ``/metrics``.

    Args:
        scope: construct scope.
        id: construct id.
        workload: the workload whose app exports the metrics (Deployment, StatefulSet,
            DaemonSet, Job, CronJob or Pod).
        deployment: older name of ``workload`` (pass one of the two).
        source: what the app exports, e.g. ``MetricsSource.statsd(mappings=[...])``.
        port: the exporter's HTTP port. Default: the exporter's conventional port
            (statsd 9102, nginx 9113, redis 9121, json 7979, jmx 9404).
        port_name: name of that container port (at most 15 characters). Default ``metrics``.
        annotations: add ``prometheus.io/scrape|port|path`` pod annotations (one port per
            pod by convention). Default True.
        pod_monitor: add a Prometheus Operator ``PodMonitor`` listing this adapter and
            ``also_scrape``. Default False.
        pod_monitor_labels: labels on the PodMonitor (what the operator's
            ``podMonitorSelector`` matches, e.g. ``{"release": "kube-prometheus-stack"}``).
        also_scrape: other metrics endpoints of the same pod (e.g. a SidecarGitSync, a
            RedisAmbassador) that the PodMonitor lists too; needs ``pod_monitor=True``.
        scrape_interval: PodMonitor scrape interval. Default Prometheus' global interval.
        service: also create a ClusterIP Service exposing the metrics port (for
            ServiceMonitors or ad-hoc scraping). Default False.
        native_sidecar: run the exporter as a native sidecar (Kubernetes >= 1.29): it starts
            before the app and is stopped after it. Required in Jobs, CronJobs and Pods that
            never restart, whose pods could not complete with a classic sidecar. Default False.
        name: container name and volume-name prefix. Default ``metrics-adapter``.
        container_name: the main container. Default: the workload's only app container.
        resources: exporter requests/limits. Default 10m/32Mi requests, 200m/64Mi limits.
    """

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
        annotations: bool = True,
        pod_monitor: bool = False,
        pod_monitor_labels: Mapping[str, str] | None = None,
        also_scrape: Sequence[MetricsEndpoint] = (),
        scrape_interval: cdk8s.Duration | None = None,
        service: bool = False,
        native_sidecar: bool = False,
        name: str = "metrics-adapter",
        container_name: str | None = None,
        resources: kplus.ContainerResources | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = self.node.path
        # --- resolve and check every prop before touching the pod ---
        target = self.workload = self.deployment = _checks.pattern_workload(where, workload, deployment)
        _checks.same_namespace(where, self, target)
        resources = _checks.resources(where, resources)
        if isinstance(also_scrape, str) or not isinstance(also_scrape, list | tuple):
            raise PropsError(
                where,
                "also_scrape",
                type(also_scrape).__name__,
                "not a list",
                "pass also_scrape=[site, cache]",
            )
        if pod_monitor_labels is not None:
            pod_monitor_labels = _checks.string_mapping(where, "pod_monitor_labels", pod_monitor_labels)
        if not isinstance(source, MetricsSource):
            raise PropsError(
                where,
                "source",
                source,
                "not a MetricsSource",
                "build one with MetricsSource.statsd(...), .nginx(), .redis(), .json(), .jmx() or .custom()",
            )
        self.name = _checks.dns_label(where, "name", name)
        if source.kind == "custom" and port is not None and port != source.default_port:
            raise PropsError(
                where,
                "port",
                port,
                f"the custom exporter listens on {source.default_port} (source.port)",
                "set the port once, in MetricsSource.custom(port=...)",
            )
        self.port = _checks.port_number(where, "port", port if port is not None else source.default_port)
        self.port_name = _checks.port_name(where, "port_name", port_name)
        annotations = _checks.boolean(where, "annotations", annotations)
        pod_monitor = _checks.boolean(where, "pod_monitor", pod_monitor)
        service = _checks.boolean(where, "service", service)
        native_sidecar = _checks.boolean(where, "native_sidecar", native_sidecar)
        config_dir, secret_dir = f"/etc/{name}", f"/etc/{name}-auth"
        plan = source.plan(where, self.port, config_dir, secret_dir)
        self.source = source
        self.scrape_path = plan.path  # what Prometheus requests (json_exporter: /probe)
        self.scrape_params = dict(plan.params)  # and its URL parameters
        others = self._other_endpoints(where, also_scrape)
        if others and not pod_monitor:
            raise PropsError(
                where,
                "also_scrape",
                [e[0] for e in others],
                "prometheus.io annotations can name one port per pod",
                "pass pod_monitor=True so the PodMonitor lists every port",
            )
        if not pod_monitor and (pod_monitor_labels or scrape_interval is not None):
            raise PropsError(
                where,
                "pod_monitor_labels" if pod_monitor_labels else "scrape_interval",
                pod_monitor_labels or scrape_interval,
                "only used by the PodMonitor",
                "pass pod_monitor=True",
            )
        for label_key, label_value in (pod_monitor_labels or {}).items():
            _checks.label(where, "pod_monitor_labels", label_key, label_value)
        interval = None
        if scrape_interval is not None:
            interval = _checks.go_duration(
                _checks.duration_at_least(where, "scrape_interval", scrape_interval, 1000, "use at least 1s")
            )

        seam = PodSeam.of(target)
        self.main_container = seam.main_container(container_name, where=where)
        container_kind = seam.looping_kind(native_sidecar, where=where)
        for number, protocol in plan.loopback_ports:  # StatsD: only the app on localhost sends
            seam.reserve_loopback_port(
                number, name, where=where, prop="source.statsd_port", protocol=protocol
            )
        mounts: list[Mount] = []
        self.config_map: kplus.ConfigMap | None = None
        if plan.config_file is not None and plan.config_text is not None:
            files = {plan.config_file: plan.config_text}
            self.config_map, config = seam.add_config_files(self, name, files, path=config_dir, where=where)
            mounts.append(config)
        if plan.secret_files:
            (first, _), *rest = plan.secret_files
            if any(v.secret is not first.secret for v, _ in rest):
                raise PropsError(
                    where, "source", source, "secret files from several Secrets", "use one Secret"
                )
            items = {value.key: file for value, file in plan.secret_files}
            mounts.append(
                seam.add_secret_files(
                    self, f"{name}-auth", first.secret, items, path=secret_dir, mode=0o440, where=where
                )
            )
            seam.ensure_fs_group(plan.uid)
        ports = [Port(self.port_name, self.port)]
        # Every exporter serves its own /metrics; probe that (json_exporter's /probe needs a target).
        probe = HttpProbe(path="/metrics", port=self.port, period_seconds=10, timeout_seconds=2)
        spec = ContainerSpec(
            name=name,
            image=plan.image,
            # Go exporters idle at a few MiB and spend CPU only while a scrape runs.
            resources=resources or container_resources(10, 200, 32, 64),
            uid=plan.uid,
            gid=plan.uid,
            command=plan.command,
            args=plan.args,
            ports=ports,
            mounts=mounts,
            env=plan.env,
            readiness=probe,
            liveness=HttpProbe(
                path="/metrics", port=self.port, period_seconds=20, timeout_seconds=2, failure_threshold=3
            ),
        )
        self.container = seam.add_container(spec, kind=container_kind, where=where)
        for env_name, value in plan.app_env.items():
            seam.add_env(self.main_container, env_name, value, where=where, prop="source env")

        # --- discovery ---
        path, params = self.scrape_path, self.scrape_params
        if annotations:
            seam.annotate("prometheus.io/scrape", "true", where=where, prop="annotations")
            seam.annotate("prometheus.io/port", str(self.port), where=where, prop="annotations")
            seam.annotate("prometheus.io/path", path, where=where, prop="annotations")
            # json_exporter's module/target: the prometheus-community chart maps
            # prometheus.io/param_<name> annotations to URL parameters.
            for param, param_value in params.items():
                seam.annotate(f"prometheus.io/param_{param}", param_value, where=where, prop="annotations")
        self.pod_monitor: _PodMonitor | None = None
        if pod_monitor:
            endpoints = [_pod_metrics_endpoint(self.port_name, path, params, interval)]
            endpoints += [
                _pod_metrics_endpoint(p, ep_path, ep_params, interval) for p, ep_path, ep_params in others
            ]
            # Prometheus Operator API monitoring.coreos.com/v1 PodMonitor (podmonitor_types.go):
            # spec.selector is required; podMetricsEndpoints[].port is a container port NAME.
            self.pod_monitor = _PodMonitor(
                self, "pod-monitor", target, endpoints, labels=dict(pod_monitor_labels or {}), where=where
            )
        self.service: kplus.Service | None = None
        if service:
            self.service = kplus.Service(
                self,
                "service",
                selector=target,
                ports=[kplus.ServicePort(port=self.port, target_port=self.port, name=self.port_name)],
            )

    def _other_endpoints(
        self, where: str, also_scrape: Sequence[MetricsEndpoint]
    ) -> list[tuple[str, str, dict[str, str]]]:
        """(port name, path, params) of the peers; they must serve metrics in this very pod.

        A peer without a metrics port right now (git-sync with metrics=False, an ambassador in
        development mode) is left out, so switching a peer's mode needs no change here.
        """
        found: dict[str, tuple[str, str, dict[str, str]]] = {}
        for i, other in enumerate(also_scrape):
            owner = getattr(other, "workload", None)
            # `is` first: comparing paths costs two jsii round trips per side.
            if owner is None or (owner is not self.workload and owner.node.path != self.workload.node.path):
                raise PropsError(
                    where,
                    f"also_scrape[{i}]",
                    type(other).__name__,
                    f"it is not attached to this {type(self.workload).__name__}",
                    "list only patterns attached to the same workload (its pods carry their ports)",
                )
            port_name = other.metrics_port_name
            if port_name is not None:
                params = dict(getattr(other, "metrics_params", {}))
                found.setdefault(port_name, (port_name, other.metrics_path, params))
        return list(found.values())

    @property
    def metrics_port_name(self) -> str:
        return self.port_name

    @property
    def metrics_params(self) -> dict[str, str]:
        return dict(self.scrape_params)

    @property
    def metrics_path(self) -> str:
        return self.scrape_path


class _PodMonitor(cdk8s.ApiObject):
    """Prometheus Operator ``monitoring.coreos.com/v1`` PodMonitor (podmonitor_types.go).

    ``spec.selector`` is required and the workload's labels can still change after the
    adapter is built (``deployment.select(...)``), so the spec is rendered at synth time.
    ``podMetricsEndpoints[].port`` is a container port NAME.

    The selector follows each kind's own: a Deployment, StatefulSet or DaemonSet selects its
    pods by its ``matchLabels``; a Job's selector is generated by the API server
    (``batch.kubernetes.io/controller-uid``) and a Pod has none, so for Jobs, CronJobs and Pods
    it is the pod template's labels (cdk8s-plus gives every pod ``cdk8s.io/metadata.addr``).
    """

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        target: Workload,
        endpoints: list[dict[str, Any]],
        *,
        labels: dict[str, str],
        where: str,
    ) -> None:
        super().__init__(
            scope,
            id,
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=cdk8s.ApiObjectMetadata(labels=labels),
        )
        self._target = target
        self._endpoints = endpoints
        self._where = where

    def to_json(self) -> Any:
        doc = super().to_json()
        target = self._target
        if isinstance(target, kplus.Deployment | kplus.StatefulSet | kplus.DaemonSet):
            match = dict(target.match_labels)
        else:
            match = dict(target.pod_metadata.to_json().get("labels", {}))
        if not match:
            # An empty selector would select every pod of the namespace.
            raise ConstructsLibError(
                f"{self._where}: the {type(target).__name__} selects its pods by no label (select=False); "
                "call select(...) on it or keep cdk8s-plus's default selector"
            )
        doc["spec"] = {
            "podMetricsEndpoints": self._endpoints,
            "selector": {"matchLabels": dict(sorted(match.items()))},
        }
        return doc


def _pod_metrics_endpoint(
    port: str, path: str, params: Mapping[str, str], interval: str | None
) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"port": port, "path": path}
    if params:
        endpoint["params"] = {k: [v] for k, v in params.items()}
    if interval is not None:
        endpoint["interval"] = interval
    return endpoint
