"""Sidecar: a small Python static server serves a public git repository, push-to-deploy.

``python_server_command`` is the container's command: a standard-library server that resolves
the content path through git-sync's link on every request (never a server started inside the
content, which keeps the first checkout as its working directory), with ``/healthz``, no
directory listings and no dot files.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import SidecarGitSync, container_resources, python_server_command, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

PYTHON_IMAGE = "python:3.12-slim"  # the official image; the server needs only the standard library
SERVER_UID = 10001  # any non-root uid; the pod's fsGroup lets it read the checkout
# SidecarGitSync's content_path, <mount_path>/<link>/<serve_dir>: the command is the container's,
# which exists before the pattern does (checked below).
CONTENT = "/srv/git/site/public"


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-python", namespace="web")
    web = kplus.Deployment(chart, "web", replicas=2)
    web.add_container(
        name="server",
        image=PYTHON_IMAGE,
        command=python_server_command(CONTENT, port=8080),
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=SERVER_UID, group=SERVER_UID),
        resources=container_resources(20, 200, 48, 96),
        readiness=kplus.Probe.from_http_get("/healthz", port=8080),
        liveness=kplus.Probe.from_http_get("/healthz", port=8080),
    )

    site = SidecarGitSync(
        chart,
        "site",
        workload=web,
        repo="https://github.com/example/site.git",
        ref="main",
        period=cdk8s.Duration.seconds(30),
        mount_path="/srv/git",
        link="site",
        serve_dir="public",
    )
    assert site.content_path == CONTENT
    restricted_pod_security(web)
    web.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080, name="http")])
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
