"""Small prop checks shared by every pattern; each raises PropsError with the fix."""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import posixpath
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, cast

import cdk8s
import cdk8s_plus_27 as kplus
from jsii._reference_map import InterfaceDynamicProxy

from . import _jsii_calls
from ._errors import PropsError, credential_in

# DNS-1123 label: what the API server accepts for container and volume names
# (k8s.io/apimachinery/pkg/util/validation IsDNS1123Label).
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# IANA_SVC_NAME: what the API server accepts for a container port name
# (validation.IsValidPortName: at most 15 characters, a-z0-9 and '-', at least one letter,
# no leading/trailing/double hyphen).
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def dns_label(where: str, prop: str, value: str) -> str:
    """A container or volume name: a DNS-1123 label of at most 63 characters."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise PropsError(
            where,
            prop,
            value,
            "not a DNS-1123 label (the API server rejects it)",
            "use at most 63 characters of a-z, 0-9 and '-', starting and ending alphanumeric",
        )
    return value


def dns_subdomain(where: str, prop: str, value: str) -> str:
    """An object name such as a StorageClass's: DNS-1123 labels joined by dots, at most 253."""
    if (
        not isinstance(value, str)
        or len(value) > 253
        or not all(len(part) <= 63 and _DNS1123_LABEL.fullmatch(part) for part in value.split("."))
    ):
        raise PropsError(
            where,
            prop,
            value,
            "not a DNS-1123 subdomain (the API server rejects it)",
            "use lower-case labels of a-z, 0-9 and '-' joined by '.', at most 253 characters",
        )
    return value


def port_name(where: str, prop: str, value: str) -> str:
    """A container port name: an IANA service name of at most 15 characters."""
    ok = (
        isinstance(value, str)
        and 0 < len(value) <= 15
        and _PORT_NAME.fullmatch(value) is not None
        and "--" not in value
        and re.search(r"[a-z]", value) is not None
    )
    if not ok:
        raise PropsError(
            where,
            prop,
            value,
            "not a valid port name (IANA_SVC_NAME)",
            "use at most 15 characters of a-z, 0-9 and single '-', with at least one letter",
        )
    return value


