"""What a pattern asks the seam to add, and how the seam renders it: container specs, probes,
ports, mounts, env sources, preStop waits, resources (and their checks), as cdk8s-plus-27 would
render them (container.ts ``_toKube``), hardened. Pure data and pure functions: no jsii calls but
the reads of a user's own ``ContainerResources`` (once each).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus

from . import _checks, _jsii_calls

if TYPE_CHECKING:
    from fractions import Fraction

from ._errors import PropsError

ContainerKind = Literal["sidecar", "init", "native"]


@dataclass(frozen=True, kw_only=True, slots=True)
class _ProbeTiming:
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    failure_threshold: int = 3

    def _k8s_timing(self) -> dict[str, Any]:
        return {
            "failureThreshold": self.failure_threshold,
            "initialDelaySeconds": self.initial_delay_seconds,
            "periodSeconds": self.period_seconds,
            "timeoutSeconds": self.timeout_seconds,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpProbe(_ProbeTiming):
    """An HTTP GET probe, renderable through cdk8s-plus or as raw Kubernetes JSON."""

    path: str
    port: int

    def to_k8s(self) -> dict[str, Any]:
        return {"httpGet": {"path": self.path, "port": self.port, "scheme": "HTTP"}, **self._k8s_timing()}


@dataclass(frozen=True, kw_only=True, slots=True)
class ExecProbe(_ProbeTiming):
    """A probe that runs a command in the container (for servers bound to loopback)."""

    command: tuple[str, ...]

    def to_k8s(self) -> dict[str, Any]:
        return {"exec": {"command": list(self.command)}, **self._k8s_timing()}


@dataclass(frozen=True, kw_only=True, slots=True)
class TcpProbe(_ProbeTiming):
    """A TCP connect probe: the process listens, whatever its own health page says."""

    port: int

    def to_k8s(self) -> dict[str, Any]:
        return {"tcpSocket": {"port": self.port}, **self._k8s_timing()}


Probe = HttpProbe | ExecProbe | TcpProbe


@dataclass(frozen=True, slots=True)
class Port:
    """A named container port."""

    name: str
    number: int
    protocol: kplus.Protocol = kplus.Protocol.TCP
    #: The pattern's props these come from, named in errors.
    name_prop: str = "name"
    number_prop: str = "port"


@dataclass(frozen=True, slots=True)
class Mount:
    """A volume (by name) mounted into a container."""

    path: str
    volume: str
    read_only: bool = False


#: An env variable's source as the API writes it: ``{"value": ...}`` or ``{"valueFrom": ...}``.
EnvSource = dict[str, Any]


def env_value(text: str) -> EnvSource:
    return {"value": text}


def env_secret(value: kplus.SecretValue) -> EnvSource:
    """A Secret key as an env variable (reads the key, and the Secret's name once per Secret)."""
    return {"valueFrom": {"secretKeyRef": {"key": value.key, "name": _checks.name_of(value.secret)}}}


def empty_dir(name: str, size_limit_mi: int | None = None) -> dict[str, Any]:
    return {"emptyDir": {"sizeLimit": f"{size_limit_mi}Mi"} if size_limit_mi else {}, "name": name}


@dataclass(frozen=True, slots=True)
class PreStopSleep:
    """Keep a container running ``seconds`` after its pod is told to stop, before its SIGTERM
    (a proxy that must outlive the app's last request).

    ``how``: ``"exec"`` runs ``sleep`` inside the container: any Kubernetes version, but the
    image must ship a ``sleep`` binary (a distroless image has none, and the kubelet then logs
    ``FailedPreStopHook`` and stops the container at once). ``"sleep"`` is Kubernetes' own
    ``lifecycle.preStop.sleep`` (KEP-3960, PodLifecycleSleepAction: beta and on by default
    since 1.30, GA in 1.34): the kubelet waits, nothing runs in the image; whole seconds only,
    and the 1.27-1.29 API servers refuse the field.
    """

    seconds: str
    how: Literal["exec", "sleep"] = "exec"

    def to_k8s(self) -> dict[str, Any]:
        if self.how == "sleep":
            return {"sleep": {"seconds": int(self.seconds)}}
        return {"exec": {"command": ["sleep", self.seconds]}}


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What a pattern asks the seam to add; the seam supplies the secure defaults."""

    name: str
    image: str
    resources: kplus.ContainerResources
    uid: int
    gid: int
    args: Sequence[str] = ()
    command: Sequence[str] | None = None
    ports: Sequence[Port] = ()
    mounts: Sequence[Mount] = ()
    env: Mapping[str, EnvSource] = field(default_factory=dict)
    liveness: Probe | None = None
    readiness: Probe | None = None
    startup: Probe | None = None
    #: A wait before SIGTERM (keeps a proxy up while the app drains).
    pre_stop: PreStopSleep | None = None


@dataclass(frozen=True, slots=True)
class AddedContainer:
    """A container a pattern added, as the library renders it (read-only).

    The library writes its containers into the pod itself, at synth (one round trip to node
    per workload instead of dozens, bench/README.md), so they are not cdk8s-plus
    ``Container`` objects and ``workload.containers`` does not list them. ``spec`` is the
    container exactly as it appears in the manifest, before ``restricted_pod_security``
    (rendered on each read from what the pattern asked for, which is all the seam keeps).
    """

    name: str
    #: "sidecar" (a regular container), "init" (runs to completion first) or "native"
    #: (an init container with ``restartPolicy: Always``, Kubernetes >= 1.29).
    kind: ContainerKind
    source: ContainerSpec = field(repr=False)

    @property
    def spec(self) -> dict[str, Any]:
        return render_container(self.source, self.kind)

    @property
    def image(self) -> str:
        return self.source.image

    @property
    def args(self) -> list[str]:
        return list(self.source.args)


def _probes(spec: ContainerSpec) -> dict[str, Probe]:
    found = {"liveness": spec.liveness, "readiness": spec.readiness, "startup": spec.startup}
    return {k: v for k, v in found.items() if v is not None}


def render_container(spec: ContainerSpec, kind: ContainerKind) -> dict[str, Any]:
    """``spec`` as cdk8s-plus-27 renders a container (container.ts ``_toKube``), hardened."""
    c: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "imagePullPolicy": "Always",
        "resources": _render_resources(spec.resources),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsGroup": spec.gid,
            "runAsNonRoot": True,
            "runAsUser": spec.uid,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if spec.args:
        c["args"] = list(spec.args)
    if spec.command is not None:
        c["command"] = list(spec.command)
    if spec.env:
        c["env"] = [{"name": k, **copy.deepcopy(dict(v))} for k, v in spec.env.items()]
    if spec.ports:
        c["ports"] = [
            {"containerPort": p.number, "name": p.name, "protocol": p.protocol.value} for p in spec.ports
        ]
    for probe_kind, probe in _probes(spec).items() if kind != "init" else ():
        c[f"{probe_kind}Probe"] = probe.to_k8s()
    if spec.pre_stop:
        c["lifecycle"] = {"preStop": spec.pre_stop.to_k8s()}
    if spec.mounts:
        c["volumeMounts"] = [
            {"mountPath": m.path, "name": m.volume, "readOnly": m.read_only} for m in spec.mounts
        ]
    if kind == "native":
        # Native sidecar (KEP-753, Kubernetes >= 1.29): an init container that keeps running.
        c["restartPolicy"] = "Always"
    return c


def container_resources(
    cpu_request_m: int, cpu_limit_m: int, mem_request_mi: int, mem_limit_mi: int
) -> kplus.ContainerResources:
    """Explicit CPU (millicores) and memory (MiB) requests and limits."""
    for prop, value in (
        ("cpu_request_m", cpu_request_m),
        ("cpu_limit_m", cpu_limit_m),
        ("mem_request_mi", mem_request_mi),
        ("mem_limit_mi", mem_limit_mi),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise PropsError("container_resources", prop, value, "not a positive integer", "use e.g. 100")
    if cpu_request_m > cpu_limit_m or mem_request_mi > mem_limit_mi:
        raise PropsError(
            "container_resources",
            "requests",
            (cpu_request_m, mem_request_mi),
            f"a request exceeds its limit ({cpu_limit_m}m, {mem_limit_mi}Mi); the API server rejects that",
            "keep each request at or below its limit",
        )
    return _container_resources(cpu_request_m, cpu_limit_m, mem_request_mi, mem_limit_mi)


@functools.lru_cache(maxsize=64)
def _container_resources(cpu_req: int, cpu_lim: int, mem_req: int, mem_lim: int) -> kplus.ContainerResources:
    # Built once per figure set: every Cpu/Size creation is a jsii round trip.
    with _jsii_calls.library_only():  # new value objects change no workload
        resources = kplus.ContainerResources(
            cpu=kplus.CpuResources(request=kplus.Cpu.millis(cpu_req), limit=kplus.Cpu.millis(cpu_lim)),
            memory=kplus.MemoryResources(
                request=cdk8s.Size.mebibytes(mem_req), limit=cdk8s.Size.mebibytes(mem_lim)
            ),
        )
    # Containers' resources the library built render with no round trip (_render_resources).
    _checks.memo(resources)["rendered"] = {
        "limits": {"cpu": f"{cpu_lim}m", "memory": f"{mem_lim}Mi"},
        "requests": {"cpu": f"{cpu_req}m", "memory": f"{mem_req}Mi"},
    }
    return resources


def _render_resources(resources: kplus.ContainerResources) -> dict[str, Any]:
    """``resources`` as cdk8s-plus-27 renders them (container.ts: cpu ``amount``, memory in
    ``Mi``, ephemeral storage in ``Gi``); the library's own need no round trip, a user's are read once."""
    known = _checks.recalled(resources, "rendered")
    if known is not None:
        return {k: dict(v) for k, v in known.items()}
    with _jsii_calls.library_only():  # reads (to_mebibytes() is an invoke, for jsii)
        out = _read_resources(resources)
    _checks.memo(resources)["rendered"] = out  # a user's, read once
    return {k: dict(v) for k, v in out.items()}


def _read_resources(resources: kplus.ContainerResources) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, value in (
        ("cpu", resources.cpu),
        ("memory", resources.memory),
        ("ephemeral-storage", resources.ephemeral_storage),
    ):
        if value is None:
            continue
        for side, amount in (("limits", value.limit), ("requests", value.request)):
            if amount is None:
                continue
            if isinstance(amount, kplus.Cpu):
                text = str(amount.amount)
            elif key == "memory":
                text = f"{amount.to_mebibytes()}Mi"
            else:
                text = f"{amount.to_gibibytes()}Gi"
            out.setdefault(side, {})[key] = text
    return out


#: Quantity suffixes cdk8s-plus-27 writes (cpu "m" or none; memory "Mi"; storage "Gi") and the rest
#: of the API's (k8s.io/apimachinery resource.Quantity), as multipliers (milli as a divisor).
_QUANTITY_UNITS: dict[str, int] = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def _quantity(text: str) -> Fraction | None:
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)", text)
    if match is None or (match[2] not in _QUANTITY_UNITS and match[2] != "m"):
        return None
    # fractions (and decimal below it) load only when a user's resources are compared: ~2 ms of
    # every import otherwise (issue 24).
    from fractions import Fraction

    amount = Fraction(match[1])
    return amount / 1000 if match[2] == "m" else amount * _QUANTITY_UNITS[match[2]]


def checked_resources(where: str, value: Any) -> kplus.ContainerResources | None:
    """A pattern's ``resources`` prop: a ``kplus.ContainerResources`` (or None) whose requests are
    at or below their limits (the API server rejects a pod otherwise: "must be less than or equal
    to ... limit"). :func:`container_resources` refuses the same on its integers."""
    if value is None:
        return None
    if not isinstance(value, kplus.ContainerResources):
        raise PropsError(
            where,
            "resources",
            type(value).__name__,
            "not a kplus.ContainerResources",
            "use container_resources(cpu_request_m, cpu_limit_m, mem_request_mi, mem_limit_mi)",
        )
    rendered = _render_resources(value)
    errors = []
    for key, request in sorted(rendered.get("requests", {}).items()):
        limit = rendered.get("limits", {}).get(key)
        req, lim = _quantity(request), _quantity(limit) if limit is not None else None
        if req is not None and lim is not None and req > lim:
            errors.append(f"the {key} request {request} exceeds its limit {limit}")
    if errors:
        raise PropsError(
            where,
            "resources",
            "; ".join(errors),
            "a request above its limit is refused by the API server",
            "keep each request at or below its limit, e.g. container_resources(100, 500, 64, 128)",
        )
    return value
