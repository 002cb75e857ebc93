"""The Redis clients of the matrix, each at an exact version in a directory of its own.

Installed by :func:`install` from the registries (PyPI, npm) into ``.clients/``: one
``pip install --target`` per redis-py version, one ``npm install --prefix`` per Node package
version. The list is the README's client table (tests/test_client_matrix.py checks that the two
agree), so bump a version here and run the test to update both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CLIENTS = ROOT / ".clients"


@dataclass(frozen=True)
class Client:
    """One client library at one exact version."""

    #: "redis-py", "ioredis" or "node-redis".
    library: str
    version: str
    #: What ships it and who runs it: Debian's python3-redis in bookworm is 4.3.4.
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.library} {self.version}"

    @property
    def runtime(self) -> str:
        return "python" if self.library == "redis-py" else "node"

    @property
    def package(self) -> str:
        return {"redis-py": "redis", "ioredis": "ioredis", "node-redis": "redis"}[self.library]

    @property
    def home(self) -> Path:
        return CLIENTS / f"{self.library}-{self.version}"


#: Every redis-py major in use (4.3.4: Debian bookworm's python3-redis), the 8.x minors that differ
#: in how they open a connection, ioredis 5 and 6, node-redis 4, 5 and 6: the newest of each.
MATRIX: tuple[Client, ...] = (
    Client("redis-py", "4.3.4", "Debian bookworm's python3-redis"),
    Client("redis-py", "5.3.1"),
    Client("redis-py", "6.4.0"),
    Client("redis-py", "7.4.1"),
    Client("redis-py", "8.0.1"),
    Client("redis-py", "8.1.0"),
    Client("redis-py", "8.2.0", "newest"),
    Client("ioredis", "5.10.1"),
    Client("ioredis", "6.1.0", "newest"),
    Client("node-redis", "4.7.1"),
    Client("node-redis", "5.12.4"),
    Client("node-redis", "6.4.0", "newest"),
)


def install() -> None:
    """Install every client of :data:`MATRIX` that is not there yet (fails loudly)."""
    for client in MATRIX:
        stamp = client.home / ".installed"
        if stamp.exists() and stamp.read_text() == client.version:
            continue
        spec = f"{client.package}=={client.version}" if client.runtime == "python" else None
        if spec is not None:
            # With its own dependencies (redis-py 5 needs PyJWT, 4 async-timeout...), in its directory.
            argv = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target"]
            subprocess.run([*argv, str(client.home), spec], check=True, timeout=300)
        else:
            client.home.mkdir(parents=True, exist_ok=True)
            argv = ["npm", "install", "--prefix", str(client.home), "--no-audit", "--no-fund"]
            argv += ["--loglevel=error", f"{client.package}@{client.version}"]
            subprocess.run(argv, check=True, timeout=300)
        stamp.write_text(client.version)


def installed_version(client: Client) -> str:
    """The version the client's own metadata reports (a check that the right one runs)."""
    if client.runtime == "python":
        (dist,) = client.home.glob("redis-*.dist-info")
        return dist.name.removeprefix("redis-").removesuffix(".dist-info")
    package_json = client.home / "node_modules" / client.package / "package.json"
    return str(json.loads(package_json.read_text())["version"])
