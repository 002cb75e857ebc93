"""Sidecar: a private repository over SSH, served by Python's static file server.

The Secret ``git-creds`` (created out of band, e.g. by External Secrets) holds the
deploy key under ``ssh`` and the host keys under ``known_hosts``:

    kubectl -n docs create secret generic git-creds \\
        --from-file=ssh=./deploy_key --from-file=known_hosts=./known_hosts
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import (
    GitAuth,
    GitSubmodules,
    SidecarGitSync,
    container_resources,
    restricted_pod_security,
)

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

SERVER_UID = 10001  # any non-root uid; the pod's fsGroup lets it read the checkout


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-ssh", namespace="docs")
    docs = kplus.Deployment(chart, "docs", replicas=1)
    docs.add_container(
        name="server",
        image="python:3.12-slim",
        # The server knows nothing about git: it serves a directory. Kubernetes expands
        # $(CONTENT_ROOT), which SidecarGitSync sets to its content path.
        command=["python", "-m", "http.server", "8000", "--directory", "$(CONTENT_ROOT)"],
        ports=[kplus.ContainerPort(number=8000, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=SERVER_UID, group=SERVER_UID),
        resources=container_resources(20, 200, 48, 96),
        readiness=kplus.Probe.from_tcp_socket(port=8000),
    )

    SidecarGitSync(
        chart,
        "handbook",
        workload=docs,
        repo="git@github.com:example/handbook.git",
        ref="v2.3.0",
        period=cdk8s.Duration.minutes(1),
        submodules=GitSubmodules.OFF,
        sparse_checkout=["/build/html/"],
        serve_dir="build/html",
        mount_path="/srv/handbook",
        content_env="CONTENT_ROOT",
        auth=GitAuth.ssh(secret=kplus.Secret.from_secret_name(chart, "git-creds", "git-creds")),
        max_failures=5,
    )
    restricted_pod_security(docs)
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
