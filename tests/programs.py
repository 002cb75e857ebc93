"""Real programs for integration tests: installed from Debian when missing, or a loud failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

_SBIN = ("/usr/sbin", "/sbin")


def require(binary: str, apt_package: str) -> str:
    """Path of ``binary``; installs ``apt_package`` as root if needed, else fails the test."""
    path = shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *_SBIN]))
    if path:
        return path
    if os.geteuid() != 0:
        pytest.fail(f"{binary} is missing: run `apt-get install {apt_package}` (tests never skip)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", apt_package]
    # Packages like nginx and redis-server start a system service on install; tests start
    # their own servers on loopback, so forbid that (policy-rc.d exit 101 = "not allowed").
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = not policy.exists()
    if own_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
            subprocess.run(install, env=env, capture_output=True, check=True)
    finally:
        if own_policy:
            policy.unlink()
    path = shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *_SBIN]))
    if not path:
        pytest.fail(f"installed {apt_package} but {binary} is still not on PATH")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
