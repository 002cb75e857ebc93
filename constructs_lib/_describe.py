"""A picture of each pod: containers, shared volumes, loopback connections, init order, the
ports it exposes, where its proxies send traffic, and what finds it from outside.

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
  and ``admin`` addresses, and nginx ``listen [host:]N;`` directives. Each listener has its
  protocols and its exposure (:class:`Listener`): *loopback only* when what binds it names
  127.0.0.1, localhost or ::1 (the flag's host; ``--bind``/``--host HOST`` beside ``--port``;
  the Envoy socket address; nginx's host) and nothing binds it wider; else *exposed* when a
  ``containerPort`` declares it; else *not declared*.
* **Connections** (a container that dials 127.0.0.1, localhost or [::1]): an env value or
  an argument containing ``<loopback>:PORT`` (``REDIS_URL=redis://127.0.0.1:6379``,
  ``--nginx.scrape-uri=http://127.0.0.1:8080/...``; listener flags excepted); an env pair
  ``X_HOST=<loopback>`` + ``X_PORT=N`` (``STATSD_HOST``/``STATSD_PORT``); an Envoy cluster
  endpoint on a loopback address in a mounted ConfigMap. Each connection goes to every other
  container that listens on its port; a container dialing its own port is not drawn; a
  connection no container listens for is drawn to a "nothing listens" node.
* **Upstreams** (:class:`Upstream`, where a proxy sends traffic out of the pod): each Envoy
  cluster endpoint off loopback in a mounted ConfigMap, one node per ``host:port``, with
  what each listener's route sends there: a ``redis_proxy`` route's cluster takes the
  *writes* when the route has a ``read_command_policy``, whose cluster takes the *reads*
  (the read/write split), else *all commands*; key-prefix routes say their prefix; a
  ``tcp_proxy`` sends *all traffic*; an endpoint of priority N > 0 is a *fallback*. A host
  that names a Service in the same documents says which.
* **What finds the pod** (:class:`Discovery`): each Service of the pod's namespace whose
  ``selector`` the pod template's labels match, with each port to its ``targetPort`` (a name
  is looked up among the containers' declared ports); each PodMonitor whose ``selector``
  (``matchLabels``, ``matchExpressions``) matches, in its namespace or its
  ``namespaceSelector``'s, with its own labels and each ``podMetricsEndpoints`` port; the
  pod's ``prometheus.io/*`` annotations, to ``prometheus.io/port``. A port nobody listens on,
  or a name no container declares, is drawn to a red node; a target bound to loopback only
  says so.

Not read: ``valueFrom`` env, ``envFrom``, exec probes, files in images, and config formats
other than Envoy's and nginx's. Ids and order are stable, so equal input gives byte-equal output.

**Manifests are data.** describe reads files from anywhere, so nothing in one can act as
syntax in what it writes, crash it, or make it run long:

* *Reading* (:func:`read_manifest`, the command line): at most :data:`MAX_FILE_BYTES`; UTF-8
  only (a UTF-8 byte-order mark is accepted; UTF-16/32 and other bytes are refused); YAML 1.1
  as PyYAML's safe loader reads it, except that timestamps stay text and an integer too long
  for Python stays text. YAML aliases (``*name``) are allowed (synthesized manifests have
  none, hand-written ones may), but a file whose aliases would expand past
  :data:`MAX_NODES` nodes (an "alias bomb"), or that nests past :data:`MAX_DEPTH` levels, or
  whose alias refers to a node that contains it, is refused before it is built.
* *Drawing* (:func:`describe`): the same node and depth budgets hold for documents given as
  Python objects; a picture over :data:`MAX_ELEMENTS` nodes and edges is refused, and so is
  matching Services' and PodMonitors' selectors against the pods past :data:`MAX_MATCH_WORK`
  label comparisons (many selectors times many pods). A field of
  the wrong type is never an error: a text field that is not text (``name: yes`` is a YAML 1.1
  bool) is drawn as its YAML text (``true``), a list or object there as ``[...]``/``{...}``, a
  missing or null name as ``(no name)``; an entry that is not an object (a container that is
  a string) and a port that is not a number from 1 to 65535 (``containerPort: http``) are
  skipped, as is anything where a list or an object is needed but something else is there
  (``metadata: null``, ``containers: 5``).
* *Writing*: every manifest string is shown as data. Characters Python does not print (C0/C1
  controls, DEL, U+2028/2029, bidi and zero-width format characters, surrogates, unassigned
  code points) become their Python escape (``\\x1b``, ``\\u2028``); each string is cut to
  :data:`MAX_TEXT` characters and each label line to :data:`MAX_LINE`, with ``…``. Mermaid
  labels keep only ``A-Z a-z 0-9``, space and ``-._/:,()@=+`` as they are and write every
  other character as a Mermaid entity code (``#35;``; ``#quot;``, ``#lt;``, ``#gt;``), so ``%%``
  (directives, comments), backticks (markdown strings), quotes, brackets and braces never
  reach Mermaid's parser; the letters of ``style``/``classDef`` in a label are broken up the
  same way (Mermaid rewrites ``style...#...;`` text before parsing). DOT labels escape ``\\``,
  ``"`` and ``&`` (``&amp;``: Graphviz reads entities in labels), so the SVG that ``dot``
  draws is well-formed XML. Node ids are ``p<N>_<kind>_<name>`` for a DNS-1123 label
  (``-`` becomes ``_``) and otherwise carry a hash of the name, so ids never collide; a
  container name used twice gets a node each. No output is longer than
  :data:`MAX_OUTPUT_CHARS`.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import re
import shutil
import string
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, NamedTuple

import yaml

from ._errors import PropsError
from ._template_paths import DEFAULT_TEMPLATE_PATH, TEMPLATE_PATH

#: The kinds whose documents hold a pod template.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
#: Where each kind's document holds the pod template (the seam's table, from a module without cdk8s).
_TEMPLATE_PATH, _DEFAULT_TEMPLATE_PATH = TEMPLATE_PATH, DEFAULT_TEMPLATE_PATH

#: The largest file :func:`read_manifest` reads (a chart's synthesized manifest is far smaller).
MAX_FILE_BYTES = 8 * 2**20
#: How deep objects and lists may nest (Kubernetes objects: ~15; CRD schemas: ~50).
MAX_DEPTH = 100
#: How many nodes the documents may hold once YAML aliases are expanded; a string counts one
#: node per started 64 characters beyond the first node.
MAX_NODES = 1_000_000
#: How many nodes and edges one picture may draw.
MAX_ELEMENTS = 2000
#: How many label comparisons matching Services' and PodMonitors' selectors against the pods may take.
MAX_MATCH_WORK = 1_000_000
#: The longest manifest string drawn (a DNS subdomain name is at most 253 characters).
MAX_TEXT = 256
#: The longest line of a label (a container's listens, a connection's evidence).
MAX_LINE = 320
#: The longest Mermaid, DOT or SVG text describe returns.
MAX_OUTPUT_CHARS = 32 * 2**20
#: How long Graphviz may take to draw (seconds).
DOT_TIMEOUT = 120

Role = Literal["init", "native-sidecar", "container"]
Access = Literal["read", "write"]
Exposure = Literal["exposed", "loopback", "undeclared"]

#: Volume sources the kubelet mounts read-only whatever the mount says ("atomic writer"
#: volumes; kubernetes/kubernetes#58720, CHANGELOG-1.10 "secret, configMap, downwardAPI and
#: projected volumes will be mounted as read-only volumes").
_ALWAYS_READ_ONLY = ("configMap", "secret", "downwardAPI", "projected")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
#: ``<loopback>:PORT`` anywhere in a string (a URL, host:port, a DSN).
_LOOPBACK_PORT = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):([0-9]{1,5})(?![0-9])")
#: The value of a listen flag: ``:2020``, ``0.0.0.0:9113``, ``127.0.0.1:9125``, ``[::]:80``.
_LISTEN_VALUE = re.compile(r"^(?:[\w.\-]*|\[[0-9A-Fa-f:]*\]):([0-9]{1,5})$")
_LISTEN_FLAG = re.compile(r"listen|bind")
_PORT_TEXT = re.compile(r"[0-9]{1,5}")
#: nginx ``listen 8080;`` / ``listen 127.0.0.1:8080 default_server;`` (nginx.org ngx_http_core_module#listen).
#: (Leading blanks exclude newlines: ``^\s*`` would rescan every following blank line.)
_NGINX_LISTEN = re.compile(r"^[^\S\n]*listen\s+(?:(\S+):)?([0-9]{1,5})(?=[\s;])([^;\n]*)", re.M)
_NO_NAME = "(no name)"
#: The most lines of a Service's, PodMonitor's or annotations' box.
_MAX_DETAIL = 8
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Listener:
    """A port a container listens on, and what in the manifest says so.

    Attributes:
        protocols: ``TCP``, ``UDP``, ``SCTP``: a ``containerPort``'s ``protocol``; a listen flag
            naming ``udp`` or ``tcp`` (StatsD's ``--statsd.listen-udp``/``--statsd.listen-tcp``);
            an Envoy listener's ``socket_address.protocol``; nginx ``listen ... udp``. Else TCP.
        exposure: ``loopback`` when what binds it says 127.0.0.1, localhost or ::1 (a flag's
            host, ``--bind``/``--host`` with ``--port``, an Envoy socket address, nginx ``listen
            127.0.0.1:N``) and nothing binds it wider: only the pod's containers reach it;
            else ``exposed`` when a ``containerPort`` declares it (a Service or PodMonitor can
            name it); else ``undeclared``: no bind address is known (or it is a wildcard) and no
            ``containerPort`` declares it.
    """

    port: int
    evidence: tuple[str, ...]
    protocols: tuple[str, ...] = ("TCP",)
    exposure: Exposure = "exposed"


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
class Upstream:
    """A server outside the pod that ``container`` (an Envoy proxy) sends traffic to: an
    endpoint of a cluster in the Envoy config the container mounts, not on loopback (a loopback
    endpoint is a :class:`Connection`).

    Attributes:
        address: the endpoint, ``host:port``, as the config writes it.
        cluster: the Envoy cluster the endpoint belongs to.
        traffic: what a listener's route sends to the cluster: ``writes`` (a ``redis_proxy``
            route's ``cluster`` when the route has a ``read_command_policy``: writes and every
            command that is not a read), ``reads`` (that policy's cluster), ``all commands`` (a
            route without one), ``mirrored`` (a ``request_mirror_policy``), ``all traffic``
            (``tcp_proxy``); ``""`` when no route names the cluster.
        prefix: the key prefix of a ``prefix_routes.routes`` entry; ``""`` for the catch-all route.
        priority: the endpoint's priority in the cluster: 0 is used first; N only while no
            endpoint of a lower priority is healthy (a fallback).
        listener: the port of the listener whose route it is; None when no route names the cluster.
        service: ``namespace/name`` of a Service in the same documents that the host names
            (``name``, ``name.namespace``, ``name.namespace.svc[.cluster.local]``); ``""`` if none.
    """

    container: str
    address: str
    cluster: str
    traffic: str
    prefix: str
    priority: int
    listener: int | None
    service: str = ""


@dataclass(frozen=True)
class Target:
    """A port of the pod that a :class:`Discovery` reaches.

    Attributes:
        port: the pod port; None when the object names a port that no ``containerPort`` has.
        port_name: the port name the object gives (``""`` when it gives a number).
        container: the container listening on ``port``; None when no container does.
        says: what the object says, e.g. ``80 -> 8080/TCP (http)``, ``scrape metrics /metrics``.
    """

    port: int | None
    port_name: str
    container: str | None
    says: str


@dataclass(frozen=True)
class Discovery:
    """What finds the pod from outside: a Service or a PodMonitor whose selector matches the
    pod template's labels (a Service in the pod's namespace; a PodMonitor in it or in its
    ``namespaceSelector``), or the pod's own ``prometheus.io/*`` annotations.

    Attributes:
        kind: ``Service``, ``PodMonitor`` or ``annotations``.
        name: the object's name (``prometheus.io`` for the annotations).
        namespace: the object's namespace (the pod's, for the annotations).
        detail: more lines to show: a Service's type; a PodMonitor's own labels (what a
            Prometheus selects it by); the annotations.
        targets: the pod ports it reaches, in the object's order.
    """

    kind: str
    name: str
    namespace: str
    detail: tuple[str, ...]
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class PodPicture:
    """What one workload's pod is made of, and what around it routes to it or from it."""

    kind: str
    name: str
    namespace: str
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...]
    mounts: tuple[Mount, ...]
    connections: tuple[Connection, ...]
    upstreams: tuple[Upstream, ...] = ()
    discovered_by: tuple[Discovery, ...] = ()


