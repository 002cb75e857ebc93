"""Run a synthesized RedisAmbassador for real: the Envoy config and command from the manifest.

Translated for loopback, and nothing else:
- every volume mount of the proxy container (the ConfigMap at /etc/envoy, the Secrets)
  becomes a directory below a scratch root, and its paths are prefixed with it;
- ``--use-dynamic-base-id`` is added (see envoy_runner.running).
Endpoints and ports are given as 127.0.0.1 ports at synth time, as a user would. In
development mode the pod's scratch redis-server runs with its synthesized command line too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import yaml

from constructs_lib import RedisAmbassador

from . import envoy_runner
from .programs import free_port, require, wait_for_port
from .redis_servers import RedisServer

PASSWORD = "s3cret-from-a-secret"  # what the Secret holds; the manifest never does


@dataclass
class Ambassador:
    port: int
    stats_port: int
    docs: list[dict[str, Any]]
    #: The app container's env values exactly as the manifest holds them (REDIS_URL, REDIS_PROTOCOL...;
    #: not the Secret references).
    env: dict[str, str]

    @property
    def url(self) -> str:
        """REDIS_URL exactly as the app container's env holds it."""
        return self.env["REDIS_URL"]


def synthesize(
    primary: RedisServer | None, replica: RedisServer | None, *, auth: bool = False, **kw: Any
) -> Ambassador:
    """The app's pod with an ambassador to ``primary``/``replica``; with both None, in
    development mode (its scratch redis-server on a free loopback port)."""
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="app", image="example/app:1")
    if auth:
        secret = kplus.Secret.from_secret_name(chart, "pw", "redis")
        kw["password"] = kw["client_password"] = kplus.SecretValue(secret=secret, key="password")
    port, stats_port = free_port(), free_port()
    if primary is None:
        kw.update(development=True, development_port=free_port())
    RedisAmbassador(
        chart,
        "cache",
        workload=web,
        primary=f"127.0.0.1:{primary.port}" if primary else None,
        replicas=[f"127.0.0.1:{replica.port}"] if replica else [],
        port=port,
        admin_port=free_port(),
        stats_port=stats_port,
        **kw,
    )
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    assert PASSWORD not in str(docs)
    env = {e["name"]: str(e["value"]) for e in container(docs, "app")["env"] if "value" in e}
    return Ambassador(port, stats_port, docs, env=env)


def container(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [
        c
        for d in docs
        if d["kind"] == "Deployment"
        for key in ("initContainers", "containers")
        for c in d["spec"]["template"]["spec"].get(key, [])
        if c["name"] == name
    ]
    return dict(found)


def proxy_container(docs: list[dict[str, Any]], name: str = "redis-ambassador") -> dict[str, Any]:
    return container(docs, name)


def materialize(docs: list[dict[str, Any]], root: Path, name: str = "redis-ambassador") -> list[str]:
    """Lay the proxy ``name``'s volumes out below ``root``; return its command with paths translated."""
    container = proxy_container(docs, name)
    (config_map,) = [
        v["configMap"]["name"]
        for d in docs
        if d["kind"] == "Deployment"
        for v in d["spec"]["template"]["spec"].get("volumes", [])
        if v["name"] == f"{name}-config"
    ]
    (config,) = [d["data"]["envoy.yaml"] for d in docs if d["metadata"]["name"] == config_map]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    for path in mounts:
        (root / path.lstrip("/")).mkdir(parents=True)
        config = config.replace(f"{path}/", f"{root}{path}/")
    (root / "etc/envoy/envoy.yaml").write_text(config)
    for path in mounts:
        if path != "/etc/envoy":
            (root / path.lstrip("/") / "password").write_text(PASSWORD)
    if container["command"] != ["envoy"]:
        # The Sentinel topology's start script (tests/test_integration_sentinel.py runs it): the
        # config laid out above is its template, valid by itself; there are no args to translate.
        assert container["command"][:2] == ["sh", "-c"], container["command"]
        return []
    return [a.replace("/etc/envoy/", f"{root}/etc/envoy/") for a in container["args"]]


@contextmanager
def development_redis(docs: list[dict[str, Any]], workdir: Path) -> Iterator[None]:
    """Development mode's scratch Redis: exactly the synthesized command line."""
    spec = container(docs, "redis-ambassador-redis")
    assert spec["command"] == ["redis-server"]
    port = int(spec["args"][spec["args"].index("--port") + 1])
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [require("redis-server", "redis-server"), *spec["args"]],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def ambassador(amb: Ambassador, root: Path) -> Iterator[None]:
    """Envoy as synthesized, and in development mode the pod's redis-server before it."""
    args = materialize(amb.docs, root)
    assert envoy_runner.validate(root / "etc/envoy/envoy.yaml").endswith("OK")
    with ExitStack() as stack:
        if any(d.get("kind") == "Deployment" and "redis-ambassador-redis" in str(d) for d in amb.docs):
            stack.enter_context(development_redis(amb.docs, root / "data"))
        stack.enter_context(envoy_runner.running(args, amb.stats_port))
        yield
