"""Every example synthesizes to its golden YAML, valid and secure, through the official CLI too."""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from constructs_lib._workload_kinds import pod_template
from examples import EXAMPLES

from .helpers import K8S_NEWEST, K8S_OLDEST, all_containers, semantic_errors, validate, workloads
from .pod_security import RULES, restricted_violations

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
#: Containers the library adds (their default names).
LIBRARY_CONTAINERS = {
    "git-sync",
    "git-sync-init",
    "redis-ambassador",
    "redis-ambassador-redis",
    "metrics-adapter",
}
#: Examples that use Kubernetes >= 1.29 features (native sidecars).
NEEDS_NEWER = {"git-sync-native", "job", "cronjob"}


def render(name: str) -> str:
    app = cdk8s.App()
    EXAMPLES[name](app)
    return str(app.synth_yaml())


def docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render(name)) if d]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_matches_golden_yaml(name: str) -> None:
    """Golden files are the reviewed output; regenerate with UPDATE_GOLDEN=1 and read the diff."""
    path = GOLDEN / f"{name}.k8s.yaml"
    text = render(name)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_synth_is_byte_identical_across_runs(name: str) -> None:
    assert render(name) == render(name)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_valid_for_the_target_kubernetes_versions(name: str) -> None:
    d = docs(name)
    validate(d, K8S_NEWEST)
    if name in NEEDS_NEWER:
        with pytest.raises(Exception, match="restartPolicy"):
            validate(d, K8S_OLDEST)
    else:
        validate(d, K8S_OLDEST)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_container_is_locked_down(name: str) -> None:
    for doc in workloads(docs(name)):
        assert not semantic_errors(doc)
        spec = pod_template(doc)["spec"]
        assert spec["automountServiceAccountToken"] is False
        for c in all_containers(spec):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, c["name"]
            assert sc["runAsUser"] > 0, c["name"]
            assert sc["readOnlyRootFilesystem"] is True, c["name"]
            assert sc["allowPrivilegeEscalation"] is False, c["name"]
            assert set(c["resources"]) == {"requests", "limits"}, c["name"]
            assert ":" in c["image"].rsplit("/", 1)[-1], c["name"]
            if c["name"] in LIBRARY_CONTAINERS:
                assert sc["capabilities"] == {"drop": ["ALL"]}, c["name"]
                assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, c["name"]
                assert c["imagePullPolicy"] == "Always", c["name"]
                one_shot = c in spec.get("initContainers", []) and c.get("restartPolicy") != "Always"
                if not one_shot:
                    assert {"livenessProbe", "readinessProbe"} <= set(c), c["name"]


def test_every_example_pod_meets_pod_security_restricted() -> None:
    """What a namespace enforcing Pod Security "restricted" admits: every pod of every example
    (the user's containers included), checked rule by rule (tests/pod_security.py cites each)."""
    results = {
        f"{name}/{doc['kind']}/{doc['metadata']['name']}": restricted_violations(pod_template(doc))
        for name in sorted(EXAMPLES)
        for doc in workloads(docs(name))
    }
    refused = {pod: found for pod, found in results.items() if found}
    assert not refused
    assert len(results) == 25  # 25 pods in 20 examples, all admitted
    assert len(RULES) == 18


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_secret_material_in_manifests(name: str) -> None:
    assert all(doc["kind"] != "Secret" for doc in docs(name))
    for doc in workloads(docs(name)):
        for c in all_containers(pod_template(doc)["spec"]):
            for env in c.get("env", []):
                assert "PASSWORD" not in env["name"].upper() or "valueFrom" in env


def test_official_cli_writes_the_golden_files(tmp_path: Path) -> None:
    """`cdk8s synth` (the npm CLI pinned in package.json) runs the app of cdk8s.yaml."""
    cli = ROOT / "node_modules" / ".bin" / "cdk8s"
    assert cli.exists(), "run `make setup` (npm ci) first"
    out = tmp_path / "dist"
    proc = subprocess.run(
        [str(cli), "synth", "--no-check-upgrade", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "end-of-life" not in proc.stdout + proc.stderr
    assert "Error" not in proc.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{n}.k8s.yaml" for n in EXAMPLES)
    for name in EXAMPLES:
        assert (out / f"{name}.k8s.yaml").read_text() == (GOLDEN / f"{name}.k8s.yaml").read_text()
    shutil.rmtree(out)
