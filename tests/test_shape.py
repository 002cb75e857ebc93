"""Each pattern reads as props -> checks -> render -> attach (ARCHITECTURE.md).

The props object of a pattern is its constructor's keyword arguments, field for field and default
for default; the render functions are pure: they take checked props and return the pod additions
as data, with no workload, no seam and no node round trip (the ``no_node`` fixture fails any).
"""

import dataclasses
import inspect
from typing import Any

import cdk8s_plus_27 as kplus
import jsii._runtime
import pytest

from constructs_lib import (
    GitAuth,
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    SidecarGitSync,
    _git_sync,
    _metrics_adapter,
    _redis_ambassador,
)
from constructs_lib._additions import AppEnv, AppMount, ConfigFiles, LoopbackPort
from constructs_lib._containers import Mount, PreStopSleep

from .helpers import chart, web

PATTERNS = [
    (SidecarGitSync, _git_sync.GitSyncProps),
    (RedisAmbassador, _redis_ambassador.RedisAmbassadorProps),
    (MetricsAdapter, _metrics_adapter.MetricsAdapterProps),
]


@pytest.mark.parametrize(("pattern", "props"), PATTERNS, ids=lambda p: getattr(p, "__name__", ""))
def test_props_object_is_the_constructor_signature(pattern: type, props: type) -> None:
    params = list(inspect.signature(pattern.__init__).parameters.values())[3:]  # self, scope, id
    fields = {f.name: f for f in dataclasses.fields(props)}
    assert [p.name for p in params] == list(fields)
    for p in params:
        f = fields[p.name]
        default = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == default, p.name
    assert props.__dataclass_params__.frozen  # type: ignore[attr-defined]


