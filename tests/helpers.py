"""Test helpers: build apps, synthesize, and look at the pod the way the API server does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import kubernetes_validate
import yaml
from cdk8s import Testing as Cdk8sTesting  # bare `Testing` breaks pytest collection

from constructs_lib._workload_kinds import pod_template

#: The Kubernetes versions every manifest is validated against: the cdk8s-plus-27 target,
#: and the newest one kubernetes-validate ships.
K8S_OLDEST = "1.27"
K8S_NEWEST = "1.37"


def chart() -> cdk8s.Chart:
    return cdk8s.Chart(Cdk8sTesting.app(), "test")


def web(scope: cdk8s.Chart, *names: str) -> kplus.Deployment:
    """A Deployment with app containers ``names`` (default one container named ``app``)."""
    dep = kplus.Deployment(scope, "web")
    for i, name in enumerate(names or ("app",)):
        dep.add_container(
            name=name, image="nginxinc/nginx-unprivileged:1.27", ports=[kplus.ContainerPort(number=8080 + i)]
        )
    return dep


def statefulset(scope: cdk8s.Chart, name: str = "catalog") -> kplus.StatefulSet:
    """A StatefulSet with one app container ``name`` (uid 10001, port 8080); cdk8s-plus needs its
    containers at construction to make the headless Service."""
    return kplus.StatefulSet(
        scope,
        name,
        containers=[
            kplus.ContainerProps(
                name=name,
                image=f"example/{name}:1.0.0",
                ports=[kplus.ContainerPort(number=8080)],
                security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
            )
        ],
    )


def synth(scope: cdk8s.Chart) -> list[dict[str, Any]]:
    return list(Cdk8sTesting.synth(scope))


def kind(docs: list[dict[str, Any]], k: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == k]


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod spec of the one workload in ``docs``."""
    (only,) = workloads(docs)
    return dict(pod_template(only)["spec"])


def containers(docs: list[dict[str, Any]], key: str = "containers") -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod(docs).get(key, [])}