def env_name(where: str, prop: str, value: str) -> str:
    """An environment variable name a shell and Kubernetes' $(VAR) expansion both accept."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise PropsError(where, prop, value, "not an environment variable name", "use e.g. 'CONTENT_ROOT'")
    return value


def env_names(where: str, names: dict[str, str | None]) -> dict[str, str | None]:
    """Env names by prop (None leaves one out): each a valid name, none used twice."""
    chosen: dict[str, str] = {}
    for prop, name in names.items():
        if name is not None:
            env_name(where, prop, name)
            if name in chosen:
                raise PropsError(
                    where, prop, name, f"{chosen[name]} has the same name", "give each variable its own name"
                )
            chosen[name] = prop
    return names


def port_number(where: str, prop: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise PropsError(where, prop, value, "not a TCP/UDP port number", "use an integer from 1 to 65535")
    return value


def absolute_path(where: str, prop: str, value: str) -> str:
    """An absolute, normalised container path (no '..', no trailing slash)."""
    if not isinstance(value, str) or not value.startswith("/") or value == "/" or _CONTROL.search(value):
        raise PropsError(
            where, prop, value, "not an absolute path below '/'", "use a path such as '/srv/git'"
        )
    if posixpath.normpath(value) != value or ".." in value.split("/"):
        raise PropsError(where, prop, value, "not a normalised path", f"use {posixpath.normpath(value)!r}")
    return value


def relative_dir(where: str, prop: str, value: str) -> str:
    """A sub-directory inside a checkout: relative, normalised, never escaping it."""
    norm = (
        posixpath.normpath(value) if isinstance(value, str) and value and not _CONTROL.search(value) else ""
    )
    if norm:
        no_credentials(where, prop, value)
    if not norm or value.startswith("/") or norm == "." or norm.startswith("..") or norm != value.strip("/"):
        raise PropsError(
            where,
            prop,
            value,
            "not a relative directory inside the repository",
            "use a path such as 'public' or 'site/html' (no leading '/', no '..')",
        )
    return norm


def non_negative_int(where: str, prop: str, value: int) -> int:
    return int_range(where, prop, value, 0, INT32_MAX, "use 0 or a positive integer")


#: The attribute that holds what the library remembers about an object (:func:`memo`).
_MEMO = "_constructs_lib_memo"


def memo(obj: Any) -> dict[str, Any]:
    """What the library remembers about a Python object (a construct, a Duration...), kept on the
    object itself: it lives and dies with the object, and no table keyed by ``id()`` grows with
    every app a process builds (issue 24)."""
    # getattr, not vars(): asking for an object's __dict__ makes Python build one (~100 bytes more
    # per object jsii keeps for the process's life).
    found: dict[str, Any] | None = getattr(obj, _MEMO, None)
    if found is None:
        found = {}
        # object.__setattr__: jsii's InterfaceDynamicProxy (what Secret.from_secret_name returns)
        # refuses attributes its delegates lack.
        object.__setattr__(obj, _MEMO, found)
    return found


def forget(obj: Any) -> None:
    """Drop what :func:`memo` holds for ``obj``."""
    if getattr(obj, _MEMO, None) is not None:
        object.__delattr__(obj, _MEMO)


def recalled(obj: Any, key: str) -> Any:
    """What :func:`memo` holds for ``obj`` under ``key``, or None (without adding a memo)."""
    found: dict[str, Any] | None = getattr(obj, _MEMO, None)
    return None if found is None else found.get(key)


@functools.cache
def seconds(n: int) -> cdk8s.Duration:
    """A library default Duration, created once per process: each creation and each
    ``to_milliseconds()`` is a jsii round trip to node, and these are read on every pattern."""
    with _jsii_calls.library_only():  # a new value object changes no workload
        duration = cdk8s.Duration.seconds(n)
    memo(duration)["ms"] = n * 1000
    return duration


#: The longest duration any prop takes: 2^31-1 seconds (~68 years). Every duration the library
#: writes fits the API's int32 seconds fields (probe periods and thresholds) and Go's
#: time.Duration (int64 nanoseconds) in the programs' flags.
MAX_DURATION_MS = (2**31 - 1) * 1000


def duration_at_least(
    where: str, prop: str, value: cdk8s.Duration, minimum_ms: int, fix: str, maximum_ms: int = MAX_DURATION_MS
) -> int:
    """Return the duration in whole milliseconds, or raise when below ``minimum_ms`` or above
    ``maximum_ms``."""
    if not isinstance(value, cdk8s.Duration):
        raise PropsError(where, prop, value, "not a cdk8s.Duration", "pass e.g. cdk8s.Duration.seconds(30)")
    known = recalled(value, "ms")
    if known is None:
        with _jsii_calls.library_only():  # a read (an invoke, for jsii)
            known = value.to_milliseconds(integral=False)
    raw = known
    # node's Infinity (Duration.seconds(1e308)) reaches Python as None.
    if not isinstance(raw, int | float) or not math.isfinite(raw) or raw > maximum_ms:
        raise PropsError(
            where,
            prop,
            f"{raw}ms",
            f"longer than the maximum of {go_duration(maximum_ms)}",
            f"use a duration from {go_duration(minimum_ms)} to {go_duration(maximum_ms)}",
        )
    if raw != int(raw):
        raise PropsError(
            where, prop, f"{raw}ms", "not a whole number of milliseconds", "round it to whole ms"
        )
    ms = int(raw)
    if ms < minimum_ms:
        raise PropsError(where, prop, f"{ms}ms", f"must be at least {minimum_ms}ms", fix)
    return ms


def go_duration(ms: int) -> str:
    """Render milliseconds as a Go time.ParseDuration string ('30s', '1500ms')."""
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


# distribution/reference regexp.go: domain, path components, tag and digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_IMAGE = re.compile(
    rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


def image_repository(image: str) -> str:
    """The repository part of a reference that :func:`pinned_image` accepted
    (``registry.internal/envoyproxy/envoy:v1.40.0`` -> ``registry.internal/envoyproxy/envoy``)."""
    m = _IMAGE.fullmatch(image)
    assert m is not None, image
    ends = [m.start(group) - 1 for group in ("tag", "digest") if m[group] is not None]
    return image[: min(ends)] if ends else image


def pinned_image(where: str, prop: str, image: str) -> str:
    """An image reference pinned to a tag or digest (``:latest`` drifts; so does no tag)."""
    m = _IMAGE.fullmatch(image) if isinstance(image, str) and len(image) <= 255 else None
    if m is None:
        raise PropsError(where, prop, image, "not an image reference", "use e.g. 'registry/name:1.2.3'")
    if (m["tag"] is None and m["digest"] is None) or (m["tag"] == "latest" and m["digest"] is None):
        raise PropsError(
            where,
            prop,
            image,
            "the image is not pinned to a tag or digest",
            "pin a version, e.g. 'registry/name:1.2.3' or '...@sha256:...'",
        )
    return image


# Label key and value (apimachinery validation IsQualifiedName, IsValidLabelValue): an optional
# DNS-subdomain prefix of at most 253 characters and '/', then a name of at most 63.
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def label(where: str, prop: str, key: str, value: str) -> None:
    """A Kubernetes label (apimachinery IsQualifiedName / IsValidLabelValue)."""
    prefix, slash, name = key.rpartition("/") if isinstance(key, str) else ("", "", "")
    if not _LABEL_NAME.fullmatch(name) or (
        slash and (len(prefix) > 253 or not _LABEL_PREFIX.fullmatch(prefix))
    ):
        raise PropsError(where, prop, key, "not a label key", "use e.g. 'release' or 'example.com/team'")
    if not isinstance(value, str) or (value and not _LABEL_NAME.fullmatch(value)):
        raise PropsError(
            where,
            prop,
            value,
            "not a label value",
            "use at most 63 of A-Z, a-z, 0-9, '-', '_', '.', starting and ending alphanumeric",
        )


E = TypeVar("E", bound=enum.Enum)


def enum_member(where: str, prop: str, cls: type[E], value: E | str) -> E:
    """An enum member, or its value as a string ('histogram' for StatsdObserver.HISTOGRAM)."""
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in cls)
        raise PropsError(where, prop, value, f"not a {cls.__name__}", f"use one of {choices}") from None


def boolean(where: str, prop: str, value: Any) -> bool:
    """A real bool: a string such as 'no' would otherwise count as True."""
    if not isinstance(value, bool):
        raise PropsError(where, prop, value, "not True or False", f"pass {prop}=True or {prop}=False")
    return value


#: Every cdk8s-plus-27 workload the patterns attach to.
Workload = kplus.Deployment | kplus.StatefulSet | kplus.DaemonSet | kplus.Job | kplus.CronJob | kplus.Pod
_WORKLOAD_TYPES = (kplus.Deployment, kplus.StatefulSet, kplus.DaemonSet, kplus.Job, kplus.CronJob, kplus.Pod)


def workload(where: str, prop: str, value: Any) -> Workload:
    if not isinstance(value, _WORKLOAD_TYPES):
        raise PropsError(
            where,
            prop,
            type(value).__name__,
            "not a cdk8s-plus-27 workload",
            "pass the kplus.Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod the pattern attaches to",
        )
    return value


def pattern_workload(where: str, workload_: Any, deployment: Any) -> Workload:
    """The ``workload=`` prop, or its older name ``deployment=`` (exactly one of them)."""
    if workload_ is not None and deployment is not None:
        raise PropsError(
            where,
            "deployment",
            type(deployment).__name__,
            "both workload= and deployment= were given",
            "pass only workload= (deployment= is its older name)",
        )
    if workload_ is None and deployment is None:
        raise PropsError(
            where, "workload", None, "no workload", "pass workload= the kplus.Deployment (or other workload)"
        )
    return workload(where, "workload" if workload_ is not None else "deployment", workload_ or deployment)


def is_secret(value: Any) -> bool:
    """A cdk8s-plus Secret, or a reference to one (``Secret.from_secret_name`` returns a jsii
    interface proxy). Checked before the value reaches jsii: a Python value it cannot
    serialize (NaN) would kill the jsii kernel for the rest of the process."""
    return isinstance(value, kplus.Secret) or (
        isinstance(value, InterfaceDynamicProxy) and hasattr(value, "env_value")
    )


def secret_value(where: str, prop: str, value: Any) -> kplus.SecretValue | None:
    """A Secret key, never a literal (a literal would land in the manifest)."""
    if value is None:
        return None
    if not isinstance(value, kplus.SecretValue):
        raise PropsError(
            where,
            prop,
            "<literal>" if isinstance(value, str) else f"<{type(value).__name__}, redacted>",
            "a password must come from a Kubernetes Secret, never a literal",
            f"pass {prop}=kplus.SecretValue(secret=kplus.Secret.from_secret_name(...), key='password')",
        )
    if not is_secret(value.secret) or not isinstance(value.key, str) or not SECRET_KEY.fullmatch(value.key):
        raise PropsError(
            where,
            prop,
            f"SecretValue(secret=<{type(value.secret).__name__}>, key={value.key!r})",
            "not a Secret and a key of it",
            f"pass {prop}=kplus.SecretValue(secret=kplus.Secret.from_secret_name(...), key='password')",
        )
    return value


#: A Secret or ConfigMap data key (apimachinery IsConfigMapKey).
SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")


def no_credentials(where: str, prop: str, value: str) -> str:
    """Refuse text that carries a credential (_errors.credential_in): a URL's userinfo in any
    scheme (``https://token@``, ``file://user:pw@``), a secret query parameter, a secret flag
    with its value inline, an Authorization header, a private key. It would be in the manifest."""
    reason = credential_in(value)
    if reason is not None:
        raise PropsError(
            where,
            prop,
            value,  # redacted by PropsError
            f"{reason}, which would be in the manifest for anyone who can read it",
            "take credentials from a Kubernetes Secret (see the pattern's auth and password options)",
        )
    return value


#: Control characters and line breaks: C0, DEL, C1 (with NEL, U+0085) and the Unicode line and
#: paragraph separators. YAML 1.1 (PyYAML) reads NEL, U+2028 and U+2029 as line breaks, so any of
#: them in a "single-line" value re-reads as different text or fails to parse.
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")


def text(where: str, prop: str, value: Any, *, fix: str, empty: bool = False) -> str:
    """A single-line string without control characters or credentials, copied into the manifest."""
    if not isinstance(value, str) or (not value and not empty) or _CONTROL.search(value):
        raise PropsError(
            where, prop, value, "not a single-line string (no control characters, no newline)", fix
        )
    return no_credentials(where, prop, value)


def int_range(where: str, prop: str, value: Any, lo: int, hi: int, fix: str) -> int:
    """An integer in ``lo..hi`` (the Kubernetes API types most fields as int32)."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PropsError(where, prop, value, f"not an integer from {lo} to {hi}", fix)
    return value


#: Largest uid/gid the library writes: Linux uids are 32-bit, and container runtimes and
#: user namespaces take them as signed (the API types them int64, which YAML tools round).
MAX_ID = INT32_MAX = 2**31 - 1


#: Rendered configs by their data's repr (which tells 1 from '1' and keeps key order): apps often
#: attach the same config to many workloads.
_YAML_CACHE: dict[tuple[str, bool], str] = {}


def render_yaml(data: Any, *, sort_keys: bool = True) -> str:
    """Deterministic block-style YAML for every config file the library renders."""
    key = (repr(data), sort_keys)  # C-fast; PyYAML's representer is not
    text = _YAML_CACHE.get(key)
    if text is None:
        if len(_YAML_CACHE) >= 256:  # a bound, so a long-running process does not keep every config
            _YAML_CACHE.clear()
        text = _YAML_CACHE[key] = _dump_yaml(data, sort_keys)
    return text


def _dump_yaml(data: Any, sort_keys: bool) -> str:
    # Imported here: PyYAML with libyaml takes ~40 ms to import, a tenth of `import cdk8s`, and
    # only apps that render a config file need it (bench/README.md, import time).
    import yaml

    # libyaml's emitter is ~6x faster than PyYAML's pure-Python one (measured); for the
    # plain data the library renders, both write the same bytes.
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(data, Dumper=dumper, sort_keys=sort_keys, default_flow_style=False))


