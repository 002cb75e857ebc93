"""Every pattern on every cdk8s-plus-27 workload kind, and pods that must finish do finish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest

from constructs_lib import (
    GitSyncWebhook,
    MetricsAdapter,
    MetricsSource,
    PropsError,
    RedisAmbassador,
    SidecarGitSync,
    restricted_pod_security,
)
from constructs_lib._workload_kinds import API_VERSIONS, pod_template

from .helpers import K8S_NEWEST, K8S_OLDEST, chart, kind, synth, validate, workloads

KINDS: dict[str, Callable[[cdk8s.Chart], Any]] = {
    "Deployment": lambda c: kplus.Deployment(c, "w"),
    "StatefulSet": lambda c: kplus.StatefulSet(
        c,
        "w",
        containers=[
            kplus.ContainerProps(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
        ],
    ),
    "DaemonSet": lambda c: kplus.DaemonSet(c, "w"),
    "Job": lambda c: kplus.Job(c, "w"),
    "CronJob": lambda c: kplus.CronJob(c, "w", schedule=cdk8s.Cron.daily()),
    "Pod": lambda c: kplus.Pod(c, "w"),
}
BATCH = {"Job", "CronJob"}
PATTERNS: dict[str, Callable[..., Any]] = {
    "git-sync": lambda c, w, **kw: SidecarGitSync(
        c, "p", workload=w, repo="https://github.com/example/site.git", **kw
    ),
    "ambassador": lambda c, w, **kw: RedisAmbassador(c, "p", workload=w, primary="redis.data.svc:6379", **kw),
    "metrics": lambda c, w, **kw: MetricsAdapter(
        c, "p", workload=w, source=MetricsSource.statsd(), pod_monitor=True, **kw
    ),
}


def workload(kind_name: str) -> tuple[cdk8s.Chart, Any]:
    c = chart()
    w = KINDS[kind_name](c)
    if kind_name != "StatefulSet":
        w.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
    return c, w


def rendered_pod(c: cdk8s.Chart) -> dict[str, Any]:
    (doc,) = workloads(synth(c))
    return dict(pod_template(doc)["spec"])


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_every_pattern_attaches_to_every_kind(kind_name: str, pattern: str) -> None:
    c, w = workload(kind_name)
    native = kind_name in BATCH and pattern != "git-sync"
    PATTERNS[pattern](c, w, **({"native_sidecar": True} if native else {}))
    docs = synth(c)
    validate(docs, K8S_NEWEST)
    if not native:
        validate(docs, K8S_OLDEST)
    spec = rendered_pod(c)
    names = {x["name"] for x in [*spec.get("initContainers", []), *spec["containers"]]}
    assert {"app"} < names
    # Output-level fields reach every kind (drop ALL, seccomp on the library's containers).
    for x in [*spec.get("initContainers", []), *spec["containers"]]:
        if x["name"] != "app":
            assert x["securityContext"]["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("kind_name", sorted(BATCH))
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_a_pod_that_must_finish_keeps_no_looping_container(kind_name: str, pattern: str) -> None:
    """Complete semantics: the only entries of ``containers`` are the app's; whatever the
    library adds is a one-shot init container or a native sidecar the kubelet stops."""
    c, w = workload(kind_name)
    native = pattern != "git-sync"
    PATTERNS[pattern](c, w, **({"native_sidecar": True} if native else {}))
    spec = rendered_pod(c)
    assert [x["name"] for x in spec["containers"]] == ["app"]
    assert spec["restartPolicy"] == "Never"
    for init in spec["initContainers"]:
        if "--one-time" not in init.get("args", []):
            assert init["restartPolicy"] == "Always", init["name"]


@pytest.mark.parametrize("kind_name", sorted(BATCH))
@pytest.mark.parametrize("pattern", ["ambassador", "metrics"])
def test_a_looping_classic_sidecar_in_a_job_is_refused(kind_name: str, pattern: str) -> None:
    c, w = workload(kind_name)
    with pytest.raises(
        PropsError, match=f"native_sidecar=False: a classic sidecar never exits, so the {kind_name}"
    ):
        PATTERNS[pattern](c, w)


def test_a_pod_that_never_restarts_counts_as_one_that_finishes() -> None:
    c = chart()
    pod = kplus.Pod(c, "w", restart_policy=kplus.RestartPolicy.NEVER)
    pod.add_container(name="app", image="example/app:1")
    with pytest.raises(PropsError, match="the Pod's pod would never complete"):
        PATTERNS["ambassador"](c, pod)


def test_git_sync_in_a_job_syncs_once_before_the_app() -> None:
    c, w = workload("Job")
    site = PATTERNS["git-sync"](c, w)
    spec = rendered_pod(c)
    (init,) = spec["initContainers"]
    assert init["name"] == "git-sync-init"
    assert "--one-time" in init["args"]
    assert site.container is None
    assert site.metrics_port_name is None
    c2, w2 = workload("Job")
    hook = GitSyncWebhook(url="http://127.0.0.1:8080/reload")
    with pytest.raises(PropsError, match=r"webhook=.*only the one-shot initial sync runs"):
        PATTERNS["git-sync"](c2, w2, webhook=hook)


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_the_pod_monitor_follows_each_kinds_selector(kind_name: str) -> None:
    c, w = workload(kind_name)
    native = kind_name in BATCH
    PATTERNS["metrics"](c, w, **({"native_sidecar": True} if native else {}))
    docs = synth(c)
    (pm,) = kind(docs, "PodMonitor")
    (doc,) = workloads(docs)
    labels = pod_template(doc)["metadata"]["labels"]
    selector = pm["spec"]["selector"]["matchLabels"]
    assert selector
    assert selector.items() <= labels.items()
    if kind_name in ("Deployment", "StatefulSet", "DaemonSet"):
        assert selector == doc["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_the_seam_knows_each_kinds_api_version(kind_name: str) -> None:
    """restricted_pod_security before any pattern installs the seam without rendering the
    workload: apiVersion and kind then come from API_VERSIONS, which must match cdk8s-plus."""
    c, w = workload(kind_name)
    original = cdk8s.ApiObject.of(w)
    assert API_VERSIONS[type(w)] == (original.api_version, original.kind)
    restricted_pod_security(w)
    PATTERNS["metrics"](c, w, **({"native_sidecar": True} if kind_name in BATCH else {}))
    (doc,) = workloads(synth(c))
    assert (doc["apiVersion"], doc["kind"]) == API_VERSIONS[type(w)]
    assert doc["metadata"]["name"] == original.name


def test_a_subclassed_workload_gets_the_patterns_too() -> None:
    """A subclass of a cdk8s-plus workload: the seam reads its ApiObject's id and kind instead
    of assuming cdk8s-plus's own ("Resource", API_VERSIONS)."""

    class WebDeployment(kplus.Deployment):
        pass

    c = chart()
    w = WebDeployment(c, "w")
    w.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
    restricted_pod_security(w)
    PATTERNS["git-sync"](c, w)
    (doc,) = workloads(synth(c))
    assert doc["kind"] == "Deployment"
    assert [x["name"] for x in pod_template(doc)["spec"]["containers"]] == ["app", "git-sync"]
