"""What a pod of the library must do once it runs, read from its own manifest.

For every pod a :class:`~tests.pods.runner.PodSet` runs:

* **Ambassadors** (containers whose command is ``envoy``): every Redis cluster of the Envoy is
  healthy as Envoy's own health checker sees it (PING, authenticated with the cluster's
  ``auth_password``): ``membership_healthy`` equals ``membership_total`` on the stats port's
  ``/metrics``; and a SET then a GET through each ``redis://127.0.0.1:<port>`` URL the app's env
  names, with the app's password env, return the value (reads may go to a replica: retried while
  it replicates).
* **Adapters and other scrape targets**: every endpoint the pod's discovery names (the
  ``prometheus.io/port``/``path`` annotations and the PodMonitor endpoints that select the pod)
  answers Prometheus text that ``prometheus_client`` parses, unless its container was left out.

Each check returns lines for the run's report; a failure raises AssertionError.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from .runner import Pod, PodSet

Doc = dict[str, Any]
KEY = "constructs-lib-pod-check"


def metrics(url: str, timeout: float = 5) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples at ``url``, by (name, sorted labels)."""
    body = urllib.request.urlopen(url, timeout=timeout).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _containers(template: Doc) -> list[Doc]:
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _envoy_clusters_healthy(pod: Pod, envoy: Doc, within: float = 20) -> str:
    (stats,) = [p["containerPort"] for p in envoy.get("ports", [])]
    url = f"http://{pod.ip}:{stats}/metrics"
    deadline = time.monotonic() + within
    while True:
        samples = metrics(url)
        clusters = {
            dict(labels)["envoy_cluster_name"]: value
            for (name, labels), value in samples.items()
            if name == "envoy_cluster_membership_total"
            and dict(labels)["envoy_cluster_name"] != "envoy_admin"
        }
        healthy = {
            dict(labels)["envoy_cluster_name"]: value
            for (name, labels), value in samples.items()
            if name == "envoy_cluster_membership_healthy"
        }
        bad = {
            c: (healthy.get(c), total)
            for c, total in clusters.items()
            if not total or healthy.get(c) != total
        }
        if clusters and not bad:
            return f"{envoy['name']}: " + ", ".join(
                f"{c} {int(v)}/{int(v)} healthy" for c, v in sorted(clusters.items())
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{pod.workload}/{envoy['name']}: Envoy clusters not healthy: {bad or clusters}"
            )
        time.sleep(0.5)


def _redis_urls(app: Doc, secrets: Mapping[str, Mapping[str, str]]) -> list[tuple[str, int, str | None]]:
    """(env prefix, port, password) for every ambassador URL in the app's env."""
    env = {e["name"]: e for e in app.get("env", [])}
    found = []
    for name, e in sorted(env.items()):
        value = e.get("value", "")
        if not (name.endswith("_URL") and value.startswith("redis://127.0.0.1:")):
            continue
        prefix = name.removesuffix("_URL")
        port = int(value.removeprefix("redis://127.0.0.1:").split("?")[0])
        password = None
        ref = env.get(f"{prefix}_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef")
        if ref:
            password = secrets[ref["name"]][ref["key"]]
        found.append((prefix, port, password))
    return found


def redis_cli(pod: Pod, container: str, port: int, password: str | None, *args: str) -> str:
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    if password:
        argv += ["-a", password, "--no-auth-warning"]
    proc = pod.exec(container, [*argv, *args])
    assert proc.returncode == 0, (pod.workload, container, args, proc.stdout, proc.stderr)
    return proc.stdout.strip()


def _round_trip(pod: Pod, via: str, prefix: str, port: int, password: str | None) -> str:
    value = f"{pod.workload}-{port}"
    assert redis_cli(pod, via, port, password, "set", KEY, value) == "OK"
    deadline = time.monotonic() + 15  # a replica may still be syncing (repl-diskless-sync-delay 5s)
    while (got := redis_cli(pod, via, port, password, "get", KEY)) != value:
        assert time.monotonic() < deadline, f"{pod.workload}: GET via {prefix}_URL returned {got!r}"
        time.sleep(0.5)
    return f"{prefix}_URL (127.0.0.1:{port}): SET+GET through Envoy from {via}"


def check_ambassadors(pods: PodSet, secrets: Mapping[str, Mapping[str, str]]) -> list[str]:
    lines = []
    for pod in pods:
        everything = _containers(pod.play.template)
        envoys = [c for c in everything if c.get("command") == ["envoy"] and c["name"] not in pod.left_out]
        if not envoys:
            continue
        lines += [f"{pod.workload}: {_envoy_clusters_healthy(pod, e)}" for e in envoys]
        apps = [c for c in pod.play.template["spec"]["containers"] if _redis_urls(c, secrets)]
        for app in apps:
            # From the app container itself while it runs (a Job's has exited: from the proxy's
            # container, which shares the pod's loopback).
            running = pod.state(app["name"])["Status"] == "running"
            via = app["name"] if running else envoys[0]["name"]
            for prefix, port, password in _redis_urls(app, secrets):
                lines.append(f"{pod.workload}: {_round_trip(pod, via, prefix, port, password)}")
    return lines


def _scrape_targets(pod: Pod, docs: list[Doc]) -> list[tuple[str, int, str]]:
    """(container, port, path) that the pod's discovery names."""
    template = pod.play.template
    by_number = {p["containerPort"]: c["name"] for c in _containers(template) for p in c.get("ports", [])}
    by_name = {
        p.get("name"): (c["name"], p["containerPort"])
        for c in _containers(template)
        for p in c.get("ports", [])
    }
    targets = []
    notes = template["metadata"].get("annotations", {})
    if notes.get("prometheus.io/scrape") == "true":
        port = int(notes["prometheus.io/port"])
        targets.append((by_number[port], port, notes.get("prometheus.io/path", "/metrics")))
    labels = template["metadata"].get("labels", {})
    for monitor in (d for d in docs if d.get("kind") == "PodMonitor"):
        selector = monitor["spec"]["selector"].get("matchLabels", {})
        if not selector.items() <= labels.items():
            continue
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            container, port = by_name[endpoint["port"]]
            targets.append((container, port, endpoint.get("path", "/metrics")))
    return list(dict.fromkeys(targets))


def check_scrapes(pods: PodSet, docs: list[Doc], *, up: Mapping[str, str] | None = None) -> list[str]:
    """Every scrape target parses; ``up`` names metrics that must be 1 (``{"web": "nginx_up"}``)."""
    lines = []
    for pod in pods:
        for container, port, path in _scrape_targets(pod, docs):
            if container in pod.left_out:
                lines.append(f"{pod.workload}: :{port}{path} not scraped ({container} left out)")
                continue
            samples = metrics(f"http://{pod.ip}:{port}{path}")
            assert samples, f"{pod.workload}: {container} :{port}{path} has no samples"
            lines.append(f"{pod.workload}: {container} :{port}{path} {len(samples)} samples")
    for part, name in (up or {}).items():
        pod = pods[part]
        values = [
            v
            for c, port, path in _scrape_targets(pod, docs)
            if c not in pod.left_out
            for (n, _), v in metrics(f"http://{pod.ip}:{port}{path}").items()
            if n == name
        ]
        assert values == [1.0], f"{pod.workload}: {name} = {values}"
        lines.append(f"{pod.workload}: {name} 1")
    return lines
