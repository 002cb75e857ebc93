"""Sidecar: an unprivileged nginx serves a public git repository, push-to-deploy.

git-sync keeps the repository in a shared volume; nginx's server config (a ConfigMap)
points its root at the synced content. nginx knows nothing about git.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import SidecarGitSync, container_resources, nginx_server_config, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

NGINX_IMAGE = "nginxinc/nginx-unprivileged:1.27-alpine"  # listens on 8080, runs as uid 101
NGINX_UID = 101  # the image's nginx user


def mount_nginx_config(chart: cdk8s.Chart, web: kplus.Deployment, text: str) -> None:
    """Mount ``text`` as nginx's conf.d/default.conf (a ConfigMap)."""
    conf = kplus.ConfigMap(chart, "nginx-conf", data={"default.conf": text})
    web.containers[0].mount(
        "/etc/nginx/conf.d", kplus.Volume.from_config_map(chart, "nginx-conf-volume", conf, name="nginx-conf")
    )


def add_nginx(chart: cdk8s.Chart) -> kplus.Deployment:
    """An unprivileged nginx Deployment, hardened ("restricted"), with writable /tmp (pid and temp files)."""
    web = kplus.Deployment(chart, "web", replicas=2)
    nginx = web.add_container(
        name="nginx",
        image=NGINX_IMAGE,
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=NGINX_UID, group=NGINX_UID),
        resources=container_resources(50, 500, 64, 128),
        readiness=kplus.Probe.from_http_get("/healthz", port=8080),
        liveness=kplus.Probe.from_http_get("/healthz", port=8080),
    )
    nginx.mount("/tmp", kplus.Volume.from_empty_dir(chart, "nginx-tmp", "nginx-tmp"))
    # The whole pod, nginx and every sidecar added later, meets Pod Security "restricted".
    restricted_pod_security(web)
    return web


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-nginx", namespace="web")
    web = add_nginx(chart)

    site = SidecarGitSync(
        chart,
        "site",
        workload=web,
        repo="https://github.com/example/site.git",
        ref="main",
        period=cdk8s.Duration.seconds(30),
        mount_path="/srv/git",
        serve_dir="public",
    )

    # nginx serves the synced content: site.content_path == "/srv/git/site/public".
    mount_nginx_config(chart, web, nginx_server_config(site.content_path))
    web.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080, name="http")])
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
