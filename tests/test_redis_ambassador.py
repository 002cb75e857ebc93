"""RedisAmbassador: the Envoy config it renders, what lands in the pod, and every bad input."""

from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml

from constructs_lib import (
    CollisionError,
    PropsError,
    RedisAmbassador,
    RedisClusterTopology,
    RedisRoute,
    RedisSentinelTopology,
    RedisShard,
    SidecarGitSync,
)
from constructs_lib import _redis_sentinel as rs

from .helpers import K8S_NEWEST, K8S_OLDEST, chart, containers, kind, pod, synth, validate, web

PRIMARY = "redis-primary.data.svc:6379"
REPLICA = "redis-replicas.data.svc:6379"


def secret_value(c: cdk8s.Chart, key: str = "redis-password") -> kplus.SecretValue:
    return kplus.SecretValue(secret=kplus.Secret.from_secret_name(c, f"s-{key}", "redis"), key=key)


def attach(
    c: cdk8s.Chart | None = None, dep: kplus.Deployment | None = None, **kw: Any
) -> tuple[cdk8s.Chart, RedisAmbassador]:
    c = c or chart()
    dep = dep or web(c)
    kw.setdefault("primary", PRIMARY)
    kw.setdefault("replicas", [REPLICA])
    return c, RedisAmbassador(c, "cache", deployment=dep, **kw)


def envoy(c: cdk8s.Chart) -> dict[str, Any]:
    (cm,) = kind(synth(c), "ConfigMap")
    return dict(yaml.safe_load(cm["data"]["envoy.yaml"]))


def redis_filter(cfg: dict[str, Any]) -> dict[str, Any]:
    (listener,) = [x for x in cfg["static_resources"]["listeners"] if x["name"] == "redis"]
    return dict(listener["filter_chains"][0]["filters"][0]["typed_config"])