# --- reading -----------------------------------------------------------------------------

_YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_YAML_LOADER):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml when built in), but timestamps stay text (Kubernetes reads
    them as strings) and an integer too long for ``int()`` stays text."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
            return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def read_manifest(data: bytes, *, source: str = "docs") -> list[dict[str, Any]]:
    """The documents of a manifest file's bytes, for :func:`describe` (empty documents dropped).

    Raises:
        PropsError: the file is over :data:`MAX_FILE_BYTES`, not UTF-8, not YAML, nests or
            expands past the budgets, or holds a document that is not an object.
    """
    if len(data) > MAX_FILE_BYTES:
        raise PropsError(
            source,
            "size",
            f"over {MAX_FILE_BYTES} bytes",
            f"describe reads manifests of at most {MAX_FILE_BYTES // 2**20} MiB",
            "describe one chart's manifest at a time (cdk8s writes one file per chart)",
        )
    docs = _yaml_documents(_decode(data, source), source=source)
    for i, doc in enumerate(docs, start=1):
        if doc is not None and not isinstance(doc, dict):
            raise PropsError(
                source,
                f"document {i}",
                _type_name(doc),
                "every YAML document must be a Kubernetes object (a mapping)",
                "pass a synthesized manifest: objects separated by ---",
            )
    return [d for d in docs if d]


def _decode(data: bytes, source: str) -> str:
    """UTF-8 text of ``data`` (a UTF-8 byte-order mark is dropped)."""
    boms = [
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ]
    encoding = next((name for bom, name in boms if data.startswith(bom)), None)
    if encoding:
        raise PropsError(
            source,
            "encoding",
            encoding,
            "describe reads UTF-8 only",
            f"convert it: iconv -f {encoding} -t UTF-8",
        )
    if b"\x00" in data:
        raise PropsError(
            source,
            "encoding",
            f"NUL byte at offset {data.index(0)}",
            "not UTF-8 YAML text (UTF-16 without a byte-order mark?)",
            "save the file as UTF-8",
        )
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as err:
        raise PropsError(
            source,
            "encoding",
            f"byte 0x{data[err.start]:02x} at offset {err.start}",
            "not UTF-8",
            "save the file as UTF-8",
        ) from None


def _yaml_documents(text: str, *, source: str = "docs") -> list[Any]:
    """Every YAML document in ``text``, read by the module's rules (aliases within budget).

    Raises:
        PropsError: not YAML, or over :data:`MAX_DEPTH` / :data:`MAX_NODES`.
    """
    try:
        _check_events(text, source)
        return list(yaml.load_all(text, Loader=_Loader))
    except PropsError:
        raise
    except yaml.MarkedYAMLError as err:
        where = err.problem_mark or err.context_mark
        at = f"line {where.line + 1}, column {where.column + 1}" if where else "?"
        problem = " ".join(p for p in (err.context, err.problem) if p)
        raise PropsError(source, "yaml", at, f"not valid YAML: {problem}", "fix the YAML there") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as err:
        raise PropsError(
            source, "yaml", type(err).__name__, f"not valid YAML: {_clip(str(err), 200)}", "fix the YAML"
        ) from None


def _check_events(text: str, source: str) -> None:
    """Refuse YAML that nests past :data:`MAX_DEPTH` or expands past :data:`MAX_NODES`, from
    the parser's events alone, before any node is built (the composer recurses per level and
    shares aliased nodes, and merge keys ``<<: *a`` copy them, so a bomb costs nothing until
    it is walked or merged)."""
    anchors: dict[str, tuple[int, int]] = {}  # anchor: (expanded nodes, height)
    frames: list[list[Any]] = []  # open collections: [nodes, height of children, anchor]
    total = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(frames) >= MAX_DEPTH:
                raise _too_deep(source, event.start_mark)
            frames.append([1, 0, event.anchor])
            total += 1
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            nodes, height, anchor = frames.pop()
            height += 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes, height, anchor = _weight(event.value), 0, event.anchor
            total += nodes
        elif isinstance(event, yaml.AliasEvent):
            if any(frame[2] == event.anchor for frame in frames):
                raise PropsError(
                    source,
                    "yaml",
                    f"*{_clip(str(event.anchor), 64)}",
                    "a YAML alias refers to a node that contains it (an endless structure)",
                    "remove the alias",
                )
            nodes, height = anchors.get(str(event.anchor), (1, 0))
            anchor = None
            total += nodes
            if len(frames) + height > MAX_DEPTH:
                raise _too_deep(source, event.start_mark)
        else:
            continue
        if total > MAX_NODES:
            raise _too_big(source, "yaml", "its YAML aliases expand to" if anchors else "it holds")
        if anchor:
            anchors[anchor] = (nodes, height)
        if frames:
            frames[-1][0] += nodes
            frames[-1][1] = max(frames[-1][1], height)


