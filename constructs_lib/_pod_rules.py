"""The API server's pod rules that JSON schemas cannot express (unique names, mounts of real
volumes, port names of at most 15 characters...), on a rendered pod spec."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: One broken rule: the field, its value, what is wrong, what to change (PropsError's parts).
RuleError = tuple[str, Any, str, str]


def pod_rule_errors(
    pod: Mapping[str, Any],
    loopback: Mapping[tuple[int, str], str] | None = None,
    *,
    claims: Sequence[str] = (),
) -> list[RuleError]:
    """The API server's pod rules that JSON schemas cannot express, on a rendered pod spec;
    ``loopback`` lists ports containers bind on 127.0.0.1 without declaring them, ``claims``
    a StatefulSet's claim templates (volumes its pods get). Each error has a fix for its cause."""
    everything = [*pod.get("initContainers", []), *pod.get("containers", [])]
    volume_names = [v["name"] for v in pod.get("volumes", [])]
    names = [c["name"] for c in everything]
    errors = [
        (
            "containers",
            dup,
            f"two containers are named {dup!r}",
            "rename one (container names are unique in a pod)",
        )
        for dup in sorted({n for n in names if names.count(n) > 1})
    ]
    errors += _port_errors(everything, loopback or {})
    errors += _mount_errors(everything, set(volume_names) | set(claims))
    errors += [
        ("volumes", dup, f"two volumes are named {dup!r}", "rename one (volume names are unique in a pod)")
        for dup in sorted({n for n in volume_names if volume_names.count(n) > 1})
    ]
    return errors


def _port_errors(
    containers: Sequence[Mapping[str, Any]], loopback: Mapping[tuple[int, str], str]
) -> Iterator[RuleError]:
    port_names: dict[str, str] = {}
    port_numbers: dict[tuple[int, str], str] = {}
    for c in containers:
        for p in c.get("ports", []):
            number, proto, name = p["containerPort"], p.get("protocol", "TCP"), p.get("name")
            bound = loopback.get((number, proto))
            if bound is not None and bound != c["name"]:
                yield (
                    "ports",
                    number,
                    f"container {c['name']!r} declares port {number}, which {bound!r} binds on 127.0.0.1",
                    f"give {c['name']!r} another port, or the pattern of {bound!r} another port prop",
                )
            owner = port_numbers.setdefault((number, proto), c["name"])
            if owner != c["name"]:
                yield (
                    "ports",
                    number,
                    f"containers {owner!r} and {c['name']!r} both use {proto} port {number}",
                    "give one of them another port (the containers of a pod share one network namespace)",
                )
            if name is None:
                continue
            if len(name) > 15:
                yield (
                    "ports",
                    name,
                    f"container {c['name']!r}: port name {name!r} is longer than 15 characters",
                    "use a port name of at most 15 characters (IANA_SVC_NAME)",
                )
            owner = port_names.setdefault(name, c["name"])
            if owner != c["name"]:
                yield (
                    "ports",
                    name,
                    f"containers {owner!r} and {c['name']!r} both have a port named {name!r}",
                    "rename one of the ports (port names are unique in a pod)",
                )


def _mount_errors(containers: Sequence[Mapping[str, Any]], volumes: set[str]) -> Iterator[RuleError]:
    for c in containers:
        paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
        for dup in sorted({p for p in paths if paths.count(p) > 1}):
            yield (
                "volumeMounts",
                dup,
                f"container {c['name']!r} mounts two volumes at {dup!r}",
                "mount one of them at another path",
            )
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                yield (
                    "volumeMounts",
                    m["name"],
                    f"container {c['name']!r} mounts {m['name']!r}, which is not a volume of the pod",
                    f"add a volume named {m['name']!r} to the pod (kplus.Volume), or mount one it has",
                )
