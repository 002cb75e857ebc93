"""Sidecar: Apache httpd serves a public git repository, push-to-deploy, unprivileged.

git-sync keeps the repository in a shared volume; httpd's whole httpd.conf (a ConfigMap,
rendered by ``apache_httpd_config``) serves the synced content on 8080 as a non-root uid, with
a read-only root filesystem. httpd knows nothing about git.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import SidecarGitSync, apache_httpd_config, container_resources, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

HTTPD_IMAGE = "httpd:2.4.71"  # the official image (Debian bookworm ships 2.4.71 as well)
HTTPD_UID = 10001  # any non-root uid: the config needs no User, the pod's fsGroup lets it read
CONF_DIR = "/etc/httpd-site"  # not the image's conf/: its mime.types stays visible


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-apache", namespace="web")
    web = kplus.Deployment(chart, "web", replicas=2)
    httpd = web.add_container(
        name="httpd",
        image=HTTPD_IMAGE,
        command=["httpd", "-DFOREGROUND", "-f", f"{CONF_DIR}/httpd.conf"],
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=HTTPD_UID, group=HTTPD_UID),
        resources=container_resources(50, 500, 64, 128),
        readiness=kplus.Probe.from_http_get("/healthz", port=8080),
        liveness=kplus.Probe.from_http_get("/healthz", port=8080),
    )
    # httpd writes its pid file (and nothing else: logs go to stdout) under /tmp.
    httpd.mount("/tmp", kplus.Volume.from_empty_dir(chart, "httpd-tmp", "httpd-tmp"))

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

    # httpd serves the synced content: site.content_path == "/srv/git/site/public".
    conf = kplus.ConfigMap(chart, "httpd-conf", data={"httpd.conf": apache_httpd_config(site.content_path)})
    httpd.mount(CONF_DIR, kplus.Volume.from_config_map(chart, "httpd-conf-volume", conf, name="httpd-conf"))
    restricted_pod_security(web)
    web.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080, name="http")])
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
