"""From synthesized documents to podman-playable Pods, one per workload (one replica each).

``podman kube play`` (4.3.1, Debian bookworm) is not a kubelet. Each difference that matters is
handled here, next to a comment saying why (REFERENCE.md section 8 lists the measured ones):

* images: ``imagePullPolicy: Never`` and the local image (:mod:`.images`); there is no registry;
* containers whose image has no package are left out, with the volumes only they mount;
* ``ports`` removed (kube play publishes every containerPort on the host: pods clash, and the
  host would listen on 0.0.0.0); kept in :attr:`PlayPod.ports` for probing on the pod IP;
* probes removed: kube play turns ``livenessProbe`` into a podman healthcheck driven by systemd
  timers (none here: every play logs errors), ignores readiness/startup; the runner runs the
  original manifest's probes itself (:mod:`.probes`);
* pod annotations whose value is over 63 characters dropped (kube play refuses them);
* ``$(VAR)`` expanded in env values, command and args (kube play passes them through literally);
* ``valueFrom`` (secretKeyRef, configMapKeyRef, fieldRef) and ``envFrom`` resolved to literal
  values (Secrets are created out of band in real clusters: the caller passes their data);
* Secret volumes become ConfigMap volumes with the decoded data (a Secret volume panics kube play
  4.3.1); ``defaultMode``/``mode`` and ``fsGroup`` ownership are applied by the runner after
  ``kube play --start=false`` (kube play writes every file 0644 root:root and ignores fsGroup);
* ``fsGroup`` added to ``supplementalGroups`` (the kubelet adds it to every container's groups;
  kube play does not, but honours supplementalGroups);
* emptyDir volumes: made 0777 (2777, group fsGroup, with fsGroup) by the runner as the kubelet
  does; kube play's volume takes the mode and owner of the image's directory at the mount path
  (copy-up) or the first container's user. ``sizeLimit`` is not enforced by podman (the kubelet
  enforces it by eviction): ignored;
* every pod volume and ConfigMap gets a per-pod name: kube play names the podman volume after the
  pod volume (emptyDir) or the ConfigMap, so two pods would share one;
* native sidecars (init containers with ``restartPolicy: Always``) become regular containers:
  kube play 4.3 has no native sidecars (the pod's restartPolicy applies to init containers and
  they are not ordered), so they start alongside the app instead of before it;
* StatefulSet ``volumeClaimTemplates`` become pod emptyDir volumes of the claim's name (a pod
  volume of the same name is replaced by the claim, as the StatefulSet controller does), with
  the root of a fresh filesystem: root:root 0755, or root:fsGroup 2775 with fsGroup (the
  kubelet's volume ownership for a block-backed PersistentVolume);
* pod-level ``runAsUser``/``runAsGroup`` copied into containers that do not set their own;
* not emulated (documented gaps): ``lifecycle`` hooks are passed through but not known to run
  under kube play 4.3 (unverified; teardown stops containers after 1 s); a Job's sidecars keep
  running after its app exits (the kubelet stops native sidecars then); the pod's restartPolicy
  applies to plain init containers; ``seccompProfile`` is not read, podman's default profile
  applies to every container (RuntimeDefault-like; Unconfined/Localhost are not honoured);
  /etc/resolv.conf is the host's (no cluster search domains); a Service whose ``port`` differs
  from its ``targetPort`` is not reachable at ``port`` (names map to the pod IP, not a ClusterIP);
  ConfigMap files are plain files (no ``..data`` symlinks: no atomic updates);
* Services resolve through ``hostAliases``: every name form of a Service (``name`` within its
  namespace, ``name.ns``, ``name.ns.svc``, ``name.ns.svc.cluster.local``) maps to the static IP of
  the pod its selector matches (no cluster DNS, no ClusterIP); callers add names no doc defines.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib._workload_kinds import pod_template

from . import images

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
BATCH_KINDS = ("Job", "CronJob")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
#: How long a Job/CronJob app container (the stand-in app) runs before exiting 0.
APP_BATCH_SECONDS = 4
MAX_ANNOTATION_VALUE = 63

Doc = dict[str, Any]
Secrets = Mapping[str, Mapping[str, str]]


class PlayFileError(ValueError):
    """The documents cannot be turned into playable pods (the message says what is missing)."""


@dataclass
class VolumeFix:
    """What the runner does to a podman volume between ``kube play --start=false`` and start."""

    volume: str
    kind: str  # "configMap", "emptyDir" or "claim" (a StatefulSet volumeClaimTemplate)
    file_mode: int | None = None  # configMap: every file's mode
    group: int | None = None  # fsGroup


@dataclass
class PlayPod:
    """One workload as a podman pod: what to play, and what the runner and tests need to know."""

    workload: str
    kind: str
    namespace: str
    name: str  # the podman pod's name
    ip: str
    template: Doc  # the ORIGINAL pod template (probes, ports, names)
    play: list[Doc]  # the Pod and the ConfigMaps it mounts, for `podman kube play`
    left_out: dict[str, str] = field(default_factory=dict)  # container -> why
    ports: dict[str, list[int]] = field(default_factory=dict)  # container -> declared ports
    sidecars: set[str] = field(default_factory=set)  # were native sidecars
    volume_fixes: list[VolumeFix] = field(default_factory=list)
    volumes: dict[str, str] = field(default_factory=dict)  # manifest volume name -> podman volume

    @property
    def batch(self) -> bool:
        return self.kind in BATCH_KINDS

    @property
    def containers(self) -> list[str]:
        """Names of the containers that run in the pod (init containers excluded)."""
        pod = self.play[0]
        return [c["name"] for c in pod["spec"]["containers"]]

    @property
    def init_containers(self) -> list[str]:
        return [c["name"] for c in self.play[0]["spec"].get("initContainers", [])]


# --------------------------------------------------------------------------------------- $(VAR)

_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: defined names replaced, undefined ones kept, ``$$`` -> ``$``."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_REF.sub(one, text)


# --------------------------------------------------------------------------------------- env


@dataclass
class _Context:
    """What resolving one pod needs from the rest of the documents and the caller."""

    namespace: str
    pod_name: str
    ip: str
    secrets: Secrets
    configmaps: Mapping[tuple[str, str], Doc]

    def secret_value(self, name: str, key: str, optional: bool) -> str | None:
        data = self.secrets.get(name)
        if data is None or key not in data:
            if optional:
                return None
            raise PlayFileError(f"secret {name!r} key {key!r}: pass it in secrets={{...}}")
        return data[key]

    def configmap_data(self, name: str, optional: bool) -> Mapping[str, str] | None:
        doc = self.configmaps.get((self.namespace, name))
        if doc is None:
            if optional:
                return None
            raise PlayFileError(f"ConfigMap {self.namespace}/{name} is not among the documents")
        return dict(doc.get("data") or {})

    def field_value(self, path: str) -> str:
        values = {
            "metadata.name": self.pod_name,
            "metadata.namespace": self.namespace,
            "status.podIP": self.ip,
            "status.podIPs": self.ip,
        }
        if path not in values:
            raise PlayFileError(f"fieldRef {path!r} is not supported by the pod runner")
        return values[path]


def _value_from(source: Doc, ctx: _Context) -> str | None:
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return ctx.secret_value(ref["name"], ref["key"], bool(ref.get("optional")))
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data = ctx.configmap_data(ref["name"], bool(ref.get("optional")))
        return None if data is None else data.get(ref["key"])
    if "fieldRef" in source:
        return ctx.field_value(source["fieldRef"]["fieldPath"])
    raise PlayFileError(f"env valueFrom {sorted(source)} is not supported by the pod runner")


def _env_from(sources: Iterable[Doc], ctx: _Context) -> dict[str, str]:
    out: dict[str, str] = {}
    for source in sources:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref = source["configMapRef"]
            data = ctx.configmap_data(ref["name"], bool(ref.get("optional"))) or {}
        else:
            ref = source["secretRef"]
            data = ctx.secrets.get(ref["name"]) or {}
            if not data and not ref.get("optional"):
                raise PlayFileError(f"secret {ref['name']!r}: pass it in secrets={{...}}")
        out.update({prefix + k: str(v) for k, v in data.items()})
    return out


def resolve_env(container: Doc, ctx: _Context) -> dict[str, str]:
    """The container's environment as literal values, in order (kube play resolves none of it)."""
    env = _env_from(container.get("envFrom", []), ctx)
    for item in container.get("env", []):
        if "valueFrom" in item:
            value = _value_from(item["valueFrom"], ctx)
            if value is None:
                continue
        else:
            value = expand(str(item.get("value", "")), env)
        env[item["name"]] = value
    return env


