"""What a pod of the library must do once it runs, read from its own manifest.

For every pod a :class:`~tests.pods.runner.PodSet` runs:

* **Ambassadors** (containers whose command is ``envoy``, or ``sh -c <script>`` whose script ends
  in ``exec envoy ...``: the Sentinel ambassador renders its ROLE check's AUTH from the Secret
  first): every Redis cluster of the Envoy is healthy as Envoy's own health checker sees it
  (PING, authenticated with the cluster's ``auth_password``): ``membership_healthy`` equals
  ``membership_total`` on the stats port's ``/metrics``, except that a cluster whose TCP health
  check sends ``ROLE`` (a Sentinel-managed write cluster: every data node listed, only the
  primary passes) must have exactly one healthy host; and a SET then a GET through each
  ``redis://127.0.0.1:<port>`` URL the app's env names, with the app's password env, return the
  value (reads may go to a replica: retried while it replicates).
* **Adapters and other scrape targets**: every endpoint the pod's discovery names (the
  ``prometheus.io/port``/``path`` annotations and the PodMonitor endpoints that select the pod)
  answers Prometheus text that ``prometheus_client`` parses, unless its container was left out.

Each check returns lines for the run's report; a failure raises AssertionError.
"""

from __future__ import annotations

import re
import shlex
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

import yaml
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


#: The last line of an ambassador's ``sh -c`` script: it renders its config, then becomes Envoy.
_EXEC_ENVOY = re.compile(r"exec\s+envoy(\s|$)")


def is_ambassador(container: Doc) -> bool:
    """An Envoy container: command ``["envoy"]``, or ``["sh", "-c", script]`` that ends by
    ``exec envoy ...`` (the Sentinel ambassador with a password renders the AUTH of its ROLE
    check into /run/envoy/envoy.yaml first)."""
    command = container.get("command") or []
    if command == ["envoy"]:
        return True
    if len(command) != 3 or command[:2] != ["sh", "-c"] or not command[2].strip():
        return False
    return bool(_EXEC_ENVOY.match(command[2].strip().splitlines()[-1].strip()))


def envoy_config(pod: Pod, envoy: Doc) -> Doc:
    """The Envoy bootstrap (``envoy.yaml``) of a ConfigMap the container mounts, as played."""
    played = {d["metadata"]["name"]: d for d in pod.play.play[1:] if d.get("kind") == "ConfigMap"}
    for mount in envoy.get("volumeMounts", []):
        doc = played.get(pod.play.volumes.get(mount["name"], ""))
        if doc and "envoy.yaml" in (doc.get("data") or {}):
            return dict(yaml.safe_load(doc["data"]["envoy.yaml"]))
    raise AssertionError(f"{pod.workload}/{envoy['name']}: no envoy.yaml among its ConfigMap mounts")


def role_checked(cluster: Doc) -> bool:
    """A cluster whose TCP health check sends ``ROLE``: only the primary passes it."""
    for check in cluster.get("health_checks", []):
        send = check.get("tcp_health_check", {}).get("send", {}).get("text", "")
        if b"ROLE" in bytes.fromhex(send):
            return True
    return False


def _envoy_clusters_healthy(pod: Pod, envoy: Doc, within: float = 20) -> str:
    (stats,) = [p["containerPort"] for p in envoy.get("ports", [])]
    config = envoy_config(pod, envoy)
    one_healthy = {c["name"] for c in config["static_resources"]["clusters"] if role_checked(c)}
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
        # A ROLE-checked write cluster lists every data node; exactly one (the primary) passes.
        want = {c: 1 if c in one_healthy else total for c, total in clusters.items()}
        bad = {
            c: (healthy.get(c), total)
            for c, total in clusters.items()
            if not total or healthy.get(c) != want[c]
        }
        if clusters and not bad:
            return f"{envoy['name']}: " + ", ".join(
                f"{c} {int(healthy[c])}/{int(v)} healthy"
                + (" (ROLE: the primary only)" if c in one_healthy else "")
                for c, v in sorted(clusters.items())
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


def redis_batch(
    pod: Pod, container: str, port: int, password: str | None, commands: list[list[str]]
) -> list[str]:
    """``commands`` on one connection (redis-cli reading them from stdin, in one exec): one reply
    line each (single-line replies: status, integer, bulk string)."""
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    if password:
        argv += ["-a", password, "--no-auth-warning"]
    lines = [" ".join(shlex.quote(a) for a in command) for command in commands]
    script = f"printf '%s\\n' {' '.join(shlex.quote(line) for line in lines)} | {shlex.join(argv)}"
    proc = pod.exec(container, ["sh", "-c", script])
    assert proc.returncode == 0, (pod.workload, container, proc.stdout, proc.stderr)
    replies = proc.stdout.splitlines()
    assert len(replies) == len(commands), (pod.workload, container, commands, replies)
    return replies


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
        envoys = [c for c in everything if is_ambassador(c) and c["name"] not in pod.left_out]
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
