"""Podman on this machine: install the Debian packages and write the containers.conf it needs.

Idempotent; run before every use. Why the settings (REFERENCE.md section 8):

* ``runtime = "runc"``: Debian's podman defaults to crun, which is not installed here;
* ``default_ulimits``: podman's default nofile limit (1048576) exceeds this machine's hard limit
  (20000), so every container fails to start without an explicit, lower limit;
* ``catatonit`` is what podman builds its local pause (infra) image from: there is no registry to
  pull ``k8s.gcr.io/pause`` from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGES = ("podman", "runc", "catatonit", "debootstrap")
#: The binary each package provides (what "missing" means).
_BINARIES = {"podman": "podman", "runc": "runc", "catatonit": "catatonit", "debootstrap": "debootstrap"}
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
#: section -> key -> value as TOML text.
WANTED: dict[str, dict[str, str]] = {
    "engine": {"runtime": '"runc"'},
    "containers": {"default_ulimits": '["nofile=20000:20000", "nproc=32768:32768"]'},
}


class SetupError(RuntimeError):
    """Podman cannot be set up on this machine (the message says what failed)."""


def _run(argv: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise SetupError(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )


def install_packages() -> None:
    """apt-get install the packages whose binaries are missing; fail loudly."""
    missing = [pkg for pkg in PACKAGES if not shutil.which(_BINARIES[pkg]) and not _in_libexec(pkg)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SetupError(f"need root to install {missing}")
    _run(["apt-get", "update"])
    _run(["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES])


def _in_libexec(pkg: str) -> bool:
    # Debian installs catatonit under /usr/libexec/podman as well as /usr/bin.
    return pkg == "catatonit" and Path("/usr/libexec/podman/catatonit").exists()


def merge_conf(text: str) -> str:
    """``text`` (a containers.conf) with the WANTED keys set, everything else kept as written."""
    lines = text.splitlines()
    for section, keys in WANTED.items():
        for key, toml_value in keys.items():
            lines = _set_key(lines, section, key, toml_value)  # same line again when already set
    return "\n".join(lines) + "\n"


def _set_key(lines: list[str], section: str, key: str, toml_value: str) -> list[str]:
    """Replace ``key = ...`` in ``[section]`` (single-line values only), or add it under the header."""
    header = f"[{section}]"
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return [*lines, *([""] if lines else []), header, f"{key} = {toml_value}"]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        if lines[i].split("=", 1)[0].strip() == key:
            if lines[i].rstrip().endswith("[") or lines[i].count("[") != lines[i].count("]"):
                raise SetupError(f"{CONTAINERS_CONF}: multi-line {key} in [{section}]; set it by hand")
            return [*lines[:i], f"{key} = {toml_value}", *lines[i + 1 :]]
    return [*lines[: start + 1], f"{key} = {toml_value}", *lines[start + 1 :]]


def write_containers_conf(path: Path = CONTAINERS_CONF) -> None:
    old = path.read_text() if path.exists() else ""
    new = merge_conf(old)
    if new != old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new)


def ensure_podman() -> None:
    """Everything podman needs here; cheap when already done."""
    install_packages()
    write_containers_conf()
