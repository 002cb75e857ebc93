"""The adapter, proven with real programs: Debian's nginx and redis-server, and Debian's
builds of the same exporters the adapter runs (prometheus-nginx-exporter,
prometheus-redis-exporter), started with the args of the synthesized container.

Translated for loopback, and nothing else: the app's port in the scrape URI / Redis
address (the app listens on a free 127.0.0.1 port here), and ``--web.listen-address=:N``
becomes a free 127.0.0.1 port. The exporters' output is parsed with prometheus_client.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from constructs_lib import MetricsAdapter, MetricsSource
from examples import metrics_nginx, metrics_statsd

from .nginx_runner import nginx
from .programs import free_port, http_get, require, wait_for_port
from .redis_servers import redis_server

pytestmark = pytest.mark.integration
PASSWORD = "exporter-s3cret"


def synthesized(app: cdk8s.App) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]


def adapter_args(docs: list[dict[str, Any]]) -> list[str]:
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    (adapter,) = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "metrics-adapter"]
    return list(adapter["args"])


def loopback(args: list[str], app_port: int, app_default: int) -> tuple[list[str], int]:
    """Point the args at the app's loopback port and a free listen port; return both."""
    listen = free_port()
    out = []
    for arg in args:
        arg = arg.replace(f"127.0.0.1:{app_default}", f"127.0.0.1:{app_port}")
        arg = re.sub(r"^--web.listen-address=:\d+$", f"--web.listen-address=127.0.0.1:{listen}", arg)
        out.append(arg)
    return out, listen


