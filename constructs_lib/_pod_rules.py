"""The API server's pod rules that JSON schemas cannot express (unique names, mounts of real
volumes, port names of at most 15 characters...), on a rendered pod spec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def pod_rule_errors(
    pod: Mapping[str, Any],
    loopback: Mapping[tuple[int, str], str] | None = None,
    *,
    claims: Sequence[str] = (),
) -> list[str]:
    """The API server's pod rules that JSON schemas cannot express, on a rendered pod spec;
    ``loopback`` lists ports containers bind on 127.0.0.1 without declaring them, ``claims``
    a StatefulSet's claim templates (volumes its pods get)."""
    errors: list[str] = []
    everything = [*pod.get("initContainers", []), *pod.get("containers", [])]
    volume_names = [v["name"] for v in pod.get("volumes", [])]
    volumes = set(volume_names) | set(claims)
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
