"""The adapter, proven with real programs: Debian's nginx and redis-server, and Debian's
builds of the same exporters the adapter runs (prometheus-nginx-exporter,
prometheus-redis-exporter), started with the args of the synthesized container.

Translated for loopback, and nothing else: the app's port in the scrape URI / Redis
address (the app listens on a free 127.0.0.1 port here), and ``--web.listen-address=:N``
becomes a free 127.0.0.1 port. The exporters' output is parsed with prometheus_client.
"""

from __future__ import annotations

import re
import shutil
import subprocess
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


def test_redis_info_becomes_prometheus_metrics(tmp_path: Path) -> None:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "it")
    web = kplus.Deployment(chart, "web")
    web.add_container(name="redis", image="redis:7.4.2-alpine")
    pw = kplus.SecretValue(secret=kplus.Secret.from_secret_name(chart, "pw", "redis"), key="password")
    MetricsAdapter(chart, "metrics", deployment=web, source=MetricsSource.redis(password=pw))
    docs = synthesized(app)
    assert PASSWORD not in str(docs)
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = [
        c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "metrics-adapter"
    ]
    # The kubelet resolves the Secret reference into the env; here we hold the Secret's value.
    assert container["env"] == [
        {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "password", "name": "redis"}}}
    ]

    with redis_server(tmp_path / "redis", password=PASSWORD) as server:
        args, listen = loopback(adapter_args(docs), server.port, 6379)
        binary = require("prometheus-redis-exporter", "prometheus-redis-exporter")
        with exporter(binary, args, listen, env={"REDIS_PASSWORD": PASSWORD}):
            before = scrape(listen)
            assert before[("redis_up", ())] == 1
            client = server.client()
            for i in range(7):
                client.set(f"k{i}", "v")
            after = scrape(listen)
            set_calls = ("redis_commands_total", (("cmd", "set"),))
            assert after[set_calls] - before.get(set_calls, 0) == 7
            assert after[("redis_db_keys", (("db", "db0"),))] == 7


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