# --------------------------------------------------------------------------------------- ports


def container_ports(container: Doc) -> list[int]:
    return [int(p["containerPort"]) for p in container.get("ports", [])]


def _port_number(port: int | str, container: Doc) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise PlayFileError(f"container {container['name']!r}: no port named {port!r}")


def probe_port(probe: Doc, container: Doc) -> int | None:
    for action in ("httpGet", "tcpSocket", "grpc"):
        if action in probe:
            return _port_number(probe[action]["port"], container)
    return None


def _app_ports(container: Doc) -> list[int]:
    """Every port the stand-in app must answer on: declared ones and those its probes use."""
    ports = set(container_ports(container))
    for name in PROBES:
        if name in container:
            port = probe_port(container[name], container)
            if port is not None:
                ports.add(port)
    return sorted(ports)


# --------------------------------------------------------------------------------------- containers


def _all_containers(spec: Doc) -> list[Doc]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _leave_out(spec: Doc) -> dict[str, str]:
    """Remove containers whose image has no local build; return name -> why."""
    left: dict[str, str] = {}
    for key in ("initContainers", "containers"):
        kept = []
        for c in spec.get(key, []):
            reason = images.left_out_reason(c["image"])
            if reason is None:
                kept.append(c)
            else:
                left[c["name"]] = f"{c['image']}: {reason}"
        spec[key] = kept
    if not spec["initContainers"]:
        del spec["initContainers"]
    return left


