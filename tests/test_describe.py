"""`describe`: the picture of each pod, read from synthesized YAML; the README's pictures stay current."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import PodPicture, PropsError, describe
from constructs_lib._describe import (
    Connection,
    Container,
    Discovery,
    Listener,
    Mount,
    Target,
    Upstream,
    Volume,
)

from .programs import require

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
PICTURES = ROOT / "docs" / "pods"
README = ROOT / "README.md"
DOCS_PICTURES = ROOT / "docs" / "pictures.md"
EXAMPLE_NAMES = sorted(p.name.removesuffix(".k8s.yaml") for p in GOLDEN.glob("*.k8s.yaml"))
REGENERATE = (
    "regenerate with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_describe.py -k picture` and read the diff"
)


def golden(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((GOLDEN / f"{name}.k8s.yaml").read_text()) if d]


def only_pod(name: str) -> PodPicture:
    (pod,) = describe(golden(name)).pods
    return pod


def test_all_patterns_pod() -> None:
    pod = only_pod("all-patterns")
    assert (pod.kind, pod.namespace, pod.name) == ("Deployment", "web", "all-patterns-web-c85b1f16")
    assert [(c.name, c.role, c.order) for c in pod.containers] == [
        ("git-sync-init", "init", 1),
        ("nginx", "container", 0),
        ("git-sync", "container", 0),
        ("redis-ambassador", "container", 0),
        ("metrics-adapter", "container", 0),
    ]
    listens = {c.name: [listener.port for listener in c.listens] for c in pod.containers}
    assert listens == {
        "git-sync-init": [],
        "nginx": [8080],
        "git-sync": [2020],
        "redis-ambassador": [6379, 9901, 9902],  # Envoy: redis listener, admin, stats listener
        "metrics-adapter": [9113],
    }
    envoy = {listener.port: listener for listener in pod.containers[3].listens}
    assert envoy[6379] == Listener(6379, ("envoy listener redis",), ("TCP",), "loopback")
    assert envoy[9901] == Listener(9901, ("envoy admin",), ("TCP",), "loopback")
    assert envoy[9902] == Listener(
        9902,
        (
            "containerPort envoy-stats",
            "envoy listener stats",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
        ),
        ("TCP",),
        "exposed",
    )
    assert pod.containers[2].listens == (
        Listener(
            2020,
            ("--http-bind", "containerPort git-sync", "livenessProbe", "readinessProbe"),
            ("TCP",),
            "exposed",
        ),
    )
    assert pod.volumes == (
        Volume("git-sync-root", "emptyDir"),
        Volume("git-sync-tmp", "emptyDir"),
        Volume("nginx-conf", "configMap all-patterns-nginx-conf-c8bd79b7"),
        Volume("nginx-tmp", "emptyDir"),
        Volume("redis-ambassador-config", "configMap all-patterns-cache-config-c88b031d"),
        Volume("redis-ambassador-upstream-auth", "secret redis"),
    )
    assert pod.mounts == (
        Mount("git-sync", "git-sync-root", "/git", "write"),
        Mount("git-sync-init", "git-sync-root", "/git", "write"),
        Mount("nginx", "git-sync-root", "/srv/git", "read"),
        Mount("git-sync", "git-sync-tmp", "/tmp", "write"),
        Mount("git-sync-init", "git-sync-tmp", "/tmp", "write"),
        # no readOnly in the manifest, but the kubelet mounts configMap volumes read-only
        Mount("nginx", "nginx-conf", "/etc/nginx/conf.d", "read"),
        Mount("nginx", "nginx-tmp", "/tmp", "write"),
        Mount("redis-ambassador", "redis-ambassador-config", "/etc/envoy", "read"),
        Mount("redis-ambassador", "redis-ambassador-upstream-auth", "/etc/envoy-upstream-auth", "read"),
    )
    # Envoy's own admin cluster (127.0.0.1:9901) dials itself: not drawn.
    assert pod.connections == (
        Connection("metrics-adapter", "nginx", 8080, ("arg --nginx.scrape-uri",)),
        Connection("nginx", "redis-ambassador", 6379, ("env REDIS_HOST/REDIS_PORT", "env REDIS_URL")),
    )
    # the ambassador's upstreams (in namespace data: no Service of this manifest), and the PodMonitor
    primary, replicas = "redis-primary.data.svc:6379", "redis-replicas.data.svc:6379"
    assert pod.upstreams == (
        Upstream("redis-ambassador", primary, "redis_primary", "writes", "", 0, 6379),
        Upstream("redis-ambassador", primary, "redis_replicas", "reads", "", 1, 6379),
        Upstream("redis-ambassador", replicas, "redis_replicas", "reads", "", 0, 6379),
    )
    ((monitor),) = pod.discovered_by
    assert (monitor.kind, monitor.namespace, monitor.detail) == (
        "PodMonitor",
        "web",
        ("labels release=kube-prometheus-stack",),
    )
    assert monitor.targets == (
        Target(9113, "metrics", "metrics-adapter", "scrape metrics /metrics"),
        Target(2020, "git-sync", "git-sync", "scrape git-sync /metrics"),
        Target(9902, "envoy-stats", "redis-ambassador", "scrape envoy-stats /metrics"),
    )


def test_git_sync_native_pod_marks_the_native_sidecar() -> None:
    pod = only_pod("git-sync-native")
    assert [(c.name, c.role, c.order) for c in pod.containers] == [
        ("git-sync", "native-sidecar", 1),
        ("nginx", "container", 0),
    ]
    assert pod.connections == (Connection("git-sync", "nginx", 8080, ("arg --webhook-url",)),)
    assert Mount("git-sync", "git-sync-auth", "/etc/git-secret", "read") in pod.mounts
    assert '"1. git-sync (native sidecar)<br/>' in describe(golden("git-sync-native")).mermaid()


def test_dev_ambassador_envoy_dials_the_local_redis() -> None:
    pod = only_pod("redis-ambassador-dev")
    assert pod.connections == (
        Connection("api", "redis-ambassador", 6379, ("env REDIS_HOST/REDIS_PORT", "env REDIS_URL")),
        Connection(
            "redis-ambassador",
            "redis-ambassador-redis",
            16379,
            ("envoy cluster redis_primary for all commands",),
        ),
    )
    # `--port 16379 --bind 127.0.0.1`, no containerPort: loopback only
    assert Listener(16379, ("--port",), ("TCP",), "loopback") in pod.containers[1].listens
    assert pod.upstreams == ()  # the dev redis is in the pod


def test_every_workload_kind() -> None:
    assert only_pod("statefulset").volumes[0] == Volume("data", "volumeClaimTemplate")
    assert only_pod("metrics-statsd").connections == (
        Connection("django", "metrics-adapter", 9125, ("env STATSD_HOST/STATSD_PORT",)),
    )
    cron = only_pod("cronjob")
    assert cron.kind == "CronJob"
    assert [(c.name, c.role, c.order) for c in cron.containers] == [
        ("git-sync", "native-sidecar", 1),
        ("redis-ambassador", "native-sidecar", 2),
        ("warmer", "container", 0),
    ]
    kinds = {pod.kind for name in EXAMPLE_NAMES for pod in describe(golden(name)).pods}
    assert kinds == {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
    assert [len(describe(golden(name)).pods) for name in EXAMPLE_NAMES].count(3) == 1  # redis-ambassador


HANDMADE = """
apiVersion: v1
kind: Pod
metadata: {name: hand}
spec:
  containers:
    - name: app
      image: app:1
      args: [--upstream, "localhost:7000", "--cache=[::1]:11211"]
      ports: [{containerPort: 8000, name: web}]
      readinessProbe: {httpGet: {port: web}}
      volumeMounts: [{name: scratch, mountPath: /scratch, readOnly: true}]
    - name: proxy
      image: proxy:1
      command: [proxy, --listen, "127.0.0.1:7000", --admin=localhost:7000]
      livenessProbe: {tcpSocket: {port: 7001}}
      volumeMounts: [{name: scratch, mountPath: /out}]
  volumes: [{name: scratch, emptyDir: {medium: Memory}}]