@contextmanager
def exporter(binary: str, args: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    proc = subprocess.Popen(
        [binary, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    try:
        wait_for_port(port)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_nginx_stub_status_becomes_prometheus_metrics(tmp_path: Path) -> None:
    app = cdk8s.App()
    metrics_nginx.build(app)
    docs = synthesized(app)
    (conf,) = [d["data"]["default.conf"] for d in docs if d["kind"] == "ConfigMap"]
    args = adapter_args(docs)
    assert args[0] == "--nginx.scrape-uri=http://127.0.0.1:8080/stub_status"
    site = tmp_path / "pod" / "usr/share/nginx/html"
    site.mkdir(parents=True)
    (site / "index.html").write_text("hello")

    with nginx(tmp_path / "nginx", conf, tmp_path / "pod") as nginx_port:
        args, listen = loopback(args, nginx_port, 8080)
        with exporter(require("prometheus-nginx-exporter", "prometheus-nginx-exporter"), args, listen):
            before = scrape(listen)
            assert before[("nginx_up", ())] == 1
            for _ in range(5):
                assert http_get(f"http://127.0.0.1:{nginx_port}/index.html") == (200, "hello")
            after = scrape(listen)
            # Five page views, plus the exporter's own stub_status request for this scrape.
            assert after[("nginx_http_requests_total", ())] - before[("nginx_http_requests_total", ())] == 6
            assert after[("nginx_connections_active", ())] >= 1
            # stub_status answers only on localhost, as the config says.
            assert "allow 127.0.0.1;" in conf


def redis_adapter_docs() -> list[dict[str, Any]]:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="redis", image="redis:7.4.2-alpine")
    secret = kplus.Secret.from_secret_name(chart, "pw", "redis-exporter")
    pw = kplus.SecretValue(secret=secret, key="passwords.json")
    MetricsAdapter(chart, "metrics", deployment=web, source=MetricsSource.redis(password_map=pw))
    docs = synthesized(app)
    assert PASSWORD not in str(docs)
    return docs


@contextmanager
def redis_exporter(tmp_path: Path, server_port: int) -> Iterator[int]:
    """The exporter with the synthesized args; the Secret's password map becomes a file.

    Translated besides the ports: the Secret mount /etc/metrics-adapter-auth becomes a
    directory below tmp_path, and the map's address is the test server's.
    """
    args, listen = loopback(adapter_args(redis_adapter_docs()), server_port, 6379)
    secret_dir = tmp_path / "etc/metrics-adapter-auth"
    secret_dir.mkdir(parents=True)
    (secret_dir / "passwords.json").write_text(json.dumps({f"redis://127.0.0.1:{server_port}": PASSWORD}))
    args = [a.replace("/etc/metrics-adapter-auth/", f"{secret_dir}/") for a in args]
    assert f"--redis.password-file={secret_dir}/passwords.json" in args
    with exporter(require("prometheus-redis-exporter", "prometheus-redis-exporter"), args, listen):
        yield listen


def test_redis_info_becomes_prometheus_metrics(tmp_path: Path) -> None:
    with (
        redis_server(tmp_path / "redis", password=PASSWORD) as server,
        redis_exporter(tmp_path, server.port) as port,
    ):
        before = scrape(port)
        assert before[("redis_up", ())] == 1
        client = server.client()
        for i in range(7):
            client.set(f"k{i}", "v")
        after = scrape(port)
        set_calls = ("redis_commands_total", (("cmd", "set"),))
        assert after[set_calls] - before.get(set_calls, 0) == 7
        assert after[("redis_db_keys", (("db", "db0"),))] == 7


def test_the_exporter_does_not_hand_the_password_to_another_target(tmp_path: Path) -> None:
    """redis_exporter#1104: with a global password, /scrape?target=<any host> sends AUTH <password>
    there. With the per-address password map the adapter uses, another target gets nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    fake_port = listener.getsockname()[1]
    with (
        redis_server(tmp_path / "redis", password=PASSWORD) as server,
        redis_exporter(tmp_path, server.port) as port,
    ):
        received = bytearray()

        def accept() -> None:
            conn, _ = listener.accept()
            conn.settimeout(2)
            with conn:
                try:
                    while chunk := conn.recv(4096):
                        received.extend(chunk)
                except TimeoutError:
                    pass

        thread = threading.Thread(target=accept)
        thread.start()
        # The scrape fails against a silent peer; what matters is what the exporter sent it.
        with contextlib.suppress(OSError):
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/scrape?target=redis://127.0.0.1:{fake_port}", timeout=10
            )
        thread.join(timeout=15)
        listener.close()
    assert received, "the exporter never connected: the test would prove nothing"
    assert PASSWORD.encode() not in received
    assert b"AUTH" not in received.upper()


def test_statsd_mapping_follows_statsd_exporter_rules() -> None:
    """No statsd_exporter binary is packaged for this machine (REFERENCE.md, section 6): the
    rendered file is checked against the rules statsd_exporter applies when loading it
    (pkg/mapper: metric and label name patterns, glob syntax, a name on every rule,
    histogram options only for histograms). Where the binary is on PATH, it checks too."""
    app = cdk8s.App()
    metrics_statsd.build(app)
    (text,) = [d["data"]["mapping.yaml"] for d in synthesized(app) if d["kind"] == "ConfigMap"]
    config = yaml.safe_load(text)
    assert set(config) == {"mappings"}
    for rule in config["mappings"]:
        assert set(rule) <= {
            "match",
            "name",
            "labels",
            "match_type",
            "action",
            "match_metric_type",
            "observer_type",
            "histogram_options",
            "ttl",
            "scale",
            "help",
        }
        assert re.match(r"^([a-zA-Z_]|(\$\{?\d+\}?))([a-zA-Z0-9_]|(\$\{?\d+\}?))*$", rule["name"])
        assert re.match(
            r"^(\*|[a-zA-Z_](-?[a-zA-Z0-9_])*)(\.\*|\.[a-zA-Z0-9_](-?[a-zA-Z0-9_])*)*$", rule["match"]
        )
        for label in rule.get("labels", {}):
            assert re.match(r"^[a-zA-Z_][a-zA-Z0-9_]+$", label)
        if "histogram_options" in rule:
            assert rule["observer_type"] == "histogram"
        wildcards = rule["match"].count("*")
        for ref in re.findall(r"\$\{?(\d+)\}?", yaml.safe_dump(rule.get("labels", {})) + rule["name"]):
            assert 1 <= int(ref) <= wildcards, f"{rule['match']}: ${ref} has no wildcard"
    binary = shutil.which("statsd_exporter")
    if binary:  # the door stays open: a machine that has it checks the file with it too
        mapping = Path(f"/tmp/statsd-mapping-{time.time_ns()}.yaml")
        mapping.write_text(text)
        proc = subprocess.run(
            [binary, "--check-config", f"--statsd.mapping-config={mapping}"],
            capture_output=True,
            text=True,
            check=False,
        )
        mapping.unlink()
        assert proc.returncode == 0, proc.stderr
