"""A picture of each pod: containers, shared volumes, loopback connections, init order.

:func:`describe` reads synthesized Kubernetes documents (any manifest, not only this
library's) and returns a :class:`PodPictures`, a model of every pod in them that renders as
Mermaid text (:meth:`PodPictures.mermaid`), Graphviz DOT (:meth:`PodPictures.dot`) or SVG
(:meth:`PodPictures.svg`, through Graphviz's ``dot`` program).

Everything drawn comes from the manifest alone; where the manifest says nothing, nothing is
drawn. The rules, from firm to heuristic:

* **Containers.** ``initContainers`` in their start order, numbered from 1; those with
  ``restartPolicy: Always`` are native sidecars (they keep running; Kubernetes >= 1.29), the
  others run to completion before the next one starts. Then ``containers``.
* **Volumes.** One node per pod volume, plus the claims of a StatefulSet's
  ``volumeClaimTemplates``. A mount is a *write* edge (container to volume) unless it is
  ``readOnly: true`` or the volume is a configMap, secret, downwardAPI or projected volume,
  which the kubelet always mounts read-only; then it is a *read* edge (volume to container).
* **Listeners** (which container listens on which port): declared ``containerPort``; the port
  of an ``httpGet``/``tcpSocket``/``grpc`` probe (a named port is looked up in ``ports``);
  a ``--flag=[host]:PORT`` or ``--flag [host]:PORT`` argument whose flag name contains
  ``listen`` or ``bind`` (git-sync ``--http-bind``, exporters' ``--web.listen-address``,
  ``--statsd.listen-udp``), or ``--port N`` (redis-server); in a ConfigMap the container
  mounts (only one present in the same documents): Envoy's ``static_resources.listeners``
  and ``admin`` addresses, and nginx ``listen N;`` directives.
* **Connections** (a container that dials 127.0.0.1, localhost or [::1]): an env value or
  an argument containing ``<loopback>:PORT`` (``REDIS_URL=redis://127.0.0.1:6379``,
  ``--nginx.scrape-uri=http://127.0.0.1:8080/...``; listener flags excepted); an env pair
  ``X_HOST=<loopback>`` + ``X_PORT=N`` (``STATSD_HOST``/``STATSD_PORT``); an Envoy cluster
  endpoint on a loopback address in a mounted ConfigMap. Each connection goes to every other
  container that listens on its port; a container dialing its own port is not drawn; a
  connection no container listens for is drawn to a "nothing listens" node.

Not read: ``valueFrom`` env, ``envFrom``, exec probes, files in images, and config formats
other than the two above. Ids and order are stable, so equal input gives byte-equal output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from ._errors import PropsError
from ._workload_kinds import pod_template

#: The kinds whose documents hold a pod template (see ``_workload_kinds._TEMPLATE_PATH``).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")

Role = Literal["init", "native-sidecar", "container"]
Access = Literal["read", "write"]

#: Volume sources the kubelet mounts read-only whatever the mount says ("atomic writer"
#: volumes; kubernetes/kubernetes#58720, CHANGELOG-1.10 "secret, configMap, downwardAPI and
#: projected volumes will be mounted as read-only volumes").
_ALWAYS_READ_ONLY = ("configMap", "secret", "downwardAPI", "projected")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
#: ``<loopback>:PORT`` anywhere in a string (a URL, host:port, a DSN).
_LOOPBACK_PORT = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})(?!\d)")
#: The value of a listen flag: ``:2020``, ``0.0.0.0:9113``, ``127.0.0.1:9125``, ``[::]:80``.
_LISTEN_VALUE = re.compile(r"^(?:[\w.\-]*|\[[0-9A-Fa-f:]*\]):(\d{1,5})$")
_LISTEN_FLAG = re.compile(r"listen|bind")
#: nginx ``listen 8080;`` / ``listen 127.0.0.1:8080 default_server;`` (nginx.org ngx_http_core_module#listen).
_NGINX_LISTEN = re.compile(r"^\s*listen\s+(?:\S+:)?(\d{1,5})[\s;]", re.M)


@dataclass(frozen=True)
class Listener:
    """A port a container listens on, and what in the manifest says so."""

    port: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Container:
    """A container of the pod.

    Attributes:
        order: start position among the init containers (1-based); 0 for ``containers``.
    """

    name: str
    image: str
    role: Role
    order: int
    listens: tuple[Listener, ...]


@dataclass(frozen=True)
class Volume:
    """A pod volume; ``source`` is its kind and what it refers to (``configMap NAME``)."""

    name: str
    source: str


@dataclass(frozen=True)
class Mount:
    """A container's mount of a volume: ``write`` unless read-only (see module docstring)."""

    container: str
    volume: str
    path: str
    access: Access


