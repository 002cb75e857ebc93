"""Composition: a pattern and the user's edits give the same result, or the same error, in either
order; StatefulSet storage; what containers of one pod share (issue 17).

The pods themselves run in tests/test_pods.py; this module checks the manifests and errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml

from constructs_lib import (
    CollisionError,
    MetricsAdapter,
    MetricsSource,
    PropsError,
    RedisAmbassador,
    SidecarGitSync,
    restricted_pod_security,
    volume_claim_template,
)
from constructs_lib._workload_kinds import pod_template

from .helpers import (
    K8S_NEWEST,
    K8S_OLDEST,
    chart,
    containers,
    kind,
    pod,
    semantic_errors,
    statefulset,
    synth,
    validate,
    web,
)
from .matrix import CELLS, Cell
from .pod_security import restricted_violations

Attach = Callable[[cdk8s.Chart, kplus.Deployment], Any]
Edit = Callable[[cdk8s.Chart, kplus.Deployment], None]

GIT: Attach = lambda c, w: SidecarGitSync(  # noqa: E731
    c, "site", workload=w, repo="https://github.com/example/site.git", content_env="SITE_ROOT"
)
REDIS: Attach = lambda c, w: RedisAmbassador(c, "cache", workload=w, primary="redis.data.svc:6379")  # noqa: E731
STATSD: Attach = lambda c, w: MetricsAdapter(  # noqa: E731
    c, "metrics", workload=w, source=MetricsSource.statsd(), name="metrics-adapter"
)
JMX: Attach = lambda c, w: MetricsAdapter(  # noqa: E731
    c,
    "metrics",
    workload=w,
    source=MetricsSource.jmx(image="bitnamilegacy/jmx-exporter:1.1.0", jmx_port=9010),
)


def mount_config_map(volume_name: str) -> Edit:
    def edit(c: cdk8s.Chart, w: kplus.Deployment) -> None:
        cm = kplus.ConfigMap(c, f"late-{volume_name}", data={"a": "b"})
        w.containers[0].mount(
            "/late", kplus.Volume.from_config_map(c, f"v-{volume_name}", cm, name=volume_name)
        )

    return edit


def env(name: str) -> Edit:
    return lambda c, w: w.containers[0].env.add_variable(name, kplus.EnvValue.from_value("mine"))


def annotation(key: str) -> Edit:
    return lambda c, w: w.pod_metadata.add_annotation(key, "8080")


def mount_path(path: str) -> Edit:
    return lambda c, w: w.containers[0].mount(path, kplus.Volume.from_empty_dir(c, "own", "own"))


#: (pattern, the user's edit, the prop the error must name), from issue 17's reports and the rest
#: of their class (every kind of thing a pattern gives the pod).
CASES: dict[str, tuple[Attach, Edit, str]] = {
    "git-sync volume": (GIT, mount_config_map("git-sync-root"), "name"),
    "git-sync content_env": (GIT, env("SITE_ROOT"), "content_env"),
    "git-sync mount path": (GIT, mount_path("/srv/git"), "mount_path"),
    "ambassador volume": (REDIS, mount_config_map("redis-ambassador-config"), "name"),
    "ambassador REDIS_URL": (REDIS, env("REDIS_URL"), "url_env"),
    "ambassador REDIS_HOST": (REDIS, env("REDIS_HOST"), "host_env"),
    "statsd volume": (STATSD, mount_config_map("metrics-adapter-config"), "name"),
    "statsd STATSD_HOST": (STATSD, env("STATSD_HOST"), "source.env"),
    "statsd prometheus.io/port": (STATSD, annotation("prometheus.io/port"), "annotations"),
    "jmx JAVA_TOOL_OPTIONS": (JMX, env("JAVA_TOOL_OPTIONS"), "source.env"),
    "ambassador port": (REDIS, lambda c, w: w.containers[0].add_port(number=6379), "port"),
    "ambassador admin port": (REDIS, lambda c, w: w.containers[0].add_port(number=9901), "admin_port"),
    "git-sync http port": (GIT, lambda c, w: w.containers[0].add_port(number=2020), "http_port"),
    "statsd port": (STATSD, lambda c, w: w.containers[0].add_port(number=9102), "port"),
    "config hash annotation": (REDIS, annotation("checksum/redis-ambassador"), "name"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_edit_before_the_pattern_is_refused_at_construction(case: str) -> None:
    attach, edit, prop = CASES[case]
    c = chart()
    w = web(c)
    edit(c, w)
    with pytest.raises(CollisionError) as err:
        attach(c, w)
    assert any(p == prop for p, *_ in err.value.collisions), str(err.value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_edit_after_the_pattern_is_refused_at_synth(case: str) -> None:
    """Before issue 17 the later edit silently won (a volume replaced the pattern's, env appeared
    twice, an annotation was overwritten); now it is the same CollisionError, naming both sides."""
    attach, edit, prop = CASES[case]
    c = chart()
    w = web(c)
    pattern = attach(c, w)
    edit(c, w)
    with pytest.raises(CollisionError) as err:
        synth(c)
    message = str(err.value)
    assert f"{prop}=" in message
    assert f"added to the Deployment after {pattern.node.path} attached" in message
    assert f"pass {prop}= another value to {pattern.node.path}" in message


def test_the_patterns_own_volume_mounted_later_is_no_collision() -> None:
    c = chart()
    w = web(c, "app", "reader")
    site = SidecarGitSync(
        c, "site", workload=w, repo="https://github.com/example/site.git", container_name="app"
    )
    w.containers[1].mount("/content", site.volume, read_only=True)
    assert [v["name"] for v in pod(synth(c))["volumes"]].count("git-sync-root") == 1


def test_an_empty_dir_of_the_same_name_that_the_pattern_never_handed_out_is_a_collision() -> None:
    c = chart()
    w = web(c)
    SidecarGitSync(c, "site", workload=w, repo="https://github.com/example/site.git")
    w.containers[0].mount("/scratch", kplus.Volume.from_empty_dir(c, "scratch", "git-sync-root"))
    with pytest.raises(CollisionError, match="a volume named 'git-sync-root', added to the Deployment after"):
        synth(c)


def test_a_container_added_later_with_a_patterns_container_name() -> None:
    c = chart()
    w = web(c)
    REDIS(c, w)
    w.add_container(name="redis-ambassador", image="example/other:1")
    with pytest.raises(CollisionError, match="name='redis-ambassador': a container named 'redis-ambassador'"):
        synth(c)


# --- resources: a request above its limit ------------------------------------------------------

TOO_BIG = kplus.ContainerResources(
    cpu=kplus.CpuResources(request=kplus.Cpu.millis(600), limit=kplus.Cpu.millis(500)),
    memory=kplus.MemoryResources(request=cdk8s.Size.mebibytes(64), limit=cdk8s.Size.mebibytes(128)),
)


@pytest.mark.parametrize(
    "attach",
    [
        lambda c, w: SidecarGitSync(
            c, "p", workload=w, repo="https://github.com/example/site.git", resources=TOO_BIG
        ),
        lambda c, w: RedisAmbassador(c, "p", workload=w, primary="redis:6379", resources=TOO_BIG),
        lambda c, w: MetricsAdapter(c, "p", workload=w, source=MetricsSource.statsd(), resources=TOO_BIG),
    ],
    ids=["git-sync", "ambassador", "metrics"],
)
def test_a_request_above_its_limit_is_refused(attach: Attach) -> None:
    c = chart()
    with pytest.raises(PropsError, match=r"resources='the cpu request 600m exceeds its limit 500m'"):
        attach(c, web(c))


def test_requests_compare_as_quantities_not_as_text() -> None:
    c = chart()
    fine = kplus.ContainerResources(
        cpu=kplus.CpuResources(request=kplus.Cpu.millis(900), limit=kplus.Cpu.units(1)),
        memory=kplus.MemoryResources(request=cdk8s.Size.mebibytes(512), limit=cdk8s.Size.gibibytes(1)),
    )
    amb = RedisAmbassador(c, "p", workload=web(c), primary="redis:6379", resources=fine)
    assert containers(synth(c))[amb.name]["resources"] == {
        "limits": {"cpu": "1", "memory": "1024Mi"},
        "requests": {"cpu": "900m", "memory": "512Mi"},
    }


# --- the ambassador's preStop ---------------------------------------------------------------


def lifecycle(c: cdk8s.Chart, name: str, key: str = "containers") -> Any:
    return containers(synth(c), key)[name].get("lifecycle")


def test_default_envoy_image_waits_with_its_own_sleep_binary() -> None:
    c = chart()
    REDIS(c, web(c))
    assert lifecycle(c, "redis-ambassador") == {"preStop": {"exec": {"command": ["sleep", "15"]}}}
    validate(synth(c), K8S_OLDEST)


def test_a_distroless_envoy_waits_with_the_kubelets_sleep_action() -> None:
    """A distroless image has no ``sleep``: the exec hook failed on every pod stop (issue 17)."""
    c = chart()
    RedisAmbassador(
        c, "cache", workload=web(c), primary="redis:6379", image="envoyproxy/envoy-distroless:v1.40.0"
    )
    assert lifecycle(c, "redis-ambassador") == {"preStop": {"sleep": {"seconds": 15}}}
    docs = synth(c)
    for version in ("1.30", "1.34", K8S_NEWEST):
        validate(docs, version)
    with pytest.raises(Exception, match="sleep"):  # the 1.27 API has no sleep action
        validate(docs, K8S_OLDEST)


def test_the_hook_can_be_chosen_and_the_sleep_action_takes_whole_seconds() -> None:
    c = chart()
    RedisAmbassador(c, "cache", workload=web(c), primary="redis:6379", shutdown_hook="sleep")
    assert lifecycle(c, "redis-ambassador") == {"preStop": {"sleep": {"seconds": 15}}}
    c = chart()
    with pytest.raises(PropsError, match=r"shutdown_delay='1500ms'.*whole seconds"):
        RedisAmbassador(
            c,
            "cache",
            workload=web(c),
            primary="redis:6379",
            shutdown_hook="sleep",
            shutdown_delay=cdk8s.Duration.millis(1500),
        )
    c = chart()
    with pytest.raises(PropsError, match="shutdown_hook='wait'"):
        RedisAmbassador(c, "cache", workload=web(c), primary="redis:6379", shutdown_hook="wait")


def test_development_redis_on_a_chosen_image_gets_the_sleep_action_too() -> None:
    c = chart()
    RedisAmbassador(
        c, "cache", workload=web(c), development=True, redis_image="example/redis-distroless:7.4.2"
    )
    assert lifecycle(c, "redis-ambassador-redis") == {"preStop": {"sleep": {"seconds": 15}}}
    assert lifecycle(c, "redis-ambassador") == {"preStop": {"exec": {"command": ["sleep", "15"]}}}


@pytest.mark.parametrize(
    ("image", "how"),
    [
        ("envoyproxy/envoy:v1.31.2", "exec"),
        ("registry.internal:5000/mirror/envoyproxy/envoy:v1.40.0", "exec"),
        ("envoyproxy/envoy@sha256:" + "a" * 64, "exec"),
        ("envoyproxy/envoy-distroless:v1.40.0", "sleep"),
        ("example/envoy:1.40", "sleep"),
    ],
)
def test_the_default_hook_follows_the_image_family(image: str, how: str) -> None:
    c = chart()
    RedisAmbassador(c, "cache", workload=web(c), primary="redis:6379", image=image)
    assert how in lifecycle(c, "redis-ambassador")["preStop"]


def test_a_native_sidecar_needs_no_hook() -> None:
    c = chart()
    RedisAmbassador(c, "cache", workload=web(c), primary="redis:6379", native_sidecar=True)
    assert lifecycle(c, "redis-ambassador", "initContainers") is None


# --- Envoy's hot-restart socket ---------------------------------------------------------------


def test_every_envoy_runs_without_hot_restart() -> None:
    """Two Envoys in one pod clashed on the hot-restart socket (base_id 0) and crash-looped."""
    c = chart()
    w = web(c)
    REDIS(c, w)
    RedisAmbassador(c, "sessions", workload=w, name="sessions", primary="sessions.data.svc:6379")
    envoys = [x for x in containers(synth(c)).values() if x.get("command") == ["envoy"]]
    assert len(envoys) == 2
    for envoy in envoys:
        assert "--disable-hot-restart" in envoy["args"]


# --- StatefulSet storage ----------------------------------------------------------------------


def test_a_claim_template_keeps_its_size_and_is_a_volume_for_every_check() -> None:
    c = chart()
    sts = statefulset(c)
    data = volume_claim_template(sts, "data", storage=cdk8s.Size.gibibytes(10))
    data.mount(sts.containers[0], "/var/lib/catalog")
    SidecarGitSync(c, "site", workload=sts, repo="https://github.com/example/site.git")
    restricted_pod_security(sts)
    (doc,) = kind(synth(c), "StatefulSet")
    assert doc["spec"]["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
        }
    ]
    (app,) = [x for x in pod_template(doc)["spec"]["containers"] if x["name"] == "catalog"]
    assert {"mountPath": "/var/lib/catalog", "name": "data", "readOnly": False} in app["volumeMounts"]
    assert "data" not in [v["name"] for v in pod_template(doc)["spec"]["volumes"]]
    validate([doc], K8S_OLDEST)
    validate([doc], K8S_NEWEST)
    assert not semantic_errors(doc)


def test_a_json_patched_claim_template_loses_its_size_which_is_why_the_helper_exists() -> None:
    c = chart()
    sts = statefulset(c)
    template = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    cdk8s.ApiObject.of(sts).add_json_patch(cdk8s.JsonPatch.add("/spec/volumeClaimTemplates", [template]))
    (doc,) = kind(synth(c), "StatefulSet")
    assert doc["spec"]["volumeClaimTemplates"][0]["spec"]["resources"] == {"requests": {}}


@pytest.mark.parametrize("with_pattern", [False, True])
def test_a_claim_template_mounted_through_a_patch_is_accepted(with_pattern: bool) -> None:
    """Issue 17: any pattern, or restricted_pod_security alone, refused a mount of a claim
    template ("mounts 'data', which is not a volume of the pod"); the API server accepts it."""
    c = chart()
    sts = statefulset(c)
    template = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    api = cdk8s.ApiObject.of(sts)
    api.add_json_patch(cdk8s.JsonPatch.add("/spec/volumeClaimTemplates", [template]))
    api.add_json_patch(
        cdk8s.JsonPatch.add(
            "/spec/template/spec/containers/0/volumeMounts", [{"mountPath": "/data", "name": "data"}]
        )
    )
    if with_pattern:
        REDIS(c, sts)
    restricted_pod_security(sts)
    (doc,) = kind(synth(c), "StatefulSet")
    assert not semantic_errors(doc)


def test_a_pattern_volume_may_not_take_a_claim_templates_name() -> None:
    c = chart()
    sts = statefulset(c)
    volume_claim_template(sts, "git-sync-root", storage=cdk8s.Size.gibibytes(1))
    with pytest.raises(CollisionError, match="a volume named 'git-sync-root' already exists"):
        SidecarGitSync(c, "site", workload=sts, repo="https://github.com/example/site.git")


def test_a_claim_template_through_the_helper_after_a_pattern_is_checked_at_once() -> None:
    c = chart()
    sts = statefulset(c)
    SidecarGitSync(c, "site", workload=sts, repo="https://github.com/example/site.git")
    with pytest.raises(CollisionError, match="name='git-sync-tmp': a volume of that name already exists"):
        volume_claim_template(sts, "git-sync-tmp", storage=cdk8s.Size.gibibytes(1))


def test_a_claim_template_patched_in_after_a_pattern_with_its_volume_name() -> None:
    c = chart()
    sts = statefulset(c)
    SidecarGitSync(c, "site", workload=sts, repo="https://github.com/example/site.git")
    template = {"metadata": {"name": "git-sync-tmp"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    cdk8s.ApiObject.of(sts).add_json_patch(cdk8s.JsonPatch.add("/spec/volumeClaimTemplates", [template]))
    with pytest.raises(CollisionError, match=r"a volumeClaimTemplate named 'git-sync-tmp' \(it replaces"):
        synth(c)


def test_every_access_mode_is_spelled_as_the_api_wants() -> None:
    c = chart()
    modes = list(kplus.PersistentVolumeAccessMode)
    volume_claim_template(statefulset(c), "data", storage=cdk8s.Size.gibibytes(1), access_modes=modes)
    (doc,) = kind(synth(c), "StatefulSet")
    assert doc["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == [
        "ReadWriteOnce",
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOncePod",
    ]
    validate([doc], K8S_NEWEST)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"storage": "1Gi"}, "storage='1Gi': not a cdk8s.Size"),
        ({"storage": cdk8s.Size.kibibytes(100)}, "not a positive whole number of MiB"),
        (
            {"storage": cdk8s.Size.gibibytes(1), "access_modes": []},
            "access_modes=\\[\\]: not a non-empty list",
        ),
        ({"storage": cdk8s.Size.gibibytes(1), "storage_class_name": "Fast SSD"}, "not a DNS-1123 subdomain"),
    ],
)
def test_claim_template_bad_input(kw: dict[str, Any], match: str) -> None:
    c = chart()
    with pytest.raises(PropsError, match=match):
        volume_claim_template(statefulset(c), "data", **kw)


def test_only_a_statefulset_has_claim_templates() -> None:
    c = chart()
    with pytest.raises(PropsError, match="only a StatefulSet has volumeClaimTemplates"):
        volume_claim_template(web(c), "data", storage=cdk8s.Size.gibibytes(1))  # type: ignore[arg-type]


def test_the_claim_is_listed_in_yaml_order_independent_of_the_mount() -> None:
    c = chart()
    sts = statefulset(c)
    data = volume_claim_template(sts, "data", storage=cdk8s.Size.mebibytes(1536), storage_class_name="fast")
    data.mount(sts.containers[0], "/data", read_only=True)
    text = yaml.safe_dump(kind(synth(c), "StatefulSet")[0]["spec"]["volumeClaimTemplates"])
    assert "storage: 1536Mi" in text
    assert "storageClassName: fast" in text


# --- the composition matrix, as manifests (tests/test_pods.py runs the same cells as pods) -------


def _pod_of(chart: cdk8s.Chart) -> tuple[dict[str, Any], dict[str, Any]]:
    (doc,) = [
        d
        for d in synth(chart)
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
    ]
    template = pod_template(doc)
    return doc, template


def _by_name(template: dict[str, Any]) -> dict[str, Any]:
    spec = template["spec"]

    def unordered(c: dict[str, Any]) -> dict[str, Any]:  # list order follows the order of the lines
        return {
            **c,
            "env": sorted(c.get("env", []), key=lambda e: e["name"]),
            "volumeMounts": sorted(c.get("volumeMounts", []), key=lambda m: m["mountPath"]),
        }

    return {
        "containers": {
            c["name"]: unordered(c) for c in [*spec.get("initContainers", []), *spec["containers"]]
        },
        "volumes": {v["name"]: v for v in spec.get("volumes", [])},
        "annotations": template["metadata"].get("annotations", {}),
        "securityContext": spec.get("securityContext"),
    }


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.name)
def test_every_cell_is_a_valid_restricted_pod(cell: Cell) -> None:
    doc, template = _pod_of(cell.build(cdk8s.App()))
    assert not semantic_errors(doc)
    validate([doc], K8S_NEWEST)
    assert not restricted_violations(template), restricted_violations(template)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.name)
def test_every_cell_is_the_same_pod_whatever_the_order(cell: Cell) -> None:
    """Patterns in either order, and the user's edits before or after them: the same containers,
    volumes and annotations (only the order of list items may differ)."""
    _, first = _pod_of(cell.build(cdk8s.App()))
    for variant in ({"reverse": True}, {"late_edits": True}, {"reverse": True, "late_edits": True}):
        if variant.get("reverse") and len(set(cell.patterns)) == 1:
            continue  # two instances of one pattern: the first takes the defaults, by design
        _, other = _pod_of(cell.build(cdk8s.App(), **variant))
        assert _by_name(other) == _by_name(first), variant
