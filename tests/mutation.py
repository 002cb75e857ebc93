"""The bad-input sweep: every public constructor, one prop at a time, from a valid baseline.

Each :class:`Target` builds one pattern (or one option type inside a pattern) from keyword
arguments. :func:`sweep` replaces one prop of the valid baseline with each value of
:data:`MUTANTS` and checks the invariants of :func:`check`:

* a rejection is a ``ConstructsLibError`` whose message has the documented shape
  (``<path>: <prop>=<value>: <problem>. Fix: <fix>``);
* an acceptance synthesizes objects that pass ``kubernetes-validate --strict`` and the API
  server's own rules (names, labels, env names, port names, integer ranges);
* no marker credential appears in the output;
* the jsii kernel survives (an unrelated synth still works afterwards).

Purely random generation mostly trips the first check of a constructor; one prop at a time
from a valid baseline reaches every check. ``tests/test_bad_input.py`` runs it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import yaml

from constructs_lib import (
    ConstructsLibError,
    GitAuth,
    GitSubmodules,
    GitSyncExechook,
    GitSyncWebhook,
    JmxMetricType,
    JmxRule,
    JsonMetric,
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    RedisRoute,
    SidecarGitSync,
    StatsdMapping,
    StatsdObserver,
    restricted_pod_security,
    volume_claim_template,
)

from .helpers import K8S_NEWEST, K8S_OLDEST, statefulset, validate

#: Credential-shaped values carry this marker; it must never reach a manifest.
MARKER = "HUNTER2"

_INT32 = 2**31 - 1
_INT64 = 2**63 - 1


class _Opaque:
    """An object of no expected type, with a deployment attribute of the wrong type."""

    deployment = "web"
    workload = "web"


def _durations() -> list[Any]:
    d = cdk8s.Duration
    return [
        d.seconds(1e308),  # node's Infinity
        d.millis(0.5),
        d.seconds(0),
        d.days(100000),
        d.seconds(3),
    ]


def mutants() -> list[Any]:
    """Values that every prop receives in turn (of every type, on purpose)."""
    return [
        None,
        True,
        False,
        0,
        -1,
        1,
        80,
        65536,
        _INT32 + 1,
        2**63,
        10**30,
        1.5,
        float("nan"),
        float("inf"),
        "",
        " ",
        "a",
        "abc\n",
        "x\x00y",
        "²",
        "١٢",
        "A" * 300,
        "Ünïcödé",
        "UPPER",
        "with space",
        "../etc",
        "/abs/path",
        "a:b",
        "a" * 64,
        "redis:²",
        "127.0.0.1:6379\n",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1:8080/x\n",
        f"file://deploy:{MARKER}PW@nas/srv/site.git",
        f"https://ghp_{MARKER}@api.github.com/",
        f"https://host/x/site.git?private_token={MARKER}",
        f"redis://:{MARKER}@127.0.0.1:6379",
        f"--redis.password={MARKER}",
        f"--git-config=http.extraHeader:Authorization: Bearer {MARKER}",
        # issue 19's credential shapes: a fragment, basic-auth and token headers, a flag whose value
        # follows a space, an env-style assignment, JSON
        f"https://host/x/site.git#access_token={MARKER}",
        f"--basic-auth=deploy:{MARKER}",
        f"PRIVATE-TOKEN: {MARKER}",
        f"--password {MARKER}",
        f"PASSWORD={MARKER}",
        f'{{"password": "{MARKER}"}}',
        # Unicode line breaks YAML reads as such (NEL, LINE and PARAGRAPH SEPARATOR)
        "a\u2028b",
        "a\u2029b",
        "a\x85b",
        [],
        ["a"],
        ["a\n"],
        ["x\x00"],
        [5],
        [None],
        [f"--target=https://ghp_{MARKER}@api.github.com/"],
        [f"--redis.password={MARKER}"],
        [f"--git-config=http.extraHeader:Authorization: Bearer {MARKER}"],
        [f"--password {MARKER}"],
        ["--password", MARKER],
        ["a\u2028b"],
        ("t",),
        {},
        {"k": "v"},
        {"k\n": "v"},
        {"k": "v\n"},
        {"release": 5},
        *_durations(),
        _Opaque(),
        GitAuth.none(),
        StatsdObserver.HISTOGRAM,
    ]


@dataclass
class Target:
    """One constructor under test: ``build(chart, web, **kwargs)`` from ``baseline``."""

    name: str
    build: Callable[..., Any]
    baseline: dict[str, Any]
    #: Extra values for some props (shaped like the prop, e.g. URLs for ``repo``).
    extra: dict[str, list[Any]] = field(default_factory=dict)


def _secret(chart: cdk8s.Chart, key: str = "password") -> kplus.SecretValue:
    return kplus.SecretValue(secret=kplus.Secret.from_secret_name(chart, f"s-{key}", "creds"), key=key)


def _git(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
    return SidecarGitSync(chart, "site", workload=web, **kw)


def _ambassador(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
    return RedisAmbassador(chart, "cache", workload=web, **kw)


def _adapter(source: Callable[..., MetricsSource]) -> Callable[..., Any]:
    def build(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
        return MetricsAdapter(chart, "metrics", workload=web, source=source(**kw))

    return build


def _adapter_props(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
    return MetricsAdapter(chart, "metrics", workload=web, **kw)


def _option(make: Callable[..., Any], attach: Callable[[cdk8s.Chart, kplus.Deployment, Any], Any]) -> Any:
    def build(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
        return attach(chart, web, make(**kw))

    return build


REPO = "https://github.com/example/site.git"


def _claim(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
    sts = statefulset(chart, "db")
    return volume_claim_template(sts, **kw).mount(sts.containers[0], "/data")


def _claim_mount(chart: cdk8s.Chart, web: kplus.Deployment, **kw: Any) -> Any:
    sts = statefulset(chart, "db")
    return volume_claim_template(sts, "data", storage=cdk8s.Size.gibibytes(1)).mount(sts.containers[0], **kw)


def targets() -> list[Target]:
    return [
        Target(
            "SidecarGitSync",
            _git,
            dict(
                repo=REPO,
                ref="main",
                period=cdk8s.Duration.seconds(30),
                depth=1,
                link="site",
                mount_path="/srv/git",
                serve_dir="public",
                submodules=GitSubmodules.OFF,
                sparse_checkout=["/public/"],
                max_failures=-1,
                sync_timeout=cdk8s.Duration.seconds(60),
                http_port=2020,
                metrics=True,
                native_sidecar=False,
                startup_timeout=cdk8s.Duration.minutes(5),
                content_env="CONTENT_ROOT",
                name="git-sync",
                container_name="app",
                image="registry.k8s.io/git-sync/git-sync:v4.4.0",
                run_as_user=65533,
                extra_args=["--verbose=2"],
            ),
            extra={
                "repo": [
                    "git@github.com:example/site.git",
                    "ssh://git@github.com/example/site.git",
                    "file:///srv/site.git",
                    "https://github.com/example/site.git\n",
                ],
                "startup_timeout": [cdk8s.Duration.days(100000)],
            },
        ),
        Target(
            "SidecarGitSync(native)",
            _git,
            dict(repo=REPO, native_sidecar=True, startup_timeout=cdk8s.Duration.minutes(5)),
        ),
        Target(
            "GitSyncWebhook",
            _option(GitSyncWebhook, lambda c, w, hook: _git(c, w, repo=REPO, webhook=hook)),
            dict(
                url="http://127.0.0.1:8080/-/reload",
                method="POST",
                success_status=200,
                timeout=cdk8s.Duration.seconds(2),
                backoff=cdk8s.Duration.seconds(3),
            ),
            extra={"method": [["POST"], "post", "POST\n"]},
        ),
        Target(
            "GitSyncExechook",
            _option(GitSyncExechook, lambda c, w, hook: _git(c, w, repo=REPO, exechook=hook)),
            dict(command="/hooks/build.sh", timeout=cdk8s.Duration.seconds(30)),
            extra={"command": ["/hooks/build.sh\x00", "/hooks/build.sh\n"]},
        ),
        Target(
            "GitAuth.https",
            lambda c, w, **kw: _git(c, w, repo=REPO, auth=GitAuth.https(**{"password": _secret(c), **kw})),
            dict(username="deploy"),
        ),
        Target(
            "GitAuth.ssh",
            lambda c, w, **kw: _git(
                c,
                w,
                repo="git@github.com:example/site.git",
                auth=GitAuth.ssh(**{"secret": kplus.Secret.from_secret_name(c, "ssh", "git-ssh"), **kw}),
            ),
            dict(key="ssh", known_hosts_key="known_hosts"),
            extra={"secret": [float("nan"), 5, [], "git-ssh"]},
        ),
        Target(
            "RedisAmbassador",
            _ambassador,
            dict(
                primary="redis-primary.data.svc:6379",
                replicas=["redis-replica.data.svc:6379"],
                port=6379,
                op_timeout=cdk8s.Duration.seconds(5),
                connect_timeout=cdk8s.Duration.seconds(1),
                read_fallback=True,
                health_check_interval=cdk8s.Duration.seconds(1),
                development=False,
                native_sidecar=False,
                shutdown_delay=cdk8s.Duration.seconds(15),
                host_env="REDIS_HOST",
                port_env="REDIS_PORT",
                url_env="REDIS_URL",
                password_env="REDIS_PASSWORD",
                admin_port=9901,
                stats_port=9902,
                concurrency=1,
                name="redis-ambassador",
                stats_port_name="envoy-stats",
                container_name="app",
                image="envoyproxy/envoy:v1.31.2",
            ),
            extra={
                "primary": ["redis-primary\n:6379", "Redis-Primary:6379", "10.0.0.1:6379"],
                "replicas": [["redis:²"], ["a..b:6379"]],
            },
        ),
        Target(
            "RedisAmbassador(development)",
            _ambassador,
            dict(development=True, development_port=16379, redis_image="redis:7.2.5-alpine"),
        ),
        Target(
            "RedisRoute",
            _option(
                RedisRoute,
                lambda c, w, route: _ambassador(c, w, primary="redis-primary:6379", routes=[route]),
            ),
            dict(
                prefix="session:", primary="sessions:6379", replicas=["sessions-ro:6379"], remove_prefix=False
            ),
        ),
        Target(
            "MetricsAdapter",
            _adapter_props,
            dict(
                source=MetricsSource.nginx(),
                port=9113,
                port_name="metrics",
                annotations=True,
                pod_monitor=True,
                pod_monitor_labels={"release": "kps"},
                scrape_interval=cdk8s.Duration.seconds(30),
                service=True,
                native_sidecar=False,
                name="metrics-adapter",
                container_name="app",
            ),
            extra={"also_scrape": [[_Opaque()], ["x"]]},
        ),
        Target(
            "MetricsSource.statsd",
            _adapter(MetricsSource.statsd),
            dict(
                mappings=[StatsdMapping(match="app.*.hits", name="app_hits_total", labels={"view": "$1"})],
                statsd_port=9125,
                host_env="STATSD_HOST",
                port_env="STATSD_PORT",
                image="prom/statsd-exporter:v0.28.0",
            ),
        ),
        Target(
            "StatsdMapping",
            _option(
                StatsdMapping,
                lambda c, w, m: MetricsAdapter(
                    c, "metrics", workload=w, source=MetricsSource.statsd(mappings=[m])
                ),
            ),
            dict(
                match="app.*.duration",
                name="app_duration_seconds",
                labels={"view": "$1"},
                observer_type=StatsdObserver.HISTOGRAM,
                buckets=[0.1, 1.0],
                ttl=cdk8s.Duration.minutes(5),
                help="Duration.",
            ),
        ),
        Target(
            "MetricsSource.nginx",
            _adapter(MetricsSource.nginx),
            dict(
                scrape_uri="http://127.0.0.1:8080/stub_status", image="nginx/nginx-prometheus-exporter:1.3.0"
            ),
        ),
        Target(
            "MetricsSource.redis",
            _adapter(MetricsSource.redis),
            dict(address="redis://127.0.0.1:6379", image="oliver006/redis_exporter:v1.62.0"),
        ),
        Target(
            "MetricsSource.json",
            _adapter(MetricsSource.json),
            dict(
                url="http://127.0.0.1:8080/stats",
                metrics=[JsonMetric(name="requests_total", path="{.requests}")],
                module="default",
            ),
        ),
        Target(
            "JsonMetric",
            _option(
                JsonMetric,
                lambda c, w, m: MetricsAdapter(
                    c,
                    "metrics",
                    workload=w,
                    source=MetricsSource.json(url="http://127.0.0.1:8080/stats", metrics=[m]),
                ),
            ),
            dict(
                name="requests_total",
                path="{.requests}",
                type="value",
                help="Requests.",
                value_type="counter",
            ),
        ),
        Target(
            "MetricsSource.jmx",
            _adapter(MetricsSource.jmx),
            dict(
                image="bitnamilegacy/jmx-exporter:1.1.0",
                jmx_port=9010,
                rules=[JmxRule(pattern="java.lang<type=Memory><HeapMemoryUsage>used", name="jvm_heap_used")],
                lowercase_output_name=True,
                options_env="JAVA_TOOL_OPTIONS",
                uid=10001,
            ),
            extra={"rules": [[{"patern": ".*"}], [{"pattern": ".*", "cache": cdk8s.Duration.seconds(1)}]]},
        ),
        Target(
            "JmxRule",
            _option(
                JmxRule,
                lambda c, w, r: MetricsAdapter(
                    c,
                    "metrics",
                    workload=w,
                    source=MetricsSource.jmx(
                        image="bitnamilegacy/jmx-exporter:1.1.0", jmx_port=9010, rules=[r]
                    ),
                ),
            ),
            dict(
                pattern="java.lang<type=(.+)><>(\\w+)",
                name="jvm_$1_$2",
                value_factor=0.001,
                labels={"kind": "$1"},
                help="JVM attribute.",
                type=JmxMetricType.GAUGE,
                attr_name_snake_case=True,
                cache=False,
            ),
        ),
        Target(
            "volume_claim_template",
            _claim,
            dict(
                name="data",
                storage=cdk8s.Size.gibibytes(1),
                access_modes=[kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
                storage_class_name="fast-ssd",
            ),
            extra={"storage": [cdk8s.Size.kibibytes(1), cdk8s.Size.mebibytes(0)]},
        ),
        Target("VolumeClaimTemplate.mount", _claim_mount, dict(path="/data", read_only=False)),
        Target(
            "MetricsSource.custom",
            _adapter(MetricsSource.custom),
            dict(
                image="example/exporter:1.0.0",
                port=9200,
                args=["--web.listen-address=:9200"],
                command=["/exporter"],
                path="/metrics",
                uid=65534,
            ),
        ),
    ]


@dataclass(frozen=True)
class Case:
    target: str
    prop: str
    value: Any

    def __str__(self) -> str:
        return f"{self.target}({self.prop}={self.value!r})"


def cases(all_targets: list[Target] | None = None) -> Iterator[tuple[Target, Case]]:
    pool = mutants()
    for t in all_targets or targets():
        for prop in t.baseline:
            for value in [*pool, *t.extra.get(prop, [])]:
                yield t, Case(t.name, prop, value)
        for prop, values in t.extra.items():
            if prop not in t.baseline:
                for value in values:
                    yield t, Case(t.name, prop, value)


#: Every workload kind the patterns attach to (the pod of each is the same app container).
KINDS: dict[str, Callable[..., Any]] = {
    "Deployment": kplus.Deployment,
    "StatefulSet": kplus.StatefulSet,
    "DaemonSet": kplus.DaemonSet,
    "Job": kplus.Job,
    "CronJob": lambda c, i, **kw: kplus.CronJob(c, i, schedule=cdk8s.Cron.daily(), **kw),
    "Pod": kplus.Pod,
}


def _app(kind: str = "Deployment") -> tuple[cdk8s.App, cdk8s.Chart, Any]:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "shop", namespace="shop")
    container = kplus.ContainerProps(
        name="app",
        image="nginxinc/nginx-unprivileged:1.27",
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=101, group=101),
    )
    return app, chart, KINDS[kind](chart, "web", containers=[container])


def user_edits(chart: cdk8s.Chart, web: Any) -> None:
    """What a user adds to the pod besides the pattern: an env variable, a volume and its mount."""
    app = web.containers[0]
    app.env.add_variable("LOG_LEVEL", kplus.EnvValue.from_value("info"))
    app.mount("/var/cache/app", kplus.Volume.from_empty_dir(chart, "app-cache", "app-cache"))


#: The documented message shape: ``<path>: <prop>=<value>: <problem>. Fix: <fix>``.
_MESSAGE = re.compile(r"(?s)shop/[^\n]*: [A-Za-z_][\w.\[\]'-]*=.*: .+\. Fix: .+")


def _int_errors(node: Any, path: str = "") -> Iterator[str]:
    """Integers the API types as int32 (every int the library writes but ids) in range."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _int_errors(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _int_errors(v, f"{path}[{i}]")
    elif isinstance(node, float) and not math.isfinite(node):
        yield f"{path}: {node}"
    elif isinstance(node, int) and not isinstance(node, bool):
        limit = _INT64 if path.rsplit(".", 1)[-1] in ("runAsUser", "runAsGroup", "fsGroup") else _INT32
        if not -limit - 1 <= node <= limit:
            yield f"{path}: {node} out of range"


