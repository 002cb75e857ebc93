"""A primary that moves: ``RedisAmbassador(sentinel=...)`` follows a real Sentinel failover.

Real redis-server + redis-sentinel (Debian; 1 primary, 2 replicas, 3 sentinels, quorum 2,
down-after-milliseconds 3000, requirepass) and the real Envoy, run with what was *synthesized*: the
ConfigMap's ``envoy.yaml`` and the proxy container's command (with a password, the ``sh`` start
script that renders the ROLE check's AUTH from the Secret file into the memory emptyDir, then
``exec``s Envoy). Only paths are translated (each volume becomes a directory below a scratch root)
and ``--use-dynamic-base-id`` is added, as tests/ambassador_harness.py does for the other
topologies. The app writes a new key every 100 ms through Envoy; the primary is killed (SIGKILL),
then started again empty. ``bench/sentinel_failover.py`` prints the same figures for every design
measured (a1, a2, b1, b2), several rounds each.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import redis
import yaml

from bench.sentinel_failover import PASSWORD, failover_cycle
from constructs_lib import RedisAmbassador, RedisSentinelTopology
from constructs_lib import _redis_sentinel as rs

from . import envoy_runner
from .ambassador_harness import container
from .programs import free_port
from .redis_servers import NO_RETRY
from .sentinel_servers import SentinelRedis, sentinel_log, sentinel_redis

pytestmark = pytest.mark.integration

#: Writes succeed steadily again within this many seconds of the kill. Measured 4.99/5.17/5.30 s
#: (min/median/max, 3 rounds; bench/sentinel_failover.py, design a2): down-after-milliseconds 3 s +
#: Sentinel's election and promotion ~0.4 s + the other replica re-attaching and Envoy's check
#: cycle (timeout 0.5 s + interval 1 s) 1.0-1.8 s. The margin is for a busy 2-core machine.
RECOVERY_BOUND_S = 8.0
PROXY = "redis-ambassador"


@dataclass
class Synthesized:
    port: int
    stats_port: int
    docs: list[dict[str, Any]]

    @property
    def proxy(self) -> dict[str, Any]:
        return container(self.docs, PROXY)

    @property
    def config(self) -> str:
        """The ConfigMap's envoy.yaml, as synthesized."""
        (text,) = [d["data"]["envoy.yaml"] for d in self.docs if d["kind"] == "ConfigMap"]
        return str(text)


def synthesize(group: SentinelRedis | None, *, password: bool, **kw: Any) -> Synthesized:
    """The app's pod with an ambassador to ``group``'s data nodes (None: three closed loopback
    ports, for a test that runs no server), on free loopback ports."""
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="app", image="example/app:1")
    if password:
        secret = kplus.Secret.from_secret_name(chart, "pw", "redis")
        kw["password"] = kplus.SecretValue(secret=secret, key="password")
    ports = [p for _, p in group.addresses()] if group else [free_port() for _ in range(3)]
    port, stats_port = free_port(), free_port()
    RedisAmbassador(
        chart,
        "cache",
        workload=web,
        sentinel=RedisSentinelTopology(servers=[f"127.0.0.1:{p}" for p in ports]),
        port=port,
        admin_port=free_port(),
        stats_port=stats_port,
        **kw,
    )
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    assert PASSWORD not in str(docs)
    return Synthesized(port, stats_port, docs)


def materialize(amb: Synthesized, root: Path, password: str = PASSWORD) -> list[str]:
    """The proxy's volumes as directories below ``root`` (the Secret file holds ``password``); its
    command with the paths translated, ``--use-dynamic-base-id`` added and Envoy found on PATH."""
    proxy = amb.proxy
    paths = [m["mountPath"] for m in proxy["volumeMounts"]]
    config = amb.config
    for path in paths:
        (root / path.lstrip("/")).mkdir(parents=True)
        config = config.replace(f"{path}/", f"{root}{path}/")
        if "auth" in path:
            (root / path.lstrip("/") / "password").write_bytes(password.encode())
    (root / "etc/envoy/envoy.yaml").write_text(config)

    def translate(text: str) -> str:
        for path in paths:
            text = text.replace(f"{path}/", f"{root}{path}/")
        return text

    command = [translate(a) for a in [*proxy["command"], *proxy.get("args", [])]]
    if command[:2] == ["sh", "-c"]:
        return ["sh", "-c", command[2] + " --use-dynamic-base-id"]
    assert command[0] == "envoy"
    return [*command, "--use-dynamic-base-id"]


@contextmanager
def running(command: list[str], stats_port: int, path: str | None = None) -> Iterator[None]:
    """The proxy container's command (``envoy`` from PATH, as in the image); until /ready is 200."""
    envoy_dir = str(Path(envoy_runner.envoy_binary()).parent)
    env = {**os.environ, "PATH": path or f"{envoy_dir}:{os.environ['PATH']}"}
    with envoy_runner.running_command(command, stats_port, env):
        yield