def no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call into node (create, get, set, invoke...) fails the test."""

    class Refuse:
        def __getattr__(self, request: str) -> Any:
            raise AssertionError(f"a render function asked node: {request}")

    monkeypatch.setattr(jsii._runtime.kernel, "provider", Refuse())


@pytest.fixture(name="no_node")
def _no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    no_node(monkeypatch)


def _git_sync_checked(**changes: Any) -> _git_sync.CheckedGitSync:
    base: dict[str, Any] = dict(
        name="git-sync", main="app", repo="https://git.example/site.git", ref="main", link="site",
        mount_path="/srv/git", content_path="/srv/git/site", period_ms=10_000, depth=1,
        submodules=None, git_gc=None, sparse_checkout=None, max_failures=-1, sync_timeout_ms=None,
        webhook=None,
        webhook_timing=(), exechook=None, exechook_timing=(), auth=GitAuth.none(), http_port=2020,
        metrics=True, native_sidecar=False, one_shot_only=False, startup_ms=300_000,
        content_env="CONTENT", image="git-sync:v4", resources=object(), run_as_user=65533,
        extra_args=("--verbose=2",),
    )  # fmt: skip
    return _git_sync.CheckedGitSync(**{**base, **changes})


def test_git_sync_renders_from_checked_props_alone(no_node: None) -> None:
    added = _git_sync.render(_git_sync_checked())
    (init, init_kind), (loop, loop_kind) = added.containers
    assert (init.name, init_kind, loop.name, loop_kind) == ("git-sync-init", "init", "git-sync", "sidecar")
    common = [
        "--repo=https://git.example/site.git",
        "--ref=main",
        "--root=/git",
        "--link=site",
        "--period=10s",
        "--depth=1",
    ]
    assert list(init.args) == [*common, "--one-time", "--verbose=2"]
    assert list(loop.args) == [
        *common,
        "--max-failures=-1",
        "--http-bind=:2020",
        "--http-metrics",
        "--verbose=2",
    ]
    assert (init.ports, init.liveness, loop.liveness is not None) == ((), None, True)
    assert [v["name"] for v in added.volumes] == ["git-sync-root", "git-sync-tmp"]
    assert added.app_mounts == [
        AppMount("app", Mount("/srv/git", "git-sync-root", read_only=True), "mount_path")
    ]
    assert added.app_env == [AppEnv("app", "CONTENT", {"value": "/srv/git/site"}, "content_env")]
    assert (added.fs_group, added.config, added.secrets) == (65533, None, [])


def test_git_sync_one_shot_and_sparse_checkout(no_node: None) -> None:
    added = _git_sync.render(_git_sync_checked(one_shot_only=True, sparse_checkout="/public/\n"))
    assert [(s.name, kind) for s, kind in added.containers] == [("git-sync-init", "init")]
    assert added.config == ConfigFiles("git-sync", {"sparse-checkout": "/public/\n"}, "/etc/git-sync")
    (init, _), = added.containers  # fmt: skip
    assert init.args[-3:] == [
        "--sparse-checkout-file=/etc/git-sync/sparse-checkout",
        "--one-time",
        "--verbose=2",
    ]
    assert Mount("/etc/git-sync", "git-sync-config", read_only=True) in init.mounts


def test_redis_ambassador_renders_from_checked_props_alone(no_node: None) -> None:
    primary = _redis_ambassador._Upstream("redis.data", 6379)
    checked = _redis_ambassador.CheckedRedisAmbassador(
        name="cache", main="app", kind="sidecar", port=6379, admin_port=9901, stats_port=9902,
        stats_port_name="envoy-stats", development=False, development_port=16379, primary=primary,
        replicas=(), routes=(), upstream_password=None, client_password=None, op_timeout_ms=5000,
        connect_timeout_ms=1000, health_check_interval_ms=1000, read_fallback=True,
        pre_stop={"envoy": PreStopSleep("15"), "redis": PreStopSleep("15")},
        env_names={"host_env": "CACHE_HOST", "port_env": None, "url_env": "CACHE_URL",
                   "password_env": "CACHE_PASSWORD", "protocol_env": "CACHE_PROTOCOL"},
        concurrency=1, image="envoy:v1", redis_image="redis:7", resources=object(),
    )  # fmt: skip
    added = _redis_ambassador.render(checked)
    ((envoy, kind),) = added.containers
    assert (envoy.name, kind, envoy.pre_stop) == ("cache", "sidecar", PreStopSleep("15"))
    assert added.loopback_ports == [LoopbackPort(6379, "port"), LoopbackPort(9901, "admin_port")]
    assert [(e.name, e.value) for e in added.app_env] == [
        ("CACHE_HOST", {"value": "127.0.0.1"}),
        ("CACHE_URL", {"value": "redis://127.0.0.1:6379"}),
        ("CACHE_PROTOCOL", {"value": "2"}),
    ]
    assert added.config is not None
    assert list(added.config.files) == ["envoy.yaml"]
    assert "address: redis.data" in added.config.files["envoy.yaml"]
    assert (added.volumes, added.secrets, added.fs_group) == ([], [], None)


def test_every_pattern_renders_its_checked_props_again_without_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built as users build them (every pattern on one Deployment), each pattern's checked props
    render again to the same additions with node refused."""
    c = chart()
    dep = web(c)
    secret = kplus.Secret.from_secret_name(c, "creds", "redis-creds")
    site = SidecarGitSync(
        c, "site", workload=dep, repo="https://git.example/site.git", sparse_checkout=["/public/"]
    )
    cache = RedisAmbassador(
        c, "cache", workload=dep, primary="redis.data:6379", replicas=["redis-replica.data:6379"],
        client_password=kplus.SecretValue(secret=secret, key="password"),
    )  # fmt: skip
    metrics = MetricsAdapter(
        c, "metrics", workload=dep, source=MetricsSource.statsd(), also_scrape=[site, cache], pod_monitor=True
    )
    built = [(_git_sync, site), (_redis_ambassador, cache), (_metrics_adapter, metrics)]
    first = [module.render(p.props) for module, p in built]
    no_node(monkeypatch)
    assert [module.render(p.props) for module, p in built] == first