def string_list(where: str, prop: str, value: Any) -> list[str]:
    """A list of single-line strings without credentials (a plain string would be split into
    characters)."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise PropsError(where, prop, value, "not a list of strings", f"pass {prop}=['--flag=value', ...]")
    for item in value:
        text(where, prop, item, fix="pass single-line strings only")
    return list(value)


T = TypeVar("T")


def sequence_of(where: str, prop: str, value: Any, cls: type[T]) -> list[T]:
    """A list or tuple of ``cls`` instances."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise PropsError(
            where,
            prop,
            type(value).__name__,
            f"not a list of {cls.__name__}",
            f"pass {prop}=[{cls.__name__}(...), ...]",
        )
    for i, item in enumerate(value):
        if not isinstance(item, cls):
            raise PropsError(
                where,
                f"{prop}[{i}]",
                type(item).__name__,
                f"not a {cls.__name__}",
                f"build it with {cls.__name__}(...)",
            )
    return list(value)


def string_mapping(where: str, prop: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PropsError(
            where, prop, type(value).__name__, "not a mapping of strings", f"pass {prop}={{'k': 'v'}}"
        )
    for k, v in value.items():
        text(where, prop, k, fix="use single-line string keys")
        text(where, f"{prop}[{k!r}]", v, fix="use single-line string values", empty=True)
    return dict(value)


def instance(where: str, prop: str, value: Any, cls: type[T], fix: str) -> T:
    if not isinstance(value, cls):
        raise PropsError(where, prop, type(value).__name__, f"not a {cls.__name__}", fix)
    return value


def _read_once(construct: Any, what: str, read: Callable[[], Any]) -> Any:
    """What the library reads of a construct once: a construct's path and chart, and a chart's
    namespace and labels, never change (each read is a round trip or two to node). Kept in the
    construct's :func:`memo`."""
    known = memo(construct)
    if what not in known:
        with _jsii_calls.library_only():  # reads (Chart.of is a static invoke)
            known[what] = read()
    return known[what]


def chart_of(construct: Any) -> cdk8s.Chart:
    if isinstance(construct, cdk8s.Chart):
        return construct
    return cast(cdk8s.Chart, _read_once(construct, "chart", lambda: cdk8s.Chart.of(construct)))


def namespace_of(construct: Any) -> str | None:
    chart = chart_of(construct)
    return cast("str | None", _read_once(chart, "namespace", lambda: chart.namespace))


def chart_labels(construct: Any) -> Mapping[str, str]:
    """The labels the construct's chart gives every ApiObject created in it (api-object.ts)."""
    chart = chart_of(construct)
    labels = _read_once(chart, "labels", lambda: MappingProxyType(dict(chart.labels)))
    return cast("Mapping[str, str]", labels)


def name_of(resource: Any) -> str:
    """A cdk8s-plus resource's name (a Secret's, a ConfigMap's): fixed once it exists."""
    return cast(str, _read_once(resource, "name", lambda: resource.name))


def path_of(construct: Any) -> str:
    return cast(str, _read_once(construct, "path", lambda: construct.node.path))


def child_path(scope: Any, id: str) -> str:
    """``node.path`` of ``scope``'s child ``id``, without asking node: constructs joins the
    path's ids with '/' after escaping '/' and '\\n' in each as '--' (construct.ts sanitizeId)."""
    parent = path_of(scope)
    own = re.sub("[/\n]", "--", id)
    return f"{parent}/{own}" if parent else own


def same_namespace(where: str, scope: Any, target: Workload, theirs: str | bool | None = False) -> None:
    """The pattern's own objects (ConfigMaps, PodMonitor) must live where the pods are:
    ``theirs`` is the workload's namespace when known (its rendering's), else its chart's."""
    mine = namespace_of(scope)
    if theirs is False:
        theirs = namespace_of(target)
    kind = type(target).__name__
    if mine != theirs:
        raise PropsError(
            where,
            "scope",
            mine,
            f"the {kind} is in namespace {theirs!r}",
            f"create the pattern in the {kind}'s chart (or one with the same namespace)",
        )


def or_default(value: T | None, default: T) -> T:
    """``value`` unless it is None (``or`` would also replace 0, '' and other falsy mistakes)."""
    return default if value is None else value


P = TypeVar("P")


def props_of(cls: type[P], given: Mapping[str, Any]) -> P:
    """A pattern's props object (a dataclass whose fields are the constructor's keyword
    arguments) from the constructor's ``locals()``."""
    return cls(**{f.name: given[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
