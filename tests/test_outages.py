"""The outages the ambassador must absorb, with the real Envoy and real redis-servers.

Each test stops a server the way a failed or restarted pod does, keeps the app's client (one
``redis.from_url(REDIS_URL)`` connection, never restarted) working, and prints what the client
saw: errors and the time to recover (``pytest -s`` shows the figures).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cdk8s
import pytest
import redis

from .ambassador_harness import ambassador, synthesize
from .redis_servers import NO_RETRY, RestartableRedis

pytestmark = pytest.mark.integration


def until_ok(check: Callable[[], bool], timeout: float = 15.0) -> tuple[float, int, set[str]]:
    """Run ``check`` every 50 ms until it returns True: (seconds taken, errors seen, their kinds)."""
    start, errors, kinds = time.monotonic(), 0, set()
    while True:
        try:
            if check():
                return time.monotonic() - start, errors, kinds
        except redis.exceptions.RedisError as err:
            errors += 1
            kinds.add(f"{type(err).__name__}: {err}")
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not recovered after {timeout}s; errors: {sorted(kinds)}")
        time.sleep(0.05)


def servers(tmp_path: Path) -> tuple[RestartableRedis, RestartableRedis]:
    primary = RestartableRedis(tmp_path / "primary").start()
    replica = RestartableRedis(tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary.port)).start()
    replica.wait_for_primary_link()
    return primary, replica


def test_replica_down_reads_fall_back_to_the_primary(tmp_path: Path) -> None:
    primary, replica = servers(tmp_path)
    try:
        amb = synthesize(primary.server, replica.server)
        with ambassador(amb, tmp_path / "pod"):
            app = redis.from_url(amb.url, decode_responses=True, retry=NO_RETRY)
            app.set("k", "v")
            until_ok(lambda: app.get("k") == "v")

            replica.stop()
            gets = primary.server.calls("get")
            fallback_s, fallback_errors, kinds = until_ok(lambda: app.get("k") == "v")
            assert app.get("k") == "v"
            assert primary.server.calls("get") > gets  # served by the primary now
            assert app.set("during", "outage") is True  # writes never stopped

            replica.start().wait_for_primary_link()
            replica_gets = replica.server.calls("get")
            back_s, _, _ = until_ok(
                lambda: app.get("k") == "v" and replica.server.calls("get") > replica_gets
            )
            print(
                f"\nreplica down: reads served by the primary after {fallback_s:.2f}s "
                f"({fallback_errors} client errors: {sorted(kinds)}); replica back: reads on it "
                f"again after {back_s:.2f}s"
            )
            # One failed health check (interval 1s) takes the replica out of the rotation.
            assert fallback_s < 3.0
            assert back_s < 3.0
    finally:
        replica.stop()
        primary.stop()


def test_replica_down_without_fallback_fails_fast(tmp_path: Path) -> None:
    primary, replica = servers(tmp_path)
    try:
        amb = synthesize(
            primary.server, replica.server, read_fallback=False, op_timeout=cdk8s.Duration.seconds(2)
        )
        with ambassador(amb, tmp_path / "pod"):
            app = redis.from_url(amb.url, decode_responses=True, retry=NO_RETRY)
            app.set("k", "v")
            replica.stop()
            time.sleep(1.5)  # the health check has noticed
            start = time.monotonic()
            with pytest.raises(redis.exceptions.ResponseError) as err:
                app.get("k")
            took = time.monotonic() - start
            print(f"\nreplica down, read_fallback=False: GET failed in {took * 1000:.0f} ms: {err.value}")
            assert took < 2.0  # within op_timeout
            assert app.set("w", "1") is True
    finally:
        replica.stop()
        primary.stop()


def test_primary_restart_writes_resume_without_an_app_restart(tmp_path: Path) -> None:
    primary, replica = servers(tmp_path)
    try:
        amb = synthesize(primary.server, replica.server)
        with ambassador(amb, tmp_path / "pod"):
            app = redis.from_url(amb.url, decode_responses=True, retry=NO_RETRY)
            assert app.set("before", "1") is True
            primary.stop()
            with pytest.raises(redis.exceptions.RedisError) as down:
                app.set("while-down", "1")
            time.sleep(2)
            primary.start()
            resume_s, errors, kinds = until_ok(lambda: app.set("after", "1") is True)
            print(
                f"\nprimary restart: writes failed while it was down ({type(down.value).__name__}: "
                f"{down.value}); after it came back, writes resumed in {resume_s:.2f}s "
                f"({errors} client errors: {sorted(kinds)})"
            )
            assert resume_s < 3.0
            assert primary.server.client().get("after") == "1"
    finally:
        replica.stop()
        primary.stop()