def _weight(text: str) -> int:
    """A string's share of :data:`MAX_NODES`."""
    return 1 + len(text) // 64


def _too_deep(source: str, mark: Any = None) -> PropsError:
    return PropsError(
        source,
        "yaml" if mark is not None else "docs",
        f"line {mark.line + 1}" if mark is not None else "nesting",
        f"objects and lists nest more than {MAX_DEPTH} levels deep",
        "pass a Kubernetes manifest (its objects nest far less)",
    )


def _too_big(source: str, prop: str, what: str) -> PropsError:
    return PropsError(
        source,
        prop,
        f"more than {MAX_NODES} nodes",
        f"{what} more than {MAX_NODES} nodes (strings count per 64 characters)",
        "expand or remove the YAML aliases (synthesized manifests have none), or describe a smaller manifest",
    )


def _check_size(docs: Sequence[Mapping[Any, Any]], source: str) -> None:
    """:data:`MAX_DEPTH` and :data:`MAX_NODES` for documents given as objects: a list or dict
    reached several times counts each time (as an expanded alias would), one that contains
    itself is refused. Each distinct list or dict is walked once."""
    sizes: dict[int, tuple[int, int]] = {}  # id: (expanded nodes, height)
    walking: set[int] = set()

    def size(node: Any, depth: int) -> tuple[int, int]:
        if isinstance(node, str):
            return _weight(node), 0
        if not isinstance(node, Mapping | list | tuple):
            return 1, 0
        key = id(node)
        if key in walking:
            raise PropsError(
                source,
                "docs",
                _type_name(node),
                "a list or object contains itself (an endless structure)",
                "pass plain documents",
            )
        if key not in sizes:
            if depth > MAX_DEPTH:
                raise _too_deep(source)
            walking.add(key)
            nodes, height = 1, 0
            for child in (x for kv in node.items() for x in kv) if isinstance(node, Mapping) else node:
                n, h = size(child, depth + 1)
                nodes, height = nodes + n, max(height, h)
                if nodes > MAX_NODES:
                    raise _too_big(source, "docs", "the documents hold")
            walking.discard(key)
            sizes[key] = (nodes, height + 1)
        if depth - 1 + sizes[key][1] > MAX_DEPTH:
            raise _too_deep(source)
        return sizes[key]

    total = 0
    for doc in docs:
        total += size(doc, 1)[0]
        if total > MAX_NODES:
            raise _too_big(source, "docs", "the documents hold")


# --- the model ---------------------------------------------------------------------------


def _map(value: Any) -> Mapping[Any, Any]:
    """``value`` if it is an object, else an empty one (a field of the wrong type says nothing)."""
    return value if isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> Sequence[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list | tuple) else ()


def _objects(value: Any) -> list[Mapping[Any, Any]]:
    """The entries of a list that are objects."""
    return [x for x in _list(value) if isinstance(x, Mapping)]


def _text(value: Any, missing: str = "") -> str:
    """A field as text: a string as it is, another scalar as its YAML text, a list or an
    object as ``[...]``/``{...}`` (never expanded: it may be an alias bomb), None as ``missing``."""
    if value is None:
        return missing
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 256 else f"(a {value.bit_length()}-bit integer)"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return f"(binary, {len(value)} bytes)"
    if isinstance(value, Mapping | set | frozenset):
        return "{...}"
    if isinstance(value, list | tuple):
        return "[...]"
    return f"({type(value).__name__})"


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a bool", int: "an integer"}
    return names.get(type(value), type(value).__name__)


def _port(value: Any) -> int | None:
    """A port number 1-65535 from an integer or a string of digits; None for anything else."""
    if isinstance(value, str) and _PORT_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    return None


class _Budget:
    """What is left of :data:`MAX_ELEMENTS` for the picture, and of :data:`MAX_MATCH_WORK`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.left = MAX_ELEMENTS
        self.work = MAX_MATCH_WORK

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise PropsError(
                self.source,
                "docs",
                f"more than {MAX_ELEMENTS} nodes and edges",
                "the picture would be too large to draw",
                "describe the manifest of one chart or one workload at a time",
            )

    def match(self, n: int) -> None:
        """``n`` label comparisons of a Service's or PodMonitor's selector against a pod."""
        self.work -= n
        if self.work < 0:
            raise PropsError(
                self.source,
                "docs",
                f"more than {MAX_MATCH_WORK} label comparisons",
                "matching the Services' and PodMonitors' selectors against the pods is over the budget",
                "describe the manifest of one chart or one workload at a time",
            )


@dataclass(frozen=True)
class _Selector:
    """A Service's or PodMonitor's pod selector: ``labels`` all equal, every expression holds.

    ``expressions``: (key, operator, values) of ``matchExpressions``."""

    labels: frozenset[tuple[str, str]]
    expressions: tuple[tuple[str, str, frozenset[str]], ...] = ()

    def size(self) -> int:
        return len(self.labels) + len(self.expressions) + 1

    def matches(self, labels: Mapping[str, str]) -> bool:
        if not all(labels.get(k) == v for k, v in self.labels):
            return False
        for key, op, values in self.expressions:
            ok = {
                "In": key in labels and labels[key] in values,
                "NotIn": key not in labels or labels[key] not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels,
            }.get(op, False)
            if not ok:
                return False
        return True


@dataclass(frozen=True)
class _Finder:
    """A Service or PodMonitor, read once: what it selects, and where."""

    kind: str
    name: str
    namespace: str
    #: The namespaces whose pods it selects (None: every namespace).
    namespaces: frozenset[str] | None
    selector: _Selector
    doc: Mapping[Any, Any]


@dataclass(frozen=True)
class _Context:
    """What every pod's picture reads from the other documents."""

    facts: _ConfigFacts
    #: Services and PodMonitors by the namespace whose pods they select (None: any namespace).
    finders: Mapping[str | None, Sequence[_Finder]]
    services: frozenset[tuple[str, str]]


def describe(docs: Iterable[Mapping[str, Any] | None], *, source: str = "docs") -> PodPictures:
    """The pictures of the pods in ``docs`` (parsed Kubernetes documents, e.g. ``yaml.safe_load_all``).

    Args:
        docs: every document of a manifest; ``None`` (empty documents) is skipped.
        source: where the documents come from, for error messages (a file name).

    Raises:
        PropsError: a document is not an object; the documents nest or expand past the budgets
            (module docstring); the picture would be over :data:`MAX_ELEMENTS`, or matching the
            selectors over :data:`MAX_MATCH_WORK`; no document is a workload (Deployment,
            StatefulSet, DaemonSet, Job, CronJob, Pod).
    """
    all_docs = _documents(docs, source)
    _check_size(all_docs, source)
    budget = _Budget(source)
    config_maps = {
        (_namespace(d), _text(_map(d.get("metadata")).get("name"))): _map(d.get("data"))
        for d in all_docs
        if d.get("kind") == "ConfigMap"
    }
    finders: dict[str | None, list[_Finder]] = {}
    for finder in (_finder(d) for d in all_docs if d.get("kind") in ("Service", "PodMonitor")):
        if finder is not None:
            for namespace in sorted(finder.namespaces) if finder.namespaces is not None else [None]:
                finders.setdefault(namespace, []).append(finder)
    context = _Context(
        _ConfigFacts(config_maps),
        finders,
        frozenset(
            (_namespace(d), _text(_map(d.get("metadata")).get("name")))
            for d in all_docs
            if d.get("kind") == "Service"
        ),
    )
    pods = tuple(_picture(d, context, budget) for d in all_docs if d.get("kind") in WORKLOAD_KINDS)
    if not pods:
        kinds = sorted({_clip(_text(d.get("kind"), "null"), 64) for d in all_docs})
        if len(kinds) > 10:
            kinds = [*kinds[:10], f"... {len(kinds) - 10} more"]
        raise PropsError(
            source,
            "docs",
            kinds,
            "no document holds a pod (no " + ", ".join(WORKLOAD_KINDS) + ")",
            "pass the synthesized manifest of a workload, e.g. dist/<chart>.k8s.yaml",
        )
    return PodPictures(pods)


def _documents(docs: Any, source: str) -> list[Mapping[Any, Any]]:
    """The non-empty documents; each must be an object."""
    if isinstance(docs, Mapping | str | bytes):
        raise PropsError(
            source,
            "docs",
            _type_name(docs),
            "describe takes every document of a manifest, not one",
            "pass a list of documents, e.g. yaml.safe_load_all(text)",
        )
    try:
        items = list(docs)
    except TypeError:
        raise PropsError(
            source, "docs", _type_name(docs), "not a list of documents", "pass yaml.safe_load_all(text)"
        ) from None
    out: list[Mapping[Any, Any]] = []
    for i, doc in enumerate(items, start=1):
        if isinstance(doc, Mapping):
            if doc:
                out.append(doc)
        elif doc is not None:
            raise PropsError(
                source,
                f"document {i}",
                _type_name(doc),
                "every YAML document must be a Kubernetes object (a mapping)",
                "pass a synthesized manifest: objects separated by ---",
            )
    return out