"""


def test_heuristics_on_a_handmade_manifest() -> None:
    (pod,) = describe(yaml.safe_load_all(HANDMADE)).pods
    assert pod.containers == (
        Container(
            "app",
            "app:1",
            "container",
            0,
            (Listener(8000, ("containerPort web", "readinessProbe"), ("TCP",), "exposed"),),
        ),
        Container(
            "proxy",
            "proxy:1",
            "container",
            0,
            (
                Listener(7000, ("--listen",), ("TCP",), "loopback"),
                Listener(7001, ("livenessProbe",), ("TCP",), "undeclared"),
            ),
        ),
    )
    assert pod.volumes == (Volume("scratch", "emptyDir medium Memory"),)
    assert pod.mounts == (
        Mount("app", "scratch", "/scratch", "read"),
        Mount("proxy", "scratch", "/out", "write"),
    )
    # proxy's --admin dials its own port: not drawn; nobody listens on 11211: drawn as such.
    assert pod.connections == (
        Connection("app", "proxy", 7000, ("arg --upstream",)),
        Connection("app", None, 11211, ("arg --cache",)),
    )
    text = describe(yaml.safe_load_all(HANDMADE)).mermaid()
    assert '    p1_x_11211["nothing listens on :11211"]:::missing\n' in text
    assert '  p1_c_app ==>|":11211 arg --cache"| p1_x_11211\n' in text
    assert '  p1_c_app ==>|":7000 arg --upstream"| p1_c_proxy\n' in text


def test_a_cache_with_replicas_and_one_without_differ() -> None:
    """The api pod of redis-ambassador: the cache splits reads from writes (and falls back to the
    primary for reads), the sessions store takes every command from one server."""
    pictures = describe(golden("redis-ambassador"))
    primary_pod, replicas_pod, api = pictures.pods
    primary, replicas = "redis-primary.shop.svc:6379", "redis-replicas.shop.svc:6379"
    assert api.upstreams == (
        Upstream("redis-ambassador", primary, "redis_primary", "writes", "", 0, 6379, "shop/redis-primary"),
        Upstream("redis-ambassador", primary, "redis_replicas", "reads", "", 1, 6379, "shop/redis-primary"),
        Upstream("redis-ambassador", replicas, "redis_replicas", "reads", "", 0, 6379, "shop/redis-replicas"),
        Upstream("sessions", "sessions-redis.data.svc:6379", "redis_primary", "all commands", "", 0, 6380),
    )
    text = pictures.mermaid()
    assert '  p3_u1[["redis-primary.shop.svc:6379<br/>Service shop/redis-primary"]]:::upstream\n' in text
    assert '  p3_u3[["sessions-redis.data.svc:6379<br/>outside the pod"]]:::upstream\n' in text
    split = "writes (redis_primary), reads as fallback (redis_replicas priority 1)"
    assert f'  p3_c_redis_ambassador ==>|"{split}"| p3_u1\n' in text
    assert '  p3_c_redis_ambassador ==>|"reads (redis_replicas)"| p3_u2\n' in text
    assert '  p3_c_sessions ==>|"all commands (redis_primary)"| p3_u3\n' in text
    # each redis Deployment is found by its own Service
    assert [[(d.kind, d.name) for d in p.discovered_by] for p in (primary_pod, replicas_pod)] == [
        [("Service", "redis-primary")],
        [("Service", "redis-replicas")],
    ]
    assert primary_pod.discovered_by[0].targets == (
        Target(6379, "", "redis", "port 6379 to 6379/TCP (redis)"),
    )


def test_statsd_listens_on_loopback_over_udp_and_tcp() -> None:
    pod = only_pod("metrics-statsd")
    assert pod.containers[1].listens == (
        Listener(
            9102,
            ("--web.listen-address", "containerPort metrics", "livenessProbe", "readinessProbe"),
            ("TCP",),
            "exposed",
        ),
        Listener(9125, ("--statsd.listen-tcp", "--statsd.listen-udp"), ("TCP", "UDP"), "loopback"),
    )
    text = describe(golden("metrics-statsd")).mermaid()
    assert "<br/>exposed :9102/TCP<br/>loopback only :9125/TCP+UDP" in text


def test_prometheus_annotations_are_drawn() -> None:
    (found,) = only_pod("job").discovered_by
    assert found == Discovery(
        "annotations",
        "prometheus.io",
        "reports",
        ("prometheus.io/path=/metrics", "prometheus.io/port=9102", "prometheus.io/scrape=true"),
        (Target(9102, "", "metrics-adapter", "scrape :9102/metrics"),),
    )
    text = describe(golden("job")).mermaid()
    assert '  p1_a_annotations -.->|"scrape :9102/metrics"| p1_c_metrics_adapter\n' in text


FOUND = """
kind: Pod
metadata:
  name: hand
  namespace: app
  labels: {app: web, tier: front}
  annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9999", other: x}
