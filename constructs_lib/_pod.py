"""THE seam between a pattern and a workload's pod template.

Every edit a pattern makes to a pod goes through :class:`PodSeam`: adding a sidecar,
init or native-sidecar container with the library's secure defaults, adding a volume,
mounting it, adding env to the main container, annotating the pod with a config hash,
and setting the pod's ``fsGroup``. The seam owns the collision checks (container names,
port numbers and names, volume names, mount paths, env names), so a pattern never has
to look at another pattern's containers.

What the seam adds is kept as Python data, in the API's own form, and written into the pod
when the app synthesizes (:meth:`PodSeam.apply_edits`, called by :class:`PodOutput`): the
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

The seam swaps the workload's default child for a stand-in ApiObject (``_pod_output.py``) that
renders the original and hands it to :meth:`PodSeam.apply_edits`. Every cdk8s-plus-27 workload
works the same way; what differs per kind is data in ``_workload_kinds.py``.

The seam's neighbours, each one concern:

* ``_containers.py``: what a pattern asks for (:class:`ContainerSpec`, probes, ports, mounts, env,
  resources) and how a container renders, hardened;
* ``_workload_kinds.py``: where each kind keeps its pod template, how its pods are selected,
  its apiVersion and kind, a StatefulSet's claim templates;
* ``_pod_rules.py``: the API server's pod rules that JSON schemas cannot express;
* ``_pod_output.py``: the stand-in ApiObject that calls :meth:`PodSeam.apply_edits` at synth.

Only this module edits a pod: the others hold data and pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks, _jsii_calls, _pod_security
from ._additions import ConfigFiles, PodAdditions, SecretFiles
from ._checks import Workload
from ._containers import (
    AddedContainer,
    ContainerKind,
    ContainerSpec,
    EnvSource,
    Mount,
    Port,
)
from ._errors import CollisionError, ConstructsLibError, MainContainerError, PodSecurityError, PropsError
from ._pod_output import PodOutput, is_released, mark_released, released_error, render
from ._pod_rules import pod_rule_errors
from ._workload_kinds import SELECTING_KINDS, claim_template_names, pod_template

_jsii_calls.install()


@dataclass(frozen=True, slots=True)
class Claim:
    """Something one attach will add, checked by :meth:`PodSeam.preflight` before anything is.

    ``what`` and ``value``: ``container``/``volume``/``port name`` with a name, ``port`` with
    ``(number, "TCP"|"UDP")``, ``mount`` with ``(container, path)``, ``env`` with
    ``(container, name)``; ``prop`` is the prop to change when it collides.
    """

    what: Literal["container", "volume", "port", "port name", "mount", "env"]
    value: Any
    prop: str


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


class HeldUntilSynth:
    """What a pattern keeps only while its app is being built (issue 24, memory across apps).

    jsii keeps every object created from Python for the process's life, patterns included, so a
    pattern's checked props and rendered containers (3-7 KB each) would outlive its app. When
    ``App.synth()`` wrote the workload, the seam calls :meth:`let_go`: the attributes named in
    ``_HELD`` are dropped, and reading one afterwards raises a :class:`ConstructsLibError` that says
    so (the scalars a pattern gives, its names, paths and ports, stay).
    """

    #: The attributes dropped once ``App.synth()`` wrote the pattern's workload.
    _HELD: ClassVar[tuple[str, ...]] = ()

    #: True once :meth:`let_go` dropped them.
    _dropped = False

    def let_go(self) -> None:
        # delattr/setattr, not vars(): asking for an object's __dict__ makes Python build one.
        for name in self._HELD:
            if hasattr(self, name):
                delattr(self, name)
        self._dropped = True

    if not TYPE_CHECKING:  # for mypy, a __getattr__ would make every attribute name valid

        def __getattr__(self, name: str) -> Any:
            if name in type(self)._HELD and self._dropped:
                raise ConstructsLibError(
                    f"{self.node.path}: App.synth() already wrote this pattern's workload, and "
                    f"constructs_lib let go of its {name!r} (so that a process building many apps "
                    f"stays flat). Fix: read {name!r} before App.synth(), or use app.synth_yaml(), "
                    "which releases nothing"
                )
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def pattern_seam(
    scope: constructs.Construct, id: str, workload: Any, deployment: Any
) -> tuple[str, Workload, PodSeam]:
    """Where a pattern starts: its path (for errors), its checked workload (``deployment`` is
    the older name of ``workload``) in the scope's namespace, and the workload's seam."""
    where = _checks.child_path(scope, id)  # the pattern's node.path, without two round trips
    target = _checks.pattern_workload(where, workload, deployment)
    seam = PodSeam.of(target)
    # The workload's namespace as rendered (no Chart.of round trip; a namespace set on the
    # workload itself counts), else its chart's.
    _checks.same_namespace(where, scope, target, seam.namespace)
    return where, target, seam


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
    #: The workload's ``metadata.namespace`` as rendered; False when it could not be rendered.
    namespace: str | bool | None = False

    @classmethod
    def read(cls, doc: Mapping[str, Any]) -> _PodIndex:
        if not doc:
            return cls()
        template = pod_template(dict(doc))
        pod = template.get("spec", {})
        sc = pod.get("securityContext", {})
        if doc["kind"] in SELECTING_KINDS:
            selector = doc.get("spec", {}).get("selector", {}).get("matchLabels", {})
        else:
            selector = template.get("metadata", {}).get("labels", {})
        index = cls(
            namespace=doc.get("metadata", {}).get("namespace"),
            selector=dict(selector),
            volumes={v["name"] for v in pod.get("volumes", [])} | set(claim_template_names(doc)),
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


class PodSeam:
    """The one place where patterns edit a workload's pod. Get it with :meth:`of`.

    Everything a pattern adds (containers, volumes, mounts and env in the app container,
    annotations, the pod's fsGroup) is kept here as Python data and written into the pod when
    the app synthesizes (:meth:`apply_edits`), where cdk8s-plus would have put it. The seam reads
    the workload through node once per attach (:meth:`of` renders it) and never otherwise. It is
    plain Python, not a construct: the workload's stand-in ApiObject (``PodOutput``) is what
    node sees.
    """

    @classmethod
    def of(cls, workload: Workload, *, read: bool = True) -> PodSeam:
        """The seam of ``workload``, created on first use (one per workload). With ``read``
        (for a pattern that attaches) its index is re-read from the rendered workload, so it
        sees what the user added since the last attach."""
        if is_released(workload):
            raise released_error(workload)
        seam: PodSeam | None = _checks.memo(workload).get("seam")  # one per workload, no round trip
        if seam is not None:
            if read:
                seam._index = seam._read_index(seam._output.render_original())
            return seam
        with _jsii_calls.library_only():
            original = cdk8s.ApiObject.of(workload)
        generation, callbacks = _jsii_calls.generation(), _jsii_calls.callbacks()
        rendered = render(original) if read else {}
        seam = cls(workload, original, rendered)
        if read:
            seam._output.keep(rendered, generation, callbacks)
            seam._index = seam._read_index(rendered)
        return seam

    def __init__(self, workload: Workload, original: cdk8s.ApiObject, rendered: Mapping[str, Any]) -> None:
        """Use :meth:`of`. ``original`` is the workload's ApiObject, ``rendered`` its rendering
        (or empty)."""
        _checks.memo(workload)["seam"] = self
        self.workload = workload
        #: "Deployment", "Job", ... (used in messages and for kind-specific rules).
        self.kind = type(workload).__name__
        self._restricted = False
        #: The patterns attached here, which let go of what they hold with the seam (:meth:`release`).
        self._patterns: list[HeldUntilSynth] = []
        self._clear_additions()
        self._output = PodOutput.install(workload, original, rendered, self)

    def _clear_additions(self) -> None:
        """What the patterns added, empty (a new seam)."""
        #: The seam's additions, each with the count of user items it goes after (_merge_in).
        self._added: dict[str, list[tuple[int, AddedContainer]]] = {"initContainers": [], "containers": []}
        self._user_edits: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        self._volumes: dict[str, dict[str, Any]] = {}
        self._pod_edits: dict[str, Any] = {}
        self._annotations: dict[str, tuple[str, str]] = {}  # key -> (value, owner)
        self._claims: dict[tuple[str, str], str] = {}
        self._loopback_ports: dict[tuple[int, str], str] = {}
        #: Who added each thing the pod shares, for errors that name both sides:
        #: (what, value) -> (pattern path, prop). See :meth:`_late_collisions`.
        self._owners: dict[tuple[str, Any], tuple[str, str]] = {}
        #: The seam's volumes a pattern handed to the user as a cdk8s-plus Volume (share_volume).
        self._shared_volumes: set[str] = set()
        #: StatefulSet volumeClaimTemplates added through :meth:`add_claim_template`.
        self._claim_templates: list[dict[str, Any]] = []
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

    def release(self) -> None:
        """``App.synth()`` wrote the workload (``_synth.py``): drop what the patterns added, and
        have the patterns drop what they hold (:class:`HeldUntilSynth`), so a process that builds
        app after app does not keep every app's additions (jsii keeps every object created from
        Python, and with it this seam and the patterns, for the process's life)."""
        for pattern in self._patterns:
            pattern.let_go()
        # What stays is a flag, so that a late pattern gets released_error, not a new seam.
        mark_released(self.workload)

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
        index.volumes.update(t["metadata"]["name"] for t in self._claim_templates)
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
    def namespace(self) -> str | bool | None:
        """The workload's namespace as rendered when the pattern attached (False: not rendered)."""
        return self._index.namespace

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
        self._owners[("container", spec.name)] = (where, prop)
        for port in spec.ports:  # first come, first served: ours take the ports they checked
            self._index.ports[(port.number, port.protocol.value)] = spec.name
            self._index.port_names[port.name] = spec.name
            self._owners[("port", (port.number, port.protocol.value))] = (where, port.number_prop)
            self._owners[("port name", port.name)] = (where, port.name_prop)
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
        self._owners[("port", (number, protocol.value))] = (where, prop)

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
        name = self._reserve_volume_name(volume["name"], where=where, prop=prop)
        self._volumes[name] = volume
        return name

    def _reserve_volume_name(self, name: str, *, where: str, prop: str) -> str:
        """Check that ``name`` is free for a pod volume or a claim template, and take it."""
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
        self._owners[("volume", name)] = (where, prop)
        taken.add(name)
        return str(name)

    def share_volume(self, name: str) -> None:
        """The pattern hands its volume ``name`` to the user (as a cdk8s-plus Volume of the
        same definition): the user's mounts of it render the volume too, and that is no collision."""
        self._shared_volumes.add(name)

    def add_claim_template(self, template: dict[str, Any], *, where: str, prop: str = "name") -> str:
        """Add a StatefulSet ``volumeClaimTemplates`` entry (its API form); return its name, which
        is then a volume of every pod for the mounts and checks (written at synth, so the
        ``storage`` request keeps its value: cdk8s's typed model turns a JSON-patched one into
        ``requests: {}``)."""
        if self.kind != "StatefulSet":
            raise PropsError(
                where,
                "workload",
                self.kind,
                "only a StatefulSet has volumeClaimTemplates",
                "use a kplus.StatefulSet, or mount a volume (kplus.Volume) into the container",
            )
        # A claim, not a pod volume (the controller adds it to each pod), under a name no volume has.
        name = self._reserve_volume_name(template["metadata"]["name"], where=where, prop=prop)
        self._claim_templates.append(template)
        return name

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
        self._owners[("mount", (container, mount.path))] = (where, prop)
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
        self._owners[("env", (container, name))] = (where, prop)
        taken.add(name)

    def _user_edit(self, container: str, what: str, item: dict[str, Any]) -> None:
        count = self._index.counts.get((container, what), 0)
        self._user_edits.setdefault((container, what), []).append((count, item))

    # A default that moves aside for a second instance (REDIS_* -> SESSIONS_*, port 6379 -> 6380,
    # /srv/git -> /srv/<name>) moves aside only for what the library itself added. Something the
    # user put there is a collision, refused whether the user's line comes before the pattern
    # (preflight) or after it (_late_collisions at synth): the order of two lines never changes
    # the outcome.

    def _pattern_owned(self, what: str) -> set[Any]:
        return {key for kind, key in self._owners if kind == what}

    def port_name_free(self, name: str) -> bool:
        """No pattern has a port named ``name`` (see above: the user's names are collisions)."""
        return name not in self._pattern_owned("port name")

    def mounts_of(self, container: str) -> set[str]:
        """The paths where patterns have mounted volumes into ``container`` so far."""
        return {path for c, path in self._pattern_owned("mount") if c == container}

    def free_port(self, preferred: int, *, protocol: str = "TCP", avoid: Sequence[int] = ()) -> int:
        """``preferred``, or the next port above it that no pattern uses: the default of a port
        prop, so that a second instance of a pattern needs no port props."""
        taken = self._pattern_owned("port")
        number = preferred
        while (number, protocol) in taken or number in avoid:
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
                taken = sorted(index.containers)
                owner = f"a container named {c.value!r} already exists in the pod (names taken: {taken})"
            elif c.what == "volume" and c.value in index.volumes:
                taken = sorted(index.volumes)
                owner = f"a volume named {c.value!r} already exists in the pod (volumes taken: {taken})"
            elif c.what == "port" and c.value in index.ports:
                owner = (
                    f"container {index.ports[c.value]!r} already uses {c.value[1]} port {c.value[0]} "
                    "(all containers of a pod share one network namespace)"
                )
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
        self._owners[("annotation", key)] = (where, prop)
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

    # --- output-level edits (called by PodOutput at synth time) -------------------

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
        late = self._late_collisions(doc)
        if late:
            raise CollisionError.of(self.workload.node.path, late)
        template = pod_template(doc)
        pod = template["spec"]
        self._write_claim_templates(doc)
        claims = claim_template_names(doc)
        self._write_containers(pod)
        self._write_volumes(pod)
        self._check_pod_rules(pod, claims)
        _deep_merge(pod, self._pod_edits)
        _drop_repeated_affinity_terms(pod)
        self._write_annotations(template)
        if self._restricted:
            self._enforce_restricted(template)
        template["spec"] = _sorted(pod)  # sorts the edited containers too
        return doc

    def _write_claim_templates(self, doc: dict[str, Any]) -> None:
        """The StatefulSet's claim templates added through :meth:`add_claim_template`, after the user's."""
        if self._claim_templates:
            spec = doc["spec"]
            spec["volumeClaimTemplates"] = [*spec.get("volumeClaimTemplates", []), *self._claim_templates]

    def _write_containers(self, pod: dict[str, Any]) -> None:
        """The patterns' containers, and the mounts and env they give the user's app containers."""
        for key in ("initContainers", "containers"):
            if self._added[key]:
                pod[key] = _merge_in(pod.get(key, []), [(n, added.spec) for n, added in self._added[key]])
        for c in pod.get("containers", []):
            for what in ("volumeMounts", "env"):
                added = self._user_edits.get((c["name"], what))
                if added:
                    c[what] = _merge_in(c.get(what, []), [(n, dict(item)) for n, item in added])

    def _write_volumes(self, pod: dict[str, Any]) -> None:
        """The pod's volumes, the patterns' included, in cdk8s-plus's order (:meth:`_volumes_in_order`)."""
        pod_volumes = self._volumes_in_order(pod)
        if pod_volumes:
            pod["volumes"] = pod_volumes

    def _check_pod_rules(self, pod: Mapping[str, Any], claims: Sequence[str]) -> None:
        """Refuse the final pod if the API server would (:func:`pod_rule_errors`), each broken rule
        with the fix for its cause. (What a pattern adds is checked before, by :meth:`preflight`
        and :meth:`_late_collisions`, which name the pattern's prop.)"""
        errors = pod_rule_errors(pod, self._loopback_ports, claims=claims)
        if errors:
            raise CollisionError.of(self.workload.node.path, errors)

    def _write_annotations(self, template: dict[str, Any]) -> None:
        """The patterns' pod annotations, merged into the user's (keys sorted, as cdk8s does)."""
        if self._annotations:
            metadata = template.setdefault("metadata", {})
            ours = {k: v for k, (v, _) in self._annotations.items()}
            metadata["annotations"] = dict(sorted({**metadata.get("annotations", {}), **ours}.items()))
            template["metadata"] = dict(sorted(metadata.items()))

    def _enforce_restricted(self, template: Mapping[str, Any]) -> None:
        """Harden the final pod for Pod Security "restricted" (:meth:`restrict`), and refuse it if
        it still breaks a rule."""
        pod = template["spec"]
        _pod_security.harden(pod)
        refused = _pod_security.violations(pod, template.get("metadata", {}).get("annotations"))
        if refused:
            raise PodSecurityError(
                self.workload.node.path,
                "restricted_pod_security",
                True,
                'a Pod Security "restricted" namespace would refuse the pod: ' + "; ".join(refused),
                "change the fields named above, or do not call restricted_pod_security on this workload",
            )

    def _late_collisions(self, doc: Mapping[str, Any]) -> list[tuple[str, Any, str, str]]:
        """What the user gave the workload after a pattern attached that the pattern adds too.

        Done before the pattern attaches, each of these is refused by :meth:`preflight` (or
        :meth:`annotate`); done after, only the rendered workload shows it. ``doc`` is the
        user's workload as cdk8s-plus renders it (the seam's additions are not in it yet), so
        every name in it that the seam also adds was added after the pattern checked the pod.
        The order of the two lines must not change the outcome: the same collision, naming
        both sides. A volume the user mounted that is the pattern's own (``site.volume``)
        renders identically and is no collision.
        """
        found: list[tuple[str, Any, str, str]] = []
        for what, items in self._user_items(doc):
            for key, shown, thing in items:
                owner = self._owners.get((what, key))
                if owner is not None:
                    found.append(self._late_collision(owner, shown, thing))
        return found

    def _user_items(self, doc: Mapping[str, Any]) -> list[tuple[str, list[tuple[Any, Any, str]]]]:
        """What the user's rendered workload holds that a pattern may add too, kind by kind:
        ``(what, [(key, shown, thing)])``, where ``(what, key)`` is how :attr:`_owners` knows the
        patterns' own, ``shown`` the value an error names and ``thing`` the item in words."""
        user = _PodIndex.read(doc)
        ports, port_names, annotations = user.ports.items(), user.port_names.items(), sorted(user.annotations)
        mounts = [(c, path) for c, paths in sorted(user.mounts.items()) for path in sorted(paths)]
        env = [(c, n) for c, names in sorted(user.env.items()) for n in sorted(names)]
        claim = "a volumeClaimTemplate named {!r} (it replaces the pod volume of that name)"
        return [
            ("container", [(n, n, f"a container named {n!r}") for n in sorted(user.containers)]),
            ("port", [(k, k[0], f"container {c!r} declares {k[1]} port {k[0]}") for k, c in ports]),
            ("port name", [(n, n, f"container {c!r} has a port named {n!r}") for n, c in port_names]),
            ("volume", [(n, n, f"a volume named {n!r}") for n in self._user_volumes(doc)]),
            ("volume", [(n, n, claim.format(n)) for n in claim_template_names(doc)]),
            ("mount", [(k, k[1], f"container {k[0]!r} mounts a volume at {k[1]!r}") for k in mounts]),
            ("env", [(k, k[1], f"container {k[0]!r} has an env variable {k[1]!r}") for k in env]),
            ("annotation", [(k, k, f"the pod template has the annotation {k!r}") for k in annotations]),
        ]

    def _user_volumes(self, doc: Mapping[str, Any]) -> list[str]:
        """The names of the user's pod volumes, but for a pattern's own that the user mounted
        (:meth:`share_volume`): it renders identically and is no collision."""
        volumes = pod_template(dict(doc)).get("spec", {}).get("volumes", [])
        same_volume = {
            v["name"]
            for v in volumes
            if v["name"] in self._shared_volumes and self._volumes.get(v["name"]) == v
        }
        return sorted({v["name"] for v in volumes} - same_volume)

    def _late_collision(self, owner: tuple[str, str], shown: Any, thing: str) -> tuple[str, Any, str, str]:
        """The collision of ``thing``, which the user added after pattern ``owner`` (where, prop) attached."""
        where, prop = owner
        return (
            prop,
            shown,
            f"{thing}, added to the {self.kind} after {where} attached, and {where} adds it too",
            f"remove or rename what you added to the {self.kind}, or pass {prop}= another value to {where}",
        )

    def _volumes_in_order(self, pod: Mapping[str, Any]) -> list[dict[str, Any]]:
        rendered = {v["name"]: v for v in pod.get("volumes", [])}
        defined = {**self._volumes, **rendered}  # a user's mount of a pattern's volume renders it too
        names: list[str] = []
        for key in ("containers", "initContainers"):
            for c in pod.get(key, []):
                names += [m["name"] for m in c.get("volumeMounts", []) if m["name"] in defined]
        names += list(rendered) + list(self._volumes)  # volumes no container mounts, last
        return [defined[n] for n in dict.fromkeys(names)]

    # --- one attach: everything a pattern adds, checked before anything is added ----

    def attach(self, scope: constructs.Construct, additions: PodAdditions, *, where: str) -> Attached:
        """Add what a pattern rendered: check it all against the pod first (every collision in
        one :class:`CollisionError`, each naming the prop to change), then add it in order and
        drop the index (:meth:`done`). ``scope`` owns the ConfigMap of ``additions.config``."""
        self.preflight(_claims_of(additions), where=where)
        for what, value, prop in additions.unique:
            self.claim(what, value, where=where, prop=prop)
        for port in additions.loopback_ports:
            self.reserve_loopback_port(
                port.number, additions.owner, where=where, prop=port.prop, protocol=port.protocol
            )
        for volume in additions.volumes:
            self.add_volume(dict(volume), where=where)
        config_map = self._add_config(scope, additions.config, where) if additions.config else None
        for files in additions.secrets:
            self._add_secret_volume(files, where)
        fs_group = self.ensure_fs_group(additions.fs_group) if additions.fs_group is not None else None
        added = tuple(self.add_container(spec, kind=kind, where=where) for spec, kind in additions.containers)
        for m in additions.app_mounts:
            self.mount(m.container, m.mount, where=where, prop=m.prop)
        for e in additions.app_env:
            self.add_env(e.container, e.name, e.value, where=where, prop=e.prop)
        for a in additions.annotations:
            self.annotate(a.key, a.value, where=where, prop=a.prop)
        self.done()
        if isinstance(scope, HeldUntilSynth):
            self._patterns.append(scope)
        return Attached(added, config_map, fs_group)

    def _add_config(self, scope: constructs.Construct, config: ConfigFiles, where: str) -> kplus.ConfigMap:
        """The ConfigMap of ``config``, its volume, and a ``checksum/<prefix>`` pod annotation so
        that a config change rolls the pods."""
        with _jsii_calls.library_only():  # a new ConfigMap changes no workload's rendering
            config_map = kplus.ConfigMap(scope, "config", data=dict(config.files))
            name = config_map.name  # read once: no memo (_checks.name_of) to outlive the app
        volume = {"configMap": {"name": name}, "name": config.volume}
        self.add_volume(volume, where=where)
        texts = (f"{k}\0{v}" for k, v in sorted(config.files.items()))
        self.annotate_config_hash(config.prefix, *texts, where=where)
        return config_map

    def _add_secret_volume(self, files: SecretFiles, where: str) -> None:
        """Secret keys as files, root-owned with ``files.mode``; the pod's fsGroup (see
        :meth:`ensure_fs_group`) makes the kubelet add group read, which is how a non-root
        sidecar reads a 0400 key."""
        source = {
            "defaultMode": files.mode,
            "items": [{"key": key, "path": file} for key, file in sorted(files.items.items())],
            "secretName": _checks.name_of(files.secret),
        }
        self.add_volume({"name": files.volume, "secret": source}, where=where)


@dataclass(frozen=True, slots=True)
class Attached:
    """What :meth:`PodSeam.attach` added: the containers in order, the ConfigMap, the pod's
    effective fsGroup (None when the pattern asked for none)."""

    containers: tuple[AddedContainer, ...]
    config_map: kplus.ConfigMap | None
    fs_group: int | None

    def container(self, kind: ContainerKind) -> AddedContainer | None:
        """The last added container of ``kind`` ("init", "sidecar" or "native"), or None."""
        found = [c for c in self.containers if c.kind == kind]
        return found[-1] if found else None


def _claims_of(additions: PodAdditions) -> list[Claim]:
    """Everything ``additions`` takes in the pod, for :meth:`PodSeam.preflight`."""
    volumes = [str(v["name"]) for v in additions.volumes]
    volumes += [additions.config.volume] if additions.config is not None else []
    volumes += [s.volume for s in additions.secrets]
    ports = [c for spec, _ in additions.containers for c in spec.ports]
    return [
        *(Claim("container", spec.name, "name") for spec, _ in additions.containers),
        *(Claim("volume", v, "name") for v in volumes),
        *(Claim("port", (p.number, p.protocol.value), p.prop) for p in additions.loopback_ports),
        *(
            claim
            for p in ports
            for claim in (
                Claim("port", (p.number, p.protocol.value), p.number_prop),
                Claim("port name", p.name, p.name_prop),
            )
        ),
        *(Claim("mount", (m.container, m.mount.path), m.prop) for m in additions.app_mounts),
        *(Claim("env", (e.container, e.name), e.prop) for e in additions.app_env),
    ]


def _drop_repeated_affinity_terms(pod: dict[str, Any]) -> None:
    """Keep one of each identical affinity term. cdk8s-plus-27 adds a workload's ``spread`` terms
    on every rendering (lib/workload.js ``_toPodSpec`` calls ``this.scheduling.spread(...)`` each
    time), so the pod held one pair per rendering the app happened to make; identical terms are
    one rule for the scheduler, and the manifest no longer depends on how often it was rendered."""
    for kind in pod.get("affinity", {}).values():
        for key, terms in kind.items():
            if isinstance(terms, list):
                kind[key] = _once_each(terms)
            elif isinstance(terms, dict) and isinstance(terms.get("nodeSelectorTerms"), list):
                terms["nodeSelectorTerms"] = _once_each(terms["nodeSelectorTerms"])


def _once_each(items: list[Any]) -> list[Any]:
    """``items`` without repeats, in order (terms are dicts: not hashable)."""
    return [item for i, item in enumerate(items) if item not in items[:i]]


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