def _namespace(doc: Mapping[Any, Any]) -> str:
    return _text(_map(doc.get("metadata")).get("namespace"), "default")


def _pod_template(doc: Mapping[Any, Any]) -> Mapping[Any, Any]:
    node = doc
    for key in _TEMPLATE_PATH.get(doc["kind"], _DEFAULT_TEMPLATE_PATH):
        node = _map(node.get(key))
    return node


def _text_map(value: Any) -> dict[str, str]:
    """An object of labels (or annotations), keys and values as text."""
    return {_text(k): _text(v) for k, v in _map(value).items()}


def _finder(doc: Mapping[Any, Any]) -> _Finder | None:
    """A Service (selects pods of its namespace by ``spec.selector``; none or empty: no pod)
    or a PodMonitor (``spec.selector``, a label selector: empty selects every pod; in its
    namespace, or those of ``namespaceSelector``: ``any: true`` or ``matchNames``)."""
    spec = _map(doc.get("spec"))
    namespace = _namespace(doc)
    name = _text(_map(doc.get("metadata")).get("name"), _NO_NAME)
    if doc["kind"] == "Service":
        labels = frozenset(_text_map(spec.get("selector")).items())
        if not labels:
            return None
        return _Finder("Service", name, namespace, frozenset([namespace]), _Selector(labels), doc)
    selector = spec.get("selector")
    if not isinstance(selector, Mapping):
        return None
    expressions = tuple(
        (
            _text(e.get("key")),
            _text(e.get("operator")),
            frozenset(_text(v) for v in _list(e.get("values"))),
        )
        for e in _objects(selector.get("matchExpressions"))
    )
    ns_selector = _map(spec.get("namespaceSelector"))
    namespaces: frozenset[str] | None = frozenset([namespace])
    if ns_selector.get("any") is True:
        namespaces = None
    elif "matchNames" in ns_selector:
        namespaces = frozenset(_text(n) for n in _list(ns_selector.get("matchNames")))
    match_labels = frozenset(_text_map(selector.get("matchLabels")).items())
    return _Finder("PodMonitor", name, namespace, namespaces, _Selector(match_labels, expressions), doc)


@dataclass
class _Port:
    """What a container's sources say about one port it listens on."""

    evidence: set[str] = field(default_factory=set)
    protocols: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)
    declared: bool = False

    def exposure(self) -> Exposure:
        if "loopback" in self.binds and "wide" not in self.binds:
            return "loopback"
        return "exposed" if self.declared else "undeclared"


def _picture(doc: Mapping[Any, Any], context: _Context, budget: _Budget) -> PodPicture:
    template = _pod_template(doc)
    spec = _map(template.get("spec"))
    raw_volumes, volumes = _pod_volumes(doc, spec, budget)
    inits = _objects(spec.get("initContainers"))
    raw: list[tuple[Mapping[Any, Any], Role, int]] = [
        (c, "native-sidecar" if c.get("restartPolicy") == "Always" else "init", i)
        for i, c in enumerate(inits, start=1)
    ]
    raw += [(c, "container", 0) for c in _objects(spec.get("containers"))]
    budget.spend(3 + len(raw) + len(inits))  # the pod and its groups, containers, "then" edges

    namespace = _namespace(doc)
    listens: dict[str, dict[int, _Port]] = {}
    dials: list[tuple[str, int, str]] = []
    mounts: list[Mount] = []
    routes: set[Upstream] = set()
    named: dict[str, list[tuple[str, int]]] = {}  # declared port name: (container, port)
    for c, role, _ in raw:
        name = _text(c.get("name"), _NO_NAME)
        own = listens.setdefault(name, {})
        container_mounts = _objects(c.get("volumeMounts"))
        budget.spend(len(container_mounts))
        configs = [
            context.facts.of(namespace, _text(_map(volume.get("configMap")).get("name")))
            for volume in (raw_volumes.get(_text(m.get("name"), _NO_NAME), _EMPTY) for m in container_mounts)
            if "configMap" in volume
        ]
        for listen in _listeners(c, configs):
            port = own.setdefault(listen.port, _Port())
            port.evidence.add(listen.evidence)
            port.protocols.add(listen.protocol)
            if listen.bind:
                port.binds.add(listen.bind)
            port.declared = port.declared or listen.declared
            if listen.declared and listen.name and role != "init":
                named.setdefault(listen.name, []).append((name, listen.port))
        dials += [(name, port, evidence) for port, evidence in _dials(c, configs)]
        mounts += _mounts(name, container_mounts, raw_volumes, volumes, budget)
        routes.update(
            Upstream(
                name,
                _address(r.host, r.port),
                r.cluster,
                r.traffic,
                r.prefix,
                r.priority,
                r.listener,
                _service_of(r.host, namespace, context.services),
            )
            for facts in configs
            for r in facts.routes
        )

    containers = tuple(
        Container(
            _text(c.get("name"), _NO_NAME),
            _text(c.get("image")),
            role,
            order,
            tuple(
                Listener(p, tuple(sorted(info.evidence)), tuple(sorted(info.protocols)), info.exposure())
                for p, info in sorted(listens[_text(c.get("name"), _NO_NAME)].items())
            ),
        )
        for c, role, order in raw
    )
    upstreams = tuple(
        sorted(
            routes,
            key=lambda u: (
                u.container,
                u.address,
                u.priority,
                u.cluster,
                u.traffic,
                u.prefix,
                u.listener or 0,
            ),
        )
    )
    budget.spend(len({u.address for u in upstreams}) + len({(u.container, u.address) for u in upstreams}))
    meta = _map(template.get("metadata"))
    return PodPicture(
        kind=str(doc["kind"]),
        name=_text(_map(doc.get("metadata")).get("name"), _NO_NAME),
        namespace=namespace,
        containers=containers,
        volumes=tuple(sorted(volumes.values(), key=lambda v: v.name)),
        mounts=tuple(sorted(mounts, key=lambda m: (m.volume, m.container, m.path))),
        connections=_resolve(dials, listens, budget),
        upstreams=upstreams,
        discovered_by=_discoveries(namespace, meta, containers, named, context, budget),
    )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _service_of(host: str, namespace: str, services: frozenset[tuple[str, str]]) -> str:
    """``namespace/name`` of the Service ``host`` names (``name``, ``name.namespace``,
    ``name.namespace.svc``, ``name.namespace.svc.<cluster domain>``), if it is in the documents."""
    parts = host.split(".")
    if len(parts) > 2 and parts[2] != "svc":
        return ""
    key = (parts[1] if len(parts) > 1 else namespace, parts[0])
    return f"{key[0]}/{key[1]}" if key in services else ""


