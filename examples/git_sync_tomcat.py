"""Sidecar: Tomcat serves a public git repository as its root web app, push-to-deploy.

git-sync keeps the repository in a shared volume; a Context descriptor (a ConfigMap, rendered
by ``tomcat_context_config``) mounts the synced content into Tomcat's root web app with
``allowLinking`` and a one-second cache, so a push is served within a second of the sync,
without a redeploy. Tomcat runs as a non-root uid on a read-only root filesystem.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import SidecarGitSync, container_resources, restricted_pod_security, tomcat_context_config

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

TOMCAT_IMAGE = "tomcat:10.1.60-jre17"  # the official image (Debian bookworm ships 10.1.60 as well)
TOMCAT_UID = 10001  # the image runs as root by default: any non-root uid works with these volumes
CATALINA_BASE = "/usr/local/tomcat"  # the official image's CATALINA_HOME and CATALINA_BASE


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-tomcat", namespace="web")
    web = kplus.Deployment(chart, "web", replicas=2)
    tomcat = web.add_container(
        name="tomcat",
        image=TOMCAT_IMAGE,
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=TOMCAT_UID, group=TOMCAT_UID),
        resources=container_resources(100, 1000, 256, 512),
        readiness=kplus.Probe.from_tcp_socket(port=8080),
        liveness=kplus.Probe.from_tcp_socket(port=8080, initial_delay_seconds=cdk8s.Duration.seconds(30)),
    )
    # What Tomcat writes, on a read-only root filesystem: its logs, work and temp directories.
    for part in ("logs", "work", "temp"):
        tomcat.mount(
            f"{CATALINA_BASE}/{part}", kplus.Volume.from_empty_dir(chart, f"tomcat-{part}", f"tomcat-{part}")
        )
    # The root web app's own docBase: an empty directory (the content comes in as PreResources).
    tomcat.mount(
        f"{CATALINA_BASE}/webapps/ROOT",
        kplus.Volume.from_empty_dir(chart, "tomcat-docbase", "tomcat-docbase"),
        read_only=True,
    )

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

    # Tomcat's root web app serves the synced content: site.content_path == "/srv/git/site/public".
    conf = kplus.ConfigMap(
        chart, "tomcat-context", data={"ROOT.xml": tomcat_context_config(site.content_path)}
    )
    tomcat.mount(
        f"{CATALINA_BASE}/conf/Catalina/localhost",
        kplus.Volume.from_config_map(chart, "tomcat-context-volume", conf, name="tomcat-context"),
    )
    restricted_pod_security(web)
    web.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080, name="http")])
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
