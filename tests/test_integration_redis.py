"""The ambassador, proven with real programs: Debian's redis-server and the real Envoy.

Envoy runs with the exact config text and command that were synthesized; what is
translated for loopback is listed in ambassador_harness.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import redis
import yaml
from prometheus_client.parser import text_string_to_metric_families

from examples import EXAMPLES

from . import envoy_runner
from .ambassador_harness import PASSWORD, Ambassador, ambassador, materialize, synthesize
from .redis_servers import NO_RETRY, primary_and_replica

pytestmark = pytest.mark.integration


def through(amb: Ambassador, password: str | None = None) -> redis.Redis:
    """A client configured the way the app is: REDIS_URL from the manifest (no retries, so that
    each error is seen)."""
    return redis.from_url(amb.url, password=password, decode_responses=True, retry=NO_RETRY)


def eventually_get(client: redis.Redis, key: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while (value := client.get(key)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def test_writes_go_to_the_primary_and_reads_to_the_replica(tmp_path: Path) -> None:
    with primary_and_replica(tmp_path / "redis") as (primary, replica):
        amb = synthesize(primary, replica)
        with ambassador(amb, tmp_path / "pod"):
            client = through(amb)
            sets_before = (primary.calls("set"), replica.calls("set"))
            gets_before = (primary.calls("get"), replica.calls("get"))

            for i in range(3):
                assert client.set(f"k{i}", f"v{i}") is True
            # Read back through the ambassador once replication caught up (reads hit the replica).
            assert eventually_get(client, "k2") == "v2"
            assert [client.get(f"k{i}") for i in range(3)] == ["v0", "v1", "v2"]

            # Three SETs executed on the primary. The replica is read-only (replica-read-only
            # yes), so a SET sent to it would have failed with READONLY: writes never reach it.
            assert primary.calls("set") - sets_before[0] == 3
            # Every GET was served by the replica, none by the primary.
            assert primary.calls("get") == gets_before[0]
            assert replica.calls("get") - gets_before[1] >= 4
            assert replica.client().get("k0") == "v0"


def test_without_replicas_everything_goes_to_the_primary(tmp_path: Path) -> None:
    with primary_and_replica(tmp_path / "redis") as (primary, replica):
        amb = synthesize(primary, None)
        with ambassador(amb, tmp_path / "pod"):
            client = through(amb)
            before = replica.calls("get")
            client.set("a", "1")
            assert client.get("a") == "1"
            assert primary.calls("get") == 1
            assert replica.calls("get") == before


def test_auth_upstream_and_downstream(tmp_path: Path) -> None:
    with primary_and_replica(tmp_path / "redis", password=PASSWORD) as (primary, replica):
        amb = synthesize(primary, replica, auth=True)
        with ambassador(amb, tmp_path / "pod"):
            # Without the password the ambassador refuses the command.
            with pytest.raises(redis.exceptions.AuthenticationError):
                through(amb).get("x")
            # With it, Envoy authenticates upstream with the Secret's password (file) itself.
            client = through(amb, PASSWORD)
            assert client.set("secure", "yes") is True
            assert eventually_get(client, "secure") == "yes"
            assert primary.calls("set") >= 1
            # A wrong password is refused as well.
            with pytest.raises(redis.exceptions.AuthenticationError):
                through(amb, "wrong").get("x")


def test_metrics_and_ready_on_the_stats_port(tmp_path: Path) -> None:
    with primary_and_replica(tmp_path / "redis") as (primary, replica):
        amb = synthesize(primary, replica)
        with ambassador(amb, tmp_path / "pod"):
            through(amb).set("m", "1")
            with urllib.request.urlopen(f"http://127.0.0.1:{amb.stats_port}/metrics", timeout=5) as resp:
                text = resp.read().decode()
            samples = {
                (s.name, s.labels.get("envoy_cluster_name") or s.labels.get("envoy_redis_prefix")): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }
            assert samples[("envoy_cluster_upstream_cx_total", "redis_primary")] >= 1
            assert samples[("envoy_redis_command_set_total", "redis")] == 1
            assert samples[("envoy_redis_command_get_total", "redis")] == 0


def test_development_mode_behaves_like_production(tmp_path: Path) -> None:
    """The same Envoy config shape, in front of the pod's redis-server run with its synthesized
    command line: AUTH, routing and the proxy's limits are those of production."""
    outcomes = {}
    with primary_and_replica(tmp_path / "redis", password=PASSWORD) as (primary, replica):
        prod = synthesize(primary, replica, auth=True)
        with ambassador(prod, tmp_path / "prod"):
            outcomes["production"] = app_session(prod)
    dev = synthesize(None, None, auth=True)
    with ambassador(dev, tmp_path / "dev"):
        outcomes["development"] = app_session(dev)
    assert (
        outcomes["development"]
        == outcomes["production"]
        == {
            "without password": "AuthenticationError",
            "set/get": "v",
            # Blocking commands and pub/sub are not supported by Envoy's redis_proxy, in either mode.
            "blpop": "ResponseError",
            "subscribe": "ResponseError",
        }
    )