def _discoveries(
    namespace: str,
    meta: Mapping[Any, Any],
    containers: Sequence[Container],
    named: Mapping[str, Sequence[tuple[str, int]]],
    context: _Context,
    budget: _Budget,
) -> tuple[Discovery, ...]:
    """The Services and PodMonitors that select the pod, then its ``prometheus.io/*`` annotations."""
    labels = _text_map(meta.get("labels"))
    servers: dict[int, list[Container]] = {}
    for c in containers:
        for listener in c.listens:
            servers.setdefault(listener.port, []).append(c)

    def reach(value: Any, says: str) -> list[Target]:
        """The pod ports a port value (a number, or the name of a declared ``containerPort``) reaches."""
        port = _port(value) if not isinstance(value, str) or _PORT_TEXT.fullmatch(value) else None
        if port is None:
            if not isinstance(value, str) or not value:
                return []
            found = named.get(value, [])
            if not found:
                return [Target(None, value, None, says)]
            return [Target(p, value, c, says + _loopback_note(c, p, servers)) for c, p in found]
        listening = servers.get(port, [])
        if not listening:
            return [Target(port, "", None, says)]
        return [Target(port, "", c.name, says + _loopback_note(c.name, port, servers)) for c in listening]

    found: list[Discovery] = []
    candidates = [*context.finders.get(namespace, ()), *context.finders.get(None, ())]
    for finder in candidates:
        budget.match(finder.selector.size())
        if not finder.selector.matches(labels):
            continue
        spec = _map(finder.doc.get("spec"))
        targets: list[Target] = []
        if finder.kind == "Service":
            kind_text = (
                "headless" if spec.get("clusterIP") == "None" else _text(spec.get("type")) or "ClusterIP"
            )
            detail: tuple[str, ...] = (kind_text,)
            for p in _objects(spec.get("ports")):
                target = p.get("targetPort", p.get("port"))
                proto = _text(p.get("protocol")) or "TCP"
                port_name = _text(p.get("name"))
                says = f"port {_text(p.get('port'))} to {_text(target)}/{proto}"
                says += f" ({port_name})" if port_name else ""
                targets += reach(target, says)
        else:
            own = _text_map(_map(finder.doc.get("metadata")).get("labels"))
            shown = _join((f"{k}={v}" for k, v in sorted(own.items())), ", ") if own else "none"
            detail = (f"labels {shown}",)
            for ep in _objects(spec.get("podMetricsEndpoints")):
                value = next((ep[k] for k in ("port", "portNumber", "targetPort") if k in ep), None)
                path = _text(ep.get("path")) or "/metrics"
                targets += reach(value, f"scrape {_text(value)} {path}")
        budget.spend(1 + len(targets) + sum(t.container is None for t in targets))
        found.append(Discovery(finder.kind, finder.name, finder.namespace, detail, tuple(targets)))
    found.sort(key=lambda x: (x.kind != "Service", x.namespace, x.name))
    annotations = {
        k: v for k, v in sorted(_text_map(meta.get("annotations")).items()) if k.startswith("prometheus.io/")
    }
    if annotations:
        lines = [f"{k}={v}" for k, v in annotations.items()]
        if len(lines) > _MAX_DETAIL:
            lines = [*lines[: _MAX_DETAIL - 1], f"... {len(lines) - _MAX_DETAIL + 1} more"]
        targets = []
        if "prometheus.io/port" in annotations:
            port = annotations["prometheus.io/port"]
            targets = reach(
                port if _PORT_TEXT.fullmatch(port) else None,
                f"scrape :{port}{annotations.get('prometheus.io/path', '')}",
            )
        budget.spend(1 + len(targets) + sum(t.container is None for t in targets))
        found.append(Discovery("annotations", "prometheus.io", namespace, tuple(lines), tuple(targets)))
    return tuple(found)


def _loopback_note(container: str, port: int, servers: Mapping[int, Sequence[Container]]) -> str:
    """`` (loopback only)`` when ``container`` binds ``port`` to loopback: nothing outside the
    pod reaches it there."""
    for c in servers.get(port, ()):
        if c.name == container and any(x.port == port and x.exposure == "loopback" for x in c.listens):
            return " (loopback only)"
    return ""


def _pod_volumes(
    doc: Mapping[Any, Any], spec: Mapping[Any, Any], budget: _Budget
) -> tuple[dict[str, Mapping[Any, Any]], dict[str, Volume]]:
    """The pod's volumes as declared (by name), and as drawn (with a StatefulSet's claim templates)."""
    raw_volumes = {_text(v.get("name"), _NO_NAME): v for v in _objects(spec.get("volumes"))}
    budget.spend(len(raw_volumes))
    volumes = {name: Volume(name, _volume_source(v)) for name, v in raw_volumes.items()}
    claims = (
        _objects(_map(doc.get("spec")).get("volumeClaimTemplates")) if doc["kind"] == "StatefulSet" else []
    )
    budget.spend(len(claims))
    for claim in claims:
        name = _text(_map(claim.get("metadata")).get("name"), _NO_NAME)
        volumes[name] = Volume(name, "volumeClaimTemplate")
    return raw_volumes, volumes


def _mounts(
    container: str,
    container_mounts: Sequence[Mapping[Any, Any]],
    raw_volumes: Mapping[str, Mapping[Any, Any]],
    volumes: dict[str, Volume],
    budget: _Budget,
) -> list[Mount]:
    """One container's mounts; a volume it mounts that the pod does not declare is drawn as such."""
    found = []
    for m in container_mounts:
        volume_name = _text(m.get("name"), _NO_NAME)
        volume = raw_volumes.get(volume_name, _EMPTY)
        read_only = m.get("readOnly") is True or any(k in volume for k in _ALWAYS_READ_ONLY)
        path = _text(m.get("mountPath"), "(no mountPath)")
        found.append(Mount(container, volume_name, path, "read" if read_only else "write"))
        if volume_name not in volumes:
            budget.spend(1)
            volumes[volume_name] = Volume(volume_name, "not declared in the pod")
    return found


def _volume_source(volume: Mapping[Any, Any]) -> str:
    """``emptyDir``, ``configMap NAME``, ``secret NAME``, ``persistentVolumeClaim NAME``..."""
    kind = next((k for k in sorted(k for k in volume if isinstance(k, str)) if k != "name"), "unknown")
    body = _map(volume.get(kind))
    ref = body.get("name") or body.get("secretName") or body.get("claimName") or body.get("path")
    if kind == "emptyDir" and body.get("medium"):
        ref = f"medium {_text(body['medium'])}"
    return f"{kind} {_text(ref)}" if ref else kind


def _tokens(container: Mapping[Any, Any]) -> Iterator[tuple[str, str, bool]]:
    """Each argument of ``command`` + ``args`` as (flag, value, is a listen flag).

    ``--flag=value`` and ``--flag value`` give the flag and its value; any other word is a
    value with the flag ``""``.
    """
    words = [_text(w) for w in [*_list(container.get("command")), *_list(container.get("args"))]]
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
            (_LISTEN_FLAG.search(name) and _LISTEN_VALUE.match(value))
            or (name == "port" and _PORT_TEXT.fullmatch(value))
        )
        yield flag, value, listen
        i += 1


class _Listen(NamedTuple):
    """One source's word on a port a container listens on."""

    port: int
    evidence: str
    protocol: str
    #: ``loopback`` (127.0.0.1, localhost, ::1), ``wide`` (a wildcard or another address), or
    #: ``""`` (the source does not say).
    bind: str = ""
    #: A ``containerPort``; ``name`` is its name.
    declared: bool = False
    name: str = ""


class _Route(NamedTuple):
    """An Envoy cluster endpoint off loopback, and which listener's route sends what there."""

    host: str
    port: int
    cluster: str
    traffic: str
    prefix: str
    priority: int
    listener: int | None


@dataclass(frozen=True)
class _Facts:
    """What the files of one ConfigMap say: ports listened on, (port, evidence) dialed on
    loopback, and the endpoints routed to off loopback."""

    listens: tuple[_Listen, ...]
    dials: tuple[tuple[int, str], ...]
    routes: tuple[_Route, ...] = ()


class _ConfigFacts:
    """The facts of each ConfigMap, read once (each file parsed once, however often mounted)."""

    def __init__(self, config_maps: Mapping[tuple[str, str], Mapping[Any, Any]]) -> None:
        self._config_maps = config_maps
        self._by_map: dict[tuple[str, str], _Facts] = {}
        self._by_text: dict[str, _Facts] = {}

    def of(self, namespace: str, name: str) -> _Facts:
        key = (namespace, name)
        if key not in self._by_map:
            data = self._config_maps.get(key, _EMPTY)
            files = [
                self._file(t)
                for _, t in sorted(data.items(), key=lambda kv: _text(kv[0]))
                if isinstance(t, str)
            ]
            self._by_map[key] = _Facts(
                tuple(x for f in files for x in f.listens),
                tuple(x for f in files for x in f.dials),
                tuple(x for f in files for x in f.routes),
            )
        return self._by_map[key]

    def _file(self, text: str) -> _Facts:
        if text not in self._by_text:
            self._by_text[text] = _file_facts(text)
        return self._by_text[text]


def _bind(host: str) -> str:
    """``loopback`` for 127.0.0.1, localhost, ::1; ``wide`` for any other address or a wildcard."""
    return "loopback" if host in _LOOPBACK else "wide"