def cluster(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [x for x in cfg["static_resources"]["clusters"] if x["name"] == name]
    return dict(found)


class TestEnvoyConfig:
    def test_writes_to_the_primary_reads_to_the_replicas(self) -> None:
        c, amb = attach()
        cfg = envoy(c)
        proxy = redis_filter(cfg)
        assert proxy["prefix_routes"] == {
            "catch_all_route": {
                "cluster": "redis_primary",
                "read_command_policy": {"cluster": "redis_replicas"},
            }
        }
        assert proxy["settings"] == {"op_timeout": "5s"}
        assert cluster(cfg, "redis_primary")["load_assignment"]["endpoints"][0]["lb_endpoints"] == [
            {
                "endpoint": {
                    "address": {"socket_address": {"address": "redis-primary.data.svc", "port_value": 6379}}
                }
            }
        ]
        replicas = cluster(cfg, "redis_replicas")
        assert replicas["type"] == "STRICT_DNS"
        assert replicas["connect_timeout"] == "1s"
        assert amb.envoy_config == cfg

    def test_listener_and_admin_on_loopback_only(self) -> None:
        c, _ = attach()
        cfg = envoy(c)
        assert cfg["admin"]["address"] == {"socket_address": {"address": "127.0.0.1", "port_value": 9901}}
        listeners = {x["name"]: x["address"]["socket_address"] for x in cfg["static_resources"]["listeners"]}
        assert listeners == {
            "redis": {"address": "127.0.0.1", "port_value": 6379},
            # The kubelet and Prometheus reach /ready and /metrics here; the admin API stays private.
            "stats": {"address": "0.0.0.0", "port_value": 9902},
        }

    def test_stats_listener_serves_only_ready_and_metrics(self) -> None:
        c, _ = attach()
        (stats,) = [x for x in envoy(c)["static_resources"]["listeners"] if x["name"] == "stats"]
        hcm = stats["filter_chains"][0]["filters"][0]["typed_config"]
        assert hcm["route_config"]["virtual_hosts"][0]["routes"] == [
            {"match": {"path": "/ready"}, "route": {"cluster": "envoy_admin"}},
            {
                "match": {"path": "/metrics"},
                "route": {"cluster": "envoy_admin", "prefix_rewrite": "/stats/prometheus"},
            },
        ]

    def test_no_replicas_sends_everything_to_the_primary(self) -> None:
        c, _ = attach(replicas=[])
        cfg = envoy(c)
        assert redis_filter(cfg)["prefix_routes"] == {"catch_all_route": {"cluster": "redis_primary"}}
        assert [x["name"] for x in cfg["static_resources"]["clusters"]] == ["envoy_admin", "redis_primary"]

    def test_several_replicas_in_one_cluster(self) -> None:
        c, _ = attach(replicas=["r1.data.svc:6379", "10.0.0.7:6380"])
        eps = cluster(envoy(c), "redis_replicas")["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert [e["endpoint"]["address"]["socket_address"] for e in eps] == [
            {"address": "r1.data.svc", "port_value": 6379},
            {"address": "10.0.0.7", "port_value": 6380},
        ]

    def test_services_as_endpoints(self) -> None:
        c = chart()
        data = cdk8s.Chart(c, "data", namespace="data")
        primary = kplus.Service(data, "primary", ports=[kplus.ServicePort(port=6379)])
        c, _ = attach(c, primary=primary, replicas=[])
        addr = cluster(envoy(c), "redis_primary")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        assert addr["endpoint"]["address"]["socket_address"] == {
            "address": f"{primary.name}.data.svc",
            "port_value": 6379,
        }

    def test_upstream_and_downstream_auth_from_files(self) -> None:
        c = chart()
        c, _ = attach(c, password=secret_value(c), client_password=secret_value(c, "client-password"))
        cfg = envoy(c)
        for name in ("redis_primary", "redis_replicas"):
            opts = cluster(cfg, name)["typed_extension_protocol_options"]["envoy.filters.network.redis_proxy"]
            assert opts["auth_password"] == {"filename": "/etc/envoy-upstream-auth/password"}
        assert redis_filter(cfg)["downstream_auth_passwords"] == [
            {"filename": "/etc/envoy-downstream-auth/password"}
        ]

    def test_timeouts(self) -> None:
        c, _ = attach(op_timeout=cdk8s.Duration.millis(250), connect_timeout=cdk8s.Duration.seconds(3))
        cfg = envoy(c)
        assert redis_filter(cfg)["settings"] == {"op_timeout": "0.25s"}
        assert cluster(cfg, "redis_primary")["connect_timeout"] == "3s"

    def test_long_timeouts_stay_exact(self) -> None:
        c, _ = attach(
            op_timeout=cdk8s.Duration.millis(1_000_000_500), connect_timeout=cdk8s.Duration.millis(1_234_567)
        )
        cfg = envoy(c)
        assert redis_filter(cfg)["settings"] == {"op_timeout": "1000000.5s"}
        assert cluster(cfg, "redis_primary")["connect_timeout"] == "1234.567s"

    def test_prefix_routes(self) -> None:
        c, _ = attach(
            routes=[RedisRoute(prefix="session:", primary="sessions.data.svc:6379", remove_prefix=True)]
        )
        cfg = envoy(c)
        assert redis_filter(cfg)["prefix_routes"]["routes"] == [
            {"prefix": "session:", "remove_prefix": True, "cluster": "route0_primary"}
        ]
        assert cluster(cfg, "route0_primary")["type"] == "STRICT_DNS"


class TestPod:
    def test_proxy_container(self) -> None:
        c, amb = attach()
        docs = synth(c)
        proxy = containers(docs)["redis-ambassador"]
        assert proxy["image"] == "envoyproxy/envoy:v1.40.0"
        assert proxy["command"] == ["envoy"]
        assert proxy["args"] == [
            "--config-path",
            "/etc/envoy/envoy.yaml",
            "--disable-hot-restart",
            "--concurrency",
            "1",
            "--log-level",
            "warn",
        ]
        # The Redis listener binds 127.0.0.1: not declared (a Service aimed at it would reach
        # nothing); only the pod-reachable stats port is.
        assert proxy["ports"] == [{"containerPort": 9902, "name": "envoy-stats", "protocol": "TCP"}]
        assert proxy["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 9902, "scheme": "HTTP"}
        assert proxy["livenessProbe"]["httpGet"]["path"] == "/ready"
        assert proxy["securityContext"]["runAsUser"] == 10101
        assert proxy["resources"] == {
            "limits": {"cpu": "1000m", "memory": "192Mi"},
            "requests": {"cpu": "100m", "memory": "96Mi"},
        }
        assert proxy["volumeMounts"] == [
            {"mountPath": "/etc/envoy", "name": "redis-ambassador-config", "readOnly": True}
        ]
        assert amb.metrics_port_name == "envoy-stats"
        validate(docs, K8S_OLDEST)
        validate(docs, K8S_NEWEST)

    def test_proxy_outlives_the_apps_last_write(self) -> None:
        c, _ = attach(shutdown_delay=cdk8s.Duration.seconds(20))
        proxy = containers(synth(c))["redis-ambassador"]
        assert proxy["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "20"]}}}

    def test_app_env_points_at_localhost(self) -> None:
        c, amb = attach()
        assert containers(synth(c))["app"]["env"] == [
            {"name": "REDIS_HOST", "value": "127.0.0.1"},
            {"name": "REDIS_PORT", "value": "6379"},
            # No ?protocol=2 in the URL: redis-py 4 fails every call on it. The RESP version the
            # proxy speaks is its own variable (tests/test_client_matrix.py runs every client).
            {"name": "REDIS_URL", "value": "redis://127.0.0.1:6379"},
            {"name": "REDIS_PROTOCOL", "value": "2"},
        ]
        assert amb.url == "redis://127.0.0.1:6379"

    def test_env_names_are_configurable(self) -> None:
        c, _ = attach(host_env=None, port_env=None, url_env="CACHE_URL", protocol_env=None, port=6380)
        assert containers(synth(c))["app"]["env"] == [
            {"name": "CACHE_URL", "value": "redis://127.0.0.1:6380"}
        ]

    def test_client_password_reaches_the_app_from_the_secret(self) -> None:
        c = chart()
        c, _ = attach(c, password=secret_value(c), client_password=secret_value(c, "client-password"))
        docs = synth(c)
        assert containers(docs)["app"]["env"][-1] == {
            "name": "REDIS_PASSWORD",
            "valueFrom": {"secretKeyRef": {"key": "client-password", "name": "redis"}},
        }
        vols = {v["name"]: v for v in pod(docs)["volumes"]}
        assert vols["redis-ambassador-upstream-auth"]["secret"] == {
            "defaultMode": 0o440,
            "items": [{"key": "redis-password", "path": "password"}],
            "secretName": "redis",
        }
        assert pod(docs)["securityContext"]["fsGroup"] == 10101

    def test_config_change_rolls_the_pods(self) -> None:
        def checksum(**kw: Any) -> str:
            c, _ = attach(**kw)
            (dep,) = kind(synth(c), "Deployment")
            return str(dep["spec"]["template"]["metadata"]["annotations"]["checksum/redis-ambassador"])

        assert checksum() == checksum()
        assert checksum() != checksum(op_timeout=cdk8s.Duration.seconds(1))

    def test_native_sidecar(self) -> None:
        c, _ = attach(native_sidecar=True)
        docs = synth(c)
        (init,) = pod(docs)["initContainers"]
        assert init["name"] == "redis-ambassador"
        assert init["restartPolicy"] == "Always"
        assert init["startupProbe"]["httpGet"]["path"] == "/ready"
        assert "lifecycle" not in init  # the kubelet stops native sidecars after the app
        validate(docs, K8S_NEWEST)

    def test_two_ambassadors_to_two_redis_deployments(self) -> None:
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "cache", deployment=dep, primary=PRIMARY, replicas=[REPLICA])
        RedisAmbassador(
            c,
            "sessions",
            deployment=dep,
            primary="sessions.data.svc:6379",
            port=6380,
            url_env="SESSIONS_URL",
            host_env=None,
            port_env=None,
            name="sessions-ambassador",
            admin_port=9911,
            stats_port=9912,
            stats_port_name="sessions-stats",
        )
        docs = synth(c)
        assert sorted(containers(docs)) == ["app", "redis-ambassador", "sessions-ambassador"]
        validate(docs, K8S_OLDEST)

    def test_with_git_sync_on_the_same_pod(self) -> None:
        c = chart()
        dep = web(c)
        SidecarGitSync(c, "site", deployment=dep, repo="https://github.com/example/site.git")
        RedisAmbassador(c, "cache", deployment=dep, primary=PRIMARY)
        validate(synth(c), K8S_OLDEST)


class TestDevelopmentMode:
    def test_the_same_proxy_in_front_of_a_redis_in_the_pod(self) -> None:
        c, amb = attach(development=True)
        docs = synth(c)
        redis = containers(docs)["redis-ambassador-redis"]
        assert redis["image"] == "redis:7.4.2-alpine"
        assert redis["command"] == ["redis-server"]
        assert redis["args"] == ["--port", "16379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        assert "ports" not in redis  # loopback only
        assert redis["readinessProbe"]["exec"]["command"] == [
            "redis-cli",
            "-h",
            "127.0.0.1",
            "-p",
            "16379",
            "ping",
        ]
        assert redis["securityContext"]["runAsUser"] == 10999
        # Envoy, with the production config shape: every command goes to the in-pod Redis.
        proxy = containers(docs)["redis-ambassador"]
        assert proxy["command"] == ["envoy"]
        cfg = envoy(c)
        assert redis_filter(cfg)["prefix_routes"] == {"catch_all_route": {"cluster": "redis_primary"}}
        assert cluster(cfg, "redis_primary")["load_assignment"]["endpoints"] == [
            {
                "lb_endpoints": [
                    {
                        "endpoint": {
                            "address": {"socket_address": {"address": "127.0.0.1", "port_value": 16379}}
                        }
                    }
                ]
            }
        ]
        # The app's settings are the same as in production: no code change between environments.
        assert containers(docs)["app"]["env"][2] == {
            "name": "REDIS_URL",
            "value": "redis://127.0.0.1:6379",
        }
        assert amb.metrics_port_name == "envoy-stats"
        validate(docs, K8S_OLDEST)

    def test_the_app_authenticates_to_the_proxy_as_in_production(self) -> None:
        c = chart()
        c, _ = attach(
            c, development=True, password=secret_value(c), client_password=secret_value(c, "client")
        )
        cfg = envoy(c)
        assert redis_filter(cfg)["downstream_auth_passwords"] == [
            {"filename": "/etc/envoy-downstream-auth/password"}
        ]
        # The scratch Redis is reached on loopback only; the upstream password is not needed.
        assert "typed_extension_protocol_options" not in cluster(cfg, "redis_primary")
        redis = containers(synth(c))["redis-ambassador-redis"]
        assert "--requirepass" not in redis["args"]
        assert "env" not in redis

    def test_as_native_sidecars_redis_starts_before_the_proxy(self) -> None:
        c, _ = attach(development=True, native_sidecar=True)
        inits = pod(synth(c))["initContainers"]
        assert [i["name"] for i in inits] == ["redis-ambassador-redis", "redis-ambassador"]
        assert inits[0]["restartPolicy"] == "Always"
        assert inits[0]["startupProbe"]["exec"]["command"][-1] == "ping"


class TestErrors:
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"primary": None}, r"test/cache: primary=None: no primary"),
            ({"primary": "redis-primary"}, r"primary='redis-primary': not host:port"),
            ({"primary": "redis:99999"}, r"primary='redis:99999': the port is not in 1-65535"),
            ({"primary": "Redis_Primary:6379"}, "neither a DNS name nor an IPv4"),
            ({"replicas": ["r1:6379", "r2"]}, r"replicas\[1\]='r2': not host:port"),
            ({"port": 0}, r"port=0: not a TCP/UDP port number"),
            ({"port": 8080}, r"port=8080: container 'app' already uses TCP port 8080"),
            ({"op_timeout": cdk8s.Duration.millis(0)}, r"op_timeout='0ms': must be at least 1ms"),
            ({"connect_timeout": cdk8s.Duration.millis(0)}, "connect_timeout"),
            (
                {"shutdown_delay": cdk8s.Duration.seconds(30)},
                r"shutdown_delay='30000ms': must be shorter than",
            ),
            ({"admin_port": 6379}, "must differ"),
            ({"stats_port_name": "redis-ambassador-port"}, "port name"),
            ({"development": True, "development_port": 9902}, "must differ"),
            ({"health_check_interval": cdk8s.Duration.millis(50)}, "at least 100ms"),
            ({"url_env": "redis-url"}, "not an environment variable name"),
            ({"image": "envoyproxy/envoy:latest"}, "not pinned"),
            ({"concurrency": 0}, "concurrency=0"),
            ({"routes": [RedisRoute(prefix="", primary=PRIMARY)]}, r"routes\[0\].prefix"),
        ],
    )
    def test_bad_props(self, kw: dict[str, Any], match: str) -> None:
        with pytest.raises(PropsError, match=match):
            attach(**kw)

    @pytest.mark.parametrize("prop", ["password", "client_password"])
    def test_literal_password_is_refused(self, prop: str) -> None:
        literal: dict[str, Any] = {prop: "hunter2"}
        with pytest.raises(PropsError, match=rf"{prop}='<literal>'.*never a literal") as err:
            attach(**literal)
        assert "hunter2" not in str(err.value)

    def test_two_ambassadors_on_the_same_local_port(self) -> None:
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "a", deployment=dep, primary=PRIMARY)
        with pytest.raises(
            CollisionError, match=r"test/b: port=6379: container 'redis-ambassador' already uses"
        ):
            RedisAmbassador(
                c,
                "b",
                deployment=dep,
                primary=PRIMARY,
                name="b",
                port=6379,
            )

    def test_two_ambassadors_on_the_same_admin_port(self) -> None:
        """Envoy's admin binds 127.0.0.1 only and is not a declared port; it still collides."""
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "a", deployment=dep, primary=PRIMARY)
        with pytest.raises(CollisionError, match=r"test/b: admin_port=9901: container 'redis-ambassador'"):
            RedisAmbassador(
                c,
                "b",
                deployment=dep,
                primary=PRIMARY,
                name="b",
                admin_port=9901,
            )

    def test_admin_port_on_the_apps_port(self) -> None:
        with pytest.raises(
            CollisionError, match=r"admin_port=8080: container 'app' already uses TCP port 8080"
        ):
            attach(admin_port=8080)

    def test_duplicate_route_prefixes(self) -> None:
        routes = [RedisRoute(prefix="a:", primary=PRIMARY), RedisRoute(prefix="a:", primary=REPLICA)]
        with pytest.raises(PropsError, match=r"routes\[1\].prefix='a:': another route has this prefix"):
            attach(routes=routes)

    def test_a_multi_port_service_needs_a_redis_port(self) -> None:
        c = chart()
        svc = kplus.Service(
            c,
            "multi",
            ports=[
                kplus.ServicePort(port=26379, name="sentinel"),
                kplus.ServicePort(port=6379, name="redis"),
            ],
        )
        _, amb = attach(c, primary=svc, replicas=[])
        assert amb.primary is not None
        assert amb.primary.port == 6379
        bad = kplus.Service(
            c, "bad", ports=[kplus.ServicePort(port=1, name="a"), kplus.ServicePort(port=2, name="b")]
        )
        with pytest.raises(PropsError, match="has 2 ports and none is named 'redis'"):
            attach(chart(), primary=bad)

    def test_wrong_types(self) -> None:
        with pytest.raises(PropsError, match="deployment='str': not a cdk8s-plus-27 workload"):
            RedisAmbassador(chart(), "x", deployment="web", primary=PRIMARY)  # type: ignore[arg-type]
        with pytest.raises(PropsError, match="native_sidecar='no': not True or False"):
            attach(native_sidecar="no")
        with pytest.raises(PropsError, match="not a whole number of milliseconds"):
            attach(op_timeout=cdk8s.Duration.millis(10.5))

    def test_env_collision_between_two_ambassadors(self) -> None:
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "a", deployment=dep, primary=PRIMARY, url_env="DB_URL")
        with pytest.raises(CollisionError, match="url_env='DB_URL': container 'app' already has"):
            RedisAmbassador(c, "b", deployment=dep, primary=PRIMARY, name="b", url_env="DB_URL")

    def test_env_names_follow_the_name_not_what_the_pod_holds(self) -> None:
        """One rule a reader predicts from the props: REDIS_* for the default name, <NAME>_*
        otherwise, for a first ambassador too (it used to depend on what the pod held)."""
        c = chart()
        amb = RedisAmbassador(c, "cache", workload=web(c), primary=PRIMARY, name="cache-proxy")
        assert amb.env_names == {
            "host_env": "CACHE_PROXY_HOST",
            "port_env": "CACHE_PROXY_PORT",
            "url_env": "CACHE_PROXY_URL",
            "password_env": "CACHE_PROXY_PASSWORD",
            "protocol_env": "CACHE_PROXY_PROTOCOL",
        }

    def test_an_explicit_env_name_is_never_renamed(self) -> None:
        """An explicit url_env="REDIS_URL" on a second ambassador silently became SESSIONS_URL."""
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "a", workload=dep, primary=PRIMARY)
        with pytest.raises(CollisionError, match="url_env='REDIS_URL': container 'app' already has"):
            RedisAmbassador(c, "b", workload=dep, primary=PRIMARY, name="sessions", url_env="REDIS_URL")

    def test_select_is_refused_by_the_proxy(self) -> None:
        """Envoy answers SELECT with OK and keeps the client on database 0 (measured with the real
        Envoy in tests/test_client_matrix.py): refused with Envoy's fault injection instead."""
        _, amb = attach()
        (proxy,) = [f for f in amb.envoy_config["static_resources"]["listeners"][0]["filter_chains"]]
        faults = proxy["filters"][0]["typed_config"]["faults"]
        assert faults == [
            {
                "commands": ["select"],
                "fault_enabled": {"default_value": {"denominator": "HUNDRED", "numerator": 100}},
                "fault_type": "ERROR",
            }
        ]

    def test_a_second_ambassador_needs_one_prop(self) -> None:
        """Ports, port name and env names of a second instance derive from its name."""
        c = chart()
        dep = web(c)
        RedisAmbassador(c, "a", workload=dep, primary=PRIMARY)
        b = RedisAmbassador(c, "b", workload=dep, primary="sessions.data.svc:6379", name="sessions")
        assert (b.port, b.stats_port, b.url) == (6380, 9904, "redis://127.0.0.1:6380")
        assert b.metrics_port_name == "sessions-stats"
        assert b.env_names == {
            "host_env": "SESSIONS_HOST",
            "port_env": "SESSIONS_PORT",
            "url_env": "SESSIONS_URL",
            "password_env": "SESSIONS_PASSWORD",
            "protocol_env": "SESSIONS_PROTOCOL",
        }
        docs = synth(c)
        validate(docs, K8S_OLDEST)
        env = {e["name"]: e.get("value") for e in containers(docs)["app"]["env"]}
        assert env["REDIS_URL"] == "redis://127.0.0.1:6379"
        assert env["SESSIONS_URL"] == "redis://127.0.0.1:6380"