def app_session(amb: Ambassador) -> dict[str, str]:
    def outcome(call: Callable[[], object]) -> str:
        try:
            return str(call())
        except redis.exceptions.RedisError as err:
            return type(err).__name__

    client = through(amb, PASSWORD)
    return {
        "without password": outcome(lambda: through(amb).get("x")),
        "set/get": outcome(lambda: client.set("k", "v") and eventually_get(client, "k")),
        "blpop": outcome(lambda: client.blpop(["queue"], timeout=1)),
        "subscribe": outcome(lambda: client.execute_command("SUBSCRIBE", "news")),
    }


def is_envoy_script(command: list[str]) -> bool:
    """The Sentinel topology with a password starts Envoy through a ``sh -c`` script that renders
    the health check's AUTH from the Secret (its ConfigMap holds a placeholder, itself valid)."""
    if command[:2] != ["sh", "-c"]:
        return False
    return command[-1].rstrip().splitlines()[-1].lstrip().startswith("exec envoy")


@pytest.mark.parametrize("name", sorted(n for n in EXAMPLES if n.startswith("redis-")))
def test_every_example_envoy_config_passes_envoy_validate(name: str, tmp_path: Path) -> None:
    app = cdk8s.App()
    EXAMPLES[name](app)
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    proxies = sorted(
        c["name"]
        for d in docs
        if d["kind"] == "Deployment"
        for key in ("initContainers", "containers")
        for c in d["spec"]["template"]["spec"].get(key, [])
        if c.get("command") == ["envoy"] or is_envoy_script(c.get("command", []))
    )
    assert proxies == (
        ["redis-ambassador", "sessions"] if name == "redis-ambassador" else ["redis-ambassador"]
    )
    for proxy in proxies:
        root = tmp_path / proxy
        materialize(docs, root, proxy)
        assert envoy_runner.validate(root / "etc/envoy/envoy.yaml") == (
            f"configuration '{root}/etc/envoy/envoy.yaml' OK"
        )


#: Data-changing commands an app commonly sends, with arguments. Through the ambassador each
#: must run on the primary: the read-only replica would answer READONLY otherwise.
COMMON_WRITES: list[tuple[str, ...]] = [
    ("SET", "k", "v"),
    ("SETEX", "k2", "100", "v"),
    ("SETNX", "k3", "v"),
    ("GETDEL", "k3"),
    ("DEL", "k2"),
    ("UNLINK", "nothing"),
    ("INCR", "n"),
    ("INCRBY", "n", "2"),
    ("DECR", "n"),
    ("APPEND", "k", "x"),
    ("EXPIRE", "k", "100"),
    ("PERSIST", "k"),
    ("HSET", "h", "a", "1"),
    ("HINCRBY", "h", "a", "1"),
    ("HDEL", "h", "a"),
    ("LPUSH", "l", "a"),
    ("RPUSH", "l", "b"),
    ("LPOP", "l"),
    ("SADD", "s", "a"),
    ("SREM", "s", "a"),
    ("ZADD", "z", "1", "a"),
    ("ZINCRBY", "z", "1", "a"),
    ("ZREM", "z", "a"),
    ("PFADD", "p", "a"),
    ("SETBIT", "b", "1", "1"),
    ("RENAME", "k", "k9"),
    ("GEOADD", "g", "13.3", "52.5", "x"),
]
#: Writes Envoy 1.40's redis_proxy does not list as writes, so read_command_policy sends
#: them to the replicas (README, "Known limits"). A read-only replica refuses them: they
#: fail loudly and never change a replica's data. This test pins that behaviour.
MISROUTED_WRITES: list[tuple[str, ...]] = [
    ("GETSET", "k", "v"),
    ("GETEX", "k", "EX", "9"),
    ("XADD", "x", "*", "a", "1"),
]


def test_common_writes_run_on_the_primary(tmp_path: Path) -> None:
    with primary_and_replica(tmp_path / "redis") as (primary, replica):
        amb = synthesize(primary, replica)
        with ambassador(amb, tmp_path / "pod"):
            client = through(amb)
            for command in COMMON_WRITES:
                before = primary.calls(command[0].lower())
                client.execute_command(*command)  # READONLY from the replica would raise here
                assert primary.calls(command[0].lower()) == before + 1, command


@pytest.mark.parametrize("command", MISROUTED_WRITES, ids=lambda c: c[0])
def test_writes_envoy_misroutes_are_refused_by_the_read_only_replica(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    with primary_and_replica(tmp_path / "redis") as (primary, replica):
        amb = synthesize(primary, replica)
        with ambassador(amb, tmp_path / "pod"):
            with pytest.raises(redis.exceptions.ReadOnlyError):
                through(amb).execute_command(*command)
            assert replica.client().exists(command[1]) == 0