def _promote_native_sidecars(spec: Doc) -> set[str]:
    """Native sidecars become regular containers (kube play 4.3 has no native sidecars)."""
    natives = [c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    if not natives:
        return set()
    spec["initContainers"] = [c for c in spec["initContainers"] if c.get("restartPolicy") != "Always"]
    if not spec["initContainers"]:
        del spec["initContainers"]
    for c in natives:
        del c["restartPolicy"]
    spec["containers"] = [*spec["containers"], *natives]
    return {c["name"] for c in natives}


def _play_container(c: Doc, pod_security: Doc, ctx: _Context, *, batch: bool) -> Doc:
    """One container as kube play 4.3 runs it like the kubelet would."""
    env = resolve_env(c, ctx)
    if images.repository(c["image"]).startswith("example/"):
        # The stand-in app answers on the container's ports; a batch app exits 0 after a while.
        env["PODS_APP_PORTS"] = ",".join(map(str, _app_ports(c)))
        if batch:
            env["PODS_APP_EXIT_AFTER"] = str(APP_BATCH_SECONDS)
    c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    c.pop("envFrom", None)
    for key in ("command", "args"):
        if key in c:
            c[key] = [expand(str(a), env) for a in c[key]]
    c["image"] = images.local_image_for(c["image"])
    c["imagePullPolicy"] = "Never"
    c.pop("ports", None)
    for probe in PROBES:
        c.pop(probe, None)
    sc = c.setdefault("securityContext", {})
    for key in ("runAsUser", "runAsGroup", "runAsNonRoot"):
        if key in pod_security and key not in sc:
            sc[key] = pod_security[key]
    return c


# --------------------------------------------------------------------------------------- volumes


def _used_volumes(spec: Doc) -> set[str]:
    return {m["name"] for c in _all_containers(spec) for m in c.get("volumeMounts", [])}


def _claims_as_volumes(doc: Doc, spec: Doc) -> None:
    """StatefulSet claim templates become pod emptyDir volumes (replacing same-name pod volumes)."""
    claims = [t["metadata"]["name"] for t in doc.get("spec", {}).get("volumeClaimTemplates", [])]
    if not claims:
        return
    kept = [v for v in spec.get("volumes", []) if v["name"] not in claims]
    spec["volumes"] = [*kept, *({"name": name, "emptyDir": {}, "claim": True} for name in claims)]


def _secret_as_configmap(volume: Doc, cm_name: str, ctx: _Context) -> Doc:
    """A Secret volume as a ConfigMap (doc) holding the decoded data; rewrites ``volume``."""
    secret = volume.pop("secret")
    name = secret["secretName"]
    data = ctx.secrets.get(name)
    if data is None:
        if secret.get("optional"):
            data = {}
        else:
            raise PlayFileError(f"secret {name!r} (volume {volume['name']!r}): pass it in secrets={{...}}")
    volume["configMap"] = {k: v for k, v in secret.items() if k != "secretName"} | {"name": cm_name}
    return _configmap_doc(cm_name, ctx.namespace, data)


def _configmap_doc(name: str, namespace: str, data: Mapping[str, str]) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: str(v) for k, v in data.items()},
    }


