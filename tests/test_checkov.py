"""Every container the library adds passes checkov's Kubernetes checks.

checkov reports per workload, so a Deployment also fails for the user's own containers
(cdk8s-plus-27 cannot drop ALL capabilities or set seccomp on them). To judge the library,
each library container of every example is wrapped in a Pod of its own, with the pod's
security context and volumes, and scanned offline. Init containers and native sidecars
are placed under ``containers`` so that checkov's container checks see them too.

Skipped, with reason: CKV_K8S_43 (image digests: tags are pinned, digests cannot be
looked up offline; pass ``image=...@sha256:...``) and CKV2_K8S_6 (NetworkPolicy: the
pod's traffic policy belongs to the app, not to a sidecar).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from examples import EXAMPLES

from .test_examples import LIBRARY_CONTAINERS

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPPED = "CKV_K8S_43,CKV2_K8S_6"


def library_pods() -> list[dict[str, Any]]:
    pods = []
    for name, build in sorted(EXAMPLES.items()):
        app = cdk8s.App()
        build(app)
        for doc in yaml.safe_load_all(str(app.synth_yaml())):
            if not doc or doc["kind"] != "Deployment":
                continue
            spec = doc["spec"]["template"]["spec"]
            for c in [*spec.get("initContainers", []), *spec.get("containers", [])]:
                if c["name"] not in LIBRARY_CONTAINERS:
                    continue
                c = {k: v for k, v in c.items() if k != "restartPolicy"}
                pods.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": f"{name}-{c['name']}",
                            "namespace": doc["metadata"]["namespace"],
                        },
                        "spec": {
                            "automountServiceAccountToken": spec["automountServiceAccountToken"],
                            "securityContext": spec["securityContext"],
                            "volumes": spec.get("volumes", []),
                            "containers": [c],
                        },
                    }
                )
    return pods


def test_library_containers_pass_checkov(tmp_path: Path) -> None:
    assert CHECKOV.exists(), "checkov is missing: run `make setup` (it lives in .venv-checkov)"
    pods = library_pods()
    assert {p["spec"]["containers"][0]["name"] for p in pods} == LIBRARY_CONTAINERS
    for pod in pods:
        (tmp_path / f"{pod['metadata']['name']}.yaml").write_text(yaml.safe_dump(pod))
    proc = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "--skip-check",
            SKIPPED,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(proc.stdout)
    summary = report["summary"]
    failed = [(f["resource"], f["check_id"]) for f in report["results"]["failed_checks"]]
    # One-shot init containers may not have liveness/readiness probes (the API server
    # rejects them); every other check applies to them like to any container.
    allowed = {
        (f"Pod.{p['metadata']['namespace']}.{p['metadata']['name']}", check)
        for p in pods
        if p["spec"]["containers"][0]["name"].endswith("-init")
        for check in ("CKV_K8S_8", "CKV_K8S_9")
    }
    assert [f for f in failed if f not in allowed] == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 20 * len(pods)  # checkov really ran its container checks
    assert proc.returncode == (1 if failed else 0), proc.stderr  # checkov's own verdict agrees