@dataclass(frozen=True)
class Connection:
    """``client`` dials ``port`` on loopback; ``server`` listens there (None: nobody does)."""

    client: str
    server: str | None
    port: int
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class PodPicture:
    """What one workload's pod is made of."""

    kind: str
    name: str
    namespace: str
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...]
    mounts: tuple[Mount, ...]
    connections: tuple[Connection, ...]


def describe(docs: Iterable[Mapping[str, Any] | None], *, source: str = "docs") -> PodPictures:
    """The pictures of the pods in ``docs`` (parsed Kubernetes documents, e.g. ``yaml.safe_load_all``).

    Args:
        docs: every document of a manifest; ``None`` (empty documents) is skipped.
        source: where the documents come from, for error messages (a file name).

    Raises:
        PropsError: no document is a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod).
    """
    all_docs = [dict(d) for d in docs if d]
    config_maps = {
        (_namespace(d), d["metadata"]["name"]): dict(d.get("data") or {})
        for d in all_docs
        if d.get("kind") == "ConfigMap"
    }
    pods = tuple(_picture(d, config_maps) for d in all_docs if d.get("kind") in WORKLOAD_KINDS)
    if not pods:
        kinds = sorted({str(d.get("kind")) for d in all_docs})
        raise PropsError(
            source,
            "docs",
            kinds,
            "no document holds a pod (no " + ", ".join(WORKLOAD_KINDS) + ")",
            "pass the synthesized manifest of a workload, e.g. dist/<chart>.k8s.yaml",
        )
    return PodPictures(pods)


def _namespace(doc: Mapping[str, Any]) -> str:
    return str(doc.get("metadata", {}).get("namespace", "default"))


def _picture(doc: Mapping[str, Any], config_maps: Mapping[tuple[str, str], dict[str, Any]]) -> PodPicture:
    spec = pod_template(dict(doc)).get("spec", {})
    raw_volumes = {v["name"]: v for v in spec.get("volumes", [])}
    volumes = {name: Volume(name, _volume_source(v)) for name, v in raw_volumes.items()}
    for claim in doc.get("spec", {}).get("volumeClaimTemplates", []) if doc["kind"] == "StatefulSet" else []:
        name = claim["metadata"]["name"]
        volumes[name] = Volume(name, "volumeClaimTemplate")

    raw: list[tuple[dict[str, Any], Role, int]] = [
        (c, "native-sidecar" if c.get("restartPolicy") == "Always" else "init", i)
        for i, c in enumerate(spec.get("initContainers", []), start=1)
    ]
    raw += [(c, "container", 0) for c in spec.get("containers", [])]

    namespace = _namespace(doc)
    listens: dict[str, dict[int, set[str]]] = {}
    dials: list[tuple[str, int, str]] = []
    mounts: list[Mount] = []
    for c, _, _ in raw:
        name = c["name"]
        own = listens.setdefault(name, {})
        configs = [
            config_maps.get((namespace, raw_volumes[m["name"]]["configMap"].get("name", "")), {})
            for m in c.get("volumeMounts", [])
            if "configMap" in raw_volumes.get(m["name"], {})
        ]
        for port, evidence in _listeners(c, configs):
            own.setdefault(port, set()).add(evidence)
        dials += [(name, port, evidence) for port, evidence in _dials(c, configs)]
        for m in c.get("volumeMounts", []):
            read_only = m.get("readOnly") is True or any(
                k in raw_volumes.get(m["name"], {}) for k in _ALWAYS_READ_ONLY
            )
            mounts.append(Mount(name, m["name"], m["mountPath"], "read" if read_only else "write"))
            volumes.setdefault(m["name"], Volume(m["name"], "not declared in the pod"))

    containers = tuple(
        Container(
            c["name"],
            str(c.get("image", "")),
            role,
            order,
            tuple(Listener(p, tuple(sorted(ev))) for p, ev in sorted(listens[c["name"]].items())),
        )
        for c, role, order in raw
    )
    return PodPicture(
        kind=str(doc["kind"]),
        name=str(doc["metadata"]["name"]),
        namespace=namespace,
        containers=containers,
        volumes=tuple(sorted(volumes.values(), key=lambda v: v.name)),
        mounts=tuple(sorted(mounts, key=lambda m: (m.volume, m.container, m.path))),
        connections=_resolve(dials, listens),
    )


