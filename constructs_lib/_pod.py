"""THE seam between a pattern and a workload's pod template.

Every edit a pattern makes to a pod goes through :class:`PodSeam`: adding a sidecar,
init or native-sidecar container with the library's secure defaults, adding a volume,
mounting it, adding env to the main container, annotating the pod with a config hash,
and setting the pod's ``fsGroup``. The seam owns the collision checks (container names,
port numbers and names, volume names, mount paths, env names), so a pattern never has
to look at another pattern's containers.

What the seam adds is kept as Python data, in the API's own form, and written into the pod
when the app synthesizes (:meth:`PodSeam.apply_edits`, called by :class:`_PodOutput`): the
patterns' containers, their volumes, the mounts and env they give the app container, pod
annotations and the pod's ``fsGroup``. Each goes where cdk8s-plus-27 would have put it had
it been added through cdk8s-plus (after the user's items that existed when the pattern
attached; volumes in pod.ts ``_toPodSpec`` order), so the manifest is the one cdk8s-plus
would write, byte for byte. Why not cdk8s-plus verbs: each is a jsii round trip to node
(about 7 per added container, and as many reads of names the seam already knows); data
merged at synth costs one render per attach (bench/README.md: 182 -> 39 round trips per
Deployment for the three patterns). It also expresses what cdk8s-plus-27 cannot:

* ``restartPolicy: Always`` and probes on an init container (native sidecars,
  Kubernetes >= 1.29; cdk8s-plus-27 rejects probes on init containers),
* ``capabilities.drop: [ALL]`` (cdk8s-plus-27's ``Capability`` enum has no ``ALL``),
* ``seccompProfile: RuntimeDefault`` (not in cdk8s-plus-27's security context),
* the pod's ``fsGroup`` once the workload exists (its security context is read-only).

The seam reads the workload through node once per attach (:meth:`PodSeam.of` renders it),
so its checks see what the user added in between; that reading (:class:`_PodIndex`) lives only
until the pattern calls :meth:`PodSeam.done`. Between attaches the seam keeps only what the
patterns asked for (a container is its :class:`ContainerSpec`, rendered at synth), which keeps
the Python heap near the hand-written program's (bench/README.md, peak memory).

Why a replacement ApiObject and not a JSON patch: ``KubeDeployment.toJson()`` rebuilds
the object from the typed 1.27 model *after* applying patches, which silently drops an
init container's ``restartPolicy`` (see REFERENCE.md, section 2). The seam therefore
swaps the workload's default child for a Python ApiObject that renders the original and
then applies the recorded edits, matching containers by name.

Every cdk8s-plus-27 workload works the same way: ``Deployment``, ``StatefulSet``,
``DaemonSet``, ``Job``, ``CronJob`` (the pod inside its job template) and ``Pod``. They all
render through one ApiObject child; only where the pod template sits in the document differs
(:data:`_TEMPLATE_PATH`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks, _pod_security
from ._checks import Workload
from ._errors import CollisionError, MainContainerError, PodSecurityError, PropsError

ContainerKind = Literal["sidecar", "init", "native"]

#: Where each kind's rendered document holds the pod template (metadata + spec).
_TEMPLATE_PATH: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_DEFAULT_TEMPLATE_PATH = ("spec", "template")
#: Kinds whose pods are selected by ``spec.selector.matchLabels`` (a Job's selector is generated
#: by the API server, a Pod has none: their pods are found by the template's labels).
_SELECTING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def pod_template(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod template (``metadata`` + ``spec``) inside a rendered workload document."""
    node = doc
    for key in _TEMPLATE_PATH.get(doc["kind"], _DEFAULT_TEMPLATE_PATH):
        node = node[key]
    return node


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class HttpProbe(_ProbeTiming):
    """An HTTP GET probe, renderable through cdk8s-plus or as raw Kubernetes JSON."""

    path: str
    port: int

    def to_k8s(self) -> dict[str, Any]:
        return {"httpGet": {"path": self.path, "port": self.port, "scheme": "HTTP"}, **self._k8s_timing()}


@dataclass(frozen=True, kw_only=True)
class ExecProbe(_ProbeTiming):
    """A probe that runs a command in the container (for servers bound to loopback)."""

    command: tuple[str, ...]

    def to_k8s(self) -> dict[str, Any]:
        return {"exec": {"command": list(self.command)}, **self._k8s_timing()}


@dataclass(frozen=True, kw_only=True)
class TcpProbe(_ProbeTiming):
    """A TCP connect probe: the process listens, whatever its own health page says."""

    port: int

    def to_k8s(self) -> dict[str, Any]:
        return {"tcpSocket": {"port": self.port}, **self._k8s_timing()}


Probe = HttpProbe | ExecProbe | TcpProbe


@dataclass(frozen=True)
class Port:
    """A named container port."""

    name: str
    number: int
    protocol: kplus.Protocol = kplus.Protocol.TCP
    #: The pattern's props these come from, named in errors.
    name_prop: str = "name"
    number_prop: str = "port"