_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")


def _api_rules(docs: list[dict[str, Any]]) -> list[str]:
    errors = [e for d in docs for e in _int_errors(d, d["kind"])]
    for d in docs:
        for k, v in (d["metadata"].get("labels") or {}).items():
            if "\n" in k or "\n" in v:
                errors.append(f"label {k!r}={v!r}")
        spec = d.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            for e in c.get("env", []):
                if not _ENV_NAME.fullmatch(e["name"]):
                    errors.append(f"env name {e['name']!r}")
            for text in [*c.get("args", []), *c.get("command", [])]:
                if "\x00" in text:
                    errors.append(f"NUL in {c['name']} args")
    return errors


def check(
    target: Target,
    case: Case,
    *,
    versions: tuple[str, ...] = (K8S_OLDEST, K8S_NEWEST),
    kind: str = "Deployment",
    edits: str = "none",
    keep: list[cdk8s.Chart] | None = None,
) -> str | None:
    """Run one case; return 'refused', 'accepted', or raise AssertionError with the broken invariant.

    ``kind``: the workload kind; ``edits``: the user's own edits ("none", "before" or "after" the
    pattern attaches); ``keep`` collects the chart of an accepted case (for the Pulumi component)."""
    _, chart, web = _app(kind)
    kwargs = {**target.baseline, case.prop: case.value}
    message: str | None = None
    try:
        if edits == "before":
            user_edits(chart, web)
        target.build(chart, web, **kwargs)
        if edits == "after":
            user_edits(chart, web)
        restricted_pod_security(web)
        docs = list(cdk8s.Testing.synth(chart))
    except ConstructsLibError as err:
        message = str(err)
    except Exception as err:  # any other type is the defect under test
        raise AssertionError(f"{case}: {type(err).__name__}: {str(err)[:300]}") from None
    if message is not None:
        assert _MESSAGE.fullmatch(message), f"{case}: message shape: {message}"
        assert MARKER not in message, f"{case}: the error message shows the credential: {message}"
        return "refused"
    text = yaml.safe_dump_all(docs)
    assert MARKER not in text, f"{case}: the credential reached the manifest"
    native = any(
        c.get("restartPolicy") == "Always"
        for d in docs
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("initContainers", [])
    )
    # Kubernetes' preStop sleep action (the ambassador's hook on an image not known to ship
    # `sleep`) needs Kubernetes >= 1.30.
    sleep_action = '"sleep":' in json.dumps([d.get("spec") for d in docs])
    for version in versions[-1:] if native or sleep_action else versions:  # native sidecars: >= 1.29
        try:
            validate(docs, version)
        except Exception as err:
            raise AssertionError(f"{case}: accepted, but invalid for {version}: {str(err)[:300]}") from None
    errors = _api_rules(docs)
    assert not errors, f"{case}: accepted, but the API server rejects it: {errors}"
    if keep is not None:
        keep.append(chart)
    return "accepted"


def kernel_alive() -> None:
    """An unrelated synth still works (one bad value must not kill the jsii kernel)."""
    _, chart, web = _app()
    SidecarGitSync(chart, "site", workload=web, repo=REPO)
    assert len(cdk8s.Testing.synth(chart)) >= 1