def _volume_source(volume: Mapping[str, Any]) -> str:
    """``emptyDir``, ``configMap NAME``, ``secret NAME``, ``persistentVolumeClaim NAME``..."""
    kind = next((k for k in sorted(volume) if k != "name"), "unknown")
    body = volume.get(kind) or {}
    ref = body.get("name") or body.get("secretName") or body.get("claimName") or body.get("path")
    if kind == "emptyDir" and body.get("medium"):
        ref = f"medium {body['medium']}"
    return f"{kind} {ref}" if ref else kind


def _tokens(container: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """Each argument of ``command`` + ``args`` as (flag, value, is a listen flag).

    ``--flag=value`` and ``--flag value`` give the flag and its value; any other word is a
    value with the flag ``""``.
    """
    words = [str(w) for w in [*container.get("command", []), *container.get("args", [])]]
    i = 0
    while i < len(words):
        flag, sep, value = words[i].partition("=")
        if not flag.startswith("-"):
            flag, value = "", words[i]
        elif not sep and i + 1 < len(words) and not words[i + 1].startswith("-"):
            i += 1
            value = words[i]
        name = flag.lstrip("-").lower()
        listen = bool(
            (_LISTEN_FLAG.search(name) and _LISTEN_VALUE.match(value)) or (name == "port" and value.isdigit())
        )
        yield flag, value, listen
        i += 1


def _listeners(
    container: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]
) -> Iterator[tuple[int, str]]:
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", []) if p.get("name")}
    for p in container.get("ports", []):
        yield int(p["containerPort"]), f"containerPort {p['name']}" if p.get("name") else "containerPort"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        for action in ("httpGet", "tcpSocket", "grpc"):
            port = container.get(probe, {}).get(action, {}).get("port")
            port = named.get(port, port)
            if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
                yield int(port), probe
    for flag, value, listen in _tokens(container):
        if listen:
            yield int(value.rsplit(":", 1)[-1]), flag
    for config in _config_files(configs):
        if isinstance(config, str):
            yield from ((int(p), "nginx listen") for p in _NGINX_LISTEN.findall(config))
            continue
        admin = _socket_address(config.get("admin", {}).get("address"))
        if admin:
            yield admin[1], "envoy admin"
        for listener in config.get("static_resources", {}).get("listeners", []):
            address = _socket_address(listener.get("address"))
            if address:
                yield address[1], f"envoy listener {listener.get('name', '')}".strip()


def _dials(container: Mapping[str, Any], configs: Sequence[Mapping[str, Any]]) -> Iterator[tuple[int, str]]:
    env = {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}
    for name, value in sorted(env.items()):
        yield from ((int(p), f"env {name}") for p in _LOOPBACK_PORT.findall(value))
        prefix = name.removesuffix("_HOST")
        if name != prefix and value in _LOOPBACK and env.get(f"{prefix}_PORT", "").isdigit():
            yield int(env[f"{prefix}_PORT"]), f"env {name}/{prefix}_PORT"
    for flag, value, listen in _tokens(container):
        if not listen:
            yield from ((int(p), f"arg {flag}".strip()) for p in _LOOPBACK_PORT.findall(value))
    for config in _config_files(configs):
        if isinstance(config, str):
            continue
        for cluster in config.get("static_resources", {}).get("clusters", []):
            for group in cluster.get("load_assignment", {}).get("endpoints", []):
                for lb in group.get("lb_endpoints", []):
                    address = _socket_address(lb.get("endpoint", {}).get("address"))
                    if address and address[0] in _LOOPBACK:
                        yield address[1], f"envoy cluster {cluster.get('name', '')}".strip()


def _config_files(configs: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any] | str]:
    """Each file of the mounted ConfigMaps: an Envoy bootstrap as a dict, anything else as text."""
    for data in configs:
        for _, text in sorted(data.items()):
            try:
                parsed = yaml.safe_load(text)
            except yaml.YAMLError:
                parsed = None
            envoy = isinstance(parsed, dict) and ("static_resources" in parsed or "admin" in parsed)
            yield parsed if envoy else str(text)


def _socket_address(address: Any) -> tuple[str, int] | None:
    """(host, port) of an Envoy ``config.core.v3.Address`` with a ``socket_address``."""
    sock = address.get("socket_address") if isinstance(address, dict) else None
    if not isinstance(sock, dict) or not isinstance(sock.get("port_value"), int):
        return None
    return str(sock.get("address", "")), int(sock["port_value"])