@dataclass(frozen=True)
class Claim:
    """Something one attach will add, checked by :meth:`PodSeam.preflight` before anything is.

    ``what`` and ``value``: ``container``/``volume``/``port name`` with a name, ``port`` with
    ``(number, "TCP"|"UDP")``, ``mount`` with ``(container, path)``, ``env`` with
    ``(container, name)``; ``prop`` is the prop to change when it collides.
    """

    what: Literal["container", "volume", "port", "port name", "mount", "env"]
    value: Any
    prop: str


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    #: Command run before SIGTERM (e.g. a sleep that keeps a proxy up while the app drains).
    pre_stop: Sequence[str] | None = None


@dataclass(frozen=True)
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
        return _render_container(self.source, self.kind)

    @property
    def image(self) -> str:
        return self.source.image

    @property
    def args(self) -> list[str]:
        return list(self.source.args)


def _probes(spec: ContainerSpec) -> dict[str, Probe]:
    found = {"liveness": spec.liveness, "readiness": spec.readiness, "startup": spec.startup}
    return {k: v for k, v in found.items() if v is not None}


def _render_container(spec: ContainerSpec, kind: ContainerKind) -> dict[str, Any]:
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
        c["env"] = [{"name": k, **_deep_merge({}, v)} for k, v in spec.env.items()]
    if spec.ports:
        c["ports"] = [
            {"containerPort": p.number, "name": p.name, "protocol": p.protocol.value} for p in spec.ports
        ]
    for probe_kind, probe in _probes(spec).items() if kind != "init" else ():
        c[f"{probe_kind}Probe"] = probe.to_k8s()
    if spec.pre_stop:
        c["lifecycle"] = {"preStop": {"exec": {"command": list(spec.pre_stop)}}}
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


def restricted_pod_security(workload: Workload) -> None:
    """Make the whole pod of ``workload`` meet the Pod Security Standard "restricted".

    Applied when the app synthesizes, so it covers every container: yours, the ones the
    patterns add, and ones added after this call. Where a field is missing it is filled in:
    pod-level ``runAsNonRoot: true`` and ``seccompProfile: RuntimeDefault``, and on every
    container ``allowPrivilegeEscalation: false`` and ``capabilities.drop: [ALL]`` (the
    fields cdk8s-plus-27 cannot express). What cannot be made compliant without changing
    what you asked for (uid 0, ``privileged``, a hostPath volume, an added capability other
    than ``NET_BIND_SERVICE``, host namespaces or ports, unsafe sysctls...) fails the synth
    with a message that names the container and the rule.

    Args:
        workload: any cdk8s-plus-27 workload (Deployment, StatefulSet, DaemonSet, Job,
            CronJob, Pod).
    """
    _checks.workload("restricted_pod_security", "workload", workload)
    PodSeam.of(workload, read=False).restrict()  # applied at synth: no need to read the pod now


#: Containers' resources the library built, by object id: rendering them needs no round trip.
_KNOWN_RESOURCES: dict[int, tuple[kplus.ContainerResources, dict[str, Any]]] = {}


@functools.lru_cache(maxsize=64)
def _container_resources(cpu_req: int, cpu_lim: int, mem_req: int, mem_lim: int) -> kplus.ContainerResources:
    # Built once per figure set: every Cpu/Size creation is a jsii round trip.
    resources = kplus.ContainerResources(
        cpu=kplus.CpuResources(request=kplus.Cpu.millis(cpu_req), limit=kplus.Cpu.millis(cpu_lim)),
        memory=kplus.MemoryResources(
            request=cdk8s.Size.mebibytes(mem_req), limit=cdk8s.Size.mebibytes(mem_lim)
        ),
    )
    _KNOWN_RESOURCES[id(resources)] = (
        resources,
        {
            "limits": {"cpu": f"{cpu_lim}m", "memory": f"{mem_lim}Mi"},
            "requests": {"cpu": f"{cpu_req}m", "memory": f"{mem_req}Mi"},
        },
    )
    return resources


def _render_resources(resources: kplus.ContainerResources) -> dict[str, Any]:
    """``resources`` as cdk8s-plus-27 renders them (container.ts: cpu ``amount``, memory in
    ``Mi``, ephemeral storage in ``Gi``); the library's own need no round trip, a user's are read once."""
    known = _KNOWN_RESOURCES.get(id(resources))
    if known is not None:
        return {k: dict(v) for k, v in known[1].items()}
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
    _KNOWN_RESOURCES[id(resources)] = (resources, out)  # a user's, read once
    return {k: dict(v) for k, v in out.items()}


def _merge_in(user: list[Any], added: Sequence[tuple[int, Any]]) -> list[Any]:
    """``user``'s items with ``added`` ones inserted where cdk8s-plus would have put them: each
    ``(n, item)`` right after the first ``n`` user items (those that existed when it was added)."""
    out: list[Any] = []
    pending = list(added)
    for i, item in enumerate(user):
        out += [a for n, a in pending if n <= i]
        pending = [(n, a) for n, a in pending if n > i]
        out.append(item)
    return out + [a for _, a in pending]


