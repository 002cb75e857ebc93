"""The API sketch of shared/DESIGN.md runs as written, and its pod is valid and complete."""

import cdk8s
import cdk8s_plus_27 as kplus

from constructs_lib import MetricsAdapter, MetricsSource, RedisAmbassador, SidecarGitSync, StatsdMapping

from .helpers import K8S_NEWEST, K8S_OLDEST, containers, synth, validate


def test_design_sketch() -> None:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "shop", namespace="shop")
    web = kplus.Deployment(
        chart,
        "web",
        containers=[
            kplus.ContainerProps(
                name="nginx",
                image="nginxinc/nginx-unprivileged:1.27",
                ports=[kplus.ContainerPort(number=8080)],
            )
        ],
    )

    site = SidecarGitSync(
        chart,
        "site",
        deployment=web,
        repo="https://github.com/example/site.git",
        ref="main",
        period=cdk8s.Duration.seconds(30),
        mount_path="/srv/git",
        serve_dir="public",
    )
    assert site.content_path == "/srv/git/site/public"

    cache = RedisAmbassador(
        chart,
        "cache",
        deployment=web,
        primary="redis-master.data:6379",
        replicas=["redis-replicas.data:6379"],
        password=kplus.SecretValue(
            secret=kplus.Secret.from_secret_name(chart, "redis-pw", "redis"), key="redis-password"
        ),
    )
    # DESIGN.md sketches "redis://127.0.0.1:6379"; the URL also tells clients to speak RESP2,
    # the only protocol Envoy's redis_proxy speaks (redis-py >= 6 defaults to RESP3).
    assert cache.url == "redis://127.0.0.1:6379"

    MetricsAdapter(
        chart,
        "metrics",
        deployment=web,
        source=MetricsSource.statsd(
            mappings=[
                StatsdMapping(
                    match="django.view.*.duration",
                    name="django_view_duration_seconds",
                    labels={"view": "$1"},
                    observer_type="histogram",
                )  # type: ignore[arg-type]
            ]
        ),
    )
    docs = synth(chart)
    assert sorted(containers(docs)) == ["git-sync", "metrics-adapter", "nginx", "redis-ambassador"]
    assert {e["name"] for e in containers(docs)["nginx"]["env"]} >= {"REDIS_URL", "STATSD_HOST"}
    validate(docs, K8S_OLDEST)
    validate(docs, K8S_NEWEST)


def test_signature_and_help_show_the_real_props() -> None:
    """jsii's metaclass made inspect.signature read ``(*args, **kwargs)`` and ``__init__``'s doc
    ``Creates a new construct node.`` (issue 20)."""
    import inspect

    from constructs_lib import MetricsAdapter, RedisAmbassador, SidecarGitSync

    for cls, prop in ((SidecarGitSync, "repo"), (RedisAmbassador, "primary"), (MetricsAdapter, "source")):
        parameters = inspect.signature(cls).parameters
        assert list(parameters)[:2] == ["scope", "id"], cls
        assert parameters[prop].kind is inspect.Parameter.KEYWORD_ONLY, cls
        assert "class docstring" in (cls.__init__.__doc__ or ""), cls