def _rename_volumes(spec: Doc, prefix: str) -> dict[str, str]:
    """Give every pod volume a per-pod name (kube play names podman volumes after them)."""
    names = {v["name"]: f"{prefix}-{v['name']}" for v in spec.get("volumes", [])}
    for v in spec.get("volumes", []):
        v["name"] = names[v["name"]]
    for c in _all_containers(spec):
        for m in c.get("volumeMounts", []):
            m["name"] = names.get(m["name"], m["name"])
    return names


def _volumes(spec: Doc, ctx: _Context, fs_group: int | None) -> tuple[list[Doc], list[VolumeFix]]:
    """ConfigMap docs to play with the pod, and the fixes the runner applies to the volumes."""
    docs: list[Doc] = []
    fixes: list[VolumeFix] = []
    for v in spec.get("volumes", []):
        cm_name = v["name"]  # per-pod already (_rename_volumes); kube play names the volume after it
        if "secret" in v:
            docs.append(_secret_as_configmap(v, cm_name, ctx))
        elif "configMap" in v:
            data = ctx.configmap_data(v["configMap"]["name"], bool(v["configMap"].get("optional"))) or {}
            docs.append(_configmap_doc(cm_name, ctx.namespace, data))
            v["configMap"]["name"] = cm_name
        if "configMap" in v:
            mode = int(v["configMap"].get("defaultMode", 0o644))
            # kubelet: files are group fsGroup, readable by it (mode | 0440)
            fixes.append(
                VolumeFix(cm_name, "configMap", mode | (0o440 if fs_group is not None else 0), fs_group)
            )
        elif "emptyDir" in v:
            kind = "claim" if v.pop("claim", False) else "emptyDir"
            fixes.append(VolumeFix(v["name"], kind, None, fs_group))
        else:
            raise PlayFileError(f"volume {v['name']!r}: only configMap, secret and emptyDir are supported")
    return docs, fixes