spec:
  containers:
    - name: web
      image: web:1
      ports: [{containerPort: 8080, name: http}, {containerPort: 8125, name: statsd, protocol: UDP}]
    - name: admin
      image: admin:1
      args: [--listen=127.0.0.1:9000]
      ports: [{containerPort: 9000, name: admin}]
---
kind: Service
metadata: {name: web, namespace: app}
spec:
  type: NodePort
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
    - {name: admin, port: 9000}
    - {name: gone, port: 81, targetPort: grpc}
---
kind: Service  # another namespace
metadata: {name: web, namespace: other}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
kind: Service  # a label the pod does not have
metadata: {name: back, namespace: app}
spec: {selector: {app: web, tier: back}, ports: [{port: 80}]}
---
kind: Service  # no selector: selects no pod
metadata: {name: external, namespace: app}
spec: {ports: [{port: 80}]}
---
kind: PodMonitor
metadata: {name: everywhere, namespace: monitoring}
spec:
  namespaceSelector: {any: true}
  selector:
    matchExpressions:
      - {key: tier, operator: In, values: [front]}
      - {key: canary, operator: DoesNotExist}
  podMetricsEndpoints: [{port: http, path: /stats}]
---
kind: PodMonitor  # selects every pod, but of its own namespace only
metadata: {name: elsewhere, namespace: monitoring}
spec: {selector: {}, podMetricsEndpoints: [{port: http}]}
---
kind: PodMonitor
metadata: {name: listed, namespace: monitoring, labels: {release: prom}}
spec:
  namespaceSelector: {matchNames: [app]}
  selector: {matchLabels: {app: web}}
  podMetricsEndpoints: [{portNumber: 8125}]
