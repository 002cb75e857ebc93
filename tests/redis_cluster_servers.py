"""A real Redis Cluster (Debian's redis-server in cluster mode) on loopback: 3 primaries, 3 replicas."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.crc import key_slot

from .programs import free_port, require
from .redis_servers import RestartableRedis

SLOTS = 16384


@dataclass
class RedisClusterNodes:
    nodes: list[RestartableRedis]

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True)

    def shards(self) -> list[dict[str, Any]]:
        """Each node as the first node sees it: id, port, role, its primary's id, its slots."""
        found = []
        for address, node in self.client(self.ports[0]).cluster("nodes").items():
            slots: list[int] = []
            for lo, *hi in node["slots"]:
                slots.extend(range(int(lo), int(hi[0] if hi else lo) + 1))
            found.append(
                {
                    "id": node["node_id"],
                    "port": int(address.split("@")[0].rsplit(":", 1)[1]),
                    "role": "primary" if "master" in node["flags"] else "replica",
                    "of": node["master_id"],
                    "slots": slots,
                }
            )
        return found

    def owner(self, slot: int) -> int:
        """Port of the primary serving ``slot`` (per the first node's view)."""
        for shard in self.shards():
            if shard["role"] == "primary" and slot in shard["slots"]:
                return int(shard["port"])
        raise LookupError(slot)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every node reports cluster_state:ok and agrees on who serves each slot."""
        deadline = time.monotonic() + timeout
        while True:
            states = [self.client(p).cluster("info").get("cluster_state") for p in self.ports]
            views = {
                tuple(
                    sorted((tuple(s[:2]), s[2][1]) for s in self.client(p).execute_command("CLUSTER SLOTS"))
                )
                for p in self.ports
            }
            if all(s == "ok" for s in states) and len(views) == 1:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster not ok: {states}, {len(views)} views")
            time.sleep(0.1)


def cluster_nodes(workdir: Path, *, node_timeout_ms: int = 1000) -> list[RestartableRedis]:
    """Six cluster-mode nodes, not started yet (their ports are known: a test can point an
    ambassador at them first)."""
    taken: set[int] = set()
    nodes = []
    for i in range(6):
        while True:
            # Each node has its own --dir, so its nodes.conf is its own.
            bus = free_port()
            node = RestartableRedis(
                workdir / f"node{i}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(node_timeout_ms),
                # The bus port defaults to port + 10000, past 65535 for most free ports.
                "--cluster-port",
                str(bus),
            )
            # Every port was free when drawn, none is bound yet: draw again on a repeat.
            if len(taken | {bus, node.port}) == len(taken) + 2:
                break
        taken |= {bus, node.port}
        nodes.append(node)
    return nodes


@contextmanager
def redis_cluster(workdir: Path, nodes: list[RestartableRedis] | None = None) -> Iterator[RedisClusterNodes]:
    """Six nodes with ``--cluster-enabled yes`` (``nodes``, or new ones), joined by
    ``redis-cli --cluster create --cluster-replicas 1`` (3 primaries with one replica each)."""
    cli = require("redis-cli", "redis-tools")
    nodes = nodes or cluster_nodes(workdir)
    with ExitStack() as stack:
        for node in nodes:
            stack.callback(node.stop)
            node.start()
        addresses = [f"127.0.0.1:{n.port}" for n in nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        cluster = RedisClusterNodes(nodes)
        cluster.wait_ok()
        yield cluster


def key_per_slot() -> list[str]:
    """One key for each of the 16384 slots (``keys[s]`` hashes to slot ``s``)."""
    keys: list[str | None] = [None] * SLOTS
    missing, n = SLOTS, 0
    while missing:
        key = f"k{n}"
        slot = key_slot(key.encode())
        if keys[slot] is None:
            keys[slot] = key
            missing -= 1
        n += 1
    return [k for k in keys if k is not None]
