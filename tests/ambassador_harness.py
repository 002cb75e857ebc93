"""Run a synthesized RedisAmbassador for real: the Envoy config and command from the manifest.

Translated for loopback, and nothing else:
- every volume mount of the proxy container (the ConfigMap at /etc/envoy, the Secrets)
  becomes a directory below a scratch root, and its paths are prefixed with it;
- ``--use-dynamic-base-id`` is added (see envoy_runner.running).
Endpoints and ports are given as 127.0.0.1 ports at synth time, as a user would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import yaml

from constructs_lib import RedisAmbassador

from . import envoy_runner
from .programs import free_port
from .redis_servers import RedisServer

PASSWORD = "s3cret-from-a-secret"  # what the Secret holds; the manifest never does


@dataclass
class Ambassador:
    port: int
    stats_port: int
    docs: list[dict[str, Any]]


def synthesize(
    primary: RedisServer, replica: RedisServer | None, *, auth: bool = False, **kw: Any
) -> Ambassador:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="app", image="example/app:1")
    if auth:
        secret = kplus.Secret.from_secret_name(chart, "pw", "redis")
        kw["password"] = kw["client_password"] = kplus.SecretValue(secret=secret, key="password")
    port, stats_port = free_port(), free_port()
    RedisAmbassador(
        chart,
        "cache",
        deployment=web,
        primary=f"127.0.0.1:{primary.port}",
        replicas=[f"127.0.0.1:{replica.port}"] if replica else [],
        port=port,
        admin_port=free_port(),
        stats_port=stats_port,
        **kw,
    )
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    assert PASSWORD not in str(docs)
    return Ambassador(port, stats_port, docs)


def proxy_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [
        c
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        if c["name"] == "redis-ambassador"
    ]
    return dict(found)


def materialize(docs: list[dict[str, Any]], root: Path) -> list[str]:
    """Lay the proxy's volumes out below ``root``; return its command with paths translated."""
    container = proxy_container(docs)
    (config,) = [
        d["data"]["envoy.yaml"] for d in docs if d["kind"] == "ConfigMap" and "envoy.yaml" in d["data"]
    ]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    for path in mounts:
        (root / path.lstrip("/")).mkdir(parents=True)
        config = config.replace(f"{path}/", f"{root}{path}/")
    (root / "etc/envoy/envoy.yaml").write_text(config)
    for path in mounts:
        if path != "/etc/envoy":
            (root / path.lstrip("/") / "password").write_text(PASSWORD)
    args = [a.replace("/etc/envoy/", f"{root}/etc/envoy/") for a in container["args"]]
    assert container["command"] == ["envoy"]
    return args


@contextmanager
def ambassador(amb: Ambassador, root: Path) -> Iterator[None]:
    args = materialize(amb.docs, root)
    assert envoy_runner.validate(root / "etc/envoy/envoy.yaml").endswith("OK")
    with envoy_runner.running(args, amb.stats_port):
        yield