def _file_facts(text: str) -> _Facts:
    """An Envoy bootstrap's listeners, admin address, cluster endpoints and the routes to them;
    anything else is read as nginx configuration (``listen`` directives)."""
    parsed: Any = None
    if "static_resources" in text or "admin" in text:
        try:
            docs = _yaml_documents(text, source="ConfigMap")
        except PropsError:
            docs = []
        parsed = docs[0] if len(docs) == 1 else None
    config = _map(parsed)
    if not ("static_resources" in config or "admin" in config):
        listens = []
        for host, port_text, params in _NGINX_LISTEN.findall(text):
            port = _port(port_text)
            if port:
                protocol = "UDP" if "udp" in params.split() else "TCP"
                listens.append(
                    _Listen(port, "nginx listen", protocol, _bind(host) if host != "*" else "wide")
                )
        return _Facts(tuple(listens), ())
    listens, dials, routes = [], [], []
    admin = _socket_address(_map(config.get("admin")).get("address"))
    if admin:
        listens.append(_Listen(admin[1], "envoy admin", "TCP", _bind(admin[0])))
    resources = _map(config.get("static_resources"))
    routed: list[tuple[int | None, str, str, str]] = []  # listener port, cluster, traffic, key prefix
    for listener in _objects(resources.get("listeners")):
        address = _socket_address(listener.get("address"))
        if address:
            protocol = (
                _text(_map(_map(listener.get("address")).get("socket_address")).get("protocol")) or "TCP"
            )
            evidence = f"envoy listener {_text(listener.get('name'))}".strip()
            listens.append(_Listen(address[1], evidence, protocol, _bind(address[0])))
        for chain in _objects(listener.get("filter_chains")):
            for f in _objects(chain.get("filters")):
                for cluster, traffic, prefix in _filter_routes(_map(f.get("typed_config"))):
                    routed.append((address[1] if address else None, cluster, traffic, prefix))
    endpoints: dict[str, list[tuple[str, int, int]]] = {}  # cluster: (host, port, priority)
    for cluster_doc in _objects(resources.get("clusters")):
        found = endpoints.setdefault(_text(cluster_doc.get("name")), [])
        for group in _objects(_map(cluster_doc.get("load_assignment")).get("endpoints")):
            priority = group.get("priority")
            level = (
                priority
                if isinstance(priority, int) and not isinstance(priority, bool) and 0 <= priority < 2**32
                else 0
            )
            for lb in _objects(group.get("lb_endpoints")):
                address = _socket_address(_map(lb.get("endpoint")).get("address"))
                if address:
                    found.append((address[0], address[1], level))
    named = {cluster for _, cluster, _, _ in routed}
    unrouted = [(None, name, "", "") for name in endpoints if name not in named]
    for listener_port, cluster, traffic, prefix in routed + unrouted:
        for host, port, priority in endpoints.get(cluster, ()):
            if host in _LOOPBACK:
                words = _route_words(traffic, prefix, priority)
                dials.append((port, f"envoy cluster {cluster}".strip() + (f" for {words}" if words else "")))
            else:
                routes.append(_Route(host, port, cluster, traffic, prefix, priority, listener_port))
    return _Facts(tuple(listens), tuple(dials), tuple(routes))


def _filter_routes(config: Mapping[Any, Any]) -> Iterator[tuple[str, str, str]]:
    """(cluster, traffic, key prefix) of each route of an Envoy network filter's ``typed_config``:
    ``redis_proxy`` (``prefix_routes``: the catch-all route and the key-prefix ``routes``; a
    route's ``cluster`` takes the writes when it has a ``read_command_policy``, whose cluster
    takes the reads, else every command) or ``tcp_proxy`` (``cluster``)."""
    prefix_routes = config.get("prefix_routes")
    if isinstance(prefix_routes, Mapping):
        entries = [("", _map(prefix_routes.get("catch_all_route")))]
        entries += [(_text(r.get("prefix")), r) for r in _objects(prefix_routes.get("routes"))]
        for prefix, route in entries:
            if route.get("cluster") is not None:
                read = _map(route.get("read_command_policy")).get("cluster")
                if read is not None:
                    yield _text(route["cluster"]), "writes", prefix
                    yield _text(read), "reads", prefix
                else:
                    yield _text(route["cluster"]), "all commands", prefix
            for mirror in _objects(route.get("request_mirror_policy")):
                if mirror.get("cluster") is not None:
                    yield _text(mirror["cluster"]), "mirrored", prefix
    elif config.get("cluster") is not None:
        yield _text(config["cluster"]), "all traffic", ""


def _route_words(traffic: str, prefix: str, priority: int) -> str:
    """``writes``, ``reads of keys user:*``, ``reads as fallback``... (``""``: no route)."""
    words = traffic
    if traffic and prefix:
        words += f" of keys {prefix}*"
    if traffic and priority:
        words += " as fallback"
    return words


def _listeners(container: Mapping[Any, Any], configs: Sequence[_Facts]) -> Iterator[_Listen]:
    ports = _objects(container.get("ports"))
    named = {p["name"]: p.get("containerPort") for p in ports if isinstance(p.get("name"), str) and p["name"]}
    for p in ports:
        port = _port(p.get("containerPort"))
        if port:
            name = _text(p.get("name"))
            evidence = f"containerPort {name}" if p.get("name") else "containerPort"
            yield _Listen(port, evidence, _text(p.get("protocol")) or "TCP", "", True, name)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        for action in ("httpGet", "tcpSocket", "grpc"):
            value = _map(_map(container.get(probe)).get(action)).get("port")
            port = _port(named.get(value, value) if isinstance(value, str) else value)
            if port:
                yield _Listen(port, probe, "TCP")
    tokens = list(_tokens(container))
    # `--bind 127.0.0.1 --port 16379` (redis-server), `--host 127.0.0.1 --port 8000`
    hosts = [
        value for flag, value, listen in tokens if not listen and flag.lstrip("-").lower() in ("bind", "host")
    ]
    for flag, value, listen in tokens:
        port = _port(value.rsplit(":", 1)[-1]) if listen else None
        if port:
            name = flag.lstrip("-").lower()
            protocol = "UDP" if "udp" in name else "TCP"
            host = value.rsplit(":", 1)[0] if ":" in value else hosts[-1] if hosts else None
            bind = _bind(host) if host is not None else ""
            yield _Listen(port, flag, protocol, bind)
    for facts in configs:
        yield from facts.listens


def _dials(container: Mapping[Any, Any], configs: Sequence[_Facts]) -> Iterator[tuple[int, str]]:
    env = {_text(e.get("name")): _text(e["value"]) for e in _objects(container.get("env")) if "value" in e}
    for name, value in sorted(env.items()):
        yield from ((p, f"env {name}") for p in map(_port, _LOOPBACK_PORT.findall(value)) if p)
        prefix = name.removesuffix("_HOST")
        port = _port(env.get(f"{prefix}_PORT"))
        if name != prefix and value in _LOOPBACK and port:
            yield port, f"env {name}/{prefix}_PORT"
    for flag, value, listen in _tokens(container):
        if not listen:
            yield from ((p, f"arg {flag}".strip()) for p in map(_port, _LOOPBACK_PORT.findall(value)) if p)
    for facts in configs:
        yield from facts.dials


def _socket_address(address: Any) -> tuple[str, int] | None:
    """(host, port) of an Envoy ``config.core.v3.Address`` with a ``socket_address``."""
    sock = _map(_map(address).get("socket_address"))
    port = sock.get("port_value")
    if not isinstance(port, int) or _port(port) is None:
        return None
    return _text(sock.get("address")), port


def _resolve(
    dials: Sequence[tuple[str, int, str]], listens: Mapping[str, Mapping[int, object]], budget: _Budget
) -> tuple[Connection, ...]:
    servers_of: dict[int, list[str]] = {}
    for name, ports in sorted(listens.items()):
        for port in ports:
            servers_of.setdefault(port, []).append(name)
    wanted: dict[tuple[str, int], set[str]] = {}
    for client, port, evidence in dials:
        if port not in listens[client]:  # a container dialing itself (Envoy's admin cluster): not drawn
            wanted.setdefault((client, port), set()).add(evidence)
    edges: dict[tuple[str, str | None, int], set[str]] = {}
    for (client, port), evidences in wanted.items():
        servers: list[str | None] = list(servers_of.get(port, [])) or [None]
        budget.spend(len(servers))
        for server in servers:
            edges.setdefault((client, server, port), set()).update(evidences)
    budget.spend(len({port for _, server, port in edges if server is None}))  # "nothing listens" nodes
    return tuple(
        Connection(client, server, port, tuple(sorted(ev)))
        for (client, server, port), ev in sorted(
            edges.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1] or "")
        )
    )


# --- drawing -----------------------------------------------------------------------------

_ROLE_TITLE = {"init": "init containers, in start order", "container": "containers"}


