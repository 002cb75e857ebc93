"""Sidecar as a Kubernetes native sidecar (clusters >= 1.29), private repo over HTTPS.

One git-sync container runs as an init container with ``restartPolicy: Always``: its
startup probe holds nginx back until the first sync is done, and it keeps syncing
while the pod runs. The token comes from the Secret ``git-token`` (key ``token``).
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import GitAuth, GitSyncWebhook, SidecarGitSync, nginx_server_config

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

from .git_sync_nginx import add_nginx, mount_nginx_config


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "git-sync-native", namespace="web")
    web = add_nginx(chart)
    token = kplus.Secret.from_secret_name(chart, "git-token", "git-token")

    site = SidecarGitSync(
        chart,
        "site",
        workload=web,
        repo="https://git.example.com/web/site.git",
        ref="main",
        serve_dir="public",
        auth=GitAuth.https(username="deploy-bot", password=kplus.SecretValue(secret=token, key="token")),
        native_sidecar=True,
        # Tell nginx (or a cache in front of it) that new content is live.
        webhook=GitSyncWebhook(url="http://127.0.0.1:8080/healthz", method="GET"),
    )

    mount_nginx_config(chart, web, nginx_server_config(site.content_path))
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