class TestShapes:
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"routes": RedisRoute(prefix="a:", primary=PRIMARY)}, "not a list of RedisRoute"),
            ({"routes": [{"prefix": "a:"}]}, r"routes\[0\]='dict': not a RedisRoute"),
            ({"replicas": "r:6379"}, "replicas='r:6379': not a list"),
            ({"routes": [RedisRoute(prefix="a:", primary=PRIMARY, remove_prefix="no")]}, "not True or False"),  # type: ignore[arg-type]
            ({"host_env": "X", "port_env": "X"}, "port_env='X': host_env has the same name"),
            ({"url_env": "P", "password_env": "P"}, "password_env='P': url_env has the same name"),
            ({"resources": {"cpu": 1}}, "not a kplus.ContainerResources"),
            ({"op_timeout": 0}, "not a cdk8s.Duration"),
            ({"password": {"redis://x": "hunter2"}}, r"password='<dict, redacted>'"),
        ],
    )
    def test_bad_shapes(self, kw: dict[str, Any], match: str) -> None:
        with pytest.raises(PropsError, match=match) as err:
            attach(**kw)
        assert "hunter2" not in str(err.value)

    def test_pattern_in_another_namespace(self) -> None:
        app = cdk8s.App()
        shop = cdk8s.Chart(app, "shop", namespace="shop")
        mon = cdk8s.Chart(app, "mon", namespace="monitoring")
        dep = web(shop)
        with pytest.raises(PropsError, match="the Deployment is in namespace 'shop'"):
            RedisAmbassador(mon, "cache", deployment=dep, primary=PRIMARY)

    def test_development_mode_uses_the_same_ports(self) -> None:
        _, amb = attach(development=True, port=6400, admin_port=9801, stats_port=9802)
        assert amb.url == "redis://127.0.0.1:6400"
        assert amb.envoy_config["admin"]["address"]["socket_address"]["port_value"] == 9801