@dataclass
class _PodIndex:
    """What the pod holds, as plain Python data: the collision checks read this instead of
    walking cdk8s-plus objects (each attribute read is a round trip to node).

    It is read from the rendered workload whenever a pattern starts (:meth:`PodSeam.of`), so
    it sees what the user added in between, and then overlaid with what the seam added.
    """

    containers: set[str] = field(default_factory=set)
    #: The user's app containers (``containers``, not init), in order.
    app_containers: list[str] = field(default_factory=list)
    ports: dict[tuple[int, str], str] = field(default_factory=dict)  # (number, protocol) -> container
    port_names: dict[str, str] = field(default_factory=dict)  # name -> container
    volumes: set[str] = field(default_factory=set)
    mounts: dict[str, dict[str, str]] = field(default_factory=dict)  # container -> path -> volume
    env: dict[str, set[str]] = field(default_factory=dict)  # container -> names
    annotations: set[str] = field(default_factory=set)  # pod-template annotation keys
    #: How many items each of the user's lists held (where the seam's additions go at synth):
    #: "containers", "initContainers", and (container, "volumeMounts" | "env").
    counts: dict[Any, int] = field(default_factory=dict)
    fs_group: int | None = None
    restart_policy: str | None = None
    termination_grace_seconds: int | None = None
    #: The labels that select the workload's pods: a Deployment's, StatefulSet's or
    #: DaemonSet's ``matchLabels``, else the pod template's labels (Jobs, CronJobs, Pods).
    selector: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, doc: Mapping[str, Any]) -> _PodIndex:
        if not doc:
            return cls()
        template = pod_template(dict(doc))
        pod = template.get("spec", {})
        sc = pod.get("securityContext", {})
        if doc["kind"] in _SELECTING_KINDS:
            selector = doc.get("spec", {}).get("selector", {}).get("matchLabels", {})
        else:
            selector = template.get("metadata", {}).get("labels", {})
        index = cls(
            selector=dict(selector),
            volumes={v["name"] for v in pod.get("volumes", [])},
            annotations=set(template.get("metadata", {}).get("annotations", {})),
            fs_group=sc.get("fsGroup"),
            restart_policy=pod.get("restartPolicy"),
            termination_grace_seconds=pod.get("terminationGracePeriodSeconds"),
            app_containers=[c["name"] for c in pod.get("containers", [])],
        )
        for key in ("initContainers", "containers"):
            index.counts[key] = len(pod.get(key, []))
            for c in pod.get(key, []):
                index._add_container(c)
                index.counts[(c["name"], "volumeMounts")] = len(c.get("volumeMounts", []))
                index.counts[(c["name"], "env")] = len(c.get("env", []))
        return index

    def _add_container(self, c: Mapping[str, Any]) -> None:
        name = c["name"]
        self.containers.add(name)
        for p in c.get("ports", []):
            self.ports.setdefault((p["containerPort"], p.get("protocol", "TCP")), name)
            if p.get("name"):
                self.port_names.setdefault(p["name"], name)
        self.mounts[name] = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        self.volumes.update(m["name"] for m in c.get("volumeMounts", []))
        self.env[name] = {e["name"] for e in c.get("env", [])}


def kplus_container(workload: Workload, name: str) -> kplus.Container:
    """The user's cdk8s-plus container ``name`` (for the patterns' ``main_container``)."""
    for c in workload.containers:
        if c.name == name:
            return c
    raise KeyError(name)


#: One seam per workload, found without a round trip (by the workload's Python object).
_SEAMS: dict[int, tuple[Workload, PodSeam]] = {}