---
kind: PodMonitor  # NotIn fails: tier is front
metadata: {name: not-front, namespace: app}
spec:
  selector: {matchExpressions: [{key: tier, operator: NotIn, values: [front]}]}
  podMetricsEndpoints: [{port: http}]
"""


def test_what_finds_the_pod() -> None:
    (pod,) = describe(yaml.safe_load_all(FOUND)).pods
    assert [(x.port, x.protocols, x.exposure) for c in pod.containers for x in c.listens] == [
        (8080, ("TCP",), "exposed"),
        (8125, ("UDP",), "exposed"),
        (9000, ("TCP",), "loopback"),  # declared, but bound to 127.0.0.1
    ]
    assert pod.discovered_by == (
        Discovery(
            "Service",
            "web",
            "app",
            ("NodePort",),
            (
                Target(8080, "http", "web", "port 80 to http/TCP (http)"),
                Target(9000, "", "admin", "port 9000 to 9000/TCP (admin) (loopback only)"),
                Target(None, "grpc", None, "port 81 to grpc/TCP (gone)"),
            ),
        ),
        Discovery(
            "PodMonitor",
            "everywhere",
            "monitoring",
            ("labels none",),
            (Target(8080, "http", "web", "scrape http /stats"),),
        ),
        Discovery(
            "PodMonitor",
            "listed",
            "monitoring",
            ("labels release=prom",),
            (Target(8125, "", "web", "scrape 8125 /metrics"),),
        ),
        Discovery(
            "annotations",
            "prometheus.io",
            "app",
            ("prometheus.io/port=9999", "prometheus.io/scrape=true"),
            (Target(9999, "", None, "scrape :9999"),),
        ),
    )
    text = describe(yaml.safe_load_all(FOUND)).mermaid()
    assert '    p1_x_9999["nothing listens on :9999"]:::missing\n' in text
    assert '    p1_n_grpc["no containerPort named grpc"]:::missing\n' in text
    assert '  p1_s_web -.->|"port 81 to grpc/TCP (gone)"| p1_n_grpc\n' in text
    assert "  p1_m_monitoring_everywhere_X" in text  # another namespace: its id carries it (hashed)
    assert '["PodMonitor monitoring/everywhere<br/>labels none"]:::discovery\n' in text
    assert '  p1_a_annotations -.->|"scrape :9999"| p1_x_9999\n' in text


def test_selector_matching_has_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from constructs_lib import _describe

    services = [
        {"kind": "Service", "metadata": {"name": f"s{i}"}, "spec": {"selector": {"app": "x", "other": "y"}}}
        for i in range(40)
    ]
    pod = {"kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}}, "spec": {"containers": []}}
    assert describe([pod, *services]).pods[0].discovered_by == ()
    monkeypatch.setattr(_describe, "MAX_MATCH_WORK", 100)
    with pytest.raises(PropsError, match=r"^docs: docs='more than 100 label comparisons': matching the"):
        describe([pod, *services])


def test_the_template_paths_are_the_librarys() -> None:
    """describe and the seam read one table (_template_paths: no cdk8s, so describe starts no Node)."""
    from constructs_lib import _describe, _workload_kinds

    assert dict(_describe._TEMPLATE_PATH) == _workload_kinds._TEMPLATE_PATH
    assert _describe._DEFAULT_TEMPLATE_PATH == _workload_kinds._DEFAULT_TEMPLATE_PATH


def test_statefulset_claims_are_volumes() -> None:
    doc = {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "data"},
        "spec": {
            "volumeClaimTemplates": [{"metadata": {"name": "pgdata"}}],
            "template": {
                "spec": {
                    "containers": [{"name": "pg", "volumeMounts": [{"name": "pgdata", "mountPath": "/d"}]}]
                }
            },
        },
    }
    (pod,) = describe([doc]).pods
    assert (pod.volumes, pod.mounts) == (
        (Volume("pgdata", "volumeClaimTemplate"),),
        (Mount("pg", "pgdata", "/d", "write"),),
    )


def test_no_pod_is_a_props_error() -> None:
    with pytest.raises(PropsError, match=r"^cm.yaml: docs=\['ConfigMap'\]: no document holds a pod"):
        describe([{"kind": "ConfigMap", "metadata": {"name": "x"}}], source="cm.yaml")


def test_the_mermaid_text_parses_with_mermaid() -> None:
    """Every example's text goes through the real Mermaid parser (npm `mermaid` in package.json)."""
    assert (ROOT / "node_modules" / "mermaid").exists(), "run `make setup` (npm ci) first"
    texts = [describe(golden(name)).mermaid() for name in EXAMPLE_NAMES]
    texts.append(describe(yaml.safe_load_all(HANDMADE)).mermaid())
    proc = subprocess.run(
        ["node", str(Path(__file__).parent / "mermaid_parse.mjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert json.loads(proc.stdout) == [None] * len(texts)
    # and the parser does refuse broken text
    broken = subprocess.run(
        ["node", str(Path(__file__).parent / "mermaid_parse.mjs")],
        input=json.dumps([texts[0].replace(' -->|"write', ' -->|"write"', 1)]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert json.loads(broken.stdout)[0].startswith("Parse error")


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_committed_picture_is_current(name: str) -> None:
    """docs/pods/<example>.svg is what Graphviz draws from the golden YAML today."""
    svg = describe(golden(name)).svg(require("dot", "graphviz"))
    assert svg.startswith("<?xml")
    assert "Generated by graphviz" not in svg
    path = PICTURES / f"{name}.svg"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(svg)
    assert path.exists(), f"{path} is missing: {REGENERATE}"
    assert svg == path.read_text(), f"{path} is out of date: {REGENERATE}"


def test_svg_is_byte_identical_across_runs() -> None:
    dot = require("dot", "graphviz")
    assert describe(golden("pod")).svg(dot) == describe(golden("pod")).svg(dot)


def test_the_docs_show_every_picture_and_the_all_patterns_text() -> None:
    """Each picture is shown in the README (``docs/pods/X.svg``) or the docs site's pictures page
    (``pods/X.svg``), and every Mermaid block there is describe's text of all-patterns."""
    assert sorted(p.name for p in PICTURES.iterdir()) == sorted(f"{n}.svg" for n in EXAMPLE_NAMES)
    pages = {README: "docs/pods/", DOCS_PICTURES: "pods/"}
    texts = {page: page.read_text() for page in pages if page.exists()}
    for name in EXAMPLE_NAMES:
        assert any(f"({pages[page]}{name}.svg)" in text for page, text in texts.items()), name
    blocks = [b for text in texts.values() for b in re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)]
    assert blocks, "no Mermaid block in the README or docs/pictures.md"
    assert set(blocks) == {describe(golden("all-patterns")).mermaid()}, (
        "paste the output of `python -m constructs_lib describe tests/golden/all-patterns.k8s.yaml` "
        "into the Mermaid block of the README or docs/pictures.md"
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "constructs_lib", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_cli_prints_mermaid_by_default_and_writes_any_format(tmp_path: Path) -> None:
    path = str(GOLDEN / "git-sync-native.k8s.yaml")
    proc = cli("describe", path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == describe(golden("git-sync-native")).mermaid()
    require("dot", "graphviz")
    for fmt in ("dot", "svg"):
        out = tmp_path / f"pod.{fmt}"
        proc = cli("describe", path, "--format", fmt, "-o", str(out))
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
        assert out.read_text() == getattr(describe(golden("git-sync-native")), fmt)()


def test_cli_errors(tmp_path: Path) -> None:
    missing = cli("describe", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2
    assert f"error: cannot read {tmp_path / 'none.yaml'} as YAML: [Errno 2]" in missing.stderr
    bad_format = cli("describe", str(GOLDEN / "pod.k8s.yaml"), "--format", "png")
    assert bad_format.returncode == 2
    assert "argument --format: invalid choice: 'png'" in bad_format.stderr
    assert cli().returncode == 2
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    proc = cli("describe", str(scalar))
    assert proc.returncode == 2
    assert "every YAML document must be a Kubernetes object" in proc.stderr
    only_config = tmp_path / "cm.yaml"
    only_config.write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    proc = cli("describe", str(only_config))
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        f"error: {only_config}: docs=['ConfigMap']: no document holds a pod (no Deployment, StatefulSet, "
        "DaemonSet, Job, CronJob, Pod). Fix: pass the synthesized manifest of a workload, "
        "e.g. dist/<chart>.k8s.yaml\n"
    )


# --- describe starts no Node; the package's names load on first use -------------------------------

#: Modules that mean cdk8s was imported (jsii starts its Node process when cdk8s loads).
NODE_MODULES = ("jsii", "cdk8s", "cdk8s_plus_27", "constructs")
VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def test_describe_starts_no_node_and_takes_well_under_a_second() -> None:
    command = [sys.executable, "-m", "constructs_lib", "describe", str(GOLDEN / "all-patterns.k8s.yaml")]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"constructs_lib", "constructs_lib._describe", "yaml"} <= imported
    assert sorted(m for m in imported if m.split(".")[0] in NODE_MODULES) == []
    seconds = []
    for _ in range(3):  # the best of 3 fresh processes: the machine is shared
        start = time.monotonic()
        subprocess.run(command, capture_output=True, cwd=ROOT, timeout=120, check=True)
        seconds.append(time.monotonic() - start)
    assert min(seconds) < 1.0, seconds


LAZY = f"""
import inspect, os, sys
import constructs_lib
loaded = lambda: sorted(m for m in sys.modules if m.split(".")[0] in {NODE_MODULES!r})
assert loaded() == [], loaded()
assert set(constructs_lib.__all__) <= set(dir(constructs_lib))
constructs_lib.PropsError, constructs_lib.describe, constructs_lib.PodPicture
assert loaded() == [], loaded()
pattern = constructs_lib.SidecarGitSync  # loads cdk8s and every pattern
assert "jsii" in sys.modules and "cdk8s" in sys.modules
from constructs_lib import RedisAmbassador, restricted_pod_security
assert "repo" in inspect.signature(pattern).parameters  # the real props, not jsii's (*args, **kwargs)
import cdk8s
assert getattr(cdk8s.App.synth, "__constructs_lib_surfaces_errors__", False)  # _synth.install() ran
cdk8s.App().synth_yaml()
names = {{}}
exec("from constructs_lib import *", names)
assert sorted(n for n in names if n != "__builtins__") == sorted(constructs_lib.__all__)
print(os.environ[{VARIABLE!r}])
"""


def test_the_package_loads_its_names_on_first_use_and_keeps_the_banner_away() -> None:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    proc = subprocess.run(
        [sys.executable, "-c", LAZY],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    assert node.removeprefix("v").split(".")[0] in proc.stdout.strip().split(",")  # every major, 0-99


def test_every_public_name_is_loaded_by_one_rule() -> None:
    import constructs_lib

    eager = {"CollisionError", "ConstructsLibError", "MainContainerError", "PodSecurityError", "PropsError"}
    lazy = set(constructs_lib._CDK8S_NAMES) | set(constructs_lib._DESCRIBE_NAMES)
    assert eager | lazy == set(constructs_lib.__all__)
    assert not eager & lazy