def _resolve(
    dials: Sequence[tuple[str, int, str]], listens: Mapping[str, Mapping[int, set[str]]]
) -> tuple[Connection, ...]:
    edges: dict[tuple[str, str | None, int], set[str]] = {}
    for client, port, evidence in dials:
        if port in listens[client]:
            continue  # a container dialing itself (Envoy's admin cluster): not a pod-level edge
        servers: list[str | None] = [name for name, ports in sorted(listens.items()) if port in ports]
        for server in servers or [None]:
            edges.setdefault((client, server, port), set()).add(evidence)
    return tuple(
        Connection(client, server, port, tuple(sorted(ev)))
        for (client, server, port), ev in sorted(
            edges.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1] or "")
        )
    )


_ROLE_TITLE = {"init": "init containers, in start order", "container": "containers"}


@dataclass(frozen=True)
class PodPictures:
    """The pods of a manifest, ready to draw; see :func:`describe`."""

    pods: tuple[PodPicture, ...]

    def mermaid(self) -> str:
        """Mermaid ``flowchart LR`` text: one subgraph per pod (GitHub renders ```mermaid blocks)."""
        out = ["flowchart LR"]
        for i, pod in enumerate(self.pods, start=1):
            out += _mermaid_pod(pod, f"p{i}")
        out += [f"  classDef {cls} {style}" for cls, style in _MERMAID_CLASSES.items()]
        return "\n".join(out) + "\n"

    def dot(self) -> str:
        """Graphviz DOT text, the same picture as :meth:`mermaid`."""
        out = ["digraph pods {", "  rankdir=LR; compound=true; newrank=true;"]
        out.append('  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];')
        for i, pod in enumerate(self.pods, start=1):
            out += _dot_pod(pod, f"p{i}")
        return "\n".join([*out, "}"]) + "\n"

    def svg(self, dot_program: str = "dot") -> str:
        """SVG rendered by Graphviz ``dot`` (Debian package ``graphviz``).

        The ``Generated by graphviz version`` comment is removed, so the text depends only on
        the picture and the layout, not on the build that drew it.

        Raises:
            PropsError: ``dot_program`` is not installed, or it failed.
        """
        path = shutil.which(dot_program)
        if not path:
            raise PropsError(
                "describe",
                "dot_program",
                dot_program,
                "Graphviz is not installed",
                "apt-get install graphviz",
            )
        proc = subprocess.run([path, "-Tsvg"], input=self.dot(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise PropsError(
                "describe", "dot_program", path, f"dot failed: {proc.stderr.strip()}", "report a bug"
            )
        return re.sub(r"<!-- Generated by graphviz version [^>]*-->\n", "", proc.stdout)


def _id(prefix: str, kind: str, name: str) -> str:
    """A stable node id: Kubernetes names are DNS labels, so ``-``/``.`` to ``_`` cannot collide."""
    return f"{prefix}_{kind}_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _container_lines(c: Container) -> list[str]:
    title = c.name if c.role == "container" else f"{c.order}. {c.name}"
    lines = [title + (" (native sidecar)" if c.role == "native-sidecar" else ""), c.image]
    if c.listens:
        lines.append("listens " + ", ".join(f":{listener.port}" for listener in c.listens))
    return lines


def _groups(pod: PodPicture) -> list[tuple[str, list[Container]]]:
    inits = [c for c in pod.containers if c.role != "container"]
    mains = [c for c in pod.containers if c.role == "container"]
    return [(role, group) for role, group in (("init", inits), ("container", mains)) if group]


def _edges(pod: PodPicture, prefix: str) -> list[tuple[str, str, str, str]]:
    """(from id, to id, kind, label) of every edge, in drawing order, for both renderers.

    A write goes container -> volume and a read volume -> container, so data flows along the
    arrows; ``dial`` is a loopback connection; ``then`` is the start order: each init container
    to the next, the last one to the containers' group.
    """
    edges: list[tuple[str, str, str, str]] = []
    for m in pod.mounts:
        container, volume = _id(prefix, "c", m.container), _id(prefix, "v", m.volume)
        ends = (container, volume) if m.access == "write" else (volume, container)
        edges.append((*ends, "mount", f"{m.access} {m.path}"))
    for conn in pod.connections:
        server = _id(prefix, "c", conn.server) if conn.server else _id(prefix, "x", str(conn.port))
        label = f":{conn.port} " + ", ".join(conn.evidence)
        edges.append((_id(prefix, "c", conn.client), server, "dial", label))
    inits = [_id(prefix, "c", c.name) for c in pod.containers if c.role != "container"]
    nexts = inits[1:] + ([_id(prefix, "g", "container")] if len(inits) < len(pod.containers) else [])
    edges += [(a, b, "then", "then") for a, b in zip(inits, nexts, strict=False)]
    return edges


_MERMAID_CLASSES = {
    "init": "fill:#fff4dd,stroke:#b7791f",
    "sidecar": "fill:#e6fffa,stroke:#2c7a7b,stroke-width:2px",
    "main": "fill:#ebf4ff,stroke:#3c366b",
    "volume": "fill:#f7fafc,stroke:#718096",
    "missing": "fill:#fff5f5,stroke:#c53030,stroke-dasharray:4",
}
_CLASS_OF_ROLE = {"init": "init", "native-sidecar": "sidecar", "container": "main"}


def _mermaid_text(lines: Sequence[str]) -> str:
    """A quoted Mermaid label (``#quot;`` etc. are Mermaid's entity codes)."""
    escaped = (line.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for line in lines)
    return '"' + "<br/>".join(escaped) + '"'


def _mermaid_pod(pod: PodPicture, prefix: str) -> list[str]:
    out = [f"  subgraph {prefix}[{_mermaid_text([f'{pod.kind} {pod.namespace}/{pod.name}'])}]"]
    for role, group in _groups(pod):
        out.append(f"    subgraph {_id(prefix, 'g', role)}[{_mermaid_text([_ROLE_TITLE[role]])}]")
        for c in group:
            label = _mermaid_text(_container_lines(c))
            out.append(f"      {_id(prefix, 'c', c.name)}[{label}]:::{_CLASS_OF_ROLE[c.role]}")
        out.append("    end")
    out += [
        f"    {_id(prefix, 'v', v.name)}[({_mermaid_text([v.name, v.source])})]:::volume" for v in pod.volumes
    ]
    for port in sorted({conn.port for conn in pod.connections if conn.server is None}):
        out.append(
            f"    {_id(prefix, 'x', str(port))}[{_mermaid_text([f'nothing listens on :{port}'])}]:::missing"
        )
    out.append("  end")
    arrows = {"mount": "-->", "dial": "==>", "then": "-.->"}
    out += [
        f"  {a} {arrows[kind]}|{_mermaid_text([label])}| {b}" for a, b, kind, label in _edges(pod, prefix)
    ]
    return out


_DOT_STYLE = {
    "init": 'shape=box, style="rounded,filled", fillcolor="#fff4dd", color="#b7791f"',
    "native-sidecar": 'shape=box, style="rounded,filled,bold", fillcolor="#e6fffa", color="#2c7a7b"',
    "container": 'shape=box, style="rounded,filled", fillcolor="#ebf4ff", color="#3c366b"',
    "volume": 'shape=cylinder, style=filled, fillcolor="#f7fafc", color="#718096"',
    "missing": 'shape=box, style="dashed,filled", fillcolor="#fff5f5", color="#c53030"',
}


def _dot_text(lines: Sequence[str]) -> str:
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def _dot_pod(pod: PodPicture, prefix: str) -> list[str]:
    out = [
        f"  subgraph cluster_{prefix} {{",
        f"    label={_dot_text([f'{pod.kind} {pod.namespace}/{pod.name}'])};",
    ]
    first: dict[str, str] = {}
    for role, group in _groups(pod):
        out += [
            f"    subgraph cluster_{_id(prefix, 'g', role)} {{",
            f"      label={_dot_text([_ROLE_TITLE[role]])};",
        ]
        for c in group:
            label = _dot_text(_container_lines(c))
            out.append(f"      {_id(prefix, 'c', c.name)} [label={label}, {_DOT_STYLE[c.role]}];")
        out.append("    }")
        first[_id(prefix, "g", role)] = _id(prefix, "c", group[0].name)
    out += [
        f"    {_id(prefix, 'v', v.name)} [label={_dot_text([v.name, v.source])}, {_DOT_STYLE['volume']}];"
        for v in pod.volumes
    ]
    for port in sorted({conn.port for conn in pod.connections if conn.server is None}):
        label = _dot_text([f"nothing listens on :{port}"])
        out.append(f"    {_id(prefix, 'x', str(port))} [label={label}, {_DOT_STYLE['missing']}];")
    out.append("  }")
    styles = {"mount": "", "dial": ', penwidth=2, color="#2b6cb0"', "then": ", style=dashed"}
    for a, b, kind, label in _edges(pod, prefix):
        # an edge to a group ends at the group's box (compound=true), drawn to its first node
        head = f", lhead=cluster_{b}" if b in first else ""
        out.append(f"  {a} -> {first.get(b, b)} [label={_dot_text([label])}{styles[kind]}{head}];")
    return out
