"""The hand-written equivalent of ``examples/all_patterns.py``: the same YAML, byte for byte,
written directly against cdk8s-plus-27 by someone who knows the three patterns.

It is what the library is measured against (``bench/figures.py`` checks the bytes in every
run). The Envoy config is a hand-written file next to this one (``envoy.yaml``), the fields
cdk8s-plus-27 cannot express (``capabilities.drop: [ALL]``, ``seccompProfile``) are JSON
patches, and the config checksum is computed once.

Three flavours:

* ``build(scope, cache=False)``: what a user writes first, every ``Duration``, ``Cpu`` and
  ``Size`` created where it is used (each creation is a jsii round trip to node);
* ``build(scope, cache=True)``: the same with those immutable values created once per process;
* ``build(scope, hoist=True)``: "hoisted", what a platform team that tunes its code by hand
  writes (issue 24's baseline to beat): the cached program plus every other constant node-side
  object built once per process (:func:`_constants`: the probes, env values, the preStop
  handler, the tmp volume's size limit, the hardening JSON patches). Only what needs the chart
  (constructs, the containers, the PodMonitor's selector) is made per chart.

Also here, for the floor figures: :func:`build_raw` gives cdk8s the very same documents as
raw ``ApiObject``s (no cdk8s-plus), and :func:`floor_yaml` writes them with plain dicts and
libyaml, without cdk8s at all.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import constructs
import yaml

ENVOY_YAML = (Path(__file__).parent / "envoy.yaml").read_text()
ENVOY_CHECKSUM = hashlib.sha256(f"envoy.yaml\0{ENVOY_YAML}".encode()).hexdigest()
NGINX_CONF = """\
server {
    listen 8080;
    server_name _;
    root /srv/git/site/public;
    location / {
        try_files $uri $uri/ =404;
    }
    location = /healthz {
        access_log off;
        return 200 'ok';
    }
    location = /stub_status {
        stub_status;
        access_log off;
        allow 127.0.0.1;
        deny all;
    }
}
"""
GIT_SYNC_IMAGE = "registry.k8s.io/git-sync/git-sync:v4.7.1"
GIT_SYNC_ARGS = [
    "--repo=https://github.com/example/site.git",
    "--ref=main",
    "--root=/git",
    "--link=site",
    "--period=10s",
    "--depth=1",
]
GIT_SYNC_UID = 65533
# Containers 1..3 and the init container are the sidecars: hardened beyond what cdk8s-plus says.
SIDECAR_PATHS = [f"/spec/template/spec/containers/{i}" for i in (1, 2, 3)] + [
    "/spec/template/spec/initContainers/0"
]


class _Values:
    """The immutable node-side values the program uses, created on each access or once."""

    def __init__(self, cache: bool) -> None:
        self._cache = cache

    def seconds(self, n: int) -> cdk8s.Duration:
        return _seconds(n) if self._cache else cdk8s.Duration.seconds(n)

    def resources(self, cpu_req: int, cpu_lim: int, mem_req: int, mem_lim: int) -> kplus.ContainerResources:
        make = _resources if self._cache else _resources.__wrapped__
        return make(cpu_req, cpu_lim, mem_req, mem_lim)

    def timing(self, delay: int, period: int, timeout: int, failures: int) -> dict[str, Any]:
        return {
            "initial_delay_seconds": self.seconds(delay),
            "period_seconds": self.seconds(period),
            "timeout_seconds": self.seconds(timeout),
            "failure_threshold": failures,
        }


@functools.cache
def _seconds(n: int) -> cdk8s.Duration:
    return cdk8s.Duration.seconds(n)


@functools.cache
def _resources(cpu_req: int, cpu_lim: int, mem_req: int, mem_lim: int) -> kplus.ContainerResources:
    return kplus.ContainerResources(
        cpu=kplus.CpuResources(request=kplus.Cpu.millis(cpu_req), limit=kplus.Cpu.millis(cpu_lim)),
        memory=kplus.MemoryResources(
            request=cdk8s.Size.mebibytes(mem_req), limit=cdk8s.Size.mebibytes(mem_lim)
        ),
    )


def _security(uid: int) -> kplus.ContainerSecurityContextProps:
    return kplus.ContainerSecurityContextProps(
        ensure_non_root=True,
        user=uid,
        group=uid,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        privileged=False,
    )


class _Constants:
    """Every node-side value of the chart that does not depend on the chart, built once
    (``hoist=True``); each attribute is a jsii object reused by every chart of the process."""

    def __init__(self) -> None:
        v = _Values(cache=True)
        self.nginx_probe = kplus.Probe.from_http_get("/healthz", port=8080)
        self.nginx_liveness = kplus.Probe.from_http_get("/healthz", port=8080)
        self.nginx_env = _nginx_env()
        self.tmp_size = cdk8s.Size.mebibytes(64)
        self.git_sync_health = kplus.Probe.from_tcp_socket(port=2020, **v.timing(0, 10, 1, 3))
        self.pre_stop = kplus.ContainerLifecycle(pre_stop=kplus.Handler.from_command(["sleep", "15"]))
        self.envoy_liveness = kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 10, 1, 6))
        self.envoy_readiness = kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 5, 1, 3))
        self.envoy_startup = kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 1, 1, 60))
        self.metrics_liveness = kplus.Probe.from_http_get("/metrics", port=9113, **v.timing(0, 20, 2, 3))
        self.metrics_readiness = kplus.Probe.from_http_get("/metrics", port=9113, **v.timing(0, 10, 2, 3))
        self.hardening = _hardening_patches()


@functools.cache
def _constants() -> _Constants:
    return _Constants()


def _nginx_env() -> dict[str, kplus.EnvValue]:
    return {
        "REDIS_HOST": kplus.EnvValue.from_value("127.0.0.1"),
        "REDIS_PORT": kplus.EnvValue.from_value("6379"),
        "REDIS_URL": kplus.EnvValue.from_value("redis://127.0.0.1:6379"),
        "REDIS_PROTOCOL": kplus.EnvValue.from_value("2"),
    }


def _hardening_patches() -> list[cdk8s.JsonPatch]:
    """What cdk8s-plus-27 cannot express: Pod Security "restricted" on every container."""
    patches = [cdk8s.JsonPatch.add("/spec/template/spec/securityContext/seccompProfile", _RUNTIME_DEFAULT)]
    patches.append(
        cdk8s.JsonPatch.add("/spec/template/spec/containers/0/securityContext/capabilities", _DROP)
    )
    for path in SIDECAR_PATHS:
        patches.append(cdk8s.JsonPatch.add(f"{path}/securityContext/capabilities", _DROP))
        patches.append(cdk8s.JsonPatch.add(f"{path}/securityContext/seccompProfile", _RUNTIME_DEFAULT))
    return patches


def build(
    scope: constructs.Construct, *, cache: bool = False, hoist: bool = False, id: str = "all-patterns"
) -> cdk8s.Chart:
    """The chart of ``examples/all_patterns.py``, written against cdk8s-plus-27 directly
    (``hoist=True`` implies ``cache=True``)."""
    v = _Values(cache or hoist)
    k = _constants() if hoist else None
    chart = cdk8s.Chart(scope, id, namespace="web")
    web = kplus.Deployment(
        chart,
        "web",
        replicas=2,
        security_context=kplus.PodSecurityContextProps(
            fs_group=GIT_SYNC_UID, fs_group_change_policy=kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH
        ),
    )
    web.pod_metadata.add_annotation("checksum/redis-ambassador", ENVOY_CHECKSUM)
    nginx = web.add_container(
        name="nginx",
        image="nginxinc/nginx-unprivileged:1.27-alpine",
        ports=[kplus.ContainerPort(number=8080, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=101, group=101),
        resources=v.resources(50, 500, 64, 128),
        readiness=k.nginx_probe if k else kplus.Probe.from_http_get("/healthz", port=8080),
        liveness=k.nginx_liveness if k else kplus.Probe.from_http_get("/healthz", port=8080),
        env_variables=k.nginx_env if k else _nginx_env(),
    )
    nginx.mount("/tmp", kplus.Volume.from_empty_dir(chart, "nginx-tmp", "nginx-tmp"))

    # Sidecar: git-sync, a one-shot init container for the first sync, then the loop.
    root = kplus.Volume.from_empty_dir(chart, "git-sync-root", "git-sync-root")
    tmp = kplus.Volume.from_empty_dir(
        chart, "git-sync-tmp", "git-sync-tmp", size_limit=k.tmp_size if k else cdk8s.Size.mebibytes(64)
    )
    git_sync_resources = v.resources(10, 500, 64, 256)
    init = web.add_init_container(
        name="git-sync-init",
        image=GIT_SYNC_IMAGE,
        args=[*GIT_SYNC_ARGS, "--one-time"],
        resources=git_sync_resources,
        image_pull_policy=kplus.ImagePullPolicy.ALWAYS,
        security_context=_security(GIT_SYNC_UID),
    )
    health = k.git_sync_health if k else kplus.Probe.from_tcp_socket(port=2020, **v.timing(0, 10, 1, 3))
    git_sync = web.add_container(
        name="git-sync",
        image=GIT_SYNC_IMAGE,
        args=[*GIT_SYNC_ARGS, "--max-failures=-1", "--http-bind=:2020", "--http-metrics"],
        ports=[kplus.ContainerPort(number=2020, name="git-sync", protocol=kplus.Protocol.TCP)],
        resources=git_sync_resources,
        image_pull_policy=kplus.ImagePullPolicy.ALWAYS,
        security_context=_security(GIT_SYNC_UID),
        liveness=health,
        readiness=health,
    )
    for container in (init, git_sync):
        container.mount("/git", root, read_only=False)
        container.mount("/tmp", tmp, read_only=False)
    nginx.mount("/srv/git", root, read_only=True)
    conf = kplus.ConfigMap(chart, "nginx-conf", data={"default.conf": NGINX_CONF})
    nginx.mount(
        "/etc/nginx/conf.d", kplus.Volume.from_config_map(chart, "nginx-conf-volume", conf, name="nginx-conf")
    )

    # Ambassador: Envoy's redis_proxy on 127.0.0.1:6379, config and upstream password as files.
    cache_scope = constructs.Construct(chart, "cache")
    envoy_conf = kplus.ConfigMap(cache_scope, "config", data={"envoy.yaml": ENVOY_YAML})
    secret = kplus.Secret.from_secret_name(chart, "redis", "redis")
    envoy = web.add_container(
        name="redis-ambassador",
        image="envoyproxy/envoy:v1.40.0",
        command=["envoy"],
        args=[
            "--config-path",
            "/etc/envoy/envoy.yaml",
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "--log-level",
            "warn",
        ],
        ports=[kplus.ContainerPort(number=9902, name="envoy-stats", protocol=kplus.Protocol.TCP)],
        resources=v.resources(100, 1000, 96, 192),
        image_pull_policy=kplus.ImagePullPolicy.ALWAYS,
        security_context=_security(10101),
        lifecycle=k.pre_stop
        if k
        else kplus.ContainerLifecycle(pre_stop=kplus.Handler.from_command(["sleep", "15"])),
        liveness=k.envoy_liveness
        if k
        else kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 10, 1, 6)),
        readiness=k.envoy_readiness
        if k
        else kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 5, 1, 3)),
        startup=k.envoy_startup
        if k
        else kplus.Probe.from_http_get("/ready", port=9902, **v.timing(0, 1, 1, 60)),
    )
    envoy.mount(
        "/etc/envoy",
        kplus.Volume.from_config_map(
            cache_scope, "config-volume", envoy_conf, name="redis-ambassador-config"
        ),
        read_only=True,
    )
    envoy.mount(
        "/etc/envoy-upstream-auth",
        kplus.Volume.from_secret(
            cache_scope,
            "redis-ambassador-upstream-auth",
            secret,
            name="redis-ambassador-upstream-auth",
            items={"password": kplus.PathMapping(path="password")},
            default_mode=0o440,
        ),
        read_only=True,
    )

    # Adapter: nginx's stub_status as Prometheus metrics; a PodMonitor for the three ports.
    web.add_container(
        name="metrics-adapter",
        image="nginx/nginx-prometheus-exporter:1.4.2",
        args=[
            "--nginx.scrape-uri=http://127.0.0.1:8080/stub_status",
            "--web.listen-address=:9113",
            "--web.telemetry-path=/metrics",
        ],
        ports=[kplus.ContainerPort(number=9113, name="metrics", protocol=kplus.Protocol.TCP)],
        resources=v.resources(10, 200, 32, 64),
        image_pull_policy=kplus.ImagePullPolicy.ALWAYS,
        security_context=_security(65534),
        liveness=k.metrics_liveness
        if k
        else kplus.Probe.from_http_get("/metrics", port=9113, **v.timing(0, 20, 2, 3)),
        readiness=k.metrics_readiness
        if k
        else kplus.Probe.from_http_get("/metrics", port=9113, **v.timing(0, 10, 2, 3)),
    )
    metrics_scope = constructs.Construct(chart, "metrics")
    cdk8s.ApiObject(
        metrics_scope,
        "pod-monitor",
        api_version="monitoring.coreos.com/v1",
        kind="PodMonitor",
        metadata=cdk8s.ApiObjectMetadata(labels={"release": "kube-prometheus-stack"}),
    ).add_json_patch(
        cdk8s.JsonPatch.add(
            "/spec",
            {
                "podMetricsEndpoints": [
                    {"port": port, "path": "/metrics"} for port in ("metrics", "git-sync", "envoy-stats")
                ],
                "selector": {"matchLabels": dict(web.match_labels)},
            },
        )
    )

    cdk8s.ApiObject.of(web).add_json_patch(*(k.hardening if k else _hardening_patches()))
    return chart


_DROP = {"drop": ["ALL"]}
_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}


# --- the same documents without cdk8s-plus ------------------------------------------------


@functools.cache
def _documents() -> list[dict[str, Any]]:
    """The chart's documents as plain data (read once from the checked golden file)."""
    golden = Path(__file__).resolve().parent.parent / "tests" / "golden" / "all-patterns.k8s.yaml"
    return [d for d in yaml.safe_load_all(golden.read_text()) if d]