SHARDS = [
    RedisShard("redis-0.data.svc:6379"),
    RedisShard("redis-1.data.svc:6379"),
    RedisShard("redis-2.data.svc:6379"),
]


def shards_attach(**kw: Any) -> tuple[cdk8s.Chart, RedisAmbassador]:
    kw.setdefault("shards", SHARDS)
    return attach(primary=None, replicas=[], **kw)


def cluster_attach(**kw: Any) -> tuple[cdk8s.Chart, RedisAmbassador]:
    kw.setdefault("cluster", RedisClusterTopology(seeds=["redis-cluster.data.svc:6379"]))
    return attach(primary=None, replicas=[], **kw)


def endpoints(cfg: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list(cluster(cfg, name)["load_assignment"]["endpoints"][0]["lb_endpoints"])


class TestShards:
    def test_every_shard_primary_is_a_host_of_one_consistent_hash_cluster(self) -> None:
        c, amb = shards_attach()
        cfg = envoy(c)
        proxy = redis_filter(cfg)
        assert proxy["prefix_routes"] == {"catch_all_route": {"cluster": "redis_shards"}}
        # Only the part of a key in {...} is hashed; every command of a key goes to its shard.
        assert proxy["settings"] == {"op_timeout": "5s", "enable_hashtagging": True}
        shards = cluster(cfg, "redis_shards")
        assert shards["lb_policy"] == "MAGLEV"
        assert shards["maglev_lb_config"] == {"table_size": 65537}
        assert shards["type"] == "STRICT_DNS"
        # No health check: a failed check would take the shard off the table and move its keys.
        assert "health_checks" not in shards
        assert [
            (
                e["endpoint"]["address"]["socket_address"]["address"],
                e["metadata"]["filter_metadata"]["envoy.lb"],
            )
            for e in endpoints(cfg, "redis_shards")
        ] == [(f"redis-{i}.data.svc", {"hash_key": f"redis-{i}.data.svc:6379"}) for i in range(3)]
        assert [x["name"] for x in cfg["static_resources"]["clusters"]] == ["envoy_admin", "redis_shards"]
        assert (amb.topology, amb.primary) == ("sharded", None)
        assert [name for name, _ in amb.shards] == [f"redis-{i}.data.svc:6379" for i in range(3)]
        validate(synth(c), K8S_OLDEST)

    def test_the_config_is_the_same_whatever_the_order_of_the_shards(self) -> None:
        c1, _ = shards_attach()
        c2, _ = shards_attach(shards=SHARDS[::-1])
        assert envoy(c1) == envoy(c2)

    def test_a_named_shard_keeps_its_keys_when_its_address_changes(self) -> None:
        c1, _ = shards_attach(shards=[RedisShard("old.data.svc:6379", name="a"), SHARDS[1]])
        c2, _ = shards_attach(shards=[RedisShard("new.data.svc:6380", name="a"), SHARDS[1]])
        keys1 = [e["metadata"] for e in endpoints(envoy(c1), "redis_shards")]
        keys2 = [e["metadata"] for e in endpoints(envoy(c2), "redis_shards")]
        assert keys1 == keys2

    def test_ring_hash_has_a_fixed_number_of_points_per_shard(self) -> None:
        c, _ = shards_attach(shard_hashing="ring_hash")
        shards = cluster(envoy(c), "redis_shards")
        assert shards["lb_policy"] == "RING_HASH"
        assert shards["ring_hash_lb_config"] == {"minimum_ring_size": 3 * 16384}

    def test_upstream_auth_on_the_shards(self) -> None:
        c = chart()
        c, _ = shards_attach(c=c, password=secret_value(c))
        opts = cluster(envoy(c), "redis_shards")["typed_extension_protocol_options"]
        assert opts["envoy.filters.network.redis_proxy"]["auth_password"] == {
            "filename": "/etc/envoy-upstream-auth/password"
        }

    def test_routes_beside_shards(self) -> None:
        c, _ = shards_attach(routes=[RedisRoute(prefix="s:", primary="sessions.data.svc:6379")])
        routes = redis_filter(envoy(c))["prefix_routes"]
        assert routes["catch_all_route"] == {"cluster": "redis_shards"}
        assert routes["routes"][0]["cluster"] == "route0_primary"

    def test_development_mode_the_pods_redis_is_the_one_shard(self) -> None:
        c, amb = shards_attach(development=True)
        cfg = envoy(c)
        assert redis_filter(cfg)["settings"] == {"op_timeout": "5s", "enable_hashtagging": True}
        assert [e["endpoint"]["address"]["socket_address"] for e in endpoints(cfg, "redis_shards")] == [
            {"address": "127.0.0.1", "port_value": 16379}
        ]
        assert cluster(cfg, "redis_shards")["lb_policy"] == "MAGLEV"
        assert amb.redis_container is not None
        assert containers(synth(c))["app"]["env"][2] == {
            "name": "REDIS_URL",
            "value": "redis://127.0.0.1:6379",
        }

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            (
                {"shards": SHARDS, "primary": PRIMARY},
                r"shards='given with primary': primary/replicas, shards",
            ),
            ({"shards": SHARDS, "replicas": [REPLICA]}, r"shards='given with primary'"),
            ({"shards": SHARDS[0]}, "shards='RedisShard': not a list of RedisShard"),
            ({"shards": ["redis-0:6379"]}, r"shards\[0\]='str': not a RedisShard"),
            ({"shards": [RedisShard("redis-0")]}, r"shards\[0\].primary='redis-0': not host:port"),
            (
                {"shards": [SHARDS[0], SHARDS[0]]},
                r"shards\[1\].primary='redis-0.data.svc:6379': shards\[0\] has",
            ),
            (
                {"shards": [RedisShard("a:6379", name="x"), RedisShard("b:6379", name="x")]},
                r"shards\[1\].name='x': shards\[0\] has the same name",
            ),
            (
                {"shards": [RedisShard("a:6379", name="b:6379"), RedisShard("b:6379")]},
                r"shards\[1\].name='b:6379': .*defaults to its primary",
            ),
            ({"shards": [RedisShard("a:6379", name="x\ny")]}, r"shards\[0\].name"),
            ({"shards": SHARDS, "shard_hashing": "consistent"}, "shard_hashing='consistent': not 'maglev'"),
            (
                {"shards": [RedisShard(f"r{i}:6379") for i in range(513)], "shard_hashing": "ring_hash"},
                "shards='513 shards': a ring of 16384 points per shard exceeds",
            ),
        ],
    )
    def test_bad_shards(self, kw: dict[str, Any], match: str) -> None:
        kw.setdefault("primary", None)
        kw.setdefault("replicas", [])
        with pytest.raises(PropsError, match=match):
            attach(**kw)


