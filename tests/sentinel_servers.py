"""A Sentinel-managed Redis on loopback: 1 primary, 2 replicas, 3 sentinels (Debian's redis-server
and redis-sentinel), every one on a free 127.0.0.1 port, all stopped at exit.

Defaults (stated, and what the figures in bench/sentinel_failover.py were measured with):
quorum 2 of 3, ``down-after-milliseconds`` 3000 (Redis' own default is 30000), ``failover-timeout``
10000 (Redis' default 180000; it also bounds how long a failed failover waits to be retried:
twice this), ``parallel-syncs`` 1. Each sentinel has its own writable config file (Sentinel
rewrites it on every state change and refuses to start without one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from .programs import free_port, require, wait_for_port
from .redis_servers import NO_RETRY, redis_server_command

MASTER_NAME = "mymaster"
DEFAULT_DOWN_AFTER_MS = 3000
DEFAULT_FAILOVER_TIMEOUT_MS = 10000


def command(client: redis.Redis, *args: str) -> Any:
    """``client.execute_command`` (untyped in redis-py) for strict mypy."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


@dataclass
class Server:
    """One redis-server (a data node) that a test kills and starts again on the same port."""

    name: str
    port: int
    workdir: Path
    password: str | None
    replicaof: int | None  # the primary's port at first start; None for the first primary
    proc: subprocess.Popen[bytes] | None = None

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            decode_responses=True,
            retry=NO_RETRY,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            protocol=2,
        )

    def start(self, *, replicaof: int | None = None, first: bool = False) -> Server:
        """Start on the same port; ``first`` uses the first-start role (``replicaof`` given then).

        A restart after a kill starts as a primary with an empty data set (no persistence), the
        way a replaced pod whose start script does not ask Sentinel comes back: Sentinel turns it
        into a replica (``+convert-to-slave``) some seconds later.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [*redis_server_command(self.port, self.workdir, self.password)]
        cmd += ["--logfile", str(self.workdir / "redis.log")]
        target = self.replicaof if first else replicaof
        if target is not None:
            cmd += ["--replicaof", "127.0.0.1", str(target)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye to replicas, sentinels or Envoy (a crashed node or a lost pod)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None

    def role(self) -> str | None:
        """``master``/``slave`` as the server says (ROLE), None when it does not answer."""
        try:
            reply = command(self.client(timeout=0.5), "ROLE")
        except redis.exceptions.RedisError:
            return None
        return str(reply[0])


@dataclass
class Sentinel:
    port: int
    config: Path
    proc: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, decode_responses=True, retry=NO_RETRY, socket_timeout=2
        )


@dataclass
class SentinelRedis:
    """The running group. ``servers[0]`` is the first primary."""

    servers: list[Server]
    sentinels: list[Sentinel]
    password: str | None
    down_after_ms: int
    failover_timeout_ms: int
    events: list[tuple[float, str]] = field(default_factory=list)

    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.servers]

    def by_port(self, port: int) -> Server:
        (found,) = [s for s in self.servers if s.port == port]
        return found

    def sentinel_primary(self) -> int | None:
        """The primary's port as the first answering sentinel reports it."""
        for s in self.sentinels:
            try:
                host_port = command(s.client(), "SENTINEL", "get-master-addr-by-name", MASTER_NAME)
            except redis.exceptions.RedisError:
                continue
            if host_port:
                return int(host_port[1])
        return None

    def primary(self) -> Server:
        """The server Sentinel names, checked with ROLE on the server itself."""
        port = self.sentinel_primary()
        if port is None:
            raise RuntimeError("no sentinel answers")
        server = self.by_port(port)
        if server.role() != "master":
            raise RuntimeError(f"sentinel names {port} but it does not say master")
        return server

    def masters(self) -> list[Server]:
        """Every live server that says ``master`` (more than one is a split-brain window)."""
        return [s for s in self.servers if s.alive and s.role() == "master"]

    def wait_settled(self, timeout: float = 60.0) -> Server:
        """Until one primary, with every live other server an up replica of it, and each sentinel
        agreeing and seeing the 2 other sentinels."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                last = self._settled()
                if not last:
                    return self.primary()
            except (redis.exceptions.RedisError, RuntimeError, ValueError) as err:
                last = str(err)
            time.sleep(0.2)
        raise TimeoutError(f"the group did not settle in {timeout}s: {last}")

    def _settled(self) -> str:
        ports = set()
        for s in self.sentinels:
            info = command(s.client(), "SENTINEL", "master", MASTER_NAME)
            fields = dict(zip(info[::2], info[1::2], strict=True)) if isinstance(info, list) else info
            if int(fields["num-other-sentinels"]) != len(self.sentinels) - 1:
                return f"sentinel {s.port} sees {fields['num-other-sentinels']} other sentinels"
            if "s_down" in fields["flags"] or "failover" in fields["flags"]:
                return f"sentinel {s.port}: master flags {fields['flags']}"
            ports.add(int(fields["port"]))
        if len(ports) != 1:
            return f"sentinels disagree on the primary: {ports}"
        (port,) = ports
        primary = self.by_port(port)
        if primary.role() != "master":
            return f"{port} is not master yet"
        for other in self.servers:
            if other is primary or not other.alive:
                continue
            repl = other.client().info("replication")
            if repl.get("role") != "slave" or int(repl.get("master_port", 0)) != port:
                return f"{other.port} is not a replica of {port}"
            if repl.get("master_link_status") != "up":
                return f"{other.port}: link to the primary is {repl.get('master_link_status')}"
        return ""


def _sentinel_conf(
    port: int, primary_port: int, down_after_ms: int, failover_ms: int, password: str | None
) -> str:
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        "daemonize no",
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} 2",
        f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}",
        f"sentinel failover-timeout {MASTER_NAME} {failover_ms}",
        f"sentinel parallel-syncs {MASTER_NAME} 1",
    ]
    if password:
        lines.append(f"sentinel auth-pass {MASTER_NAME} {password}")
    return "\n".join(lines) + "\n"


@contextmanager
def sentinel_redis(
    workdir: Path,
    *,
    password: str | None = None,
    down_after_ms: int = DEFAULT_DOWN_AFTER_MS,
    failover_timeout_ms: int = DEFAULT_FAILOVER_TIMEOUT_MS,
) -> Iterator[SentinelRedis]:
    """1 primary + 2 replicas + 3 sentinels (quorum 2), settled; everything stopped at exit."""
    require("redis-server", "redis-server")
    sentinel_bin = require("redis-sentinel", "redis-sentinel")
    ports = [free_port() for _ in range(6)]
    if len(set(ports)) != 6:
        raise RuntimeError("free_port returned a port twice; run again")
    servers = [
        Server(f"r{i}", ports[i], workdir / f"r{i}", password, None if i == 0 else ports[0]) for i in range(3)
    ]
    sentinels = [Sentinel(ports[3 + i], workdir / f"s{i}" / "sentinel.conf") for i in range(3)]
    group = SentinelRedis(servers, sentinels, password, down_after_ms, failover_timeout_ms)
    try:
        for s in servers:
            s.start(first=True)
        for sen in sentinels:
            sen.config.parent.mkdir(parents=True, exist_ok=True)
            sen.config.write_text(
                _sentinel_conf(sen.port, ports[0], down_after_ms, failover_timeout_ms, password)
            )
            with (sen.config.parent / "sentinel.log").open("wb") as log:
                sen.proc = subprocess.Popen(
                    [sentinel_bin, str(sen.config)], stdout=log, stderr=subprocess.STDOUT
                )
            wait_for_port(sen.port)
        group.wait_settled()
        yield group
    finally:
        for sen in sentinels:
            if sen.proc is not None:
                sen.proc.terminate()
                sen.proc.wait(timeout=10)
                sen.proc = None
        for srv in servers:
            srv.stop()


def sentinel_log(group: SentinelRedis) -> str:
    """The sentinels' logs, for a failure message."""
    return "\n".join(
        f"--- sentinel {s.port}\n" + (s.config.parent / "sentinel.log").read_text(errors="replace")[-3000:]
        for s in group.sentinels
        if os.path.exists(s.config.parent / "sentinel.log")
    )