def build_raw(scope: constructs.Construct, *, id: str = "all-patterns") -> cdk8s.Chart:
    """The same documents handed to cdk8s as raw ``ApiObject``s: names, the selector label and
    the PodMonitor's selector come from cdk8s for this scope, the rest is Python data."""
    chart = cdk8s.Chart(scope, id, namespace="web")
    deployment, nginx_conf, envoy_conf, monitor = copy.deepcopy(_documents())
    # cdk8s-plus puts each ApiObject at <construct>/Resource; names hash that path.
    web_scope = constructs.Construct(chart, "web")
    web = cdk8s.ApiObject(web_scope, "Resource", api_version="apps/v1", kind="Deployment")
    label = {"cdk8s.io/metadata.addr": cdk8s.Names.to_label_value(web_scope)}
    nginx = cdk8s.ApiObject(
        constructs.Construct(chart, "nginx-conf"), "Resource", api_version="v1", kind="ConfigMap"
    )
    config = constructs.Construct(constructs.Construct(chart, "cache"), "config")
    envoy = cdk8s.ApiObject(config, "Resource", api_version="v1", kind="ConfigMap")
    deployment["spec"]["selector"]["matchLabels"] = label
    deployment["spec"]["template"]["metadata"]["labels"] = label
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    volumes[2]["configMap"]["name"] = nginx.name
    volumes[4]["configMap"]["name"] = envoy.name
    monitor["spec"]["selector"]["matchLabels"] = label
    pod_monitor = cdk8s.ApiObject(
        constructs.Construct(chart, "metrics"),
        "pod-monitor",
        api_version=monitor["apiVersion"],
        kind="PodMonitor",
        metadata=cdk8s.ApiObjectMetadata(labels=monitor["metadata"]["labels"]),
    )
    for obj, doc in ((web, deployment), (nginx, nginx_conf), (envoy, envoy_conf), (pod_monitor, monitor)):
        obj.add_json_patch(*(cdk8s.JsonPatch.add(f"/{k}", v) for k, v in doc.items() if k not in _HEAD))
    return chart


_HEAD = {"apiVersion", "kind", "metadata"}

# libyaml's emitter; the documents are plain data.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def floor_yaml(n: int) -> str:
    """``n`` copies of the documents, as plain dicts written by libyaml: no cdk8s, no node.

    The same data as the charts (names differ per copy as cdk8s's would); libyaml does not
    indent sequences inside mappings as cdk8s's writer does, so the bytes differ in indentation.
    """
    out = []
    for i in range(n):
        for doc in _documents():
            if i:
                doc = dict(doc, metadata={**doc["metadata"], "name": f"{doc['metadata']['name']}-{i}"})
            out.append(
                yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, width=1 << 30)
            )
    return "---\n".join(out)