def all_containers(pod_spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod_spec.get("initContainers", [])
    yield from pod_spec.get("containers", [])


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def semantic_errors(doc: dict[str, Any]) -> list[str]:
    """Rules the API server enforces that JSON-schema validation cannot see."""
    errors: list[str] = []
    name = doc["metadata"]["name"]
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        errors.append(f"object name {name!r} is not a DNS-1123 subdomain")
    if doc["kind"] not in WORKLOAD_KINDS:
        return errors
    spec = pod_template(doc)["spec"]
    volumes = [v["name"] for v in spec.get("volumes", [])]
    if len(volumes) != len(set(volumes)):
        errors.append(f"duplicate volume names {volumes}")
    # A StatefulSet's claim templates are volumes of its pods (the controller adds them).
    claims = [t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])]
    if doc["kind"] == "StatefulSet":
        volumes += claims
    seen_containers: set[str] = set()
    port_names: set[str] = set()
    port_numbers: set[tuple[int, str]] = set()
    for c in all_containers(spec):
        cname = c["name"]
        if cname in seen_containers:
            errors.append(f"duplicate container name {cname!r}")
        seen_containers.add(cname)
        if not _DNS1123_LABEL.match(cname) or len(cname) > 63:
            errors.append(f"container name {cname!r} is not a DNS-1123 label")
        mount_paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
        if len(mount_paths) != len(set(mount_paths)):
            errors.append(f"{cname}: duplicate mount paths {mount_paths}")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                errors.append(f"{cname}: mount {m['mountPath']} names missing volume {m['name']!r}")
        for p in c.get("ports", []):
            pname = p.get("name")
            if pname is not None:
                if (
                    len(pname) > 15
                    or not re.match(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", pname)
                    or "--" in pname
                ):
                    errors.append(f"{cname}: invalid port name {pname!r}")
                if pname in port_names:
                    errors.append(f"{cname}: duplicate port name {pname!r}")
                port_names.add(pname)
            key = (p["containerPort"], p.get("protocol", "TCP"))
            if key in port_numbers:
                errors.append(f"{cname}: duplicate port {key}")
            port_numbers.add(key)
        is_native = c.get("restartPolicy") == "Always"
        if c in spec.get("initContainers", []) and not is_native:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if probe in c:
                    errors.append(f"{cname}: init container may not have {probe}")
    return errors


def pod_monitor_schema_errors(monitor: dict[str, Any]) -> list[str]:
    """Validate against the PodMonitor CRD's OpenAPI schema. No registry package ships the CRD
    YAML; PyPI cloudcoil-models-prometheus-operator ships pydantic models generated from it
    (types, required fields, patterns, enums, bounds). The models ignore unknown fields, so a
    round trip that loses a field means the CRD does not have it (the API server would prune it)."""
    import pydantic
    from cloudcoil.models.prometheus_operator.v1 import PodMonitor

    try:
        model = PodMonitor.model_validate(monitor)
    except pydantic.ValidationError as err:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
    kept = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return [f"{path}: not in the CRD schema" for path in _lost_fields(monitor, kept, "")]


def _lost_fields(given: Any, kept: Any, path: str) -> list[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        return [
            lost
            for key, value in given.items()
            for lost in (
                [f"{path}.{key}"] if key not in kept else _lost_fields(value, kept[key], f"{path}.{key}")
            )
        ]
    if isinstance(given, list) and isinstance(kept, list):
        return [
            lost
            for i, (g, k) in enumerate(zip(given, kept, strict=True))
            for lost in _lost_fields(g, k, f"{path}[{i}]")
        ]
    return []


def pod_monitor_errors(monitor: dict[str, Any], docs: list[dict[str, Any]]) -> list[str]:
    """The CRD schema (pod_monitor_schema_errors), plus what a schema cannot say, from the upstream
    types (prometheus-operator podmonitor_types.go): spec.selector matches a pod template, and
    each podMetricsEndpoints[].port names a container port of the pods it matches."""
    errors: list[str] = pod_monitor_schema_errors(monitor)
    if monitor.get("apiVersion") != "monitoring.coreos.com/v1":
        errors.append(f"apiVersion {monitor.get('apiVersion')!r}")
    spec = monitor.get("spec", {})
    selector = spec.get("selector", {}).get("matchLabels")
    if not selector:
        return [*errors, "spec.selector.matchLabels is missing"]
    pods = [
        pod_template(d)
        for d in workloads(docs)
        if selector.items() <= pod_template(d)["metadata"]["labels"].items()
    ]
    if not pods:
        errors.append(f"the selector {selector} matches no pod template")
    names = {p.get("name") for t in pods for c in all_containers(t["spec"]) for p in c.get("ports", [])}
    for ep in spec.get("podMetricsEndpoints", []):
        if ep.get("port") not in names:
            errors.append(f"endpoint port {ep.get('port')!r} is not a named container port of the pod")
        if not str(ep.get("path", "/metrics")).startswith("/"):
            errors.append(f"endpoint path {ep.get('path')!r}")
        if set(ep) - {"port", "path", "params", "interval", "scrapeTimeout", "scheme"}:
            errors.append(f"unknown endpoint fields {sorted(set(ep))}")
    if set(spec) - {"selector", "podMetricsEndpoints", "namespaceSelector", "jobLabel"}:
        errors.append(f"unknown spec fields {sorted(set(spec))}")
    return errors


def validate(docs: list[dict[str, Any]], version: str) -> None:
    """kubernetes-validate --strict, plus the semantic rules; raises on the first failure."""
    for doc in docs:
        if doc["kind"] == "PodMonitor":
            errors = pod_monitor_errors(doc, docs)
        else:
            kubernetes_validate.validate(doc, version, strict=True)
            errors = semantic_errors(doc)
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: {errors}"


def to_yaml(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)
