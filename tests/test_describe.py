"""`describe`: the picture of each pod, read from synthesized YAML; the README's pictures stay current."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import PodPicture, PropsError, describe
from constructs_lib._describe import Connection, Container, Listener, Mount, Volume

from .programs import require

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
PICTURES = ROOT / "docs" / "pods"
README = ROOT / "README.md"
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
    assert envoy[6379] == Listener(6379, ("envoy listener redis",))
    assert pod.containers[2].listens == (
        Listener(2020, ("--http-bind", "containerPort git-sync", "livenessProbe", "readinessProbe")),
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
        Connection("redis-ambassador", "redis-ambassador-redis", 16379, ("envoy cluster redis_primary",)),
    )
    assert Listener(16379, ("--port",)) in pod.containers[1].listens


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
        Container("app", "app:1", "container", 0, (Listener(8000, ("containerPort web", "readinessProbe")),)),
        Container(
            "proxy",
            "proxy:1",
            "container",
            0,
            (Listener(7000, ("--listen",)), Listener(7001, ("livenessProbe",))),
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


def test_readme_shows_every_picture_and_the_all_patterns_text() -> None:
    text = README.read_text()
    assert sorted(p.name for p in PICTURES.iterdir()) == sorted(f"{n}.svg" for n in EXAMPLE_NAMES)
    for name in EXAMPLE_NAMES:
        assert f"(docs/pods/{name}.svg)" in text, name
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert blocks == [describe(golden("all-patterns")).mermaid()], (
        "paste the output of `python -m constructs_lib describe tests/golden/all-patterns.k8s.yaml` "
        "into the README's mermaid block"
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
