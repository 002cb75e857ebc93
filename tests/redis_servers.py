"""Real Redis servers (Debian's redis-server) on loopback for integration tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .programs import free_port, require, wait_for_port

#: redis-py 6+ retries connection errors (AuthenticationError is one) with backoff; tests
#: want the first answer.
NO_RETRY = Retry(NoBackoff(), 0)


@dataclass
class RedisServer:
    port: int
    password: str | None

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, decode_responses=True, retry=NO_RETRY
        )

    def calls(self, command: str) -> int:
        """How often ``command`` ran here (INFO commandstats), 0 if never."""
        stats = self.client().info("commandstats")
        return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@contextmanager
def redis_server(workdir: Path, *args: str, password: str | None = None) -> Iterator[RedisServer]:
    server = RestartableRedis(workdir, *args, password=password).start()
    try:
        yield server.server
    finally:
        server.stop()


@contextmanager
def primary_and_replica(
    workdir: Path, password: str | None = None
) -> Iterator[tuple[RedisServer, RedisServer]]:
    with (
        redis_server(workdir / "primary", password=password) as primary,
        redis_server(
            workdir / "replica", "--replicaof", "127.0.0.1", str(primary.port), password=password
        ) as replica,
    ):
        deadline = time.monotonic() + 10
        while replica.client().info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not connect to the primary")
            time.sleep(0.05)
        yield primary, replica


def redis_server_command(port: int, workdir: Path, password: str | None) -> list[str]:
    """Debian's redis-server on 127.0.0.1:``port``, nothing persisted, its files in ``workdir``."""
    cmd = [
        require("redis-server", "redis-server"),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        # Start replication at once (Redis 7 waits 5s for more replicas before a diskless sync).
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        str(workdir),
    ]
    if password:
        cmd += ["--requirepass", password, "--masterauth", password]
    return cmd


class RestartableRedis:
    """A redis-server that a test stops and starts again on the same port (an outage)."""

    def __init__(self, workdir: Path, *args: str, password: str | None = None) -> None:
        self.port = free_port()
        self.server = RedisServer(self.port, password)
        self._args = list(args)
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RestartableRedis:
        self._workdir.mkdir(parents=True, exist_ok=True)
        cmd = redis_server_command(self.port, self._workdir, self.server.password)
        self._proc = subprocess.Popen(
            [*cmd, *self._args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None

    def wait_for_primary_link(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.server.client().info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not connect to the primary")
            time.sleep(0.05)