class TestRedisCluster:
    def test_envoys_redis_cluster_type_with_redirection(self) -> None:
        c, amb = cluster_attach()
        cfg = envoy(c)
        proxy = redis_filter(cfg)
        assert proxy["prefix_routes"] == {"catch_all_route": {"cluster": "redis_cluster"}}
        assert proxy["settings"] == {
            "op_timeout": "5s",
            "enable_hashtagging": True,
            "enable_redirection": True,
            "read_policy": "MASTER",
        }
        rc = cluster(cfg, "redis_cluster")
        assert rc["lb_policy"] == "CLUSTER_PROVIDED"
        # Ready without the first slot map: a cluster down at start fails commands, not the probe.
        assert rc["wait_for_warm_on_init"] is False
        assert "type" not in rc
        assert rc["cluster_type"] == {
            "name": "envoy.clusters.redis",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig",
                "cluster_refresh_rate": "5s",
                "failure_refresh_threshold": 1,
                "host_degraded_refresh_threshold": 1,
                "redirect_refresh_interval": "1s",
            },
        }
        assert [e["endpoint"]["address"]["socket_address"] for e in endpoints(cfg, "redis_cluster")] == [
            {"address": "redis-cluster.data.svc", "port_value": 6379}
        ]
        assert rc["health_checks"][0]["custom_health_check"]["name"] == "envoy.health_checkers.redis"
        assert (amb.topology, amb.primary) == ("cluster", None)
        assert [(u.host, u.port) for u in amb.cluster_seeds] == [("redis-cluster.data.svc", 6379)]
        validate(synth(c), K8S_OLDEST)

    @pytest.mark.parametrize("policy", ["master", "prefer_master", "replica", "prefer_replica", "any"])
    def test_read_policy(self, policy: str) -> None:
        c, _ = cluster_attach(cluster=RedisClusterTopology(seeds=[PRIMARY], read_policy=policy))  # type: ignore[arg-type]
        assert redis_filter(envoy(c))["settings"]["read_policy"] == policy.upper()

    def test_refresh_rate(self) -> None:
        topology = RedisClusterTopology(seeds=[PRIMARY, REPLICA], refresh_rate=cdk8s.Duration.millis(1500))
        c, _ = cluster_attach(cluster=topology)
        cfg = envoy(c)
        assert cluster(cfg, "redis_cluster")["cluster_type"]["typed_config"]["cluster_refresh_rate"] == "1.5s"
        assert len(endpoints(cfg, "redis_cluster")) == 2

    def test_development_mode_same_proxy_settings_one_redis(self) -> None:
        c, amb = cluster_attach(development=True)
        cfg = envoy(c)
        assert redis_filter(cfg)["settings"]["enable_redirection"] is True
        assert redis_filter(cfg)["prefix_routes"] == {"catch_all_route": {"cluster": "redis_primary"}}
        assert [e["endpoint"]["address"]["socket_address"] for e in endpoints(cfg, "redis_primary")] == [
            {"address": "127.0.0.1", "port_value": 16379}
        ]
        assert (amb.topology, amb.cluster_seeds) == ("cluster", [])

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            (
                {"cluster": RedisClusterTopology(seeds=[PRIMARY]), "primary": PRIMARY},
                r"cluster='given with primary'",
            ),
            (
                {"cluster": RedisClusterTopology(seeds=[PRIMARY]), "shards": SHARDS},
                r"cluster='given with shards'",
            ),
            ({"cluster": "redis-cluster:6379"}, "cluster='str': not a RedisClusterTopology"),
            ({"cluster": RedisClusterTopology(seeds=[])}, r"cluster.seeds=\[\]: not a non-empty list"),
            (
                {"cluster": RedisClusterTopology(seeds="rc:6379")},
                "cluster.seeds='rc:6379': not a non-empty list",
            ),
            ({"cluster": RedisClusterTopology(seeds=["rc"])}, r"cluster.seeds\[0\]='rc': not host:port"),
            (
                {"cluster": RedisClusterTopology(seeds=[PRIMARY], read_policy="primary")},  # type: ignore[arg-type]
                "cluster.read_policy='primary': not one of Envoy's read policies",
            ),
            (
                {"cluster": RedisClusterTopology(seeds=[PRIMARY], refresh_rate=cdk8s.Duration.millis(10))},
                "cluster.refresh_rate='10ms': must be at least 100ms",
            ),
        ],
    )
    def test_bad_cluster(self, kw: dict[str, Any], match: str) -> None:
        kw.setdefault("primary", None)
        kw.setdefault("replicas", [])
        with pytest.raises(PropsError, match=match):
            attach(**kw)


