"""Real nginx serves what the git-sync example synthesizes, and follows a new sync without restart.

git-sync itself has no binary for this machine (REFERENCE.md, section 6). The checkout
layout it produces is made here with real git, the way git-sync's README documents it:
a worktree per commit below ``<root>/.worktrees/`` and a relative ``<link>`` symlink that
is swapped atomically (rename over the old link). What is under test is our side of the
contract: the nginx server config from the example's ConfigMap, rooted at
``content_path`` through the link, passes ``nginx -t`` and serves the new commit after a
swap with no reload.

Translated for loopback: see nginx_runner.nginx.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cdk8s
import pytest
import yaml

from examples import git_sync_nginx

from .nginx_runner import nginx
from .programs import http_get
from .web_servers import git

pytestmark = pytest.mark.integration


def commit(repo: Path, text: str) -> str:
    (repo / "public").mkdir(exist_ok=True)
    (repo / "public" / "index.html").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", text)
    return git(repo, "rev-parse", "HEAD")


def publish(upstream: Path, root: Path, link: str, sha: str) -> None:
    """What git-sync does after a fetch: a worktree for ``sha``, then an atomic link swap."""
    worktree = root / ".worktrees" / sha
    subprocess.run(
        ["git", "--git-dir", str(upstream / ".git"), "worktree", "add", "-q", "--detach", str(worktree), sha],
        check=True,
        capture_output=True,
    )
    tmp_link = root / f".{link}.tmp"
    tmp_link.symlink_to(os.path.relpath(worktree, root))  # relative, as git-sync does
    os.replace(tmp_link, root / link)  # rename(2): atomic


@pytest.fixture
def synthesized() -> tuple[dict[str, str], list[str]]:
    app = cdk8s.App()
    chart = git_sync_nginx.build(app)
    docs = [d for d in yaml.safe_load_all(str(app.synth_yaml())) if d]
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    nginx = next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "nginx")
    assert chart is not None
    return cm["data"], [m["mountPath"] for m in nginx["volumeMounts"]]


@pytest.fixture
def nginx_server(tmp_path: Path, synthesized: tuple[dict[str, str], list[str]]) -> Iterator[tuple[int, Path]]:
    data, mounts = synthesized
    assert "/srv/git" in mounts
    assert "root /srv/git/site/public;" in data["default.conf"]
    prefix = tmp_path / "pod"
    with nginx(tmp_path / "nginx", data["default.conf"], prefix) as port:
        yield port, prefix / "srv" / "git"


def test_nginx_serves_the_synced_content_and_follows_a_new_sync(
    nginx_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, volume = nginx_server
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    volume.mkdir(parents=True)

    # Before the first sync the content path does not exist: 404, never a directory listing.
    assert http_get(f"http://127.0.0.1:{port}/index.html")[0] == 404
    assert http_get(f"http://127.0.0.1:{port}/healthz") == (200, "ok")

    publish(upstream, volume, "site", commit(upstream, "release 1"))
    assert http_get(f"http://127.0.0.1:{port}/index.html") == (200, "release 1")

    publish(upstream, volume, "site", commit(upstream, "release 2"))
    assert http_get(f"http://127.0.0.1:{port}/index.html") == (200, "release 2")
