"""Run a manifest's probes the way the kubelet does, against a pod started by the runner.

The kubelet runs ``httpGet`` and ``tcpSocket`` probes from the node against the pod IP (here: from
the host over the podman bridge) and ``exec`` probes inside the container (here: ``podman exec``,
argv as written, no shell). Success: an HTTP status in [200, 400) within ``timeoutSeconds``
(redirects are not followed: a 3xx is a success), a TCP connect, an exit status of 0. The probes
come from the ORIGINAL pod template: the play file carries none (see :mod:`.playfile`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .playfile import PROBES, probe_port

ExecFn = Callable[[str, Sequence[str], float], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class ProbeResult:
    pod: str  # workload name
    container: str
    probe: str  # livenessProbe, readinessProbe, startupProbe
    action: str  # what was probed, e.g. "httpGet 10.89.0.10:8000/healthz"
    ok: bool
    detail: str  # status code, exit status and output, or the error
    attempts: int


def _http(probe: dict[str, Any], ip: str, port: int, timeout: float) -> tuple[bool, str]:
    get = probe["httpGet"]
    host = get.get("host") or ip
    scheme = str(get.get("scheme", "HTTP")).upper()
    if scheme == "HTTPS":  # the kubelet does not verify the certificate
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl._create_unverified_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {"User-Agent": "kube-probe/1.36", "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in get.get("httpHeaders", [])})
    try:
        conn.request("GET", get.get("path", "/"), headers=headers)
        status = conn.getresponse().status
    except OSError as err:
        return False, f"{type(err).__name__}: {err}"
    finally:
        conn.close()
    return 200 <= status < 400, f"HTTP {status}"


def _tcp(ip: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True, "connected"
    except OSError as err:
        return False, f"{type(err).__name__}: {err}"


def _exec(probe: dict[str, Any], container: str, exec_fn: ExecFn, timeout: float) -> tuple[bool, str]:
    argv = probe["exec"]["command"]
    try:
        proc = exec_fn(container, argv, timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout}s"
    out = (proc.stdout + proc.stderr).strip()[-300:]
    return proc.returncode == 0, f"exit {proc.returncode}: {out}"


def describe(probe: dict[str, Any], container: dict[str, Any], ip: str) -> str:
    if "httpGet" in probe:
        return f"httpGet {ip}:{probe_port(probe, container)}{probe['httpGet'].get('path', '/')}"
    if "tcpSocket" in probe:
        return f"tcpSocket {ip}:{probe_port(probe, container)}"
    if "exec" in probe:
        return "exec " + " ".join(probe["exec"]["command"])
    return "unsupported " + ",".join(sorted(probe))


def run_once(probe: dict[str, Any], container: dict[str, Any], ip: str, exec_fn: ExecFn) -> tuple[bool, str]:
    """One probe attempt; ``(ok, detail)``."""
    timeout = float(probe.get("timeoutSeconds", 1))
    if "httpGet" in probe:
        port = probe_port(probe, container)
        assert port is not None
        return _http(probe, ip, port, timeout)
    if "tcpSocket" in probe:
        port = probe_port(probe, container)
        assert port is not None
        return _tcp(probe.get("tcpSocket", {}).get("host") or ip, port, timeout)
    if "exec" in probe:
        return _exec(probe, container["name"], exec_fn, timeout)
    return False, f"probe type {sorted(probe)} not supported by the pod runner (grpc)"


def run_probes(
    workload: str,
    template: dict[str, Any],
    ip: str,
    exec_fn: ExecFn,
    *,
    skip: Sequence[str] = (),
    within: float = 10.0,
) -> list[ProbeResult]:
    """Every probe of every container in ``template`` (but ``skip``), retried until it passes or
    ``within`` seconds have passed (the kubelet, too, retries every ``periodSeconds``)."""
    spec = template["spec"]
    results = []
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        if container["name"] in skip:
            continue
        for kind in PROBES:
            if kind not in container:
                continue
            probe = container[kind]
            deadline = time.monotonic() + within
            attempts = 0
            while True:
                attempts += 1
                ok, detail = run_once(probe, container, ip, exec_fn)
                if ok or time.monotonic() >= deadline:
                    break
                time.sleep(1.0)
            results.append(
                ProbeResult(
                    workload, container["name"], kind, describe(probe, container, ip), ok, detail, attempts
                )
            )
    return results