NODES = [f"redis-node-{i}.redis-headless.data.svc.cluster.local:6379" for i in range(3)]


def sentinel_attach(**kw: Any) -> tuple[cdk8s.Chart, RedisAmbassador]:
    kw.setdefault("sentinel", RedisSentinelTopology(servers=NODES))
    return attach(primary=None, replicas=[], **kw)


def role_check(cfg: dict[str, Any]) -> dict[str, Any]:
    (check,) = cluster(cfg, "redis_primary")["health_checks"]
    return dict(check)


class TestSentinel:
    def test_writes_to_the_node_that_says_master_reads_to_every_live_node(self) -> None:
        c, amb = sentinel_attach()
        cfg = envoy(c)
        proxy = redis_filter(cfg)
        assert proxy["prefix_routes"] == {
            "catch_all_route": {
                "cluster": "redis_primary",
                "read_command_policy": {"cluster": "redis_replicas"},
            }
        }
        assert proxy["settings"] == {"op_timeout": "5s"}  # no hash tags, no redirection
        assert [x["name"] for x in cfg["static_resources"]["clusters"]] == [
            "envoy_admin",
            "redis_primary",
            "redis_replicas",
        ]
        for name in ("redis_primary", "redis_replicas"):
            found = cluster(cfg, name)
            assert [e["endpoint"]["address"]["socket_address"] for e in endpoints(cfg, name)] == [
                {"address": h, "port_value": 6379} for h in (n.rsplit(":", 1)[0] for n in NODES)
            ]
            assert (found["type"], found["lb_policy"]) == ("STRICT_DNS", "RING_HASH")
            # Envoy's default panic threshold (50%) would send writes to replicas while 1 of 3 passes.
            assert found["common_lb_config"] == {"healthy_panic_threshold": {"value": 0}}
            assert "typed_extension_protocol_options" not in found
        check = role_check(cfg)
        tcp = check["tcp_health_check"]
        assert bytes.fromhex(tcp["send"]["text"]) == b"*1\r\n$4\r\nROLE\r\n"
        # "master", then an online replica listed (an array of 3: ip, port, offset).
        assert [bytes.fromhex(r["text"]) for r in tcp["receive"]] == [b"master", b"*3\r\n"]
        assert {k: check[k] for k in ("timeout", "interval", "no_traffic_interval")} == {
            "timeout": "0.5s",
            "interval": "1s",
            "no_traffic_interval": "1s",
        }
        assert (check["unhealthy_threshold"], check["healthy_threshold"]) == (1, 1)
        (ping,) = cluster(cfg, "redis_replicas")["health_checks"]
        assert ping["custom_health_check"]["name"] == "envoy.health_checkers.redis"
        assert (amb.topology, amb.primary, amb.replicas) == ("sentinel", None, [])
        assert (amb.sentinel_servers[0].host, amb.sentinel_servers[0].port) == (
            "redis-node-0.redis-headless.data.svc.cluster.local",
            6379,
        )
        proxy_container = containers(synth(c))["redis-ambassador"]
        assert proxy_container["command"] == ["envoy"]  # no password: the ConfigMap as it is
        assert "volumes" not in pod(synth(c)) or all("emptyDir" not in v for v in pod(synth(c))["volumes"])
        validate(synth(c), K8S_OLDEST)
        validate(synth(c), K8S_NEWEST)

    def test_require_replica_off_passes_a_lone_primary(self) -> None:
        c, _ = sentinel_attach(sentinel=RedisSentinelTopology(servers=NODES, require_replica=False))
        receive = role_check(envoy(c))["tcp_health_check"]["receive"]
        assert [bytes.fromhex(r["text"]) for r in receive] == [b"master"]

    def test_interval_and_connect_timeout_set_the_checks(self) -> None:
        c, _ = sentinel_attach(
            health_check_interval=cdk8s.Duration.seconds(2), connect_timeout=cdk8s.Duration.millis(300)
        )
        cfg = envoy(c)
        for check in (role_check(cfg), cluster(cfg, "redis_replicas")["health_checks"][0]):
            assert (check["interval"], check["no_traffic_interval"], check["timeout"]) == ("2s", "2s", "0.3s")
        assert cluster(cfg, "redis_primary")["connect_timeout"] == "0.3s"

    def test_services_as_data_nodes(self) -> None:
        c = chart()
        svcs = [
            kplus.Service(c, f"node{i}", ports=[kplus.ServicePort(port=6379)], metadata={"namespace": "data"})
            for i in range(2)
        ]
        _, amb = sentinel_attach(c=c, sentinel=RedisSentinelTopology(servers=svcs))
        hosts = [
            e["endpoint"]["address"]["socket_address"]["address"]
            for e in endpoints(envoy(c), "redis_primary")
        ]
        assert hosts == [f"{s.name}.data.svc" for s in svcs]
        assert len(amb.sentinel_servers) == 2

    def test_with_a_password_the_manifest_holds_a_placeholder_and_a_start_script(self) -> None:
        c = chart()
        pw = secret_value(c)
        c, amb = sentinel_attach(c=c, password=pw, client_password=pw)
        docs = synth(c)
        cfg = envoy(c)
        tcp = role_check(cfg)["tcp_health_check"]
        # The ConfigMap's payload: the placeholder where AUTH <password> goes, then ROLE.
        assert bytes.fromhex(tcp["send"]["text"]) == b"@@redis-password-from-file@@" + rs.resp_command("ROLE")
        assert tcp["send"]["text"].startswith(rs.PASSWORD_PLACEHOLDER_HEX)
        assert "41555448" not in str(cfg)  # no AUTH command (hex) anywhere in the config
        for name in ("redis_primary", "redis_replicas"):
            opts = cluster(cfg, name)["typed_extension_protocol_options"]
            assert opts["envoy.filters.network.redis_proxy"]["auth_password"] == {
                "filename": "/etc/envoy-upstream-auth/password"
            }
        proxy_container = containers(docs)["redis-ambassador"]
        command = proxy_container["command"]
        assert command[:2] == ["sh", "-c"]
        assert "args" not in proxy_container
        script = command[2]
        assert "/etc/envoy-upstream-auth/password" in script
        assert (
            'sed "s/' + rs.PASSWORD_PLACEHOLDER_HEX + '/$hex/" /etc/envoy/envoy.yaml > /run/envoy/envoy.yaml'
            in script
        )
        assert script.endswith(
            "exec envoy --config-path /run/envoy/envoy.yaml --disable-hot-restart --concurrency 1 "
            "--log-level warn"
        )
        # Kubernetes turns $$ into $ in a command; the script's $( ) name no variable of the container.
        assert "$$" not in script
        assert "env" not in proxy_container
        mounts = {m["mountPath"]: m["name"] for m in proxy_container["volumeMounts"]}
        assert mounts["/run/envoy"] == "redis-ambassador-run"
        volumes = {v["name"]: v for v in pod(docs)["volumes"]}
        assert volumes["redis-ambassador-run"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}
        assert volumes["redis-ambassador-upstream-auth"]["secret"]["secretName"] == "redis"
        # No Secret, and no value from one, anywhere in the manifests.
        assert not kind(docs, "Secret")
        assert all(d["kind"] == "ConfigMap" or not {"data", "stringData"} & set(d) for d in docs)
        assert amb.container.spec["command"] == command
        validate(docs, K8S_OLDEST)

    def test_without_upstream_password_no_script(self) -> None:
        c = chart()
        c, _ = sentinel_attach(c=c, client_password=secret_value(c))
        assert containers(synth(c))["redis-ambassador"]["command"] == ["envoy"]

    @pytest.mark.parametrize(
        "image",
        ["envoyproxy/envoy-distroless:v1.40.0", "registry.internal/envoyproxy/envoy-distroless:v1.40.0"],
    )
    def test_an_image_without_a_shell_is_refused_with_a_password(self, image: str) -> None:
        c = chart()
        with pytest.raises(
            PropsError, match=rf"image='{image}': with sentinel and password, .* has no shell"
        ):
            sentinel_attach(c=c, password=secret_value(c), image=image)
        # Without a password there is no script: the distroless image runs Envoy as it is.
        sentinel_attach(image=image)

    def test_development_mode_keeps_the_single_upstream_config(self) -> None:
        c = chart()
        c, amb = sentinel_attach(c=c, development=True, password=secret_value(c))
        cfg = envoy(c)
        assert redis_filter(cfg)["prefix_routes"] == {"catch_all_route": {"cluster": "redis_primary"}}
        assert redis_filter(cfg)["settings"] == {"op_timeout": "5s"}
        assert [e["endpoint"]["address"]["socket_address"] for e in endpoints(cfg, "redis_primary")] == [
            {"address": "127.0.0.1", "port_value": 16379}
        ]
        assert "tcp_health_check" not in str(cfg)
        assert containers(synth(c))["redis-ambassador"]["command"] == ["envoy"]
        assert (amb.topology, amb.sentinel_servers) == ("sentinel", [])
        assert amb.redis_container is not None

    def test_routes_beside_sentinel(self) -> None:
        c, _ = sentinel_attach(routes=[RedisRoute(prefix="s:", primary="sessions.data.svc:6379")])
        routes = redis_filter(envoy(c))["prefix_routes"]
        assert routes["catch_all_route"]["cluster"] == "redis_primary"
        assert routes["routes"][0]["cluster"] == "route0_primary"

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            (
                {"primary": PRIMARY},
                r"test/cache: sentinel='given with primary': primary/replicas, shards, cluster and sentinel",
            ),
            ({"replicas": [REPLICA]}, r"sentinel='given with primary'"),
            ({"shards": SHARDS}, r"sentinel='given with shards'"),
            (
                {"cluster": RedisClusterTopology(seeds=[PRIMARY])},
                r"sentinel='given with cluster': .* keep cluster or sentinel",
            ),
            ({"sentinel": NODES}, "sentinel='list': not a RedisSentinelTopology"),
            ({"sentinel": RedisSentinelTopology(servers=[])}, r"sentinel.servers=\[\]: not a non-empty list"),
            (
                {"sentinel": RedisSentinelTopology(servers=NODES[0])},
                r"sentinel.servers='redis-node-0.*': not a non-empty list",
            ),
            (
                {"sentinel": RedisSentinelTopology(servers=["redis-node-0"])},
                r"sentinel.servers\[0\]='redis-node-0': not host:port",
            ),
            (
                {"sentinel": RedisSentinelTopology(servers=[NODES[0], NODES[1], NODES[0]])},
                r"sentinel.servers\[2\]='redis-node-0.*': sentinel.servers\[0\] is the same server",
            ),
            (
                {"sentinel": RedisSentinelTopology(servers=NODES, require_replica="yes")},  # type: ignore[arg-type]
                "sentinel.require_replica='yes'",
            ),
            (
                {"read_fallback": False},
                "read_fallback=False: the Sentinel topology sends reads to every node",
            ),
            (
                {"read_fallback": False, "development": True},
                "read_fallback=False: the Sentinel topology",
            ),
        ],
    )
    def test_bad_sentinel(self, kw: dict[str, Any], match: str) -> None:
        kw.setdefault("sentinel", RedisSentinelTopology(servers=NODES))
        kw.setdefault("primary", None)
        kw.setdefault("replicas", [])
        with pytest.raises(PropsError, match=match):
            attach(**kw)