def test_writes_follow_a_sentinel_failover(tmp_path: Path) -> None:
    with sentinel_redis(tmp_path / "redis", password=PASSWORD) as group:
        amb = synthesize(group, password=True)
        # The ConfigMap holds no password: only the placeholder, and it passes Envoy's validation.
        assert rs.PASSWORD_PLACEHOLDER_HEX in amb.config
        assert PASSWORD.encode().hex() not in amb.config
        command = materialize(amb, tmp_path / "pod")
        assert envoy_runner.validate(tmp_path / "pod/etc/envoy/envoy.yaml").endswith("OK")
        with running(command, amb.stats_port):
            # What the start script wrote (mode 0600, in the emptyDir) is what Envoy runs; valid too.
            rendered = tmp_path / "pod/run/envoy/envoy.yaml"
            assert rendered.stat().st_mode & 0o077 == 0
            assert envoy_runner.validate(rendered).endswith("OK")
            try:
                cycle = failover_cycle("a2", group, amb.port)
            except TimeoutError:
                print(sentinel_log(group))
                raise
    print(f"\nSentinel failover through the synthesized ambassador: {cycle}")
    assert cycle.steady_s < RECOVERY_BOUND_S, cycle
    # While no server passes, Envoy fails the write at once; it never sends it to a replica.
    assert set(cycle.error_kinds) == {"ResponseError: no upstream host"}, cycle
    assert cycle.readonly_at == [], cycle  # READONLY never reaches the app, during or after
    # Every acknowledged write from the kill on is on the final primary: none went to a replica
    # or to the restarted old primary while it claimed master (the split-brain window).
    assert cycle.two_masters_s > 1.0, "the old primary never claimed master: the check proved nothing"
    assert cycle.lost_in_window == 0, cycle
    assert cycle.lost_after_restart == 0, cycle
    assert cycle.restart_errors == 0, cycle
    # Writes acknowledged just before the SIGKILL may not have reached a replica (Redis
    # replicates asynchronously); at one write per 100 ms on loopback, at most one.
    assert cycle.lost_before_kill <= 1, cycle
    # Reads go to every live node: they went on through the failover.
    assert cycle.read_gap_s < RECOVERY_BOUND_S, cycle


def test_without_a_password_envoy_runs_the_configmap_as_it_is(tmp_path: Path) -> None:
    """No AUTH to render: the command is ``envoy`` on the ConfigMap; writes reach the primary (a
    replica would answer READONLY), reads every node."""
    with sentinel_redis(tmp_path / "redis") as group:
        amb = synthesize(group, password=False)
        command = materialize(amb, tmp_path / "pod")
        assert command[0] == "envoy"
        assert envoy_runner.validate(tmp_path / "pod/etc/envoy/envoy.yaml").endswith("OK")
        primary = group.primary()
        with running([envoy_runner.envoy_binary(), *command[1:]], amb.stats_port):
            app = redis.Redis(port=amb.port, protocol=2, decode_responses=True, retry=NO_RETRY)
            deadline = time.monotonic() + 10
            while True:  # the first ROLE check round
                try:
                    assert app.set("k", "v")
                    break
                except redis.exceptions.ResponseError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            for i in range(50):
                assert app.set(f"k{i}", str(i))
            time.sleep(0.5)  # replication to the replicas
            assert [app.get(f"k{i}") for i in range(50)] == [str(i) for i in range(50)]
        calls = {s.port: s.client().info("commandstats") for s in group.servers}
    sets = {port: stats.get("cmdstat_set", {}).get("calls", 0) for port, stats in calls.items()}
    gets = {port: stats.get("cmdstat_get", {}).get("calls", 0) for port, stats in calls.items()}
    print(f"\nthrough the ambassador: SETs by node {sets}, GETs by node {gets} (primary {primary.port})")
    # Every SET was acknowledged, so none reached a replica (READONLY); the replicas count the
    # primary's SETs they applied from the replication stream.
    assert sets[primary.port] == 51
    assert sum(gets.values()) == 50
    assert sum(n > 0 for n in gets.values()) >= 2  # reads spread over the nodes (ring hash by key)


def test_start_script_renders_auth_from_the_secret_file(tmp_path: Path) -> None:
    """The pod's start script, as synthesized: the ROLE check's payload gets ``AUTH <password>``
    from the file, for any bytes (spaces, quotes, ``$``, a newline, UTF-8), and the rendered file
    is private. A stand-in ``envoy`` on PATH prints the config it is given."""
    password = "p a'ss\"$(x)\\\né"
    amb = synthesize(None, password=True)
    command = materialize(amb, tmp_path / "pod", password=password)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "envoy").write_text('#!/bin/sh\ncat "$2"\n')
    (fake / "envoy").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=10).stdout
    clusters = yaml.safe_load(out)["static_resources"]["clusters"]
    (primary,) = [c for c in clusters if c["name"] == "redis_primary"]
    send = primary["health_checks"][0]["tcp_health_check"]["send"]["text"]
    assert bytes.fromhex(send) == rs.resp_command("AUTH", password.encode()) + rs.resp_command("ROLE")
    rendered = tmp_path / "pod/run/envoy/envoy.yaml"
    assert rendered.stat().st_mode & 0o077 == 0
    assert envoy_runner.validate(rendered).endswith("OK")
    assert password not in command[-1]