# --------------------------------------------------------------------------------------- services


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_names(name: str, namespace: str) -> list[str]:
    return [f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"]


def host_aliases(
    pod: PlayPod, pods: Sequence[PlayPod], services: Sequence[Doc], extra: Mapping[str, str]
) -> list[Doc]:
    """hostAliases for ``pod``: every Service name form -> the IP of the pod its selector matches."""
    by_ip: dict[str, list[str]] = {}
    for svc in services:
        meta = svc["metadata"]
        ns = meta.get("namespace", "default")
        selector = svc.get("spec", {}).get("selector") or {}
        target = next((p for p in pods if _matches(selector, p.template["metadata"].get("labels", {}))), None)
        if target is None:
            continue
        names = service_names(meta["name"], ns)
        if ns == pod.namespace:
            names.insert(0, meta["name"])  # the short name resolves only within the namespace
        by_ip.setdefault(target.ip, []).extend(names)
    for host, where in extra.items():
        by_ip.setdefault(_extra_host_ip(where, pods, services), []).append(host)
    return [{"ip": ip, "hostnames": names} for ip, names in by_ip.items()]


def _extra_host_ip(where: str, pods: Sequence[PlayPod], services: Sequence[Doc]) -> str:
    """An extra host's target: an IP, a Service name (any form), or a workload name (or a part of
    it that only one workload name contains)."""
    try:
        return str(ipaddress.ip_address(where))
    except ValueError:
        pass
    for svc in services:
        meta = svc["metadata"]
        forms = [meta["name"], *service_names(meta["name"], meta.get("namespace", "default"))]
        target = next(
            (
                p
                for p in pods
                if _matches(svc["spec"].get("selector") or {}, p.template["metadata"].get("labels", {}))
            ),
            None,
        )
        if where in forms and target is not None:
            return target.ip
    found = [p.ip for p in pods if where == p.workload] or [p.ip for p in pods if where in p.workload]
    if len(found) != 1:
        raise PlayFileError(
            f"extra host target {where!r}: not an IP, a Service or one workload ({len(found)} match)"
        )
    return found[0]


# --------------------------------------------------------------------------------------- pods


def _pod_doc(template: Doc, name: str, namespace: str) -> Doc:
    meta = template.get("metadata", {})
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if len(str(v)) <= MAX_ANNOTATION_VALUE
    }  # kube play 4.3 refuses longer values (e.g. 64-hex config checksums)
    metadata: Doc = {"name": name, "namespace": namespace, "labels": dict(meta.get("labels") or {})}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def play_pod(doc: Doc, ctx: _Context, workload: str) -> PlayPod:
    """One workload document as a :class:`PlayPod` (without hostAliases: see :func:`build`)."""
    original = copy.deepcopy(pod_template(doc))
    template = copy.deepcopy(original)
    spec = template["spec"]
    spec.setdefault("containers", [])
    spec.setdefault("initContainers", [])
    left_out = _leave_out(spec)
    sidecars = _promote_native_sidecars(spec)
    _claims_as_volumes(doc, spec)
    used = _used_volumes(spec)  # volumes only left-out containers mounted go with them
    spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] in used]
    pod_security = spec.setdefault("securityContext", {})
    fs_group = pod_security.get("fsGroup")
    if fs_group is not None:  # the kubelet adds fsGroup to every container's groups
        groups = pod_security.setdefault("supplementalGroups", [])
        if fs_group not in groups:
            groups.append(fs_group)
    ports = {c["name"]: container_ports(c) for c in _all_containers(spec)}
    batch = doc["kind"] in BATCH_KINDS
    for c in _all_containers(spec):
        _play_container(c, pod_security, ctx, batch=batch)
    volumes = _rename_volumes(spec, ctx.pod_name)
    cm_docs, fixes = _volumes(spec, ctx, fs_group)
    return PlayPod(
        workload=workload,
        kind=doc["kind"],
        namespace=ctx.namespace,
        name=ctx.pod_name,
        ip=ctx.ip,
        template=original,
        play=[_pod_doc(template, ctx.pod_name, ctx.namespace), *cm_docs],
        left_out=left_out,
        ports=ports,
        sidecars=sidecars,
        volume_fixes=fixes,
        volumes=volumes,
    )


def build(
    docs: Sequence[Doc],
    ips: Iterable[str],
    *,
    run_id: str,
    secrets: Secrets | None = None,
    extra_hosts: Mapping[str, str] | None = None,
) -> list[PlayPod]:
    """Every workload in ``docs`` as a :class:`PlayPod`, with an IP from ``ips`` and Service names.

    ``extra_hosts`` maps a host name to an IP or to a workload name of ``docs`` (its pod's IP).
    """
    docs = [d for d in docs if d]
    configmaps = {
        (d["metadata"].get("namespace", "default"), d["metadata"]["name"]): d
        for d in docs
        if d["kind"] == "ConfigMap"
    }
    services = [d for d in docs if d["kind"] == "Service"]
    ip_iter = iter(ips)
    pods: list[PlayPod] = []
    for doc in docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        workload = doc["metadata"]["name"]
        ctx = _Context(
            namespace=doc["metadata"].get("namespace", "default"),
            pod_name=f"{workload[:55]}-{run_id}",  # a pod's hostname: at most 63 characters
            ip=next(ip_iter),
            secrets=secrets or {},
            configmaps=configmaps,
        )
        pods.append(play_pod(doc, ctx, workload))
    for pod in pods:
        aliases = host_aliases(pod, pods, services, extra_hosts or {})
        if aliases:
            pod.play[0]["spec"]["hostAliases"] = [*pod.play[0]["spec"].get("hostAliases", []), *aliases]
    return pods
