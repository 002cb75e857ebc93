"""Every example and every cell of the composition matrix runs as real pods (podman kube play;
see tests/pods/), so the containers of a pod share network namespace, IPC and volumes as on a
node, with the synthesized securityContext, env, volumes and resources applied as written.

Per pod: every container that has an image here runs (a Job's app containers: exited 0), none
restarts, every probe of the manifest passes the way the kubelet runs it, every Envoy's Redis
clusters are healthy (authenticated health checks), a SET and a GET through every ambassador
URL of the app's env succeed, and every scrape target of the pod's discovery answers Prometheus
text. Containers whose image no reachable registry packages (git-sync, statsd_exporter,
jmx_exporter) are left out of the pod and listed in the printed table (README, "Pods that run").
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml

from examples import EXAMPLES

from .matrix import CELLS, Cell
from .pods import PodSet
from .pods.runner import PodSetError
from .pods.scenarios import KEY, check_ambassadors, check_scrapes, redis_cli

pytestmark = pytest.mark.integration

#: The Secrets the examples reference (created out of band in a real cluster).
SECRETS = {"redis": {"password": "pods-test-password"}}
#: Where the runs' tables go (build/ is not committed).
REPORT = Path(__file__).resolve().parent.parent / "build" / "pod-runs.txt"
#: How long the pods must run without a restart before the probes.
SETTLE_SECONDS = 8
#: What a left-out git-sync would have fetched, where the app cannot start without it:
#: workload -> volume -> path -> text (README, "Pods that run").
SEEDS = {
    "statefulset": {
        "sessions": {"git-sync-root": {"redis-acl/users.acl": "user default on nopass ~* &* +@all\n"}}
    },
    # httpd refuses to start on a DocumentRoot that does not exist (AH00526); Tomcat starts, but
    # its root web app fails to (a PreResources base that does not exist).
    "git-sync-apache": {"web": {"git-sync-root": {"site/public/index.html": "synced\n"}}},
    "git-sync-tomcat": {"web": {"git-sync-root": {"site/public/index.html": "synced\n"}}},
}
#: Exporters whose target runs in the pod: their `<exporter>_up` must be 1.
UP = {
    "metrics-nginx": {"web": "nginx_up"},
    "all-patterns": {"web": "nginx_up"},
    "statefulset": {"sessions": "redis_up"},
}


def docs_of(build: Callable[[cdk8s.App], Any]) -> list[dict[str, Any]]:
    app = cdk8s.App()
    build(app)
    return [d for d in yaml.safe_load_all(app.synth_yaml()) if d]


def redis_server(chart: cdk8s.Chart, name: str, *, replica_of: str | None = None, auth: bool = False) -> None:
    """A redis-server Deployment and its Service ``name``, as a team that runs Redis would (the
    examples reach such servers in namespace ``data``; `redis-ambassador` defines its own)."""
    args = ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
    args += ["--requirepass", "$(REDIS_PASSWORD)", "--masterauth", "$(REDIS_PASSWORD)"] if auth else []
    args += ["--replicaof", replica_of, "6379"] if replica_of else []
    dep = kplus.Deployment(chart, name)
    redis = dep.add_container(
        name="redis",
        image="redis:7.4.2-alpine",
        command=["redis-server"],
        args=args,
        ports=[kplus.ContainerPort(number=6379)],
        security_context=kplus.ContainerSecurityContextProps(user=999, group=999),
    )
    if auth:
        secret = kplus.Secret.from_secret_name(chart, f"{name}-pw", "redis")
        redis.env.add_variable(
            "REDIS_PASSWORD",
            kplus.EnvValue.from_secret_value(kplus.SecretValue(secret=secret, key="password")),
        )
    redis.mount("/data", kplus.Volume.from_empty_dir(chart, f"{name}-data", "data"))  # sync temp files
    dep.expose_via_service(ports=[kplus.ServicePort(port=6379)], name=name)


def data_namespace(app: cdk8s.App, *, auth: bool) -> None:
    """``redis-primary.data.svc`` and ``redis-replicas.data.svc``, which all-patterns, job and
    cronjob reach."""
    chart = cdk8s.Chart(app, "data", namespace="data")
    redis_server(chart, "redis-primary", auth=auth)
    redis_server(chart, "redis-replicas", replica_of="redis-primary.data.svc", auth=auth)


#: The servers outside each example that its ambassadors reach.
OUTSIDE: dict[str, Callable[[cdk8s.App], None]] = {
    "all-patterns": lambda app: data_namespace(app, auth=True),
    "job": lambda app: data_namespace(app, auth=False),
    "cronjob": lambda app: data_namespace(app, auth=False),
    # The second ambassador's Redis, run by another team in namespace data (no password).
    "redis-ambassador": lambda app: redis_server(
        cdk8s.Chart(app, "data", namespace="data"), "sessions-redis"
    ),
}


def run(name: str, docs: list[dict[str, Any]], extra: Callable[[PodSet], list[str]] | None = None) -> None:
    with PodSet(docs, secrets=SECRETS, seed=SEEDS.get(name)) as pods:
        time.sleep(SETTLE_SECONDS)
        results = pods.probe_all()
        print(f"\n== {name}\n{pods.report(results)}")
        for pod in pods:
            assert pod.problem() is None, f"{pod.workload}: {pod.problem()}"
            for container in pod.play.containers:
                assert pod.restarts(container) == 0, (pod.workload, container, pod.logs(container)[-2000:])
        failed = [r for r in results if not r.ok]
        assert not failed, failed
        lines = check_ambassadors(pods, SECRETS) + check_scrapes(pods, docs, up=UP.get(name))
        lines += extra(pods) if extra else []
        print("\n".join(f"    {line}" for line in lines))
        # Every run's table, also where pytest captures the output (make test, CI).
        REPORT.parent.mkdir(exist_ok=True)
        with REPORT.open("a") as out:
            out.write(f"== {name}\n{pods.report(results)}\n" + "".join(f"    {line}\n" for line in lines))


def _primary_and_replica(pods: PodSet) -> list[str]:
    """`redis-ambassador`: the write landed on the primary, and a read through the ambassador was
    served by a replica, not by the primary."""
    password = SECRETS["redis"]["password"]
    api, primary, replica = pods["-api-"], pods["redis-primary"], pods["redis-replicas"]
    assert redis_cli(primary, "redis", 6379, password, "get", KEY) == f"{api.workload}-6379"

    def gets(pod: Any) -> int:
        stats = redis_cli(pod, "redis", 6379, password, "info", "commandstats")
        found = re.search(r"cmdstat_get:calls=(\d+)", stats)
        return int(found[1]) if found else 0

    before = (gets(primary), gets(replica))
    for _ in range(5):
        redis_cli(api, "api", 6379, password, "get", KEY)
    after = (gets(primary), gets(replica))
    assert after[0] == before[0], "a read reached the primary"
    assert after[1] == before[1] + 5, (before, after)
    return [f"{primary.workload}: has the key; 5 GETs via the ambassador: replica +5, primary +0"]


def _dev_redis(pods: PodSet) -> list[str]:
    """`redis-ambassador-dev`: the app's write went through Envoy into the pod's own Redis."""
    api = pods["api"]
    assert redis_cli(api, "redis-ambassador-redis", 16379, None, "get", KEY) == f"{api.workload}-6379"
    return [f"{api.workload}: the key is in redis-ambassador-redis (127.0.0.1:16379), written via Envoy"]


EXTRA: dict[str, Callable[[PodSet], list[str]]] = {
    "redis-ambassador": _primary_and_replica,
    "redis-ambassador-dev": _dev_redis,
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_as_pods(name: str) -> None:
    def build(app: cdk8s.App) -> None:
        EXAMPLES[name](app)
        if name in OUTSIDE:
            OUTSIDE[name](app)

    run(name, docs_of(build), EXTRA.get(name))


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.name)
def test_matrix_cell_runs_as_a_pod(cell: Cell) -> None:
    run(cell.name, docs_of(cell.build))


def test_two_envoys_with_hot_restart_clash_in_one_pod() -> None:
    """What `--disable-hot-restart` fixes, shown by the runner: without it the second Envoy of a
    pod cannot bind the hot-restart socket (shared network namespace) and exits."""
    docs = docs_of(next(c for c in CELLS if c.name == "two-ambassadors").build)
    for doc in docs:
        if doc["kind"] == "Deployment":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                if c.get("command") == ["envoy"]:
                    c["args"].remove("--disable-hot-restart")
    with pytest.raises(PodSetError) as err, PodSet(docs, secrets=SECRETS):
        pass
    assert re.search(r"(redis-ambassador|sessions) restarted \d+ times", str(err.value))
    assert "unable to bind domain socket with base_id=0" in str(err.value)