@dataclass(frozen=True)
class PodPictures:
    """The pods of a manifest, ready to draw; see :func:`describe`."""

    pods: tuple[PodPicture, ...]

    def mermaid(self) -> str:
        """Mermaid ``flowchart LR`` text: one subgraph per pod (GitHub renders ```mermaid blocks).

        Raises:
            PropsError: the text would be over :data:`MAX_OUTPUT_CHARS`.
        """
        out = ["flowchart LR"]
        for i, pod in enumerate(self.pods, start=1):
            out += _mermaid_pod(pod, f"p{i}")
        out += [f"  classDef {cls} {style}" for cls, style in _MERMAID_CLASSES.items()]
        return _bounded("\n".join(out) + "\n", "mermaid")

    def dot(self) -> str:
        """Graphviz DOT text, the same picture as :meth:`mermaid`.

        Raises:
            PropsError: the text would be over :data:`MAX_OUTPUT_CHARS`.
        """
        out = ["digraph pods {", "  rankdir=LR; compound=true; newrank=true;"]
        out.append('  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];')
        for i, pod in enumerate(self.pods, start=1):
            out += _dot_pod(pod, f"p{i}")
        return _bounded("\n".join([*out, "}"]) + "\n", "dot")

    def svg(self, dot_program: str = "dot") -> str:
        """SVG rendered by Graphviz ``dot`` (Debian package ``graphviz``).

        The ``Generated by graphviz version`` comment is removed, so the text depends only on
        the picture and the layout, not on the build that drew it.

        Raises:
            PropsError: ``dot_program`` is not installed, or it failed or took longer than
                :data:`DOT_TIMEOUT` seconds; the SVG would be over :data:`MAX_OUTPUT_CHARS`.
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
        try:
            proc = subprocess.run(
                [path, "-Tsvg"],
                input=self.dot().encode("utf-8"),
                capture_output=True,
                timeout=DOT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PropsError(
                "describe",
                "dot_program",
                path,
                f"dot took longer than {DOT_TIMEOUT} s to draw",
                "describe a smaller manifest, or use --format dot",
            ) from None
        if proc.returncode != 0:
            stderr = _clip(" ".join(proc.stderr.decode("utf-8", "replace").split()), 500)
            if proc.returncode < 0:
                stderr = f"killed by signal {-proc.returncode} {stderr}".strip()
            raise PropsError("describe", "dot_program", path, f"dot failed: {stderr}", "report a bug")
        svg = proc.stdout.decode("utf-8", "replace")
        return _bounded(re.sub(r"<!-- Generated by graphviz version [^>]*-->\n", "", svg), "svg")


def _bounded(text: str, what: str) -> str:
    if len(text) > MAX_OUTPUT_CHARS:
        raise PropsError(
            "describe",
            what,
            f"{len(text)} characters",
            f"the picture is over {MAX_OUTPUT_CHARS} characters",
            "describe a smaller manifest",
        )
    return text


def _escape_char(ch: str) -> str:
    """A character Python does not print, as its Python escape."""
    if ch in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch]
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display(value: Any, limit: int = MAX_TEXT) -> str:
    """A manifest value as one printable line: non-printing characters as Python escapes
    (``\\x1b``, ``\\u2028``), at most ``limit`` characters (``…`` marks a cut)."""
    text = value if isinstance(value, str) else _text(value)
    head = text[: limit + 1]
    if not head.isprintable():
        head = "".join(ch if ch.isprintable() else _escape_char(ch) for ch in head)
    return head[: limit - 1] + "…" if len(head) > limit or len(text) > limit else head


def _join(parts: Iterable[str], sep: str, limit: int = MAX_LINE) -> str:
    """``sep.join(parts)`` cut to ``limit`` characters, without joining what would be cut."""
    out, size = [], 0
    for part in parts:
        out.append(part)
        size += len(part) + len(sep)
        if size > limit:
            break
    return _clip(sep.join(out), limit)


#: A DNS-1123 label (the API server's rule for container and volume names) has only
#: ``a-z0-9-``: ``-`` to ``_`` is then one-to-one. ``style`` would trip Mermaid's rewriting.
_PLAIN_NAME = re.compile(r"(?!.*style)[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


def _id(prefix: str, kind: str, name: Any) -> str:
    """A stable node id: ``-`` to ``_`` in a DNS-1123 label; any other name gets a hash (the
    ``_X`` suffix, which no label has), so two names never share an id."""
    text = _text(name)
    if _PLAIN_NAME.fullmatch(text):
        return f"{prefix}_{kind}_" + text.replace("-", "_")
    hint = re.sub(r"[^A-Za-z0-9]+", "_", text[:24]).replace("style", "st_le").replace("classDef", "class_Def")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{prefix}_{kind}_{hint}_X{digest}"


#: How a container's box names the exposure of its listeners (see :class:`Listener`).
_EXPOSURE_TITLE = {"exposed": "exposed", "loopback": "loopback only", "undeclared": "not declared"}


def _container_lines(c: Container) -> list[str]:
    """Name (with start order), image, then a line per exposure: ``exposed :9902/TCP``,
    ``loopback only :6379/TCP, :9125/TCP+UDP``, ``not declared :7000/TCP``."""
    name = display(c.name)
    title = name if c.role == "container" else f"{display(c.order)}. {name}"
    lines = [title + (" (native sidecar)" if c.role == "native-sidecar" else ""), display(c.image)]
    for exposure, words in _EXPOSURE_TITLE.items():
        ports = [
            f":{display(x.port)}"
            + ("/" + "+".join(display(p, 16) for p in x.protocols) if x.protocols else "")
            for x in c.listens
            if x.exposure == exposure
        ]
        if ports:
            lines.append(f"{words} " + _join(ports, ", ", MAX_LINE - len(words) - 1))
    return lines


def _discovery_lines(d: Discovery) -> list[str]:
    """``Service shop/redis-primary`` and its type; ``PodMonitor web/x`` and its labels; ``pod
    annotations`` and each ``prometheus.io/*`` one."""
    if d.kind == "annotations":
        title = "pod annotations"
    else:
        title = f"{display(d.kind)} {display(d.namespace)}/{display(d.name)}"
    lines = [title, *(display(x, MAX_LINE) for x in d.detail[:_MAX_DETAIL])]
    if len(d.detail) > _MAX_DETAIL:
        lines.append(f"... {len(d.detail) - _MAX_DETAIL} more")
    return lines


def _upstream_lines(address: str, service: str) -> list[str]:
    return [display(address), f"Service {display(service)}" if service else "outside the pod"]


def _discovery_ids(pod: PodPicture, prefix: str) -> list[str]:
    """The node id of each of ``pod.discovered_by``: ``p1_s_<name>`` (Service), ``p1_m_<name>``
    (PodMonitor), ``p1_a_<name>`` (annotations); ``namespace/name`` outside the pod's
    namespace; a second use of an id gets ``_D2``... as containers do."""
    ids: list[str] = []
    seen: Counter[str] = Counter()
    for d in pod.discovered_by:
        if d.kind == "annotations":
            name: Any = "annotations"
        else:
            name = d.name if d.namespace == pod.namespace else f"{_text(d.namespace)}/{_text(d.name)}"
        base = _id(prefix, {"Service": "s", "PodMonitor": "m"}.get(d.kind, "a"), name)
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}_D{seen[base]}")
    return ids


def _upstream_ids(pod: PodPicture, prefix: str) -> dict[str, str]:
    """One node per upstream address, ``p1_u1``, ``p1_u2``... in address order."""
    addresses = sorted({_text(u.address) for u in pod.upstreams})
    return {a: f"{prefix}_u{i}" for i, a in enumerate(addresses, start=1)}


def _outside_nodes(pod: PodPicture, prefix: str) -> list[tuple[str, str, list[str]]]:
    """(id, style, label lines) of the nodes outside the pod: what finds it, then its upstreams."""
    nodes = [
        (node, "discovery", _discovery_lines(d))
        for d, node in zip(pod.discovered_by, _discovery_ids(pod, prefix), strict=True)
    ]
    services: dict[str, str] = {}
    for u in pod.upstreams:
        services.setdefault(_text(u.address), _text(u.service))
    nodes += [
        (node, "upstream", _upstream_lines(a, services[a])) for a, node in _upstream_ids(pod, prefix).items()
    ]
    return nodes


def _missing_nodes(pod: PodPicture, prefix: str) -> list[tuple[str, list[str]]]:
    """(id, label lines) of the red nodes inside the pod: a port something dials or targets that
    no container listens on; a port name a Service or PodMonitor gives that no container declares."""
    ports = {conn.port for conn in pod.connections if conn.server is None}
    ports |= {
        t.port for d in pod.discovered_by for t in d.targets if t.container is None and t.port is not None
    }
    names = {_text(t.port_name) for d in pod.discovered_by for t in d.targets if t.port is None}
    nodes = [(_id(prefix, "x", port), [f"nothing listens on :{display(port)}"]) for port in sorted(ports)]
    nodes += [(_id(prefix, "n", name), [f"no containerPort named {display(name)}"]) for name in sorted(names)]
    return nodes


def _container_ids(pod: PodPicture, prefix: str) -> tuple[list[str], dict[str, str]]:
    """The node id of each container (in ``pod.containers`` order), and the id of each name.

    A name used twice (Kubernetes refuses that; a hand-written file may do it) draws a node
    each (``_D2``, ``_D3``...: no other id ends so), and an edge by name goes to the first.
    """
    ids: list[str] = []
    by_name: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for c in pod.containers:
        name = _text(c.name)
        base = by_name.setdefault(name, _id(prefix, "c", name))
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}_D{seen[base]}")
    return ids, by_name


def _groups(pod: PodPicture, ids: Sequence[str]) -> list[tuple[str, list[tuple[Container, str]]]]:
    """The init containers and the containers, each with its node id."""
    inits = [(c, i) for c, i in zip(pod.containers, ids, strict=True) if c.role != "container"]
    mains = [(c, i) for c, i in zip(pod.containers, ids, strict=True) if c.role == "container"]
    return [(role, group) for role, group in (("init", inits), ("container", mains)) if group]


def _edges(pod: PodPicture, prefix: str) -> list[tuple[str, str, str, str]]:
    """(from id, to id, kind, label) of every edge, in drawing order, for both renderers.

    A write goes container -> volume and a read volume -> container, so data flows along the
    arrows; ``dial`` is a loopback connection; ``route`` is what a proxy sends to an upstream
    (one edge per container and address); ``find`` goes from a Service, PodMonitor or the
    annotations to the container they reach; ``then`` is the start order: each init container
    to the next, the last one to the containers' group.
    """
    ids, by_name = _container_ids(pod, prefix)

    def container(name: Any) -> str:
        return by_name.get(_text(name)) or _id(prefix, "c", name)

    edges: list[tuple[str, str, str, str]] = []
    for m in pod.mounts:
        ends = (container(m.container), _id(prefix, "v", m.volume))
        edges.append(
            (
                *(ends if m.access == "write" else ends[::-1]),
                "mount",
                f"{display(m.access)} {display(m.path)}",
            )
        )
    for conn in pod.connections:
        server = container(conn.server) if conn.server is not None else _id(prefix, "x", conn.port)
        label = _join((display(e) for e in conn.evidence), ", ", MAX_LINE - 8)
        edges.append((container(conn.client), server, "dial", f":{display(conn.port)} {label}"))
    upstream_ids = _upstream_ids(pod, prefix)
    routes: dict[tuple[str, str], dict[str, None]] = {}
    for u in pod.upstreams:
        priority = u.priority if isinstance(u.priority, int) else 0
        words = _route_words(_text(u.traffic), _text(u.prefix), priority)
        cluster = display(u.cluster) + (f" priority {display(priority)}" if priority else "")
        part = f"{display(words)} ({cluster})" if words else f"cluster {cluster}"
        routes.setdefault((container(u.container), upstream_ids[_text(u.address)]), {})[part] = None
    edges += [(a, b, "route", _join(parts, ", ")) for (a, b), parts in routes.items()]
    for d, node in zip(pod.discovered_by, _discovery_ids(pod, prefix), strict=True):
        for t in d.targets:
            if t.container is not None:
                end = container(t.container)
            elif t.port is not None:
                end = _id(prefix, "x", t.port)
            else:
                end = _id(prefix, "n", _text(t.port_name))
            edges.append((node, end, "find", display(t.says, MAX_LINE)))
    inits = [i for c, i in zip(pod.containers, ids, strict=True) if c.role != "container"]
    nexts = inits[1:] + ([_id(prefix, "g", "container")] if len(inits) < len(pod.containers) else [])
    edges += [(a, b, "then", "then") for a, b in zip(inits, nexts, strict=False)]
    return edges


_MERMAID_CLASSES = {
    "init": "fill:#fff4dd,stroke:#b7791f",
    "sidecar": "fill:#e6fffa,stroke:#2c7a7b,stroke-width:2px",
    "main": "fill:#ebf4ff,stroke:#3c366b",
    "volume": "fill:#f7fafc,stroke:#718096",
    "missing": "fill:#fff5f5,stroke:#c53030,stroke-dasharray:4",
    "discovery": "fill:#faf5ff,stroke:#6b46c1",
    "upstream": "fill:#fffaf0,stroke:#c05621",
}
_CLASS_OF_ROLE = {"init": "init", "native-sidecar": "sidecar", "container": "main"}
#: Characters a Mermaid label shows as they are; every other one is an entity code.
_MERMAID_SAFE = frozenset(string.ascii_letters + string.digits + " -._/:,()@=+")
_MERMAID_NAMED = {'"': "#quot;", "<": "#lt;", ">": "#gt;"}
#: Mermaid's ``encodeEntities`` drops the last ``;`` of a line matching ``style.*:\S*#.*;``
#: (and ``classDef...``): a label never holds these words as plain letters.
_MERMAID_WORDS = re.compile(r"s(?=tyle)|c(?=lassDef)")


def _mermaid_escape(line: str) -> str:
    coded = "".join(ch if ch in _MERMAID_SAFE else _MERMAID_NAMED.get(ch) or f"#{ord(ch)};" for ch in line)
    return _MERMAID_WORDS.sub(lambda m: f"#{ord(m.group(0))};", coded)


def _mermaid_text(lines: Sequence[str]) -> str:
    """A quoted Mermaid label: each line entity-coded (``#quot;``, ``#35;``...), joined by ``<br/>``."""
    return '"' + "<br/>".join(_mermaid_escape(line) for line in lines) + '"'


def _mermaid_pod(pod: PodPicture, prefix: str) -> list[str]:
    title = f"{display(pod.kind)} {display(pod.namespace)}/{display(pod.name)}"
    out = [f"  subgraph {prefix}[{_mermaid_text([title])}]"]
    for role, group in _groups(pod, _container_ids(pod, prefix)[0]):
        out.append(f"    subgraph {_id(prefix, 'g', role)}[{_mermaid_text([_ROLE_TITLE[role]])}]")
        for c, node in group:
            out.append(f"      {node}[{_mermaid_text(_container_lines(c))}]:::{_CLASS_OF_ROLE[c.role]}")
        out.append("    end")
    out += [
        f"    {_id(prefix, 'v', v.name)}[({_mermaid_text([display(v.name), display(v.source)])})]:::volume"
        for v in pod.volumes
    ]
    out += [f"    {node}[{_mermaid_text(lines)}]:::missing" for node, lines in _missing_nodes(pod, prefix)]
    out.append("  end")
    for node, style, lines in _outside_nodes(pod, prefix):
        opening, closing = ("[[", "]]") if style == "upstream" else ("[", "]")
        out.append(f"  {node}{opening}{_mermaid_text(lines)}{closing}:::{style}")
    arrows = {"mount": "-->", "dial": "==>", "route": "==>", "find": "-.->", "then": "-.->"}
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
    "discovery": 'shape=box, style=filled, fillcolor="#faf5ff", color="#6b46c1"',
    "upstream": 'shape=box3d, style=filled, fillcolor="#fffaf0", color="#c05621"',
}


def _dot_text(lines: Sequence[str]) -> str:
    """A quoted DOT label: ``\\``, ``"`` escaped, ``&`` as ``&amp;`` (Graphviz decodes entities
    in labels), lines joined by ``\\n``."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def _dot_pod(pod: PodPicture, prefix: str) -> list[str]:
    title = f"{display(pod.kind)} {display(pod.namespace)}/{display(pod.name)}"
    out = [
        f"  subgraph cluster_{prefix} {{",
        f"    label={_dot_text([title])};",
    ]
    first: dict[str, str] = {}
    for role, group in _groups(pod, _container_ids(pod, prefix)[0]):
        out += [
            f"    subgraph cluster_{_id(prefix, 'g', role)} {{",
            f"      label={_dot_text([_ROLE_TITLE[role]])};",
        ]
        for c, node in group:
            out.append(f"      {node} [label={_dot_text(_container_lines(c))}, {_DOT_STYLE[c.role]}];")
        out.append("    }")
        first[_id(prefix, "g", role)] = group[0][1]
    out += [
        f"    {_id(prefix, 'v', v.name)} [label={_dot_text([display(v.name), display(v.source)])}, "
        f"{_DOT_STYLE['volume']}];"
        for v in pod.volumes
    ]
    out += [
        f"    {node} [label={_dot_text(lines)}, {_DOT_STYLE['missing']}];"
        for node, lines in _missing_nodes(pod, prefix)
    ]
    out.append("  }")
    out += [
        f"  {node} [label={_dot_text(lines)}, {_DOT_STYLE[style]}];"
        for node, style, lines in _outside_nodes(pod, prefix)
    ]
    styles = {
        "mount": "",
        "dial": ', penwidth=2, color="#2b6cb0"',
        "route": ', penwidth=2, color="#c05621"',
        "find": ', style=dashed, color="#6b46c1"',
        "then": ", style=dashed",
    }
    for a, b, kind, label in _edges(pod, prefix):
        # an edge to a group ends at the group's box (compound=true), drawn to its first node
        head = f", lhead=cluster_{b}" if b in first else ""
        out.append(f"  {a} -> {first.get(b, b)} [label={_dot_text([label])}{styles[kind]}{head}];")
    return out