class PodSeam:
    """The one place where patterns edit a workload's pod. Get it with :meth:`of`.

    Everything a pattern adds (containers, volumes, mounts and env in the app container,
    annotations, the pod's fsGroup) is kept here as Python data and written into the pod when
    the app synthesizes (:meth:`apply_edits`), where cdk8s-plus would have put it. The seam reads
    the workload through node once per attach (:meth:`of` renders it) and never otherwise. It is
    plain Python, not a construct: the workload's stand-in ApiObject (``_PodOutput``) is what
    node sees.
    """

    @classmethod
    def of(cls, workload: Workload, *, read: bool = True) -> PodSeam:
        """The seam of ``workload``, created on first use (one per workload). With ``read``
        (for a pattern that attaches) its index is re-read from the rendered workload, so it
        sees what the user added since the last attach."""
        known = _SEAMS.get(id(workload))
        if known is not None and known[0] is workload:
            seam = known[1]
            if read:
                seam._index = seam._read_index(seam._output.render_original())
            return seam
        original = cdk8s.ApiObject.of(workload)
        rendered = _render(original) if read else {}
        seam = cls(workload, original, rendered)
        if read:
            seam._index = seam._read_index(rendered)
        return seam

    def __init__(self, workload: Workload, original: cdk8s.ApiObject, rendered: Mapping[str, Any]) -> None:
        """Use :meth:`of`. ``original`` is the workload's ApiObject, ``rendered`` its rendering
        (or empty)."""
        _SEAMS[id(workload)] = (workload, self)
        self.workload = workload
        #: "Deployment", "Job", ... (used in messages and for kind-specific rules).
        self.kind = type(workload).__name__
        self._restricted = False
        #: The seam's additions, each with the count of user items it goes after (_merge_in).
        self._added: dict[str, list[tuple[int, AddedContainer]]] = {"initContainers": [], "containers": []}
        self._user_edits: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        self._volumes: dict[str, dict[str, Any]] = {}
        self._pod_edits: dict[str, Any] = {}
        self._annotations: dict[str, tuple[str, str]] = {}  # key -> (value, owner)
        self._claims: dict[tuple[str, str], str] = {}
        self._loopback_ports: dict[tuple[int, str], str] = {}
        self._output = _PodOutput.install(workload, original, rendered, self)
        self._attaching: _PodIndex | None = None

    @property
    def _index(self) -> _PodIndex:
        """What the pod holds while a pattern attaches (read by :meth:`of`, dropped by :meth:`done`)."""
        if self._attaching is None:
            raise RuntimeError("PodSeam: get the seam with PodSeam.of(workload) before a pattern edits it")
        return self._attaching

    @_index.setter
    def _index(self, index: _PodIndex) -> None:
        self._attaching = index

    def done(self) -> None:
        """The pattern has attached: drop the index (the next :meth:`of` reads the pod again),
        so a seam keeps only what the pattern added (bench/README.md, peak memory)."""
        self._attaching = None

    def _read_index(self, rendered: Mapping[str, Any]) -> _PodIndex:
        index = _PodIndex.read(rendered)
        for key in ("initContainers", "containers"):
            for _, added in self._added[key]:
                index._add_container(added.spec)
        for (container, what), items in self._user_edits.items():
            for _, item in items:
                if what == "volumeMounts":
                    index.mounts.setdefault(container, {})[item["mountPath"]] = item["name"]
                else:
                    index.env.setdefault(container, set()).add(item["name"])
        index.volumes.update(self._volumes)
        index.annotations.update(self._annotations)
        for (number, proto), owner in self._loopback_ports.items():  # not in the rendered pod
            taken_by = index.ports.setdefault((number, proto), owner)
            if taken_by != owner:
                raise CollisionError(
                    self.workload.node.path,
                    "port",
                    number,
                    f"container {taken_by!r} declares a port that {owner!r} already binds on 127.0.0.1",
                    f"give container {taken_by!r} another port",
                )
        return index

    @property
    def selector(self) -> dict[str, str]:
        """The labels that select the workload's pods when the pattern attached (see _PodIndex)."""
        return dict(self._index.selector)

    @property
    def runs_to_completion(self) -> bool:
        """True when the pod is meant to finish (Jobs, CronJobs, Pods that never restart):
        a looping classic sidecar would keep such a pod running forever."""
        if isinstance(self.workload, kplus.Job | kplus.CronJob):
            return True
        policy = self._index.restart_policy
        return policy is not None and policy != "Always"

    @property
    def termination_grace_ms(self) -> int:
        """The pod's termination grace period (Kubernetes' default: 30s)."""
        seconds = self._index.termination_grace_seconds
        return 30_000 if seconds is None else int(seconds) * 1000

    # --- containers ---------------------------------------------------------------

    def main_container(self, name: str | None, *, where: str, prop: str = "container_name") -> str:
        """The application container's name: the only one the user added, or ``name``."""
        names = sorted(self._index.app_containers)
        if name is not None:
            if name in names:
                return name
            raise MainContainerError(
                where,
                prop,
                name,
                f"the {self.kind} has no application container of that name (it has {names})",
                f"use one of {names}",
            )
        if len(names) == 1:
            return names[0]
        if not names:
            raise MainContainerError(
                where,
                prop,
                None,
                f"the {self.kind} has no application container",
                f"add the application container to the {self.kind} before attaching patterns",
            )
        raise MainContainerError(
            where,
            prop,
            None,
            f"the {self.kind} has several containers {names}; which one is the app is ambiguous",
            f"pass {prop}= one of {names}",
        )

    def add_container(
        self, spec: ContainerSpec, *, kind: ContainerKind, where: str, prop: str = "name"
    ) -> AddedContainer:
        """Add a sidecar, one-shot init container or native sidecar with secure defaults.

        Defaults: numeric non-root uid/gid, read-only root filesystem, no privilege
        escalation, every capability dropped, RuntimeDefault seccomp, ``Always`` pulls (the
        kubelet checks the registry and the pod's pull credentials on every start), the
        resources and probes of ``spec``. Rendered as cdk8s-plus-27 renders a container
        (container.ts ``_toKube``), so the manifest is the one cdk8s-plus would write.
        """
        _checks.dns_label(where, prop, spec.name)
        for label, uid in (("uid", spec.uid), ("gid", spec.gid)):
            if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
                raise PropsError(
                    where,
                    label,
                    uid,
                    "containers this library adds never run as root",
                    "use the image's non-root numeric uid (>= 10000 keeps clear of host users)",
                )
        taken = self._index.containers
        if spec.name in taken:
            raise CollisionError(
                where,
                prop,
                spec.name,
                "a container of that name already exists in the pod",
                f"pass another {prop}= (names taken: {sorted(taken)})",
            )
        seen: set[object] = set()
        for port in spec.ports:
            self._check_port(port, where)
            for key, what, value in (
                ((port.number, port.protocol.value), port.number_prop, port.number),
                (port.name, port.name_prop, port.name),
            ):
                if key in seen:
                    raise CollisionError(
                        where, what, value, "the container would declare it twice", f"choose another {what}"
                    )
                seen.add(key)
        mounts: dict[str, str] = {}
        for m in spec.mounts:
            self._check_mount(spec.name, mounts, m, where=where, prop="mounts")
            mounts[m.path] = m.volume
        added = AddedContainer(spec.name, kind, spec)
        c = added.spec
        key = "containers" if kind == "sidecar" else "initContainers"
        self._added[key].append((self._index.counts.get(key, 0), added))
        self._index._add_container(c)
        for port in spec.ports:  # first come, first served: ours take the ports they checked
            self._index.ports[(port.number, port.protocol.value)] = spec.name
            self._index.port_names[port.name] = spec.name
        return added

    def looping_kind(self, native_sidecar: bool, *, where: str) -> ContainerKind:
        """How to run a container that never exits on its own (a proxy, an exporter).

        A classic sidecar in a pod that must finish (Job, CronJob, a Pod that never restarts)
        keeps it running forever, so there it must be a native sidecar, which the kubelet
        stops once the app containers have exited (KEP-753, Kubernetes >= 1.29).
        """
        if native_sidecar:
            return "native"
        if self.runs_to_completion:
            raise PropsError(
                where,
                "native_sidecar",
                False,
                f"a classic sidecar never exits, so the {self.kind}'s pod would never complete",
                "pass native_sidecar=True (Kubernetes >= 1.29 stops native sidecars when the app exits)",
            )
        return "sidecar"

    def reserve_loopback_port(
        self,
        number: int,
        owner: str,
        *,
        where: str,
        prop: str,
        protocol: kplus.Protocol = kplus.Protocol.TCP,
    ) -> None:
        """Claim a port a container binds on 127.0.0.1 only. It is not declared as a
        containerPort (Services, probes and scrapers aim at declared ports on the pod IP, where
        a loopback listener answers nothing), yet it shares the pod's network namespace with
        every other container, so no other container may use it."""
        self._check_port(Port(f"loopback-{number}", number, protocol, number_prop=prop), where, named=False)
        self._loopback_ports[(number, protocol.value)] = owner
        self._index.ports[(number, protocol.value)] = owner

    def _check_port(self, port: Port, where: str, *, named: bool = True) -> None:
        prop = port.number_prop
        if named:
            _checks.port_name(where, port.name_prop, port.name)
        _checks.port_number(where, prop, port.number)
        proto = port.protocol.value
        owner = self._index.ports.get((port.number, proto))
        if owner is not None:
            raise CollisionError(
                where,
                prop,
                port.number,
                f"container {owner!r} already uses {proto} port {port.number} in this pod",
                "choose another port (all containers of a pod share one network namespace)",
            )
        owner = self._index.port_names.get(port.name) if named else None
        if owner is not None:
            raise CollisionError(
                where,
                port.name_prop,
                port.name,
                f"container {owner!r} already has a port of that name",
                "choose another port name (port names are unique in a pod)",
            )

    # --- volumes, mounts, env -----------------------------------------------------

    def add_volume(self, volume: dict[str, Any], *, where: str, prop: str = "name") -> str:
        """Add a volume (its API form, e.g. :func:`empty_dir`); return its name."""
        name = volume["name"]
        _checks.dns_label(where, prop, name)
        taken = self._index.volumes
        if name in taken:
            raise CollisionError(
                where,
                prop,
                name,
                "a volume of that name already exists in the pod",
                f"pass another {prop}= (volumes taken: {sorted(taken)})",
            )
        self._volumes[name] = volume
        taken.add(name)
        return str(name)

    def add_config_files(
        self, scope: constructs.Construct, prefix: str, files: Mapping[str, str], *, path: str, where: str
    ) -> tuple[kplus.ConfigMap, Mount]:
        """Rendered config files: a ConfigMap, its volume ``<prefix>-config`` mounted read-only at
        ``path``, and a ``checksum/<prefix>`` pod annotation so that a config change rolls the pods."""
        config_map = kplus.ConfigMap(scope, "config", data=dict(files))
        volume = self.add_volume(
            {"configMap": {"name": config_map.name}, "name": f"{prefix}-config"}, where=where
        )
        self.annotate_config_hash(prefix, *(f"{k}\0{v}" for k, v in sorted(files.items())), where=where)
        return config_map, Mount(path, volume, read_only=True)

    def add_secret_files(
        self,
        name: str,
        secret: kplus.ISecret,
        items: Mapping[str, str],
        *,
        path: str,
        mode: int,
        where: str,
    ) -> Mount:
        """Secret keys as files (``items``: key -> file name), volume ``name`` mounted read-only.

        Files are root-owned with ``mode``; the pod's fsGroup (see :meth:`ensure_fs_group`) makes
        the kubelet add group read, which is how a non-root sidecar reads a 0400 key.
        """
        source = {
            "defaultMode": mode,
            "items": [{"key": key, "path": file} for key, file in sorted(items.items())],
            "secretName": _checks.name_of(secret),
        }
        return Mount(path, self.add_volume({"name": name, "secret": source}, where=where), read_only=True)

    def _check_mount(
        self, container: str, mounts: Mapping[str, str], mount: Mount, *, where: str, prop: str
    ) -> None:
        _checks.absolute_path(where, prop, mount.path)
        if mount.path in mounts:
            raise CollisionError(
                where,
                prop,
                mount.path,
                f"container {container!r} already mounts volume {mounts[mount.path]!r} there",
                "choose another mount path",
            )

    def mount(self, container: str, mount: Mount, *, where: str, prop: str) -> None:
        """Mount a volume into the user's container ``container`` (written at synth)."""
        mounts = self._index.mounts.setdefault(container, {})
        self._check_mount(container, mounts, mount, where=where, prop=prop)
        item = {"mountPath": mount.path, "name": mount.volume, "readOnly": mount.read_only}
        self._user_edit(container, "volumeMounts", item)
        mounts[mount.path] = mount.volume

    def add_env(self, container: str, name: str, value: EnvSource, *, where: str, prop: str) -> None:
        """Set env variable ``name`` in the user's container ``container`` (written at synth)."""
        taken = self._index.env.setdefault(container, set())
        if name in taken:
            raise CollisionError(
                where,
                prop,
                name,
                f"container {container!r} already has an env variable of that name",
                f"choose another variable name ({prop})",
            )
        self._user_edit(container, "env", {"name": name, **value})
        taken.add(name)

    def _user_edit(self, container: str, what: str, item: dict[str, Any]) -> None:
        count = self._index.counts.get((container, what), 0)
        self._user_edits.setdefault((container, what), []).append((count, item))

    def port_name_free(self, name: str) -> bool:
        return name not in self._index.port_names

    def env_of(self, container: str) -> set[str]:
        """The env variable names ``container`` has now."""
        return set(self._index.env.get(container, set()))

    def mounts_of(self, container: str) -> set[str]:
        """The paths where ``container`` mounts volumes now."""
        return set(self._index.mounts.get(container, {}))

    def free_port(self, preferred: int, *, protocol: str = "TCP", avoid: Sequence[int] = ()) -> int:
        """``preferred``, or the next port above it that no container of the pod uses: the
        default of a port prop, so that a second instance of a pattern needs no port props."""
        number = preferred
        while (number, protocol) in self._index.ports or number in avoid:
            number += 1
        return number

    def preflight(self, claims: Sequence[Claim], *, where: str) -> None:
        """Check everything one attach will add against the pod, and report every collision
        in one :class:`CollisionError` (each naming the prop to change), before adding anything."""
        found: list[tuple[str, Any, str, str]] = []
        mine: dict[tuple[str, Any], str] = {}
        index = self._index
        for c in claims:
            owner: str | None = None
            if c.what == "container" and c.value in index.containers:
                owner = f"a container named {c.value!r} already exists in the pod"
            elif c.what == "volume" and c.value in index.volumes:
                owner = f"a volume named {c.value!r} already exists in the pod"
            elif c.what == "port" and c.value in index.ports:
                owner = f"container {index.ports[c.value]!r} already uses {c.value[1]} port {c.value[0]}"
            elif c.what == "port name" and c.value in index.port_names:
                owner = f"container {index.port_names[c.value]!r} already has a port named {c.value!r}"
            elif c.what == "mount" and c.value[1] in index.mounts.get(c.value[0], {}):
                owner = f"container {c.value[0]!r} already mounts a volume at {c.value[1]!r}"
            elif c.what == "env" and c.value[1] in index.env.get(c.value[0], set()):
                owner = f"container {c.value[0]!r} already has an env variable {c.value[1]!r}"
            elif (c.what, c.value) in mine and mine[(c.what, c.value)] != c.prop:
                owner = f"{mine[(c.what, c.value)]} has the same value"
            mine.setdefault((c.what, c.value), c.prop)
            if owner is not None:
                shown = (
                    c.value[0] if c.what == "port" else c.value[-1] if isinstance(c.value, tuple) else c.value
                )
                found.append((c.prop, shown, owner, f"pass another {c.prop}="))
        if found:
            raise CollisionError.of(where, found)

    def claim(self, what: str, value: str, *, where: str, prop: str) -> None:
        """Reserve a pattern-level name (a git-sync link...) that must be unique per pod."""
        owner = self._claims.setdefault((what, value), where)
        if owner != where:
            raise CollisionError(
                where,
                prop,
                value,
                f"{owner} already uses this {what} on the same {self.kind}",
                f"pass another {prop}=",
            )

    # --- pod-level -----------------------------------------------------------------

    def annotate(self, key: str, value: str, *, where: str, prop: str, fix: str | None = None) -> None:
        """Add a pod-template annotation; a key set twice through the seam is a collision."""
        mine = self._annotations.get(key)
        owner = mine[1] if mine is not None else None
        if owner is None and key in self._index.annotations:
            owner = f"the {self.kind}'s own pod metadata"
        if owner is not None and owner != where:
            raise CollisionError(
                where,
                prop,
                key,
                f"{owner} already sets this pod annotation",
                fix or f"change {prop} so they differ",
            )
        self._annotations[key] = (value, where)
        self._index.annotations.add(key)

    def annotate_config_hash(self, name: str, *texts: str, where: str) -> str:
        """Annotate the pod template with a hash of rendered config, so a change rolls the pods."""
        import hashlib  # here: loading OpenSSL's hashes adds ~10 ms to `import constructs_lib`

        digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
        self.annotate(f"checksum/{name}", digest, where=where, prop="name")
        return digest

    def ensure_fs_group(self, gid: int) -> int:
        """Give the pod an ``fsGroup`` unless it has one; return the effective group.

        When the library sets it, it also sets ``fsGroupChangePolicy: OnRootMismatch``: the
        kubelet then re-owns the user's own volumes (PVCs, CSI) only when their root does not
        already match, instead of a recursive chown on every mount. The library's own volumes
        are unaffected: emptyDir, Secret, ConfigMap and downwardAPI volumes pass no policy to
        the kubelet's SetVolumeOwnership and are always owned by the fsGroup (kubernetes
        pkg/volume/emptydir/empty_dir.go and pkg/volume/secret/secret.go: ``mounterArgs.FsGroup,
        nil /*fsGroupChangePolicy*/``). cdk8s-plus-27 always writes ``Always`` (its default),
        which without an fsGroup of the user's meant nothing.
        """
        existing = self._index.fs_group
        if existing is not None:
            return int(existing)
        current = self._pod_edits.setdefault("securityContext", {})
        current.setdefault("fsGroupChangePolicy", "OnRootMismatch")
        return int(current.setdefault("fsGroup", gid))

    # --- output-level edits (called by _PodOutput at synth time) -------------------

    def restrict(self) -> None:
        """Make the whole pod meet the Pod Security Standard "restricted" at synth time."""
        self._restricted = True

    def apply_edits(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Write the seam's additions into the rendered workload, then check the final pod.

        Each container, mount and env variable goes where cdk8s-plus would have put it had it
        been added through cdk8s-plus (after the user's items that existed when the pattern
        attached), and the pod's volumes follow cdk8s-plus's order (pod.ts ``_toPodSpec``: the
        volumes of each container's mounts in container order, init containers after, then
        volumes no container mounts). Construction-time checks see the pod as it is when a
        pattern attaches; this one sees the final pod, including containers and patches the
        user added afterwards. With :meth:`restrict`, every container of that final pod is
        hardened and checked too.
        """
        template = pod_template(doc)
        pod = template["spec"]
        for key in ("initContainers", "containers"):
            if self._added[key]:
                pod[key] = _merge_in(pod.get(key, []), [(n, added.spec) for n, added in self._added[key]])
        for c in pod.get("containers", []):
            for what in ("volumeMounts", "env"):
                added = self._user_edits.get((c["name"], what))
                if added:
                    c[what] = _merge_in(c.get(what, []), [(n, dict(item)) for n, item in added])
        pod_volumes = self._volumes_in_order(pod)
        if pod_volumes:
            pod["volumes"] = pod_volumes
        errors = pod_rule_errors(pod, self._loopback_ports)
        if errors:
            # Containers added after a pattern attached: only the rendered pod shows them.
            raise CollisionError(
                self.workload.node.path,
                "containers",
                sorted(c["name"] for key in ("initContainers", "containers") for c in pod.get(key, [])),
                "the API server would reject the pod: " + "; ".join(errors),
                "change the container you added after the pattern, or the pattern's name= or port props",
            )
        _deep_merge(pod, self._pod_edits)
        if self._annotations:
            metadata = template.setdefault("metadata", {})
            ours = {k: v for k, (v, _) in self._annotations.items()}
            metadata["annotations"] = dict(sorted({**metadata.get("annotations", {}), **ours}.items()))
            template["metadata"] = dict(sorted(metadata.items()))
        if self._restricted:
            _pod_security.harden(pod)
            refused = _pod_security.violations(pod, template.get("metadata", {}).get("annotations"))
            if refused:
                raise PodSecurityError(
                    self.workload.node.path,
                    "restricted_pod_security",
                    self.kind,
                    'a Pod Security "restricted" namespace would refuse the pod: ' + "; ".join(refused),
                    "change the fields named above, or do not call restricted_pod_security on this workload",
                )
        template["spec"] = _sorted(pod)  # sorts the edited containers too
        return doc

    def _volumes_in_order(self, pod: Mapping[str, Any]) -> list[dict[str, Any]]:
        rendered = {v["name"]: v for v in pod.get("volumes", [])}
        defined = {**self._volumes, **rendered}  # a user's mount of a pattern's volume renders it too
        names: list[str] = []
        for key in ("containers", "initContainers"):
            for c in pod.get(key, []):
                names += [m["name"] for m in c.get("volumeMounts", []) if m["name"] in defined]
        names += list(rendered) + list(self._volumes)  # volumes no container mounts, last
        return [defined[n] for n in dict.fromkeys(names)]


def pod_rule_errors(
    pod: Mapping[str, Any], loopback: Mapping[tuple[int, str], str] | None = None
) -> list[str]:
    """The API server's pod rules that JSON schemas cannot express, on a rendered pod spec;
    ``loopback`` lists ports containers bind on 127.0.0.1 without declaring them."""
    errors: list[str] = []
    everything = [*pod.get("initContainers", []), *pod.get("containers", [])]
    volume_names = [v["name"] for v in pod.get("volumes", [])]
    volumes = set(volume_names)
    names = [c["name"] for c in everything]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"two containers are named {dup!r}; rename one (container names are unique in a pod)")
    port_names: dict[str, str] = {}
    port_numbers: dict[tuple[int, str], str] = {}
    for c in everything:
        for p in c.get("ports", []):
            proto = p.get("protocol", "TCP")
            bound = (loopback or {}).get((p["containerPort"], proto))
            if bound is not None and bound != c["name"]:
                errors.append(
                    f"container {c['name']!r} declares port {p['containerPort']}, which {bound!r} binds"
                )
            owner = port_numbers.setdefault((p["containerPort"], proto), c["name"])
            if owner != c["name"]:
                errors.append(
                    f"containers {owner!r} and {c['name']!r} both use {proto} port {p['containerPort']}"
                )
            name = p.get("name")
            if name is not None:
                if len(name) > 15:
                    errors.append(f"container {c['name']!r}: port name {name!r} is longer than 15 characters")
                owner = port_names.setdefault(name, c["name"])
                if owner != c["name"]:
                    errors.append(f"containers {owner!r} and {c['name']!r} both have a port named {name!r}")
        paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
        for dup in sorted({p for p in paths if paths.count(p) > 1}):
            errors.append(f"container {c['name']!r} mounts two volumes at {dup!r}")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                errors.append(
                    f"container {c['name']!r} mounts {m['name']!r}, which is not a volume of the pod"
                )
    for dup in sorted({n for n in volume_names if volume_names.count(n) > 1}):
        errors.append(f"two volumes are named {dup!r}; rename one")
    return errors


#: apiVersion and kind of cdk8s-plus-27's workloads (each renders its own k8s.Kube* object).
_API_VERSIONS: dict[type, tuple[str, str]] = {
    kplus.Deployment: ("apps/v1", "Deployment"),
    kplus.StatefulSet: ("apps/v1", "StatefulSet"),
    kplus.DaemonSet: ("apps/v1", "DaemonSet"),
    kplus.Job: ("batch/v1", "Job"),
    kplus.CronJob: ("batch/v1", "CronJob"),
    kplus.Pod: ("v1", "Pod"),
}


class _PodOutput(cdk8s.ApiObject):
    """Stands in for a workload's ApiObject: renders it, then applies the seam's edits."""

    @classmethod
    def install(
        cls, workload: Workload, original: cdk8s.ApiObject, rendered: Mapping[str, Any], seam: PodSeam
    ) -> _PodOutput:
        if rendered:  # what it is called, from the rendering (no round trip per field)
            api_version, kind, name = rendered["apiVersion"], rendered["kind"], rendered["metadata"]["name"]
        elif type(workload) in _API_VERSIONS:
            (api_version, kind), name = _API_VERSIONS[type(workload)], original.name
        else:
            api_version, kind, name = original.api_version, original.kind, original.name
        # cdk8s-plus's own workload classes name their ApiObject "Resource" (base.ts), the id
        # ApiObject.of finds first (constructs' defaultChild); for a subclass, which may set
        # another default child, read the id.
        if type(workload) in _API_VERSIONS and workload.node.try_remove_child("Resource"):
            child_id = "Resource"
        else:
            child_id = original.node.id
            workload.node.try_remove_child(child_id)
        return cls(workload, child_id, original, seam, api_version=api_version, kind=kind, name=name)

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        original: cdk8s.ApiObject,
        seam: PodSeam,
        *,
        api_version: str,
        kind: str,
        name: str,
    ) -> None:
        super().__init__(
            scope, id, api_version=api_version, kind=kind, metadata=cdk8s.ApiObjectMetadata(name=name)
        )
        self.original = original
        self._seam = seam
        # What this stand-in's metadata holds now: the name, the chart's namespace and labels
        # (api-object.ts); only later additions through cdk8s.ApiObject.of(deployment).metadata
        # are carried over to the output.
        self._initial_metadata: dict[str, Any] = {"labels": dict(_checks.chart_labels(scope))}

    def render_original(self) -> dict[str, Any]:
        """The workload as cdk8s-plus renders it (one round trip to node)."""
        return _render(self.original)

    def to_json(self) -> Any:
        doc = self.original.to_json()
        # Labels and annotations added through cdk8s.ApiObject.of(deployment).metadata land
        # on this stand-in; carry them over. The stand-in has nothing but its metadata (its
        # patches go to the original), so rendering it is one round trip (metadata, then its
        # toJson, would be two).
        own = super().to_json().get("metadata", {})
        for key in ("labels", "annotations"):
            before = self._initial_metadata.get(key, {})
            added = {k: v for k, v in own.get(key, {}).items() if before.get(k) != v}
            if added:
                doc["metadata"][key] = dict(sorted({**doc["metadata"].get(key, {}), **added}.items()))
        for key in ("finalizers", "ownerReferences"):
            if own.get(key) and own.get(key) != self._initial_metadata.get(key):
                doc["metadata"][key] = own[key]
        return self._seam.apply_edits(doc)

    def add_json_patch(self, *ops: cdk8s.JsonPatch) -> None:
        # Patches made through cdk8s.ApiObject.of(deployment) keep working.
        self.original.add_json_patch(*ops)


def _render(api_object: cdk8s.ApiObject) -> dict[str, Any]:
    try:
        return dict(api_object.to_json())
    except RuntimeError:  # cdk8s-plus cannot render a pod without containers yet
        return {}


def _deep_merge(target: dict[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    for k, v in edits.items():
        if isinstance(v, Mapping) and isinstance(target.get(k), dict):
            _deep_merge(target[k], v)
        elif isinstance(v, Mapping):
            target[k] = _deep_merge({}, v)
        else:
            target[k] = list(v) if isinstance(v, list) else v
    return target


def _sorted(obj: Any) -> Any:
    """Sort mapping keys recursively, as cdk8s does, so output stays byte-identical."""
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(x) for x in obj]
    return obj
