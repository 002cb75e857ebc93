"""Ambassador: the app talks to Redis on localhost; Envoy sends writes to the primary and
reads to the replicas. The Redis servers come from plain cdk8s-plus Deployments here.

The Secret ``redis`` (key ``password``) is created out of band; it protects the servers
and the ambassador alike. The app reads REDIS_URL and REDIS_PASSWORD for its cache, and
SESSIONS_URL for a second Redis deployment reached through a second ambassador.
"""

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
from constructs_lib import RedisAmbassador, container_resources, restricted_pod_security

# isort: split
import cdk8s
import cdk8s_plus_27 as kplus

REDIS_IMAGE = "redis:7.4.2-alpine"
REDIS_UID = 999  # the image's redis user


def redis_servers(chart: cdk8s.Chart, password: kplus.SecretValue) -> tuple[kplus.Service, kplus.Service]:
    """One primary and two read replicas (ephemeral cache: data lives in memory)."""

    def server(id: str, replicas: int, extra: list[str], readiness: kplus.Probe) -> kplus.Service:
        dep = kplus.Deployment(chart, id, replicas=replicas)
        c = dep.add_container(
            name="redis",
            image=REDIS_IMAGE,
            command=["redis-server"],
            # Kubernetes expands $(REDIS_PASSWORD) from the Secret; the manifest holds no value.
            args=[
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                "$(REDIS_PASSWORD)",
                "--masterauth",
                "$(REDIS_PASSWORD)",
                *extra,
            ],
            ports=[kplus.ContainerPort(number=6379, name="redis")],
            security_context=kplus.ContainerSecurityContextProps(user=REDIS_UID, group=REDIS_UID),
            resources=container_resources(100, 1000, 256, 512),
            readiness=readiness,
        )
        c.env.add_variable("REDIS_PASSWORD", kplus.EnvValue.from_secret_value(password))
        c.mount("/data", kplus.Volume.from_empty_dir(chart, f"{id}-data", "data"))
        restricted_pod_security(dep)
        return dep.expose_via_service(ports=[kplus.ServicePort(port=6379, name="redis")], name=id)

    primary = server("redis-primary", 1, [], kplus.Probe.from_tcp_socket(port=6379))
    # A replica is Ready once it has synced from the primary: until then it answers reads with
    # nothing (the first sync waits repl-diskless-sync-delay, 5s), and the Service, so the
    # ambassador, would send reads to it. REDISCLI_AUTH keeps the password off the command line.
    synced = kplus.Probe.from_command(
        [
            "sh",
            "-c",
            'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli info replication | grep -q "^master_link_status:up"',
        ]
    )
    replicas = server("redis-replicas", 2, ["--replicaof", "redis-primary", "6379"], synced)
    return primary, replicas


def add_app(chart: cdk8s.Chart) -> kplus.Deployment:
    api = kplus.Deployment(chart, "api", replicas=3)
    api.add_container(
        name="api",
        image="example/shop-api:1.4.2",
        ports=[kplus.ContainerPort(number=8000, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(100, 1000, 128, 256),
        readiness=kplus.Probe.from_http_get("/healthz", port=8000),
    )
    restricted_pod_security(api)
    return api


def build(app: cdk8s.App) -> cdk8s.Chart:
    chart = cdk8s.Chart(app, "redis-ambassador", namespace="shop")
    password = kplus.SecretValue(
        secret=kplus.Secret.from_secret_name(chart, "redis", "redis"), key="password"
    )
    primary, replicas = redis_servers(chart, password)

    api = add_app(chart)
    cache = RedisAmbassador(
        chart,
        "cache",
        workload=api,
        primary=primary,
        replicas=[replicas],
        password=password,  # Envoy AUTHs to the servers
        client_password=password,  # and the app AUTHs to Envoy (REDIS_PASSWORD)
        op_timeout=cdk8s.Duration.seconds(2),
    )
    assert cache.url == "redis://127.0.0.1:6379"
    # A second Redis deployment (sessions, run by another team in namespace "data"): a second
    # ambassador needs one prop. Its ports are the next free ones and its env names derive from
    # its name: SESSIONS_HOST, SESSIONS_PORT, SESSIONS_URL.
    sessions = RedisAmbassador(
        chart, "sessions", workload=api, name="sessions", primary="sessions-redis.data.svc:6379"
    )
    assert sessions.url == "redis://127.0.0.1:6380"
    return chart


if __name__ == "__main__":
    app = cdk8s.App()
    build(app)
    app.synth()
