"""The seam renders a workload only when something could have changed it (issue 24).

Rendering a workload is one round trip carrying the whole document. The seam reuses its last
rendering while no request that may change anything reached node (``_jsii_calls``); these tests
count the renderings and, above all, show that every kind of edit in between is still seen.
"""

from __future__ import annotations

from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import jsii
import pytest
from jsii._runtime import kernel

from constructs_lib import (
    ConstructsLibError,
    MetricsAdapter,
    MetricsSource,
    PropsError,
    RedisAmbassador,
    SidecarGitSync,
    _checks,
    _jsii_calls,
)
from constructs_lib._pod import PodSeam

from .helpers import chart, containers, pod, synth, web


@pytest.fixture(name="renders")
def _renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The objects whose toJson() Python asked node for, in order (class name only)."""
    seen: list[str] = []
    invoke = kernel.provider.invoke

    def counting(request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "toJson":
            seen.append(request.objref.ref.split("@")[0].rsplit(".", 1)[-1])
        return invoke(request, *args, **kwargs)

    monkeypatch.setattr(kernel.provider, "invoke", counting)
    return seen


def three_patterns(
    c: cdk8s.Chart, app: kplus.Deployment
) -> tuple[SidecarGitSync, RedisAmbassador, MetricsAdapter]:
    site = SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
    cache = RedisAmbassador(c, "cache", workload=app, primary="redis:6379")
    metrics = MetricsAdapter(
        c, "metrics", workload=app, source=MetricsSource.nginx(), pod_monitor=True, also_scrape=[site, cache]
    )
    return site, cache, metrics


def test_back_to_back_patterns_render_the_workload_once(renders: list[str]) -> None:
    c = chart()
    three_patterns(c, web(c, "app"))
    assert renders == ["KubeDeployment"]
    docs = synth(c)
    assert renders == ["KubeDeployment"], "nothing ran between the last attach and synth"
    assert list(containers(docs)) == ["app", "git-sync", "redis-ambassador", "metrics-adapter"]


def test_a_user_edit_between_attaches_is_seen(renders: list[str]) -> None:
    c = chart()
    app = web(c, "app")
    SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
    app.containers[0].env.add_variable("MODE", kplus.EnvValue.from_value("prod"))
    RedisAmbassador(c, "cache", workload=app, primary="redis:6379")
    assert renders == ["KubeDeployment", "KubeDeployment"]
    env = [e["name"] for e in containers(synth(c))["app"]["env"]]
    assert env == ["MODE", "REDIS_HOST", "REDIS_PORT", "REDIS_URL", "REDIS_PROTOCOL"]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda app: app.add_container(name="late", image="example/late:1"), id="add_container"),
        pytest.param(
            lambda app: cdk8s.ApiObject.of(app).add_json_patch(
                cdk8s.JsonPatch.add("/spec/template/spec/hostname", "late")
            ),
            id="json_patch",
        ),
        pytest.param(
            lambda app: app.containers[0].mount("/late", kplus.Volume.from_empty_dir(app, "late", "late")),
            id="mount",
        ),
        pytest.param(lambda app: app.pod_metadata.add_annotation("late", "yes"), id="pod_metadata"),
        pytest.param(lambda app: app.scheduling.attract(kplus.Node.labeled()), id="scheduling"),
    ],
)
def test_every_edit_after_the_last_attach_reaches_the_manifest(edit: Any, renders: list[str]) -> None:
    c = chart()
    app = web(c, "app")
    three_patterns(c, app)
    expected = synth(c)[0]
    edit(app)
    assert synth(c)[0] != expected  # rendered again: the edit is there
    # once at the first attach (reused by the other two and the first synth), once after the edit
    assert renders.count("KubeDeployment") == 2


def test_a_rendering_that_calls_python_is_never_reused(renders: list[str]) -> None:
    """An app's resolvers (cdk8s.IResolver) run Python during the rendering: their answer can
    change with no request at all, so such a rendering is not kept."""

    @jsii.implements(cdk8s.IResolver)
    class Image:
        tag = "1.0"

        def resolve(self, context: cdk8s.ResolutionContext) -> None:
            if context.value == "example/app:TAG":
                context.replace_value(f"example/app:{self.tag}")

    resolver = Image()
    c = cdk8s.Chart(cdk8s.App(resolvers=[resolver]), "test")
    app = kplus.Deployment(c, "web")
    app.add_container(name="app", image="example/app:TAG", ports=[kplus.ContainerPort(number=8080)])
    three_patterns(c, app)
    resolver.tag = "2.0"
    assert containers(synth(c))["app"]["image"] == "example/app:2.0"
    assert renders.count("KubeDeployment") == 4


def test_the_stand_ins_metadata_is_read_only_when_someone_fetched_it(renders: list[str]) -> None:
    c = chart()
    app = web(c, "app")
    three_patterns(c, app)
    synth(c)
    assert "ApiObject" not in renders
    cdk8s.ApiObject.of(app).metadata.add_label("team", "web")
    docs = synth(c)
    assert docs[0]["metadata"]["labels"] == {"team": "web"}
    assert "ApiObject" in renders


def test_a_jsii_it_does_not_know_means_rendering_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_jsii_calls, "_installed", False)
    assert _jsii_calls.generation() != _jsii_calls.generation()
    assert _jsii_calls.callbacks() != _jsii_calls.callbacks()
    assert _jsii_calls.metadata_read(object())


def test_the_pod_is_the_same_whichever_way_it_was_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    def build() -> list[dict[str, Any]]:
        c = chart()
        app = web(c, "app")
        three_patterns(c, app)
        return synth(c)

    reused = build()
    monkeypatch.setattr(_jsii_calls, "_installed", False)
    assert build() == reused
    assert pod(reused)["containers"][0]["name"] == "app"


def test_the_namespace_compared_is_the_workloads_own(renders: list[str]) -> None:
    """The pattern's ConfigMap goes to its chart's namespace, so the pods must be there too:
    the seam reads the workload's namespace from its rendering (no Chart.of round trip), which
    also catches a namespace set on the workload itself (before, only the charts were compared)."""
    c = cdk8s.Chart(cdk8s.App(), "test", namespace="web")
    app = kplus.Deployment(c, "web", metadata=cdk8s.ApiObjectMetadata(namespace="other"))
    app.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
    with pytest.raises(PropsError, match="scope='web': the Deployment is in namespace 'other'"):
        RedisAmbassador(c, "cache", workload=app, primary="redis:6379")
    ok = kplus.Deployment(c, "ok")
    ok.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
    RedisAmbassador(c, "cache2", workload=ok, primary="redis:6379")
    assert [d["metadata"]["namespace"] for d in synth(c) if d["kind"] == "ConfigMap"] == ["web"]


def test_app_synth_lets_go_of_what_the_patterns_added(tmp_path: Any) -> None:
    """``App.synth()`` is the end of an app: the seams of the workloads it wrote drop what the
    patterns added (jsii keeps every object created from Python for the process's life, and
    with it each seam), and a second ``App.synth()`` or a late pattern is refused, not wrong."""
    app = cdk8s.App(outdir=str(tmp_path))
    c = cdk8s.Chart(app, "test")
    dep = web(c, "app")
    site, cache, metrics = three_patterns(c, dep)
    assert isinstance(_checks.recalled(dep, "seam"), PodSeam)
    assert _checks.recalled(c, "path") == "test"
    assert (site.container.name, cache.container.name, metrics.container.name) == (
        "git-sync",
        "redis-ambassador",
        "metrics-adapter",
    )
    app.synth()
    written = (tmp_path / "test.k8s.yaml").read_text()
    assert "redis-ambassador" in written
    # The seam is gone (a flag stays), and so is what the library remembered about the chart.
    assert (_checks.recalled(dep, "seam"), _checks.recalled(c, "path")) == (None, None)
    # The patterns keep their scalars, and refuse, clearly, what they let go of.
    assert (site.content_path, cache.url, cache.env_names["host_env"], metrics.port_name) == (
        "/srv/git/site",
        "redis://127.0.0.1:6379",
        "REDIS_HOST",
        "metrics",
    )
    assert (site.metrics_port_name, cache.metrics_port_name) == ("git-sync", "envoy-stats")
    for pattern, name in (
        (site, "container"),
        (site, "props"),
        (cache, "redis_container"),
        (metrics, "container"),
    ):
        with pytest.raises(
            ConstructsLibError, match=rf"App.synth\(\) already wrote .* let go of its '{name}'"
        ):
            getattr(pattern, name)
    with pytest.raises(ConstructsLibError, match="let go of its 'props'"):
        cache.envoy_config  # noqa: B018  (a property that reads the props)
    with pytest.raises(AttributeError):
        site.no_such_attribute  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ConstructsLibError, match=r"test/web: App.synth\(\) already wrote this Deployment"):
        app.synth()
    with pytest.raises(ConstructsLibError, match=r"Fix: attach every pattern before App.synth\(\)"):
        SidecarGitSync(c, "late", workload=dep, repo="https://example.com/late.git")


def test_synth_yaml_and_to_json_release_nothing() -> None:
    c = chart()
    three_patterns(c, web(c, "app"))
    first = c.to_json()
    assert cdk8s.Testing.synth(c) == first
    assert c.node.root.synth_yaml() == c.node.root.synth_yaml()


def test_a_spread_workload_keeps_one_pair_of_terms_however_often_it_was_rendered() -> None:
    """cdk8s-plus-27 adds ``spread`` terms on every rendering (lib/workload.js ``_toPodSpec``): the
    pod held a pair per rendering, so the manifest depended on unrelated calls in between."""

    def terms(between: bool) -> list[Any]:
        c = chart()
        app = kplus.Deployment(c, "web", spread=True)
        app.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
        SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
        if between:
            kplus.ConfigMap(c, "unrelated")  # a request: the next attach renders again
        RedisAmbassador(c, "cache", workload=app, primary="redis:6379")
        affinity = pod(synth(c))["affinity"]["podAntiAffinity"]
        return list(affinity["requiredDuringSchedulingIgnoredDuringExecution"])

    once = terms(between=False)
    assert [t["topologyKey"] for t in once] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    assert terms(between=True) == once


def test_a_user_callback_inside_the_librarys_own_requests_is_counted() -> None:
    """A Chart subclass's generate_object_name runs while the library creates its ConfigMap: an
    edit made there reaches the manifest (found in review)."""

    class MyChart(cdk8s.Chart):
        hook: Any = None

        def generate_object_name(self, api_object: cdk8s.ApiObject) -> str:
            if self.hook:
                self.hook(api_object)
            return str(super().generate_object_name(api_object))

    c = MyChart(cdk8s.App(), "test")
    app = web(c, "app")
    SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
    c.hook = lambda obj: (
        app.pod_metadata.add_annotation("seen", obj.kind) if obj.kind == "ConfigMap" else None
    )
    RedisAmbassador(c, "cache", workload=app, primary="redis:6379")
    annotations = pod_template_annotations(synth(c))
    assert annotations["seen"] == "ConfigMap"


def test_a_patch_on_the_stand_in_itself_reaches_the_manifest() -> None:
    """``cdk8s.ApiObject.add_json_patch(stand_in, ...)`` skips the stand-in's Python override."""
    c = chart()
    app = web(c, "app")
    SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
    cdk8s.ApiObject.add_json_patch(
        cdk8s.ApiObject.of(app), cdk8s.JsonPatch.add("/metadata/labels", {"team": "web"})
    )
    assert synth(c)[0]["metadata"]["labels"] == {"team": "web"}


def test_a_failed_rendering_is_not_reused() -> None:
    """A rendering that failed (a bad patch) fails again at synth, with node's own message."""
    c = chart()
    app = web(c, "app")
    SidecarGitSync(c, "site", workload=app, repo="https://example.com/site.git")
    cdk8s.ApiObject.of(app).add_json_patch(cdk8s.JsonPatch.replace("/spec/nothing/x", 1))
    PodSeam.of(app).done()  # what an attach reads first: the rendering fails, the seam sees {}
    with pytest.raises(RuntimeError, match="Failed serializing construct at path 'test/web/Resource'"):
        synth(c)


def pod_template_annotations(docs: list[dict[str, Any]]) -> dict[str, str]:
    return dict(docs[0]["spec"]["template"]["metadata"]["annotations"])
